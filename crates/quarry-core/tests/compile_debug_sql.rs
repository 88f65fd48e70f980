//! `to_debug_sql`: literals inline, escaped per dialect; for logs only.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

use quarry_core::prelude::*;
use quarry_core::{CompileError, Compiled};

fn debug(v: Value, dialect: &dyn Dialect) -> Result<String, CompileError> {
    select(Expr::<quarry_core::expr::Any>::value(v))
        .to_debug_sql(dialect)
        .map(|d| d.as_str()["SELECT ".len()..].to_owned())
}

#[track_caller]
fn both(v: Value, pg: &str, lite: &str) {
    assert_eq!(debug(v.clone(), &Postgres).unwrap(), pg, "PostgreSQL {v:?}");
    assert_eq!(debug(v.clone(), &Sqlite).unwrap(), lite, "SQLite {v:?}");
}

#[test]
fn scalars() {
    both(Value::Null, "NULL", "NULL");
    both(Value::Bool(true), "TRUE", "1");
    both(Value::Bool(false), "FALSE", "0");
    both(Value::I16(-7), "-7", "-7");
    both(Value::I32(i32::MIN), "-2147483648", "-2147483648");
    both(Value::I64(i64::MAX), "9223372036854775807", "9223372036854775807");
}

#[test]
fn text_quotes_are_doubled() {
    both(Value::from("O'Brien"), "'O''Brien'", "'O''Brien'");
    both(Value::from("''"), "''''''", "''''''");
    both(Value::from("a\"b;--/*"), "'a\"b;--/*'", "'a\"b;--/*'");
    both(Value::from(""), "''", "''");
}

#[test]
fn backslashes_use_e_strings_on_postgres_only() {
    both(Value::from(r"a\b"), r"E'a\\b'", r"'a\b'");
    both(Value::from(r"\'; DROP TABLE x; --"), r"E'\\''; DROP TABLE x; --'", r"'\''; DROP TABLE x; --'");
    both(Value::from("\\"), r"E'\\'", r"'\'");
}

#[test]
fn nul_in_text() {
    assert!(matches!(debug(Value::from("a\0b"), &Postgres), Err(CompileError::InvalidLiteral { .. })));
    assert_eq!(debug(Value::from("a\0b"), &Sqlite).unwrap(), "CAST(X'610062' AS TEXT)");
    // SQLite reads it back as the same three characters.
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let s: String = conn.query_row("SELECT CAST(X'610062' AS TEXT)", [], |r| r.get(0)).unwrap();
    assert_eq!(s, "a\0b");
}

#[test]
fn bytes_as_hex() {
    both(Value::Bytes(vec![0, 0xab, 0xff].into()), "decode('00abff', 'hex')", "X'00ABFF'");
    both(Value::Bytes(Vec::new().into()), "decode('', 'hex')", "X''");
}

#[test]
fn floats_round_trip() {
    let values = [0.1, -0.0, 1e300, -1e-300, f64::MIN_POSITIVE, 5e-324, f64::MAX, 1.0 / 3.0, 123456789.0];
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for v in values {
        let pg = debug(Value::F64(v), &Postgres).unwrap();
        let text = pg.strip_prefix("CAST(").and_then(|s| s.strip_suffix(" AS DOUBLE PRECISION)")).unwrap();
        assert_eq!(text.parse::<f64>().unwrap().to_bits(), v.to_bits(), "{pg}");
        let lite = debug(Value::F64(v), &Sqlite).unwrap();
        assert_eq!(lite, text);
        let back: f64 = conn.query_row(&format!("SELECT {lite}"), [], |r| r.get(0)).unwrap();
        assert_eq!(back, v, "SQLite read {lite} back as {back}");
    }
    both(Value::F32(0.5), "CAST(0.5 AS DOUBLE PRECISION)", "0.5");
}

#[test]
fn non_finite_floats() {
    both(Value::F64(f64::INFINITY), "'Infinity'::float8", "1e999");
    both(Value::F64(f64::NEG_INFINITY), "'-Infinity'::float8", "-1e999");
    assert_eq!(debug(Value::F64(f64::NAN), &Postgres).unwrap(), "'NaN'::float8");
    // SQLite stores NaN as NULL: it has no NaN literal.
    assert_eq!(
        debug(Value::F64(f64::NAN), &Sqlite),
        Err(CompileError::Unsupported { construct: "NaN as a floating-point value", dialect: "SQLite" })
    );
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let inf: f64 = conn.query_row("SELECT 1e999", [], |r| r.get(0)).unwrap();
    assert_eq!(inf, f64::INFINITY);
}

#[test]
fn minus_before_a_negative_literal_is_not_a_comment() {
    // `--5` would start a comment running to the end of the line.
    let e: Expr<i64> = -value(-5_i64);
    let q = select(e.clone()).filter(e.eq(5_i64));
    let expected = "SELECT - -5 WHERE - -5 = 5";
    assert_eq!(q.to_debug_sql(&Postgres).unwrap().as_str(), expected);
    assert_eq!(q.to_debug_sql(&Sqlite).unwrap().as_str(), expected);
    let nested: Expr<i64> = -(-value(-5_i64));
    assert_eq!(select(nested).to_debug_sql(&Sqlite).unwrap().as_str(), "SELECT -(- -5)");
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let five: i64 = conn.query_row(q.to_debug_sql(&Sqlite).unwrap().as_str(), [], |r| r.get(0)).unwrap();
    assert_eq!(five, 5);
}

#[test]
fn debug_sql_of_a_whole_statement() {
    quarry_core::table! {
        /// People.
        pub struct People("people") { id: i64 [primary_key], name: String, tags: Option<String> }
    }
    let p = People::table();
    let q = select(p.id).from(p).filter(p.name.eq("it's").and(p.tags.contains("50%"))).limit(3);
    assert_eq!(
        q.to_debug_sql(&Postgres).unwrap().to_string(),
        r#"SELECT "people"."id" FROM "people" WHERE "people"."name" = 'it''s' AND "people"."tags" LIKE E'%50\\%%' ESCAPE E'\\' LIMIT 3"#
    );
    assert_eq!(
        q.to_debug_sql(&Sqlite).unwrap().as_str(),
        r#"SELECT "people"."id" FROM "people" WHERE "people"."name" = 'it''s' AND "people"."tags" LIKE '%50\%%' ESCAPE '\' LIMIT 3"#
    );
    // The compiled statement binds the same values instead.
    let c: Compiled = q.compile(&Postgres).unwrap();
    assert!(!c.sql.contains("it''s"));
    assert_eq!(c.params.len(), 3);
}

#[test]
fn sqlite_debug_sql_returns_the_same_rows_as_the_bound_query() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
    let values = ["plain", "O'Brien", r"back\slash", "a\0b", "'; DROP TABLE t; --", "é\u{202e}x"];
    for v in values {
        conn.execute("INSERT INTO t (v) VALUES (?1)", [v]).unwrap();
    }
    for v in values {
        let q = select(col("v")).from(table_named("t")).filter(col("v").eq(v));
        let debug_sql = q.to_debug_sql(&Sqlite).unwrap();
        let got: String = conn.query_row(debug_sql.as_str(), [], |r| r.get(0)).unwrap();
        assert_eq!(got, v);
    }
}
