//! Replays every saved input of the fuzz targets (`fuzz/corpus/<target>/`)
//! through the targets' logic (`fuzz/src/lib.rs`, included here), so that
//! CI exercises them on stable, without libFuzzer. A failing input found by
//! `cargo +nightly fuzz run <target>` is saved in the corpus and fails here
//! until fixed. See RELIABILITY.md §4.2.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

#[path = "../../../fuzz/src/lib.rs"]
mod fuzz;

use std::path::PathBuf;

/// Run `target` on every file of its corpus; the corpus must not be empty.
fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no saved inputs in {}", dir.display());
    for file in files {
        let data = std::fs::read(&file).expect("read a corpus file");
        // A panic names the input that caused it.
        if let Err(panic) = std::panic::catch_unwind(|| run(&data)) {
            panic!("{target}: {} fails: {}", file.display(), panic_message(&*panic));
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn compile_ast() {
    replay("compile_ast", fuzz::target_compile_ast);
}

#[test]
fn quote_ident() {
    replay("quote_ident", fuzz::target_quote_ident);
}

#[test]
fn text_binds() {
    replay("text_binds", fuzz::target_text_binds);
}

#[test]
fn debug_sql() {
    replay("debug_sql", fuzz::target_debug_sql);
}
