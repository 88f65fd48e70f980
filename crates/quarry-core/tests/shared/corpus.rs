//! The injection corpus (`tests/data/injection_corpus.txt`), read with its
//! escapes applied. Shared by `crates/quarry-core/tests/injection.rs`
//! (SQLite and sqlparser) and `tests/tests/security/` (both real
//! databases through the `quarry` facade), which include it with `#[path]`.
#![allow(dead_code, unreachable_pub, reason = "each test target uses a part of it")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

/// Every payload of the corpus, unescaped.
pub fn corpus() -> Vec<String> {
    let text = include_str!("../data/injection_corpus.txt");
    text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(unescape).collect()
}

/// Apply the corpus's escapes (documented at its top).
pub fn unescape(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('\\') => {
                chars.next();
                out.push('\\');
            }
            Some('n') => {
                chars.next();
                out.push('\n');
            }
            Some('r') => {
                chars.next();
                out.push('\r');
            }
            Some('t') => {
                chars.next();
                out.push('\t');
            }
            Some('s') => {
                chars.next();
                out.push(' ');
            }
            Some('u') => {
                chars.next();
                assert_eq!(chars.next(), Some('{'), "\\u needs braces in {line:?}");
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let scalar = u32::from_str_radix(&hex, 16).expect("hex scalar");
                out.push(char::from_u32(scalar).expect("a Unicode scalar value"));
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// Payloads with NUL, kept out of the corpus file: no database can hold
/// them as a name, so they must be refused before anything is sent.
pub const NUL_PAYLOADS: [&str; 4] = ["\0", "a\0b", "id\0x", "\0; DROP TABLE canary; --"];
