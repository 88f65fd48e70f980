//! Very deep expression trees (RELIABILITY.md §2.18): building, compiling,
//! cloning, comparing, formatting and dropping a 100 000-deep chain never
//! overflows a 2 MiB stack (tokio's default worker stack); an expression at
//! exactly [`MAX_DEPTH`] compiles on that stack and SQLite accepts it; 5 000
//! OR'd terms stay under SQLite's expression depth limit.
//!
//! A stack overflow aborts the whole test process, which would hide every
//! other result. So each 100 000-deep scenario runs in a child process (this
//! same test binary, re-run on one test with `QUARRY_DEPTH_CHILD` set), and
//! the parent test reports how the child ended.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

use std::process::Command;

use quarry_core::ast::{self, Statement};
use quarry_core::prelude::*;
use quarry_core::{CompileError, MAX_DEPTH};

quarry_core::table! {
    /// A table for the deep expressions.
    pub struct Items("items") {
        id: i64 [primary_key],
        n: i64,
        flag: bool,
        label: String,
    }
}

const DEEP: usize = 100_000;
const SMALL_STACK: usize = 2 << 20;
const CHILD_ENV: &str = "QUARRY_DEPTH_CHILD";

/// Run `f` on a thread with a 2 MiB stack, propagating its panic.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    let handle = std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).expect("spawn a 2 MiB thread");
    match handle.join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Run the test `child_<scenario>` of this binary in a child process and
