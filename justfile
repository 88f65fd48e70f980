# Quarry's common tasks: thin wrappers over cargo.

# Run the quickstart on embedded SQLite.
demo:
    cargo run --example quickstart

# Run every test.
test:
    cargo test --workspace

# Formatting and lints, as CI checks them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Format the code.
fmt:
    cargo fmt --all

# The bounded soak test: money moved between accounts under cancellations,
# killed backends and a server restart (QUARRY_SOAK_SECS, default 60).
soak:
    cargo test -p quarry-tests --features soak --test soak -- --nocapture

# The invalid-UTF-8 decoding tests under valgrind's memcheck (CI runs it too).
memcheck:
    .ci/memcheck

# What CI runs.
ci:
    .ci/run

# QUARRY_BENCH_QUICK=1 for a few minutes instead of ~15 (end-to-end part).
# Every benchmark: end-to-end, memory and compile (see docs/performance.md).
bench: bench-e2e bench-memory bench-compile

# sqlx is built in its own workspace: it links another SQLite than rusqlite.
# Build the end-to-end benchmark binaries.
bench-build:
    cd benches && cargo build --release -p quarry-bench-e2e -p quarry-bench-run
    cd benches/sqlx && cargo build --release

# One table, also saved to benches/target/e2e/results.md.
# End-to-end: Quarry against tokio-postgres, rusqlite, tokio-rusqlite and sqlx.
bench-e2e: bench-build
    benches/target/release/bench-run

# Stream 1,000,000 rows through Quarry on each backend; fails over 64 MiB RSS.
bench-memory:
    cd benches && cargo build --release -p quarry-bench-e2e --bin memory
    benches/target/release/memory sqlite
    benches/target/release/memory postgres

# Building and compiling statements: Quarry against sea-query.
bench-compile:
    cd benches && cargo bench -p quarry-bench-compile --bench compile
    cd benches && cargo run --release -q -p quarry-bench-report -- target/criterion sea-query quarry sea-query

# Fuzz a target with libFuzzer (nightly; `cargo install cargo-fuzz` once):
# compile_ast, quote_ident, text_binds or debug_sql, for `seconds`. New
# inputs go to fuzz/target/corpus/<target>; the committed corpus in
# fuzz/corpus/<target> (small, minimised) seeds it, and `cargo test` replays
# it on stable (crates/quarry-core/tests/fuzz_replay.rs).
fuzz target="compile_ast" seconds="120":
    mkdir -p fuzz/target/corpus/{{target}}
    cd fuzz && cargo +nightly fuzz run -O {{target}} target/corpus/{{target}} corpus/{{target}} -- -max_total_time={{seconds}}
