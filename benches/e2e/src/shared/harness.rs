//! The harness every contender runs under, the same in both binaries:
//! the workloads, the [`Contender`] trait each contender module implements
//! (one function per workload, the same names everywhere), the timing loop,
//! the worker protocol the runner speaks, and the callgrind mode.
//!
//! Shared source, included by the sqlx workspace with `#[path]`; it expects
//! the including crate to have run `define_model!` at its root.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{NewUser, Post, User};

/// One benchmarked operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Every row of `users_N`, decoded into `User`s.
    Select(usize),
    /// `jusers_N LEFT JOIN jposts_N` filtered on hair colour, decoded into `(User, Option<Post>)`.
    Join(usize),
    /// Insert N rows the best way the library has (one statement).
    Insert(usize),
    /// Insert N rows with binary COPY (PostgreSQL).
    Copy(usize),
    /// 64 tasks doing 200 primary-key lookups each through a pool of 8.
    Lookups,
}

impl Workload {
    pub fn parse(name: &str, param: usize) -> Option<Workload> {
        Some(match name {
            "select" => Workload::Select(param),
            "join" => Workload::Join(param),
            "insert" => Workload::Insert(param),
            "copy" => Workload::Copy(param),
            "lookups" => Workload::Lookups,
            _ => return None,
        })
    }

    fn is_write(self) -> bool {
        matches!(self, Workload::Insert(_) | Workload::Copy(_))
    }
}

/// A library under test, holding one connection (and a pool for `lookups`).
/// Every contender module implements it with the same work.
#[allow(async_fn_in_trait)]
pub trait Contender: Sized {
    /// Connect (and prepare whatever the library caches on first use).
    async fn connect(target: &str) -> Self;
    /// Every row of `users_{size}`.
    async fn select_users(&mut self, size: usize) -> Vec<User>;
    /// `jusers_{size} LEFT JOIN jposts_{size}` where hair colour is black.
    async fn join(&mut self, size: usize) -> Vec<(User, Option<Post>)>;
    /// Insert `rows` into this contender's own table; rows written. (Shared
    /// behind an `Arc` so that drivers that run on another thread need not
    /// copy them.)
    async fn insert(&mut self, rows: &Arc<[NewUser]>) -> u64;
    /// Insert `rows` with COPY; rows written.
    async fn copy(&mut self, rows: &Arc<[NewUser]>) -> u64;
    /// The rows of this contender's insert table, in id order.
    async fn inserted(&mut self) -> Vec<NewUser>;
    /// Empty this contender's insert table.
    async fn clear(&mut self);
    /// 64 concurrent tasks, 200 lookups each, through a pool of 8: the
    /// order-independent digest of the users found.
    async fn lookups(&mut self) -> u64;
}

/// Run `w` once and return a digest of its result (and the row count),
/// for checking that every contender gives the same answer.
pub async fn verify<C: Contender>(c: &mut C, w: Workload) -> (u64, usize) {
    use crate::model::{digest_seq, digest_set};
    match w {
        Workload::Select(n) => {
            let rows = c.select_users(n).await;
            (digest_set(&rows), rows.len())
        }
        Workload::Join(n) => {
            let rows = c.join(n).await;
            (digest_set(&rows), rows.len())
        }
        Workload::Insert(n) | Workload::Copy(n) => {
            c.clear().await;
            let rows: Arc<[NewUser]> = crate::new_users(n).into();
            let written = if matches!(w, Workload::Copy(_)) { c.copy(&rows).await } else { c.insert(&rows).await };
            assert_eq!(written, n as u64, "{w:?}: rows written");
            let back = c.inserted().await;
            c.clear().await;
            (digest_seq(&back), back.len())
        }
        Workload::Lookups => (c.lookups().await, crate::model::LOOKUP_TASKS * crate::model::LOOKUPS_PER_TASK),
    }
}

