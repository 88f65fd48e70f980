//! Identifiers of statically declared tables (`table!`) are `&'static str`
//! all the way: using a column, a table or an alias in a statement, and
//! writing it into the SQL, allocates nothing per identifier. Counted with a
//! global allocator, on the measuring thread only: the test harness's own
//! thread allocates at times of its choosing (this test once counted 4
//! allocations that were not its own).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]
#![allow(unsafe_code, reason = "a global allocator that counts, forwarding to the system allocator")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use quarry_core::prelude::*;

/// The system allocator, counting allocations and reallocations made by
/// threads that have turned counting on.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations are counted (a `const` initialiser,
    /// so reading it never allocates).
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count_one() {
    if COUNTED.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: the caller upholds `realloc`'s contract, passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.with(|c| c.set(true));
    let out = f();
    COUNTED.with(|c| c.set(false));
    (ALLOCATIONS.load(Ordering::Relaxed) - before, out)
}

quarry_core::table! {
    /// Eight columns with long names, so that a copied name would show.
    pub struct Wide("a_table_with_a_rather_long_name") {
        id: i64 [primary_key],
        first_column_with_a_long_name: String,
        second_column_with_a_long_name: String,
        third_column_with_a_long_name: Option<String>,
        fourth_column_with_a_long_name: i32,
        fifth_column_with_a_long_name: i64,
        sixth_column_with_a_long_name: bool,
        seventh_column_with_a_long_name: f64,
    }
}

#[test]
fn static_identifiers_allocate_nothing() {
    // The counter sees this thread's allocations.
    assert_eq!(allocations(|| std::hint::black_box(Box::new(1_u64))).0, 1, "one box is one allocation");
    // Tables, aliases and column expressions: no allocation at all.
    let (n, _) = allocations(|| {
        let w = Wide::table();
        let a = Wide::alias("w");
        (
            w.id.expr(),
            w.first_column_with_a_long_name.expr(),
            a.seventh_column_with_a_long_name.expr(),
            w.id.name(),
            a.sixth_column_with_a_long_name.name(),
        )
    });
    assert_eq!(n, 0, "using static tables, aliases and columns allocated");

    // A statement naming one column, and the same naming all eight (plus
    // the table each time): the difference is the select list growing and
    // the SQL text growing, not one allocation per identifier.
    let w = Wide::table();
    // Once unmeasured: the first compile initialises what later ones reuse.
    let _ = select(w.id).from(w).compile(&Postgres).unwrap();
    let (one, sql_one) = allocations(|| select(w.id).from(w).compile(&Postgres).unwrap().sql);
    let (eight, sql_eight) = allocations(|| {
        select((
            w.id,
            w.first_column_with_a_long_name,
            w.second_column_with_a_long_name,
            w.third_column_with_a_long_name,
            w.fourth_column_with_a_long_name,
            w.fifth_column_with_a_long_name,
            w.sixth_column_with_a_long_name,
            w.seventh_column_with_a_long_name,
        ))
        .from(w)
        .compile(&Postgres)
        .unwrap()
        .sql
    });
    assert_eq!(sql_one.matches("a_table_with_a_rather_long_name").count(), 2);
    assert_eq!(sql_eight.matches("a_table_with_a_rather_long_name").count(), 9);
    assert!(eight <= one + 3, "{eight} allocations for 8 columns against {one} for one: an allocation per identifier?");
}