/// fail with its output unless it succeeded.
fn in_child_process(scenario: &str) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let test = format!("child_{scenario}");
    let out = Command::new(exe)
        .args([test.as_str(), "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, scenario)
        .output()
        .expect("run the child test process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scenario `{scenario}` failed in its child process ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(stdout.contains("1 passed"), "the child ran no test for `{scenario}`:\n{stdout}");
}

/// Whether this process is the child asked to run `scenario`.
fn is_child_for(scenario: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|s| s == scenario)
}

fn assert_too_deep(result: Result<quarry_core::Compiled, CompileError>, dialect: &str) {
    match result {
        Err(CompileError::TooDeep { limit }) => assert_eq!(limit, MAX_DEPTH, "{dialect}"),
        other => panic!("{dialect}: expected TooDeep, got {:?}", other.map(|c| c.sql.len())),
    }
}

/// The checks every 100 000-deep chain goes through, on a 2 MiB stack:
/// compile (TooDeep on both dialects), clone, `==`, `{:?}` and drop.
fn torture(build: fn() -> Expr<bool>) {
    on_small_stack(move || {
        let e = build();
        let q = select(Items::table().id).from(Items::table()).filter(e.clone());
        assert_too_deep(q.compile(&Postgres), "PostgreSQL");
        assert_too_deep(q.compile(&Sqlite), "SQLite");
        assert!(matches!(q.to_debug_sql(&Sqlite), Err(CompileError::TooDeep { .. })));
        let copy = e.clone();
        assert!(copy.node() == e.node(), "a clone compares equal to its original");
        let text = format!("{:?}", e.node());
        assert!(!text.is_empty());
        drop(copy);
        drop(q);
        drop(e);
    });
}

fn not_chain() -> Expr<bool> {
    let items = Items::table();
    let mut e = items.flag.eq(true);
    for _ in 0..DEEP {
        e = not_(e);
    }
    e
}

fn alternating_and_or() -> Expr<bool> {
    let items = Items::table();
    let mut e = items.flag.eq(true);
    for i in 0..DEEP {
        // Alternating operators cannot flatten into one list: each step
        // nests the chain so far one level deeper.
        e = if i % 2 == 0 { e.and(items.n.eq(1)) } else { e.or(items.n.eq(2)) };
    }
    e
}

fn right_nested_or() -> Expr<bool> {
    let items = Items::table();
    let mut e = items.flag.eq(true);
    for i in 0..DEEP {
        // `x AND (chain)`: the chain is the right operand each time.
        let x = items.n.eq(i64::try_from(i).unwrap());
        e = if i % 2 == 0 { x.and(e) } else { x.or(e) };
    }
    e
}

fn coalesce_chain() -> Expr<bool> {
    let items = Items::table();
    let mut e: Expr<i64> = items.n.expr();
    for _ in 0..DEEP {
        // COALESCE(n, n, chain): the chain is appended to a fresh call.
        e = items.n.coalesce(items.n).coalesce(e);
    }
    e.eq(0)
}

fn arithmetic_chain() -> Expr<bool> {
    let items = Items::table();
    let mut e: Expr<i64> = items.n.expr();
    for _ in 0..DEEP {
        e = e + 1;
    }
    e.eq(0)
}

fn case_chain() -> Expr<bool> {
    let items = Items::table();
    let mut e: Expr<i64> = items.n.expr();
    for _ in 0..DEEP {
        e = case::<i64>().when(items.flag, e).otherwise(0);
    }
    e.eq(0)
}

macro_rules! deep_scenarios {
    ($($test:ident, $child:ident: $build:ident),* $(,)?) => {$(
        #[test]
        fn $test() {
            in_child_process(stringify!($build));
        }

        #[test]
        fn $child() {
            // Only does its work when the parent test runs it in a child process.
            if is_child_for(stringify!($build)) {
                torture($build);
            }
        }
    )*};
}

deep_scenarios! {
    deep_not_chain, child_not_chain: not_chain,
    deep_alternating_and_or, child_alternating_and_or: alternating_and_or,
    deep_right_nested_or, child_right_nested_or: right_nested_or,
    deep_coalesce_chain, child_coalesce_chain: coalesce_chain,
    deep_arithmetic_chain, child_arithmetic_chain: arithmetic_chain,
    deep_case_chain, child_case_chain: case_chain,
}

/// A NOT chain exactly `MAX_DEPTH` deep.
fn not_at_limit() -> Expr<bool> {
    let items = Items::table();
    let mut e = items.flag.eq(true); // depth 2
    while e.depth() < MAX_DEPTH {
        e = not_(e);
    }
    e
}

fn try_prepare_sqlite(sql: &str) -> Result<(), String> {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let create = create_table(Items::table()).compile(&Sqlite).unwrap();
    conn.execute(&create.sql, []).unwrap();
    conn.prepare(sql).map(drop).map_err(|e| e.to_string())
}

fn prepare_sqlite(sql: &str) {
    if let Err(e) = try_prepare_sqlite(sql) {
        panic!("SQLite refused the statement ({e}): {}...", &sql[..sql.len().min(300)]);
    }
}

/// Compile `q` on a 2 MiB stack for both dialects; return the SQLite SQL.
fn compile_on_small_stack(q: impl Compile + Send + 'static) -> String {
    let (pg, lite) = on_small_stack(move || (q.compile(&Postgres), q.compile(&Sqlite)));
    let pg = pg.expect("PostgreSQL compiles an expression at the limit");
    let lite = lite.expect("SQLite compiles an expression at the limit");
    assert!(pg.sql.starts_with("SELECT"));
    assert_eq!(pg.params.len(), lite.params.len());
    lite.sql
}

/// Compile `q` on a 2 MiB stack for both dialects; prepare the SQLite SQL.
fn compiles_at_limit(q: impl Compile + Send + 'static) {
    prepare_sqlite(&compile_on_small_stack(q));
}

#[test]
fn not_chain_at_the_limit_compiles_and_prepares() {
    let e = not_at_limit();
    assert_eq!(e.depth(), MAX_DEPTH);
    let items = Items::table();
    compiles_at_limit(select(items.id).from(items).filter(e.clone()));
    compiles_at_limit(select(e.clone().label("x")).from(items));
    // One level more is refused.
    let over = not_(e);
    let q = select(items.id).from(items).filter(over);
    assert_too_deep(q.compile(&Postgres), "PostgreSQL");
    assert_too_deep(q.compile(&Sqlite), "SQLite");
}

#[test]
fn arithmetic_chain_at_the_limit_compiles_and_prepares() {
    let items = Items::table();
    let mut e: Expr<i64> = items.n.expr();
    while e.depth() < MAX_DEPTH - 1 {
        e = e + 1;
    }
    let cond = e.eq(7);
    assert_eq!(cond.depth(), MAX_DEPTH);
    compiles_at_limit(select(items.id).from(items).filter(cond));
}

#[test]
fn function_chain_at_the_limit_compiles_and_prepares() {
    let items = Items::table();
    let mut e: Expr<i64> = items.n.expr();
    while e.depth() < MAX_DEPTH - 1 {
        e = abs(e);
    }
    let cond = e.eq(7);
    assert_eq!(cond.depth(), MAX_DEPTH);
    compiles_at_limit(select(items.id).from(items).filter(cond));
    let mut s: Expr<String> = items.label.expr();
    while s.depth() < MAX_DEPTH {
        s = lower(s);
    }
    assert_eq!(s.depth(), MAX_DEPTH);
    compiles_at_limit(select(s.label("s")).from(items));
}

fn nested_case(depth: u32) -> Expr<bool> {
    let items = Items::table();
    let mut e: Expr<i64> = items.n.expr();
    while e.depth() < depth - 1 {
        e = case::<i64>().when(items.flag, e).otherwise(0);
    }
    e.eq(7)
}

/// Nested CASE at the limit compiles on a small stack. SQLite's parser runs
/// out of stack at about 498 nested CASEs, below `MAX_DEPTH`: it refuses
/// the statement with its own error (pinned here so that the gap is
/// visible), and accepts a slightly shallower one.
#[test]
fn case_chain_at_the_limit_compiles() {
    let items = Items::table();
    let cond = nested_case(MAX_DEPTH);
    assert_eq!(cond.depth(), MAX_DEPTH);
    let sql = compile_on_small_stack(select(items.id).from(items).filter(cond));
    let err = try_prepare_sqlite(&sql).expect_err("SQLite's parser limit is below MAX_DEPTH for CASE");
    assert!(err.contains("Recursion limit"), "{err}");
    compiles_at_limit(select(items.id).from(items).filter(nested_case(480)));
}

fn nested_exists(depth: u32) -> Expr<bool> {
    let items = Items::table();
    let mut e = items.flag.eq(true);
    while e.depth() + 2 <= depth {
        // EXISTS (SELECT ... WHERE e): one level for EXISTS, one for the query.
        e = exists(select(items.id).from(items).filter(e));
    }
    while e.depth() < depth {
        e = not_(e);
    }
    e
}

/// Nested subqueries at the limit compile on a small stack. SQLite adds up
/// the heights of nested subqueries and refuses more than about 43 levels
/// with "Expression tree is too large" (pinned here so that the gap is
/// visible); 40 levels prepare.
#[test]
fn subquery_chain_at_the_limit_compiles() {
    let items = Items::table();
    let e = nested_exists(MAX_DEPTH);
    assert_eq!(e.depth(), MAX_DEPTH);
    let sql = compile_on_small_stack(select(items.id).from(items).filter(e));
    let err = try_prepare_sqlite(&sql).expect_err("SQLite's limit on nested subqueries is below MAX_DEPTH");
    assert!(err.contains("Expression tree is too large"), "{err}");
    compiles_at_limit(select(items.id).from(items).filter(nested_exists(80)));
}

/// Derived tables nested to the limit compile on a small stack.
#[test]
fn derived_table_chain_at_the_limit_compiles() {
    let items = Items::table();
    let mut q = select(items.id.label("id")).from(items);
    let mut depth = 1;
    while depth + 1 < MAX_DEPTH {
        let sub = q.subquery("d");
        let id = sub.col::<i64>("id");
        q = select(id.label("id")).from(sub);
        depth += 1;
    }
    let sql = compile_on_small_stack(q);
    assert_eq!(sql.matches("AS \"d\"").count(), usize::try_from(depth - 1).unwrap());
}

/// A hand-built tree deeper than the limit (no typed API to bound it) is
/// refused by the compiler, on a small stack.
#[test]
fn hand_built_tree_over_the_limit_is_refused() {
    let result = on_small_stack(|| {
        let mut e = ast::Expr::Value(Value::Bool(true));
        for _ in 0..(MAX_DEPTH as usize + 50) {
            e = ast::Expr::Unary { op: ast::UnaryOp::Not, expr: Box::new(e) };
        }
        let stmt = Statement::Query(ast::Query::new(ast::SetExpr::Select(Box::new(ast::Select {
            projection: vec![ast::SelectItem::new(e)],
            ..ast::Select::default()
        }))));
        (stmt.compile(&Postgres), stmt.compile(&Sqlite))
    });
    assert_too_deep(result.0, "PostgreSQL");
    assert_too_deep(result.1, "SQLite");
}

fn or_terms(n: i64) -> Expr<bool> {
    let items = Items::table();
    or_((0..n).map(|i| items.n.eq(i)))
}

#[test]
fn five_thousand_ored_terms_compile_and_prepare() {
    let e = or_terms(5000);
    let items = Items::table();
    let q = select(items.id).from(items).filter(e);
    let (pg, lite) = on_small_stack(move || (q.compile(&Postgres).unwrap(), q.compile(&Sqlite).unwrap()));
    assert_eq!(pg.params.len(), 5000);
    assert_eq!(lite.params.len(), 5000);
    assert!(pg.sql.contains("$5000") && !pg.sql.contains("$5001"));
    assert_eq!(pg.sql.matches('(').count(), pg.sql.matches(')').count());
    prepare_sqlite(&lite.sql);
    // Executing it finds the rows whose n is one of the terms.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute(&create_table(Items::table()).compile(&Sqlite).unwrap().sql, []).unwrap();
    conn.execute("INSERT INTO items (id, n, flag, label) VALUES (1, 4999, 1, 'a'), (2, 5000, 1, 'b')", []).unwrap();
    let mut stmt = conn.prepare(&lite.sql).unwrap();
    let params: Vec<i64> = (0..5000).collect();
    let ids: Vec<i64> = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, vec![1]);
}

#[test]
fn five_thousand_anded_terms_compile_and_prepare() {
    let items = Items::table();
    let e = and_((0..5000_i64).map(|i| items.n.ne(i)));
    let q = select(items.id).from(items).filter(e);
    let lite = on_small_stack(move || q.compile(&Sqlite).unwrap());
    assert_eq!(lite.params.len(), 5000);
    prepare_sqlite(&lite.sql);
}
