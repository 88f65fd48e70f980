//! `cargo +nightly fuzz run debug_sql`: see `quarry_fuzz::target_debug_sql`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::target_debug_sql(data));