/// Prepared inputs, built outside the timed region.
pub struct Inputs {
    rows: Arc<[NewUser]>,
}

impl Inputs {
    pub fn new(w: Workload) -> Self {
        let rows = match w {
            Workload::Insert(n) | Workload::Copy(n) => crate::new_users(n).into(),
            _ => Vec::new().into(),
        };
        Inputs { rows }
    }
}

/// Run `w` `iters` times; the time taken. Write workloads start from an
/// empty table (cleared before the timer starts).
pub async fn sample<C: Contender>(c: &mut C, w: Workload, inputs: &Inputs, iters: u64) -> Duration {
    if w.is_write() {
        c.clear().await;
    }
    let start = Instant::now();
    run_ops(c, w, inputs, iters).await;
    start.elapsed()
}

/// The operations themselves, with the results kept from the optimiser.
pub async fn run_ops<C: Contender>(c: &mut C, w: Workload, inputs: &Inputs, iters: u64) {
    for _ in 0..iters {
        match w {
            Workload::Select(n) => {
                std::hint::black_box(c.select_users(n).await);
            }
            Workload::Join(n) => {
                std::hint::black_box(c.join(n).await);
            }
            Workload::Insert(_) => {
                std::hint::black_box(c.insert(&inputs.rows).await);
            }
            Workload::Copy(_) => {
                std::hint::black_box(c.copy(&inputs.rows).await);
            }
            Workload::Lookups => {
                std::hint::black_box(c.lookups().await);
            }
        }
    }
}

/// The runtime every contender runs on: tokio's multi-threaded default
/// (one worker per core), as `#[tokio::main]` gives.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}

fn parse_workload(name: &str, param: &str) -> Workload {
    let param: usize = param.parse().expect("workload parameter");
    Workload::parse(name, param).unwrap_or_else(|| panic!("unknown workload {name}"))
}

/// The worker loop: commands on stdin, one answer line each on stdout.
///
/// - `verify <workload> <param>` → `ok <digest> <rows>`
/// - `sample <workload> <param> <iters>` → `ok <nanoseconds>`
/// - `quit`
pub fn serve<C: Contender>(target: &str) {
    let rt = runtime();
    let mut contender = rt.block_on(C::connect(target));
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready").expect("stdout");
    out.flush().expect("stdout");
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["verify", name, param] => {
                let w = parse_workload(name, param);
                let (digest, rows) = rt.block_on(verify(&mut contender, w));
                format!("ok {digest:016x} {rows}")
            }
            ["sample", name, param, iters] => {
                let w = parse_workload(name, param);
                let iters: u64 = iters.parse().expect("iterations");
                let inputs = Inputs::new(w);
                let took = rt.block_on(sample(&mut contender, w, &inputs, iters));
                format!("ok {}", took.as_nanos())
            }
            ["quit"] => break,
            _ => format!("error unknown command {line:?}"),
        };
        writeln!(out, "{answer}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// Callgrind mode: connect, run one operation to warm up, then count the
/// instructions of `ops` operations (zeroing callgrind's counters before
/// and dumping them after, so set-up is not counted).
pub fn callgrind<C: Contender>(target: &str, name: &str, param: &str, ops: &str) {
    let w = parse_workload(name, param);
    let ops: u64 = ops.parse().expect("operations");
    let rt = runtime();
    let mut contender = rt.block_on(C::connect(target));
    let inputs = Inputs::new(w);
    rt.block_on(async {
        // Warm up: caches filled, statements prepared, pool connections open.
        if w.is_write() {
            contender.clear().await;
        }
        run_ops(&mut contender, w, &inputs, 1).await;
        if w.is_write() {
            contender.clear().await;
        }
    });
    crate::callgrind::zero_stats();
    rt.block_on(run_ops(&mut contender, w, &inputs, ops));
    crate::callgrind::dump_stats();
    if w.is_write() {
        rt.block_on(contender.clear());
    }
}
