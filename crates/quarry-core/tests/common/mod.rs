//! Helpers shared by the compiler tests: a small schema, and checks that
//! compile one statement for both dialects.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test helpers panic on failure, as tests do")]
#![allow(dead_code)]

use quarry_core::prelude::*;
use quarry_core::{CompileError, Compiled};

quarry_core::table! {
    /// Users, in teams.
    pub struct Users("users") {
        id: i64 [primary_key],
        name: String,
        email: Option<String>,
        karma: i32,
        active: bool,
        team_id: Option<i64>,
    }
}

quarry_core::table! {
    /// Teams.
    pub struct Teams("teams") {
        id: i64 [primary_key],
        name: String,
    }
}

quarry_core::table! {
    /// Orders placed by users.
    pub struct Orders("orders") {
        id: i64 [primary_key],
        user_id: i64,
        amount: f64,
        note: Option<String>,
    }
}

/// Compile for PostgreSQL, panicking with the error.
#[track_caller]
pub(crate) fn pg(q: &impl Compile) -> Compiled {
    q.compile(&Postgres).unwrap_or_else(|e| panic!("PostgreSQL: {e}"))
}

/// Compile for SQLite, panicking with the error.
#[track_caller]
pub(crate) fn lite(q: &impl Compile) -> Compiled {
    q.compile(&Sqlite).unwrap_or_else(|e| panic!("SQLite: {e}"))
}

/// Both dialects' SQL and params must be exactly these.
#[track_caller]
pub(crate) fn check(q: &impl Compile, pg_sql: &str, pg_params: &[Value], lite_sql: &str, lite_params: &[Value]) {
    let p = pg(q);
    let l = lite(q);
    assert_eq!(p.sql, pg_sql, "PostgreSQL SQL");
    assert_eq!(p.params, pg_params, "PostgreSQL params");
    assert_eq!(l.sql, lite_sql, "SQLite SQL");
    assert_eq!(l.params, lite_params, "SQLite params");
}

/// Both dialects: the same params, the SQL given for each.
#[track_caller]
pub(crate) fn check_same_params(q: &impl Compile, pg_sql: &str, lite_sql: &str, params: &[Value]) {
    check(q, pg_sql, params, lite_sql, params);
}

/// The construct compiles on PostgreSQL and is refused on SQLite, naming it.
#[track_caller]
pub(crate) fn pg_only(q: &impl Compile, construct: &str) -> Compiled {
    let p = pg(q);
    match q.compile(&Sqlite) {
        Err(CompileError::Unsupported { construct: c, dialect }) => {
            assert_eq!(c, construct);
            assert_eq!(dialect, "SQLite");
        }
        other => panic!("SQLite should refuse {construct}, got {other:?}"),
    }
    p
}

/// A text value.
pub(crate) fn t(s: &str) -> Value {
    Value::from(s)
}

/// An in-memory SQLite database holding the test schema.
pub(crate) fn sqlite_db() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    for def in [Teams::def(), Users::def(), Orders::def()] {
        let sql = quarry_core::ast::Statement::CreateTable(quarry_core::ast::CreateTable {
            table: def.clone(),
            if_not_exists: false,
        })
        .compile(&Sqlite)
        .unwrap()
        .sql;
        conn.execute(&sql, []).unwrap();
    }
    conn
}

/// SQLite prepares the SQLite SQL of `q` against the test schema, with as
/// many parameters as were bound.
#[track_caller]
pub(crate) fn sqlite_prepares(q: &impl Compile) {
    let c = lite(q);
    let conn = sqlite_db();
    let stmt = conn.prepare(&c.sql).unwrap_or_else(|e| panic!("SQLite refused {}: {e}", c.sql));
    assert_eq!(stmt.parameter_count(), c.params.len(), "{}", c.sql);
}
