//! The security checklist's oracles that need real databases
//! (RELIABILITY.md §4): the compiler's output, run where it will run.
//!
//! - `prepare`: every statement of the property tests' generator
//!   (`crates/quarry-core/tests/shared/generator.rs`, hostile names and values)
//!   is prepared by PostgreSQL against the generated schema, inside a
//!   transaction that is rolled back; the server counts as many parameters
//!   as Quarry bound (oracle 4 of §4.1).
//! - `differential`: random data and random portable statements run through
//!   the `quarry` facade on SQLite and on PostgreSQL give the same results
//!   (oracle 6 of §4.1).
//! - `injection`: every payload of the injection corpus
//!   (`crates/quarry-core/tests/data/injection_corpus.txt`) as a table, a
//!   column, an alias and a value, on both databases; exactly the payload
//!   comes back and a canary table is untouched (§4.3).
//!
//! `PROPTEST_CASES` raises the number of cases of the first two; without
//! PostgreSQL they are skipped loudly (or fail, with `QUARRY_REQUIRE_PG=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

#[path = "../../../crates/quarry-core/tests/shared/generator.rs"]
mod generator;

mod differential;
mod injection;
mod prepare;

/// A runtime for tests that drive async code from proptest's synchronous
/// closures: one worker, which also runs tokio-postgres' connection task.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a tokio runtime")
}
