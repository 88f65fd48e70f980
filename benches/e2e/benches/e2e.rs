//! The end-to-end workloads under criterion, for one contender at a time:
//! `cargo bench --bench e2e` (in benches/). `just bench` uses the
//! interleaved runner instead (benches/run), which also counts
//! instructions and includes sqlx; this is for quick, local comparisons.
//!
//! The data must exist: run `target/release/e2e-bench setup <pg-url> <sqlite-path>`
//! first (the defaults below match the runner's), and `cleanup` after.
//! Select the backend with `QUARRY_BENCH_ONLY=postgres|sqlite`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use quarry_bench_e2e::harness::{Contender, Inputs, Workload, runtime, sample};
use quarry_bench_e2e::{via_quarry, via_rusqlite, via_tokio_postgres, via_tokio_rusqlite};

fn workloads(postgres: bool) -> Vec<(&'static str, Workload, usize)> {
    let mut w = vec![
        ("select", Workload::Select(1), 1),
        ("select", Workload::Select(100), 100),
        ("select", Workload::Select(10_000), 10_000),
        ("join", Workload::Join(1), 1),
        ("join", Workload::Join(1000), 1000),
        ("insert", Workload::Insert(1), 1),
        ("insert", Workload::Insert(100), 100),
        ("insert", Workload::Insert(10_000), 10_000),
        ("lookups", Workload::Lookups, 12_800),
    ];
    if postgres {
        w.push(("copy", Workload::Copy(100), 100));
        w.push(("copy", Workload::Copy(10_000), 10_000));
    }
    w
}

fn bench_one<C: Contender>(c: &mut Criterion, backend: &str, name: &str, target: &str) {
    let rt = runtime();
    let mut contender = rt.block_on(C::connect(target));
    for (group, w, param) in workloads(backend == "postgres") {
        let inputs = Inputs::new(w);
        let mut g = c.benchmark_group(format!("{backend}-{group}"));
        g.sample_size(10);
        g.bench_function(BenchmarkId::new(name, param), |b| {
            b.iter_custom(|iters| rt.block_on(sample(&mut contender, w, &inputs, iters)));
        });
        g.finish();
    }
}

fn benches(c: &mut Criterion) {
    let only = std::env::var("QUARRY_BENCH_ONLY").ok();
    let pg = std::env::var("QUARRY_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/quarry_bench".to_owned());
    let sqlite = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/e2e/bench.db");
    if only.as_deref() != Some("sqlite") {
        bench_one::<via_quarry::Bench>(c, "postgres", "quarry", &pg);
        bench_one::<via_tokio_postgres::Bench>(c, "postgres", "raw", &pg);
    }
    if only.as_deref() != Some("postgres") {
        bench_one::<via_quarry::Bench>(c, "sqlite", "quarry", sqlite);
        bench_one::<via_tokio_rusqlite::Bench>(c, "sqlite", "raw", sqlite);
        bench_one::<via_rusqlite::Bench>(c, "sqlite", "rusqlite", sqlite);
    }
}

fn config() -> Criterion {
    // Apart from the compile benchmark's results, which the report tool reads.
    Criterion::default()
        .output_directory(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/criterion-e2e")))
}

criterion_group! {
    name = e2e;
    config = config();
    targets = benches
}
criterion_main!(e2e);
