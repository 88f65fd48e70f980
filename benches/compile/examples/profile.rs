//! Build and compile one statement many times, for callgrind:
//! `valgrind --tool=callgrind target/release/examples/profile join 20000`.
use quarry_bench_compile::{quarry_side, rows, sea_side};
use quarry_core::{Dialect, Postgres};
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "join".into());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let d: &dyn Dialect = &Postgres;
    let rows = rows();
    for _ in 0..n {
        let b = sea_side::Backend::Postgres;
        match which.as_str() {
            "pk" => drop(black_box(quarry_side::pk_lookup(d))),
            "join" => drop(black_box(quarry_side::join(d))),
            "insert" => drop(black_box(quarry_side::insert_100(d, &rows))),
            "update" => drop(black_box(quarry_side::correlated_update(d))),
            "cte" => drop(black_box(quarry_side::recursive_cte(d))),
            "sea-pk" => drop(black_box(sea_side::pk_lookup(b))),
            "sea-join" => drop(black_box(sea_side::join(b))),
            "sea-insert" => drop(black_box(sea_side::insert_100(b, &rows))),
            "sea-update" => drop(black_box(sea_side::correlated_update(b))),
            _ => drop(black_box(sea_side::recursive_cte(b))),
        }
    }
}
