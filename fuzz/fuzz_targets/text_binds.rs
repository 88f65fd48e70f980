//! `cargo +nightly fuzz run text_binds`: see `quarry_fuzz::target_text_binds`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::target_text_binds(data));
