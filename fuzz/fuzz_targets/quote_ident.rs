//! `cargo +nightly fuzz run quote_ident`: see `quarry_fuzz::target_quote_ident`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::target_quote_ident(data));
