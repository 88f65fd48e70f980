//! Build and compile five representative statements with Quarry and with
//! sea-query, for PostgreSQL and SQLite, in the same run.
//!
//! Each iteration builds the statement from statically declared tables and
//! renders SQL text plus parameters, as an application does per request.
//! `just bench-compile` prints the medians and Quarry's ratio to sea-query.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use quarry_bench_compile::{quarry_side, rows, sea_side};

/// Check once that both libraries render the same statement: the same
/// number of parameters; both texts are printed for inspection.
fn check_equivalent(name: &str, quarry: &quarry_core::Compiled, sea: &(String, sea_query::Values)) {
    assert_eq!(
        quarry.params.len(),
        sea.1.0.len(),
        "{name}: parameter counts differ\n  quarry: {}\n  sea:    {}",
        quarry.sql,
        sea.0
    );
    eprintln!("{name}\n  quarry:    {}\n  sea-query: {}", quarry.sql, sea.0);
}

fn bench(c: &mut Criterion) {
    use quarry_core::{Dialect, Postgres, Sqlite};
    use sea_side::Backend;
    let rows = rows();
    let dialects: [(&str, &dyn Dialect, Backend); 2] =
        [("postgres", &Postgres, Backend::Postgres), ("sqlite", &Sqlite, Backend::Sqlite)];

    for (dname, d, b) in dialects {
        check_equivalent(&format!("pk_lookup/{dname}"), &quarry_side::pk_lookup(d), &sea_side::pk_lookup(b));
        check_equivalent(&format!("join/{dname}"), &quarry_side::join(d), &sea_side::join(b));
        check_equivalent(
            &format!("insert_100/{dname}"),
            &quarry_side::insert_100(d, &rows),
            &sea_side::insert_100(b, &rows),
        );
        check_equivalent(
            &format!("correlated_update/{dname}"),
            &quarry_side::correlated_update(d),
            &sea_side::correlated_update(b),
        );
        check_equivalent(
            &format!("recursive_cte/{dname}"),
            &quarry_side::recursive_cte(d),
            &sea_side::recursive_cte(b),
        );
    }

    let mut group = c.benchmark_group("pk_lookup");
    for (dname, d, b) in dialects {
        group.bench_function(BenchmarkId::new("quarry", dname), |x| x.iter(|| quarry_side::pk_lookup(black_box(d))));
        group.bench_function(BenchmarkId::new("sea-query", dname), |x| x.iter(|| sea_side::pk_lookup(black_box(b))));
    }
    group.finish();

    let mut group = c.benchmark_group("join");
    for (dname, d, b) in dialects {
        group.bench_function(BenchmarkId::new("quarry", dname), |x| x.iter(|| quarry_side::join(black_box(d))));
        group.bench_function(BenchmarkId::new("sea-query", dname), |x| x.iter(|| sea_side::join(black_box(b))));
    }
    group.finish();

    let mut group = c.benchmark_group("insert_100");
    for (dname, d, b) in dialects {
        group.bench_function(BenchmarkId::new("quarry", dname), |x| {
            x.iter(|| quarry_side::insert_100(black_box(d), black_box(&rows)))
        });
        group.bench_function(BenchmarkId::new("sea-query", dname), |x| {
            x.iter(|| sea_side::insert_100(black_box(b), black_box(&rows)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("correlated_update");
    for (dname, d, b) in dialects {
        group.bench_function(BenchmarkId::new("quarry", dname), |x| {
            x.iter(|| quarry_side::correlated_update(black_box(d)))
        });
        group.bench_function(BenchmarkId::new("sea-query", dname), |x| {
            x.iter(|| sea_side::correlated_update(black_box(b)))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("recursive_cte");
    for (dname, d, b) in dialects {
        group
            .bench_function(BenchmarkId::new("quarry", dname), |x| x.iter(|| quarry_side::recursive_cte(black_box(d))));
        group
            .bench_function(BenchmarkId::new("sea-query", dname), |x| x.iter(|| sea_side::recursive_cte(black_box(b))));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
