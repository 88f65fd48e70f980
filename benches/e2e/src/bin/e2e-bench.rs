//! The Quarry-side worker of the end-to-end benchmarks (the runner in
//! `benches/run` starts one process per contender).
//!
//! Usage:
//! - `e2e-bench setup <postgres-url> <sqlite-path>` / `e2e-bench cleanup ...`
//! - `e2e-bench worker <contender> <target>`: serve the runner's commands
//! - `e2e-bench callgrind <contender> <target> <workload> <param> <ops>`
//!
//! Contenders: `quarry-pg`, `tokio-postgres`, `quarry-sqlite`, `rusqlite`,
//! `tokio-rusqlite`.

use quarry_bench_e2e::{harness, setup, via_quarry, via_rusqlite, via_tokio_postgres, via_tokio_rusqlite};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["setup", pg, sqlite] => {
            harness::runtime().block_on(setup::postgres(pg));
            setup::sqlite(sqlite);
        }
        ["cleanup", pg, sqlite] => {
            harness::runtime().block_on(setup::postgres_cleanup(pg));
            setup::sqlite_cleanup(sqlite);
        }
        ["worker", contender, target] => match *contender {
            "quarry-pg" | "quarry-sqlite" => harness::serve::<via_quarry::Bench>(target),
            "tokio-postgres" => harness::serve::<via_tokio_postgres::Bench>(target),
            "rusqlite" => harness::serve::<via_rusqlite::Bench>(target),
            "tokio-rusqlite" => harness::serve::<via_tokio_rusqlite::Bench>(target),
            other => panic!("unknown contender {other}"),
        },
        ["callgrind", contender, target, w, p, ops] => match *contender {
            "quarry-pg" | "quarry-sqlite" => harness::callgrind::<via_quarry::Bench>(target, w, p, ops),
            "tokio-postgres" => harness::callgrind::<via_tokio_postgres::Bench>(target, w, p, ops),
            "rusqlite" => harness::callgrind::<via_rusqlite::Bench>(target, w, p, ops),
            "tokio-rusqlite" => harness::callgrind::<via_tokio_rusqlite::Bench>(target, w, p, ops),
            other => panic!("unknown contender {other}"),
        },
        _ => {
            eprintln!(
                "usage: e2e-bench setup|cleanup <pg-url> <sqlite-path> | worker <contender> <target> | callgrind ..."
            );
            std::process::exit(2);
        }
    }
}
