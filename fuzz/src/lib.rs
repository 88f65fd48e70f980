//! Fuzz targets for Quarry's compiler (RELIABILITY.md §4.2).
//!
//! Each target is a plain `pub fn target_x(data: &[u8])` that panics when a
//! property fails, so that libFuzzer drives it (`fuzz_targets/*.rs`, run with
//! `cargo +nightly fuzz run <target>` here) and an ordinary test replays the
//! saved corpus on stable (`crates/quarry-core/tests/fuzz_replay.rs`, which
//! includes this file with `#[path]`). The bytes are decoded by hand
//! ([`input::Input`]): no `arbitrary` dependency.
//!
//! - [`target_compile_ast`]: a statement tree built from the bytes (every
//!   node kind, hostile identifiers and values of every kind), compiled for
//!   both dialects: never panics, deterministic, placeholders dense and
//!   counted, nothing but keywords and operators outside quoted identifiers
//!   and literals (no `;`, `--`, `/*`, NUL), every identifier quoted
//!   (checked by compiling the same tree with every identifier renamed: only
//!   the quoted identifiers may change), and the debug SQL is the compiled
//!   SQL with each placeholder replaced by its value's literal.
//! - [`target_quote_ident`]: an identifier quoted by each dialect parses back
//!   (sqlparser) to exactly itself; refused exactly when empty, with NUL, or
//!   over 63 bytes on PostgreSQL; distinct names quote differently.
//! - [`target_text_binds`]: the `:name` lexer of `text()` finds the same bind
//!   sites as sqlparser's tokenizer, and changes nothing else.
//! - [`target_debug_sql`]: a value inlined by `to_debug_sql` parses back
//!   (sqlparser) to the same value.
#![allow(unreachable_pub, dead_code, reason = "also included as a module by a test")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "a failed property panics, for the fuzzer")]

pub mod input;
pub mod scan;
pub mod text_binds;

