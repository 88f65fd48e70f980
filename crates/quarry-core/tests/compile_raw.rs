//! Raw SQL: the `:name` lexer of `text()` and `raw()`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]

use quarry_core::prelude::*;
use quarry_core::statement::text_dynamic_unchecked;
use quarry_core::{CompileError, Compiled, StatementKind};

fn compile(sql: &str, binds: &[(&'static str, i64)], dialect: &dyn Dialect) -> Result<Compiled, CompileError> {
    let mut q = text_dynamic_unchecked(sql.to_owned());
    for (name, v) in binds {
        q = q.bind(*name, *v);
    }
    q.compile(dialect)
}

/// One row of the lexer table: the text, its binds, and what each dialect
/// gives (`Ok(sql)` with as many params as distinct names used).
struct Case {
    sql: &'static str,
    binds: &'static [(&'static str, i64)],
    pg: Result<&'static str, CompileError>,
    lite: Result<&'static str, CompileError>,
}

fn same(sql: &'static str) -> Case {
    Case { sql, binds: &[], pg: Ok(sql), lite: Ok(sql) }
}

fn positional(p: &str) -> CompileError {
    CompileError::PositionalPlaceholder { placeholder: p.to_owned() }
}

#[test]
fn lexer_table() {
    let cases = [
        Case { sql: "SELECT :name", binds: &[("name", 1)], pg: Ok("SELECT $1"), lite: Ok("SELECT ?1") },
        same("SELECT ':name'"),
        same("SELECT 'it''s :name'"),
        same(r#"SELECT "a:b" FROM t"#),
        same(r#"SELECT "a"":b" FROM t"#),
        same("SELECT `a:b` FROM t"),
        same("SELECT 1 -- :x\n"),
        same("SELECT 1 -- :x"),
        same("SELECT /* :x */ 1"),
        // PostgreSQL nests block comments; SQLite ends one at the first `*/`.
        Case {
            sql: "SELECT /* a /* :x */ :y */ 1",
            binds: &[],
            pg: Ok("SELECT /* a /* :x */ :y */ 1"),
            lite: Err(CompileError::MissingBind { name: "y".into() }),
        },
        Case {
            sql: "SELECT /* :x /* :y */ :a",
            binds: &[("a", 1)],
            pg: Err(CompileError::UnusedBind { name: "a".into() }),
            lite: Ok("SELECT /* :x /* :y */ ?1"),
        },
        same("SELECT x::int FROM t"),
        Case { sql: "SELECT :x::int", binds: &[("x", 1)], pg: Ok("SELECT $1::int"), lite: Ok("SELECT ?1::int") },
        Case {
            sql: "SELECT 1 -- :x\n, :y",
            binds: &[("y", 1)],
            pg: Ok("SELECT 1 -- :x\n, $1"),
            lite: Ok("SELECT 1 -- :x\n, ?1"),
        },
        // Dollar quotes exist on PostgreSQL only; on SQLite `$$` is no
        // quote, so `:x` is a parameter there, and `$t` a SQLite parameter.
        Case {
            sql: "SELECT $$ :x $$",
            binds: &[],
            pg: Ok("SELECT $$ :x $$"),
            lite: Err(CompileError::MissingBind { name: "x".into() }),
        },
        Case { sql: "SELECT $t$ :x $t$", binds: &[], pg: Ok("SELECT $t$ :x $t$"), lite: Err(positional("$t")) },
        Case {
            sql: "SELECT $t$ a $u$ :x $t$ , :y",
            binds: &[("y", 1)],
            pg: Ok("SELECT $t$ a $u$ :x $t$ , $1"),
            lite: Err(positional("$t")),
        },
        // E'...' strings have backslash escapes on PostgreSQL: \' does not
        // end them. SQLite reads `E`, the string '\' and its own `:x`.
        Case {
            sql: r"SELECT E'\':x', :y",
            binds: &[("y", 1)],
            pg: Ok(r"SELECT E'\':x', $1"),
            lite: Err(CompileError::MissingBind { name: "x".into() }),
        },
        // Without E, a backslash is an ordinary character.
        Case { sql: r"SELECT '\', :y", binds: &[("y", 1)], pg: Ok(r"SELECT '\', $1"), lite: Ok(r"SELECT '\', ?1") },
        // \: writes a literal colon; on SQLite `:x` would be a parameter
        // that SQLite binds itself, so it is refused there.
        // (On SQLite `[...]` is a quoted identifier, copied as written.)
        Case { sql: r"SELECT a[1\:2]", binds: &[], pg: Ok("SELECT a[1:2]"), lite: Ok(r"SELECT a[1\:2]") },
        Case { sql: r"SELECT 1 \:x", binds: &[], pg: Ok("SELECT 1 :x"), lite: Err(positional(":x")) },
        // A repeated name reuses its placeholder.
        Case {
            sql: "SELECT :a, :b, :a",
            binds: &[("a", 1), ("b", 2)],
            pg: Ok("SELECT $1, $2, $1"),
            lite: Ok("SELECT ?1, ?2, ?1"),
        },
        Case {
            sql: "SELECT :a",
            binds: &[],
            pg: Err(CompileError::MissingBind { name: "a".into() }),
            lite: Err(CompileError::MissingBind { name: "a".into() }),
        },
        Case {
            sql: "SELECT 1",
            binds: &[("a", 1)],
            pg: Err(CompileError::UnusedBind { name: "a".into() }),
            lite: Err(CompileError::UnusedBind { name: "a".into() }),
        },
        Case {
            sql: "SELECT ':a'",
            binds: &[("a", 1)],
            pg: Err(CompileError::UnusedBind { name: "a".into() }),
            lite: Err(CompileError::UnusedBind { name: "a".into() }),
        },
        Case { sql: "SELECT $1", binds: &[], pg: Err(positional("$1")), lite: Err(positional("$1")) },
        Case { sql: "SELECT $12 + 1", binds: &[], pg: Err(positional("$12")), lite: Err(positional("$12")) },
        Case { sql: "SELECT ?", binds: &[], pg: Ok("SELECT ?"), lite: Err(positional("?")) },
        Case { sql: "SELECT ?1", binds: &[], pg: Ok("SELECT ?1"), lite: Err(positional("?1")) },
        Case { sql: "SELECT @x", binds: &[], pg: Ok("SELECT @x"), lite: Err(positional("@x")) },
        Case { sql: "SELECT $x", binds: &[], pg: Ok("SELECT $x"), lite: Err(positional("$x")) },
        // Inside literals, placeholder look-alikes are text.
        same("SELECT '$1 ? ?1 @x $x'"),
        // Names are ASCII letters, digits and `_`.
        Case { sql: "SELECT :a_1b", binds: &[("a_1b", 1)], pg: Ok("SELECT $1"), lite: Ok("SELECT ?1") },
        Case { sql: "SELECT :a-1", binds: &[("a", 1)], pg: Ok("SELECT $1-1"), lite: Ok("SELECT ?1-1") },
        same("SELECT 1 : 2"),
        same("SELECT ':"),
        same("SELECT 'unterminated :x"),
        same("SELECT /* unterminated :x"),
        // A `--` comment ends at a carriage return on PostgreSQL only.
        Case {
            sql: "SELECT 1 --\r, :b",
            binds: &[("b", 1)],
            pg: Ok("SELECT 1 --\r, $1"),
            lite: Err(CompileError::UnusedBind { name: "b".into() }),
        },
        // `[name]` quotes an identifier on SQLite; on PostgreSQL brackets
        // are subscripts.
        Case {
            sql: "SELECT [c:d], :e",
            binds: &[("d", 1), ("e", 2)],
            pg: Ok("SELECT [c$1], $2"),
            lite: Err(CompileError::UnusedBind { name: "d".into() }),
        },
        Case {
            sql: "SELECT [c:d], :e",
            binds: &[("e", 1)],
            pg: Err(CompileError::MissingBind { name: "d".into() }),
            lite: Ok("SELECT [c:d], ?1"),
        },
        // Backslash escapes in `E'...'` exist on PostgreSQL only.
        Case {
            sql: "SELECT e'\\', :x",
            binds: &[("x", 1)],
            pg: Err(CompileError::UnusedBind { name: "x".into() }),
            lite: Ok("SELECT e'\\', ?1"),
        },
        Case {
            sql: "SELECT E'\\'', :x",
            binds: &[("x", 1)],
            pg: Ok("SELECT E'\\'', $1"),
            lite: Err(CompileError::UnusedBind { name: "x".into() }),
        },
        // An `E` ending an identifier starts no escape string, whatever the
        // identifier holds (`$` and non-ASCII letters are identifier characters).
        Case {
            sql: "SELECT éE'\\', :x",
            binds: &[("x", 1)],
            pg: Ok("SELECT éE'\\', $1"),
            lite: Ok("SELECT éE'\\', ?1"),
        },
        Case {
            sql: "SELECT a$E'\\', :x",
            binds: &[("x", 1)],
            pg: Ok("SELECT a$E'\\', $1"),
            lite: Ok("SELECT a$E'\\', ?1"),
        },
        // A `$` inside an identifier starts no dollar quote; after a number it does.
        Case { sql: "SELECT a$$b, :x", binds: &[("x", 1)], pg: Ok("SELECT a$$b, $1"), lite: Ok("SELECT a$$b, ?1") },
        Case { sql: "SELECT é$x$ :y", binds: &[("y", 1)], pg: Ok("SELECT é$x$ $1"), lite: Ok("SELECT é$x$ ?1") },
        Case {
            sql: "SELECT 6$t$ :x $t$, :y",
            binds: &[("y", 1)],
            pg: Ok("SELECT 6$t$ :x $t$, $1"),
            lite: Err(positional("$t")),
        },
    ];
    for case in cases {
        for (dialect, expected) in [(&Postgres as &dyn Dialect, &case.pg), (&Sqlite, &case.lite)] {
            let got = compile(case.sql, case.binds, dialect);
            match (expected, got) {
                (Ok(sql), Ok(c)) => {
                    assert_eq!(c.sql, *sql, "{} on {}", case.sql, dialect.name());
                    let used: Vec<i64> = case.binds.iter().map(|(_, v)| *v).collect();
                    assert_eq!(c.params, used.into_iter().map(Value::I64).collect::<Vec<_>>(), "{}", case.sql);
                    assert_eq!(c.kind, StatementKind::Unknown);
                }
                (Err(e), Err(g)) => assert_eq!(&g, e, "{} on {}", case.sql, dialect.name()),
                (e, g) => panic!("{} on {}: expected {e:?}, got {g:?}", case.sql, dialect.name()),
            }
        }
    }
}

#[test]
fn nul_in_raw_sql_is_refused() {
    for d in [&Postgres as &dyn Dialect, &Sqlite] {
        let r = compile("SELECT 1 WHERE 1=1\0 AND tenant = 2", &[], d);
        assert!(matches!(r, Err(CompileError::Invalid { .. })), "{r:?}");
        let q = select(col("id")).from_raw(raw("t")).filter(raw_dynamic("1=1\0 AND tenant = 2"));
        assert!(matches!(q.compile(d), Err(CompileError::Invalid { .. })));
    }
}

fn raw_dynamic(sql: &str) -> quarry_core::expr::Raw {
    quarry_core::expr::raw_dynamic_unchecked(sql.to_owned())
}

#[test]
fn raw_fragments_number_their_binds_after_the_statement_s() {
    let q = select(col("id")).from_raw(raw("events")).filter(col("kind").eq("x")).filter(
        raw("created_at > now() - :age::interval AND :age::interval > '0'").bind("age", "1 day").typed::<bool>().expr(),
    );
    let c = q.compile(&Postgres).unwrap();
    assert_eq!(
        c.sql,
        r#"SELECT "id" FROM events WHERE "kind" = $1 AND (created_at > now() - $2::interval AND $2::interval > '0')"#
    );
    assert_eq!(c.params, [Value::from("x"), Value::from("1 day")]);
    let c = q.compile(&Sqlite).unwrap();
    assert_eq!(
        c.sql,
        r#"SELECT "id" FROM events WHERE "kind" = ?1 AND (created_at > now() - ?2::interval AND ?2::interval > '0')"#
    );
}

#[test]
fn text_read_only_and_debug_rendering() {
    let q = text("SELECT * FROM t WHERE a = :a AND b = :a").bind("a", "it's").read_only();
    let c = q.compile(&Sqlite).unwrap();
    assert_eq!(c.kind, StatementKind::Read);
    assert_eq!(c.sql, "SELECT * FROM t WHERE a = ?1 AND b = ?1");
    assert_eq!(q.to_debug_sql(&Sqlite).unwrap().as_str(), "SELECT * FROM t WHERE a = 'it''s' AND b = 'it''s'");
    assert_eq!(q.to_debug_sql(&Postgres).unwrap().as_str(), "SELECT * FROM t WHERE a = 'it''s' AND b = 'it''s'");
}

#[test]
fn rebinding_a_name_replaces_its_value() {
    let c = text("SELECT :a").bind("a", 1_i64).bind("a", 2_i64).compile(&Postgres).unwrap();
    assert_eq!(c.params, [Value::I64(2)]);
}

#[test]
fn sqlite_prepares_what_the_lexer_writes() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for sql in ["SELECT :a, ':a', \"a:b\" FROM (SELECT 1 AS \"a:b\") -- :c\n", "SELECT /* :x /* :y */ :a, :a"] {
        let c = compile(sql, &[("a", 1)], &Sqlite).unwrap();
        let stmt = conn.prepare(&c.sql).unwrap_or_else(|e| panic!("{}: {e}", c.sql));
        assert_eq!(stmt.parameter_count(), c.params.len(), "{}", c.sql);
    }
}
