//! The sqlx contender: a worker process the runner drives like Quarry's
//! (`benches/e2e/src/shared/harness.rs`, included here), running the same
//! workloads on the same data.
//!
//! Usage: `sqlx-bench worker <sqlx-pg|sqlx-sqlite> <target>` or
//! `sqlx-bench callgrind <contender> <target> <workload> <param> <ops>`.

#[path = "../../e2e/src/shared/model.rs"]
pub mod model;

#[path = "../../e2e/src/shared/harness.rs"]
pub mod harness;

#[path = "../../e2e/src/shared/callgrind.rs"]
pub mod callgrind;

mod sqlx_pg;
mod sqlx_sqlite;

define_model!(sqlx::FromRow);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["worker", "sqlx-pg", target] => harness::serve::<sqlx_pg::Bench>(target),
        ["worker", "sqlx-sqlite", target] => harness::serve::<sqlx_sqlite::Bench>(target),
        ["callgrind", "sqlx-pg", target, w, p, ops] => harness::callgrind::<sqlx_pg::Bench>(target, w, p, ops),
        ["callgrind", "sqlx-sqlite", target, w, p, ops] => harness::callgrind::<sqlx_sqlite::Bench>(target, w, p, ops),
        _ => {
            eprintln!("usage: sqlx-bench worker|callgrind <sqlx-pg|sqlx-sqlite> <target> [workload param ops]");
            std::process::exit(2);
        }
    }
}