use quarry_core::ast::{self, Query, SelectItem, SetExpr, Statement};
use quarry_core::compile::{compile, to_debug_sql};
use quarry_core::{CompileError, Dialect, Postgres, Sqlite, Value};
use sqlparser::dialect::{Dialect as ParserDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

pub use text_binds::target_text_binds;

use input::Input;
use scan::{check_compiled, is_length_refusal, scan};

/// Both dialects, with the sqlparser dialect that reads each.
fn dialects() -> [(&'static dyn Dialect, &'static dyn ParserDialect); 2] {
    [(&Postgres, &PostgreSqlDialect {}), (&Sqlite, &SQLiteDialect {})]
}

// ---------------------------------------------------------------- targets

/// Build a statement tree from the bytes and compile it for both dialects.
pub fn target_compile_ast(data: &[u8]) {
    const DEPTH: u32 = 6;
    let input = |suffix| Input::new(data, suffix);
    let stmt = input("").statement(DEPTH);
    let renamed = input("\u{E000}").statement(DEPTH);
    for (dialect, _) in dialects() {
        // Compared as text: a NaN parameter is not equal to itself.
        let first = compile(&stmt, dialect);
        assert_eq!(format!("{first:?}"), format!("{:?}", compile(&stmt, dialect)), "compiling twice");
        let debug = to_debug_sql(&stmt, dialect);
        assert_eq!(debug, to_debug_sql(&stmt, dialect), "debug SQL twice");
        let c = match first {
            Ok(c) => c,
            Err(e) => {
                // The debug text refuses what compiling refuses.
                assert!(debug.is_err(), "{e} but the debug SQL is {debug:?}");
                continue;
            }
        };
        let scanned = check_compiled(&c, dialect);

        // Every identifier quoted: renaming every identifier changes only
        // the quoted identifiers, each by the suffix.
        match compile(&renamed, dialect) {
            Ok(r) => {
                let other = check_compiled(&r, dialect);
                assert_eq!(scanned.skeleton, other.skeleton, "renaming changed the SQL outside quotes");
                assert_eq!(scanned.placeholders, other.placeholders);
                assert_eq!(format!("{:?}", c.params), format!("{:?}", r.params));
                assert_eq!(scanned.identifiers.len(), other.identifiers.len());
                for (a, b) in scanned.identifiers.iter().zip(&other.identifiers) {
                    // Names Quarry makes up itself (an emulation's aliases) stay.
                    assert!(*b == format!("{a}\u{E000}") || a == b, "{a:?} renamed to {b:?}");
                }
            }
            Err(e) => assert!(is_length_refusal(&e), "the renamed tree was refused: {e}"),
        }

        // The debug SQL is the SQL with each value inlined as its literal.
        match debug {
            Ok(debug) => {
                let scanned_debug = scan(debug.as_str(), dialect);
                assert!(scanned_debug.placeholders.is_empty(), "placeholders in debug SQL {debug}");
                assert!(!debug.as_str().contains('\0'), "NUL in debug SQL");
                let mut expected = String::new();
                let mut rest = c.sql.as_str();
                let sigil = if dialect.name() == "PostgreSQL" { '$' } else { '?' };
                for n in &scanned.placeholders {
                    let marker = format!("{sigil}{n}");
                    // The first placeholder outside quotes is the next one;
                    // quoted text before it is copied verbatim.
                    let at = find_placeholder(rest, &marker, dialect);
                    expected.push_str(&rest[..at]);
                    let mut literal = String::new();
                    dialect.write_literal(&c.params[n - 1], &mut literal).expect("a literal the debug SQL wrote");
                    // `-` before a negative literal is written `- -5`, never `--5`.
                    if expected.ends_with('-') && literal.starts_with('-') {
                        expected.push(' ');
                    }
                    expected.push_str(&literal);
                    rest = &rest[at + marker.len()..];
                    // Bound text cast to another type is `CAST($1::text AS
                    // ...)` so that the server parses it; inline it is a
                    // literal already.
                    if matches!(c.params[n - 1], Value::Text(_)) {
                        rest = rest.strip_prefix("::text").unwrap_or(rest);
                    }
                }
                expected.push_str(rest);
                assert_eq!(debug.as_str(), expected, "debug SQL and compiled SQL disagree");
            }
            // A value with no literal (NUL in PostgreSQL text; NaN on
            // SQLite, refused when bound too).
            Err(CompileError::InvalidLiteral { .. } | CompileError::Unsupported { .. }) => {}
            Err(e) => panic!("compiled, but the debug SQL failed: {e}"),
        }
    }
}

/// The byte offset of placeholder `marker` outside quotes in `sql`.
fn find_placeholder(sql: &str, marker: &str, dialect: &dyn Dialect) -> usize {
    let mut offset = 0;
    loop {
        let at = sql[offset..].find(marker).map(|p| p + offset).expect("the placeholder is in the SQL");
        let end = at + marker.len();
        let next_is_digit = sql[end..].chars().next().is_some_and(|c| c.is_ascii_digit());
        // Outside quotes: the text before it scans to an even number of quotes.
        if !next_is_digit && outside_quotes(&sql[..at], dialect) {
            return at;
        }
        offset = end;
    }
}

fn outside_quotes(prefix: &str, dialect: &dyn Dialect) -> bool {
    let postgres = dialect.name() == "PostgreSQL";
    let b = prefix.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'') => {
                let escapes = postgres && q == b'\'' && i > 0 && b[i - 1] == b'E';
                i += 1;
                loop {
                    match b.get(i) {
                        None => return false,
                        Some(b'\\') if escapes => i += 2,
                        Some(c) if *c == q && b.get(i + 1) == Some(&q) => i += 2,
                        Some(c) if *c == q => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    true
}

/// Quote an identifier with each dialect; sqlparser reads it back exactly.
pub fn target_quote_ident(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0xFF).unwrap_or(data.len());
    let a = String::from_utf8_lossy(&data[..split]).into_owned();
    let b = String::from_utf8_lossy(data.get(split + 1..).unwrap_or_default()).into_owned();
    for (dialect, parser) in dialects() {
        let quote = |s: &str| {
            let mut out = String::new();
            dialect.write_identifier(s, &mut out).map(|()| out)
        };
        for name in [&a, &b] {
            let too_long = dialect.name() == "PostgreSQL" && name.len() > 63;
            let refuse = name.is_empty() || name.contains('\0') || too_long;
            match quote(name) {
                Err(CompileError::InvalidIdentifier { .. }) if refuse => {}
                Err(e) => panic!("{name:?} refused: {e}"),
                Ok(q) if refuse => panic!("{name:?} quoted as {q:?}, should be refused"),
                Ok(q) => {
                    assert!(q.starts_with('"') && q.ends_with('"') && q.len() >= 2, "{q:?}");
                    assert_eq!(q[1..q.len() - 1].replace("\"\"", "\""), *name, "{q:?}");
                    // sqlparser finds exactly this identifier.
                    let sql = format!("SELECT {q} FROM {q}");
                    let stmts = Parser::parse_sql(parser, &sql).unwrap_or_else(|e| panic!("{sql:?}: {e}"));
                    let ast = format!("{stmts:?}");
                    let needle = format!("value: {name:?}, quote_style: Some('\"')");
                    assert_eq!(ast.matches(&needle).count(), 2, "{sql:?}\n{ast}");
                }
            }
        }
        // Injective: distinct names, distinct quoted text.
        if let (Ok(qa), Ok(qb)) = (quote(&a), quote(&b)) {
            assert_eq!(a == b, qa == qb, "{a:?} and {b:?} quote to {qa:?} and {qb:?}");
        }
    }
}

/// The bind sites sqlparser's tokenizer sees: `:` then (adjacent) an
/// unquoted word starting with an ASCII letter or `_`, not after `\`; the
/// name is the word's leading `[A-Za-z0-9_]` run (Quarry's name alphabet).
/// A value inlined by `to_debug_sql` reads back as the same value.
pub fn target_debug_sql(data: &[u8]) {
    let value = Input::new(data, "").value(2);
    let stmt = Statement::Query(Query::new(SetExpr::Select(Box::new(ast::Select {
        projection: vec![SelectItem::aliased(ast::Expr::Value(value.clone()), "v")],
        ..ast::Select::default()
    }))));
    for (dialect, parser) in dialects() {
        let debug = match to_debug_sql(&stmt, dialect) {
            Ok(d) => d,
            Err(CompileError::InvalidLiteral { .. } | CompileError::Unsupported { .. }) => continue,
            Err(e) => panic!("{value:?}: {e}"),
        };
        let sql = debug.as_str();
        assert!(!sql.contains('\0'), "NUL in {sql:?}");
        let scanned = scan(sql, dialect);
        assert!(scanned.placeholders.is_empty(), "{sql:?}");
        let stmts = Parser::new(parser)
            .with_recursion_limit(256)
            .try_with_sql(sql)
            .and_then(|mut p| p.parse_statements())
            .unwrap_or_else(|e| panic!("{sql:?}: {e}"));
        assert_eq!(stmts.len(), 1, "{sql:?}");
        // Text comes back exactly: a plain literal, an E'' literal, or (NUL
        // on SQLite) hex.
        if let Value::Text(text) = &value {
            let ast = format!("{stmts:?}");
            let plain = format!("SingleQuotedString({:?})", text.as_ref());
            let escaped = format!("EscapedStringLiteral({:?})", text.as_ref());
            let hex: String = text.bytes().map(|b| format!("{b:02X}")).collect();
            let hex = format!("HexStringLiteral({hex:?})");
            assert!(
                ast.contains(&plain) || ast.contains(&escaped) || ast.contains(&hex),
                "{text:?} does not read back from {sql:?}\n{ast}"
            );
        }
    }
}
