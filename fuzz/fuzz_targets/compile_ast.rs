//! `cargo +nightly fuzz run compile_ast`: see `quarry_fuzz::target_compile_ast`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::target_compile_ast(data));
