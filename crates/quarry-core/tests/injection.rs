//! The injection corpus (RELIABILITY.md §4.3), on SQLite and through
//! sqlparser: each payload of `tests/data/injection_corpus.txt` is used as
//! a table name, a column name, an alias and a value.
//!
//! - Values are always bound: the SQL does not depend on the value.
//! - sqlparser parses the SQL of both dialects and finds each identifier's
//!   exact text.
//! - SQLite: a table named by the payload, with a column named by it, is
//!   created through the DDL builder; the payload is inserted as a value,
//!   selected back by a predicate on itself, directly and through an alias,
//!   and exactly the payload comes back; a canary table is untouched.
//!
//! NUL is tested on its own: it is refused as an identifier and as a
//! PostgreSQL literal, and bound exactly on SQLite.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

use quarry_core::expr::Any;
use quarry_core::prelude::*;
use quarry_core::schema::{ColumnDef, ColumnType, Table, TableDef};
use quarry_core::{ColumnValue, CompileError, Compiled};
use sqlparser::dialect::{Dialect as ParserDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

#[path = "shared/corpus.rs"]
mod corpus;

use corpus::{NUL_PAYLOADS, corpus, unescape};

#[test]
fn corpus_escapes() {
    assert_eq!(unescape(r"a\\b\n\u{202E}\s\q"), "a\\b\n\u{202e} \\q");
    let c = corpus();
    assert!(c.len() > 90, "{}", c.len());
    assert!(c.contains(&"'; DROP TABLE canary; --".to_owned()));
    assert!(c.contains(&"#".to_owned()));
    assert!(c.iter().all(|p| !p.is_empty() && !p.contains('\0')));
}

fn table_for(payload: &str) -> Table {
    TableDef::builder(payload.to_owned())
        .column(ColumnDef::new(payload.to_owned(), ColumnType::Text).nullable(true))
        .build()
        .expect("a one-column table")
}

/// The statements each payload goes through.
struct Statements {
    create: Box<dyn Compile>,
    insert: Box<dyn Compile>,
    select: Box<dyn Compile>,
    aliased: Box<dyn Compile>,
}

fn statements(payload: &str, value: &str) -> Statements {
    let t = table_for(payload);
    let c = t.column(payload).expect("the column");
    let a = t.alias(payload.to_owned());
    let ac = a.column(payload).expect("the aliased column");
    Statements {
        create: Box::new(create_table(&t)),
        insert: Box::new(insert_into(&t).values(ColumnValue::untyped(payload.to_owned(), Expr::<Any>::value(value)))),
        select: Box::new(select(c.clone()).from(&t).filter(c.eq(value))),
        aliased: Box::new(select(ac.clone().label(payload.to_owned())).from(&a).filter(ac.eq(value))),
    }
}

/// Parse with sqlparser: exactly one statement, as its `Debug` text.
fn parse(sql: &str, pg: bool) -> Result<String, String> {
    let d: Box<dyn ParserDialect> = if pg { Box::new(PostgreSqlDialect {}) } else { Box::new(SQLiteDialect {}) };
    let stmts = Parser::new(&*d)
        .with_recursion_limit(256)
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| e.to_string())?;
    if stmts.len() != 1 {
        return Err(format!("{} statements", stmts.len()));
    }
    Ok(format!("{stmts:?}"))
}

fn sqlite_params(c: &Compiled) -> Vec<String> {
    c.params
        .iter()
        .map(|p| match p {
            Value::Text(s) => s.to_string(),
            other => panic!("unexpected parameter {other:?}"),
        })
        .collect()
}

#[test]
fn values_are_always_bound() {
    for payload in corpus() {
        let with_payload = statements(&payload, &payload);
        let benign = statements(&payload, "benign");
        for (dialect, name) in [(&Postgres as &dyn Dialect, "PostgreSQL"), (&Sqlite, "SQLite")] {
            for (a, b) in [
                (&with_payload.insert, &benign.insert),
                (&with_payload.select, &benign.select),
                (&with_payload.aliased, &benign.aliased),
            ] {
                match (a.compile(dialect), b.compile(dialect)) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(a.sql, b.sql, "{name}: the SQL depends on the value {payload:?}");
                        assert!(a.params.iter().all(|p| *p == Value::from(payload.as_str())));
                        assert!(!a.params.is_empty());
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("{name}: {payload:?}: {a:?} vs {b:?}"),
                }
            }
        }
        // With a plain table, the value never appears in the SQL at all
        // (unless it is a piece of the statement's own text, like `"`).
        let t = table_for("t");
        let c = t.column("t").unwrap();
        for dialect in [&Postgres as &dyn Dialect, &Sqlite] {
            let sql = select(c.clone()).from(&t).filter(c.clone().eq(payload.as_str())).compile(dialect).unwrap().sql;
            let template = select(c.clone()).from(&t).filter(c.clone().eq("benign")).compile(dialect).unwrap().sql;
            assert_eq!(sql, template);
            assert!(template.contains(payload.as_str()) || !sql.contains(payload.as_str()), "{payload:?} in {sql}");
        }
    }
}

#[test]
fn identifiers_come_back_exactly_from_sqlparser() {
    let needle = |n: &str| format!("value: {n:?}, quote_style: Some('\"')");
    for payload in corpus() {
        let s = statements(&payload, "v");
        for (dialect, pg) in [(&Postgres as &dyn Dialect, true), (&Sqlite, false)] {
            for q in [&s.create, &s.insert, &s.select, &s.aliased] {
                let c = match q.compile(dialect) {
                    Ok(c) => c,
                    Err(CompileError::InvalidIdentifier { .. }) if pg && payload.len() > 63 => continue,
                    Err(e) => panic!("{}: {payload:?}: {e}", dialect.name()),
                };
                let ast = parse(&c.sql, pg).unwrap_or_else(|e| panic!("{}: {e}\n{}", dialect.name(), c.sql));
                assert!(
                    ast.contains(&needle(&payload)),
                    "{}: {payload:?} not an identifier in\n{}\n{ast}",
                    dialect.name(),
                    c.sql
                );
            }
        }
    }
}

