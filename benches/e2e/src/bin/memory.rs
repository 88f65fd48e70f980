//! Streams 1,000,000 rows (an integer and a 100-character text) through
//! Quarry and reports the process's peak RSS (`VmHWM`), failing if it is
//! over 64 MiB: memory must stay flat however many rows a query returns.
//!
//! Usage: `memory sqlite` or `memory postgres [url]` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`; the query reads no table).

use std::time::Instant;

use futures_util::StreamExt;
use quarry::prelude::*;

const ROWS: i64 = 1_000_000;
const LIMIT_KIB: u64 = 64 * 1024;

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

async fn run(backend: &str, url: &str) -> Result<(u64, u64), quarry::Error> {
    let engine = Engine::connect(url).await?;
    let mut conn = engine.acquire().await?;
    let query = if backend == "postgres" {
        text("SELECT i::bigint, lpad(i::text, 100, 'x') FROM generate_series(1, 1000000) AS s(i)")
    } else {
        text(
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000) \
             SELECT i, printf('%0100d', i) FROM c",
        )
    }
    .read_only();
    let before = status_kib("VmHWM:");
    let start = Instant::now();
    let mut rows = query.stream::<(i64, String)>(&mut conn);
    let (mut n, mut sum, mut chars) = (0i64, 0i64, 0usize);
    while let Some(row) = rows.next().await {
        let (i, s) = row?;
        n += 1;
        sum += i;
        chars += s.len();
    }
    drop(rows);
    assert_eq!(n, ROWS, "rows streamed");
    assert_eq!(sum, ROWS * (ROWS + 1) / 2, "sum of ids");
    assert_eq!(chars, 100 * ROWS as usize, "text length");
    let took = start.elapsed();
    println!("{backend}: streamed {n} rows ({} MB of text) in {took:.2?}", chars / 1_000_000);
    Ok((before, status_kib("VmHWM:")))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let backend = args.first().map(String::as_str).unwrap_or("sqlite");
    let url = match backend {
        "postgres" => args.get(1).cloned().unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
        "sqlite" => {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/e2e/memory.db");
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
            format!("sqlite://{path}")
        }
        other => {
            eprintln!("usage: memory sqlite|postgres [url] (not {other:?})");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let outcome = rt.block_on(run(backend, &url));
    if let Some(path) = url.strip_prefix("sqlite://") {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    let (before, peak) = match outcome {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{backend}: {e}");
            std::process::exit(1);
        }
    };
    let verdict = if peak <= LIMIT_KIB { "ok" } else { "OVER THE LIMIT" };
    println!(
        "{backend}: peak RSS (VmHWM) {:.1} MiB ({:.1} MiB before the query), limit 64 MiB: {verdict}",
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    if peak > LIMIT_KIB {
        std::process::exit(1);
    }
}