#[test]
fn long_payloads_are_refused_on_postgres_only() {
    for payload in corpus().into_iter().filter(|p| p.len() > 63) {
        let s = statements(&payload, "v");
        for q in [&s.create, &s.insert, &s.select, &s.aliased] {
            assert!(matches!(q.compile(&Postgres), Err(CompileError::InvalidIdentifier { dialect: "PostgreSQL", .. })));
            assert!(q.compile(&Sqlite).is_ok());
        }
    }
}

#[test]
fn round_trip_on_sqlite_leaves_the_canary_untouched() {
    for payload in corpus() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE canary (v TEXT); INSERT INTO canary (v) VALUES ('alive');").unwrap();
        let s = statements(&payload, &payload);
        let run = |q: &dyn Compile| -> Vec<String> {
            let c = q.compile(&Sqlite).unwrap_or_else(|e| panic!("{payload:?}: {e}"));
            let mut stmt = conn.prepare(&c.sql).unwrap_or_else(|e| panic!("{payload:?}: {e}\n{}", c.sql));
            assert_eq!(stmt.parameter_count(), c.params.len(), "{}", c.sql);
            let params = sqlite_params(&c);
            if stmt.column_count() == 0 {
                stmt.execute(rusqlite::params_from_iter(params.iter())).unwrap();
                return Vec::new();
            }
            stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| r.get::<_, String>(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        run(&*s.create);
        run(&*s.insert);
        // A second, different row must not come back.
        let other = format!("{payload}x");
        let t = table_for(&payload);
        let c = insert_into(&t).values(ColumnValue::untyped(payload.clone(), Expr::<Any>::value(other.as_str())));
        let c = c.compile(&Sqlite).unwrap();
        conn.execute(&c.sql, rusqlite::params_from_iter(sqlite_params(&c).iter())).unwrap();
        assert_eq!(run(&*s.select), [payload.as_str()], "by a predicate on itself");
        assert_eq!(run(&*s.aliased), [payload.as_str()], "through an alias");
        // The column really is named by the payload.
        let stmt = conn.prepare(&s.aliased.compile(&Sqlite).unwrap().sql).unwrap();
        assert_eq!(stmt.column_names(), [payload.as_str()]);
        let canary: Vec<String> = conn
            .prepare("SELECT v FROM canary")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(canary, ["alive"], "{payload:?} touched the canary");
        let tables: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0)).unwrap();
        assert_eq!(tables, 2, "{payload:?}");
    }
}

#[test]
fn debug_sql_of_the_corpus_returns_the_same_rows_on_sqlite() {
    for payload in corpus() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE canary (v TEXT); INSERT INTO canary (v) VALUES ('alive');").unwrap();
        let t = table_for("t");
        let c = t.column("t").unwrap();
        conn.execute(&create_table(&t).compile(&Sqlite).unwrap().sql, []).unwrap();
        conn.execute("INSERT INTO t VALUES (?1), ('other')", [&payload]).unwrap();
        let q = select(c.clone()).from(&t).filter(c.eq(payload.as_str()));
        let debug = q.to_debug_sql(&Sqlite).unwrap();
        let got: Vec<String> = conn
            .prepare(debug.as_str())
            .unwrap_or_else(|e| panic!("{payload:?}: {e}\n{debug}"))
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, [payload.as_str()], "{debug}");
        // PostgreSQL's debug text parses, with the value as one literal.
        let pg = q.to_debug_sql(&Postgres).unwrap();
        parse(pg.as_str(), true).unwrap_or_else(|e| panic!("{e}\n{pg}"));
    }
}

#[test]
fn nul_is_refused_as_an_identifier_and_as_a_postgres_literal() {
    for name in NUL_PAYLOADS {
        let t = table_for(name);
        for dialect in [&Postgres as &dyn Dialect, &Sqlite] {
            for q in [&create_table(&t) as &dyn Compile, &select(col(name.to_owned())).from(table_named("t"))] {
                match q.compile(dialect) {
                    Err(CompileError::InvalidIdentifier { reason, .. }) => assert!(reason.contains("NUL"), "{reason}"),
                    other => panic!("{}: {name:?}: {other:?}", dialect.name()),
                }
            }
        }
        let q = select(col("v")).from(table_named("t")).filter(col("v").eq(name));
        assert!(matches!(q.to_debug_sql(&Postgres), Err(CompileError::InvalidLiteral { .. })));
        // Bound, it is a value like any other: SQLite round-trips it exactly.
        let c = q.compile(&Sqlite).unwrap();
        assert_eq!(c.params, [Value::from(name)]);
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT)").unwrap();
        conn.execute("INSERT INTO t VALUES (?1)", [name]).unwrap();
        let got: String = conn.query_row(&c.sql, [name], |r| r.get(0)).unwrap();
        assert_eq!(got, name);
        // Inline on SQLite it is a hex blob cast to text, and selects the same row.
        let debug = q.to_debug_sql(&Sqlite).unwrap();
        assert!(debug.as_str().contains("CAST(X'"), "{debug}");
        let got: String = conn.query_row(debug.as_str(), [], |r| r.get(0)).unwrap();
        assert_eq!(got, name);
    }
}
