//! Prepared statements: the cache stays bounded on the server too, and with
//! a capacity of 0 no named statement is ever prepared (PgBouncer's
//! transaction mode). Also binary COPY.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{bound, exec, scalar, sql};
use futures_util::StreamExt;
use quarry_core::prelude::*;
use quarry_core::schema::{ColumnDef, ColumnType, TableDef};
use quarry_core::{Connection, PoolConfig, Text};
use quarry_postgres::{CopyTarget, PgConnection};

async fn server_statements(c: &mut PgConnection) -> i64 {
    scalar(c, "SELECT count(*) FROM pg_prepared_statements").await
}

#[tokio::test]
async fn the_statement_cache_stays_bounded_on_the_server() {
    let (_db, pool) = pg!("statement_cache_bound", PoolConfig::new().max_size(1).statement_cache_capacity(16));
    let mut c = pool.acquire().await.unwrap();
    for i in 0..10_000 {
        let n: i64 = common::try_scalar(&mut c, sql(&format!("SELECT {i}::int8"))).await.unwrap();
        assert_eq!(n, i);
        if i % 1000 == 999 {
            let on_server = server_statements(&mut c).await;
            assert!(on_server <= 16, "{on_server} prepared statements after {i} texts");
            assert!(c.cached_statements() <= 16);
        }
    }
    // A cached statement is reused: same text, no new prepare.
    let before = server_statements(&mut c).await;
    for _ in 0..10 {
        let _: i64 = scalar(&mut c, "SELECT count(*) FROM pg_prepared_statements").await;
    }
    assert_eq!(server_statements(&mut c).await, before);
}

#[tokio::test]
async fn without_a_cache_no_named_statement_is_prepared() {
    let (_db, pool) = pg!("no_named_statements", PoolConfig::new().max_size(1).statement_cache_capacity(0));
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int8 PRIMARY KEY, name text)").await;
    for i in 0..50 {
        let q = bound("INSERT INTO t VALUES ($1, $2)", vec![Value::I64(i), Value::from(format!("n{i}"))]);
        assert_eq!(c.execute(q).await.unwrap(), 1);
    }
    let mut tx = c.begin().await.unwrap();
    let rows: Vec<(i64, String)> =
        tx.fetch_all(bound("SELECT * FROM t WHERE id < $1", vec![Value::I32(5)])).await.unwrap();
    assert_eq!(rows.len(), 5);
    tx.commit().await.unwrap();
    let streamed = c.fetch_stream::<(i64,)>(sql("SELECT id FROM t")).count().await;
    assert_eq!(streamed, 50);
    let one: Option<(String,)> =
        c.fetch_optional(bound("SELECT name FROM t WHERE id = $1", vec![Value::I64(7)])).await.unwrap();
    assert_eq!(one.unwrap().0, "n7");
    // Errors work as usual.
    let err = c.execute(bound("INSERT INTO t VALUES ($1, NULL)", vec![Value::I64(1)])).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UniqueViolation);
    assert_eq!(server_statements(&mut c).await, 0);
}

#[tokio::test]
async fn copy_loads_rows_of_values_and_tuples() {
    let (_db, pool) = pg!("copy_in");
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE events (id int8 PRIMARY KEY, kind text NOT NULL, score float8, tags text[], n int2)")
        .await;

    let rows: Vec<Vec<Value>> = (0..1000)
        .map(|i| {
            vec![
                Value::I64(i),
                Value::from(format!("k{}", i % 7)),
                if i % 2 == 0 { Value::F64(i as f64 / 2.0) } else { Value::Null },
                Value::from(vec!["a", "b"]),
                Value::I32((i % 100) as i32),
            ]
        })
        .collect();
    let n = c.copy_in("events", &["id", "kind", "score", "tags", "n"], &rows).await.unwrap();
    assert_eq!(n, 1000);

    // Tuples of plain values, every column, a declared table as the target.
    let events = TableDef::builder("events")
        .column(ColumnDef::new("id", ColumnType::BigInt))
        .column(ColumnDef::new("kind", ColumnType::Text))
        .build()
        .unwrap();
    let tuples = (1000..1100_i64).map(|i| (i, "t", Some(1.5_f64), None::<Value>, 3_i16));
    assert_eq!(c.copy_in(&events, &[], tuples).await.unwrap(), 100);
    let pairs = [(2000_i64, "x"), (2001, "y")];
    assert_eq!(c.copy_in(CopyTarget::named("events"), &["id", "kind"], pairs).await.unwrap(), 2);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM events").await, 1102);
    // `Text` values, inline and shared.
    let texts = [(2002_i64, Text::from("short")), (2003, Text::from("a kind longer than twenty-four bytes"))];
    assert_eq!(c.copy_in("events", &["id", "kind"], texts).await.unwrap(), 2);
    let long: String = scalar(&mut c, "SELECT kind FROM events WHERE id = 2003").await;
    assert_eq!(long, "a kind longer than twenty-four bytes");
    assert_eq!(scalar::<i64>(&mut c, "SELECT sum(n) FROM events WHERE id < 1000").await, 49500);
    let tags: Vec<String> = scalar(&mut c, "SELECT tags FROM events WHERE id = 3").await;
    assert_eq!(tags, vec!["a".to_owned(), "b".to_owned()]);
    let schema: String = scalar(&mut c, "SELECT current_schema()").await;
    let q = CopyTarget::qualified(schema, "events");
    assert_eq!(c.copy_in(q, &["id", "kind"], [(3000_i64, "q")]).await.unwrap(), 1);
}

#[tokio::test]
async fn a_bad_row_aborts_the_copy_and_leaves_the_table_unchanged() {
    let (_db, pool) = pg!("copy_bad_row", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    exec(&mut c, "CREATE TABLE t (id int4, name text)").await;
    // Enough good rows before the bad one that some were already sent.
    let rows = (0..50_000_i64).map(|i| (if i == 40_000 { i64::MAX } else { i }, "x"));
    let err = c.copy_in("t", &["id", "name"], rows).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert_eq!(
        err.message(),
        "copy: row 40001, column `id`: i64 value 9223372036854775807 is out of range for a parameter of type int4"
    );
    let err = c.copy_in("t", &["id", "name"], [vec![Value::I32(1)]]).await.unwrap_err();
    assert_eq!(err.message(), "copy: row 1 has 1 values for 2 columns");
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    // Server-side failures (a NOT NULL violation) too.
    exec(&mut c, "ALTER TABLE t ALTER COLUMN name SET NOT NULL").await;
    let err = c.copy_in("t", &["id", "name"], [(1_i32, Some("a")), (2, None)]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotNullViolation);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    // Inside a transaction, a bad row aborts the transaction.
    let mut tx = c.begin().await.unwrap();
    assert!(tx.copy_in_tx([(1_i64, "a"), (i64::MAX, "b")]).await.is_err());
    assert_eq!(tx.execute(sql("SELECT 1")).await.unwrap_err().sqlstate(), Some("25P02"));
    tx.rollback().await.unwrap();
    assert_eq!(c.backend_pid(), pid, "the connection stayed usable");
    let err = c.copy_in("no_such_table", &[], [(1_i32,)]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Syntax);
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
}

/// COPY through a transaction guard: the guard derefs to nothing, so go
/// through its connection.
trait CopyInTx {
    async fn copy_in_tx(&mut self, rows: [(i64, &'static str); 2]) -> Result<u64, Error>;
}

impl CopyInTx for quarry_core::Transaction<&mut PgConnection> {
    async fn copy_in_tx(&mut self, rows: [(i64, &'static str); 2]) -> Result<u64, Error> {
        self.connection().copy_in("t", &["id", "name"], rows).await
    }
}

#[tokio::test]
async fn a_dropped_copy_writes_nothing_and_discards_the_connection() {
    let (db, pool) = pg!("copy_dropped", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int8, payload text)").await;
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let payload = "p".repeat(200);
    let rows = (0..5_000_000_i64).map(|i| (i, payload.as_str()));
    let copy = c.copy_in("t", &["id", "payload"], rows);
    assert!(tokio::time::timeout(std::time::Duration::from_millis(300), copy).await.is_err());
    // The handle takes a fresh connection for its next statement.
    assert_eq!(c.execute(sql("SELECT 1")).await.unwrap(), 1);
    assert_ne!(c.backend_pid(), pid);
    drop(c);
    let mut c = pool.acquire().await.unwrap();
    assert_ne!(c.backend_pid(), pid);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(common::active_like(&mut adm, db.schema(), "COPY").await, 0);
}

#[tokio::test]
async fn copy_without_a_statement_cache() {
    let (_db, pool) = pg!("copy_unnamed", PoolConfig::new().max_size(1).statement_cache_capacity(0));
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4, name text)").await;
    assert_eq!(c.copy_in("t", &[], [(1_i32, "a"), (2, "b")]).await.unwrap(), 2);
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 2);
    assert_eq!(server_statements(&mut c).await, 0);
}

#[tokio::test]
async fn a_copy_after_the_table_changed_uses_its_new_types() {
    let (_db, pool) = pg!("copy_stale_types", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE TABLE t (id int4, x float8)").await;
    assert_eq!(c.copy_in("t", &["id", "x"], [(1_i32, 1.0_f64)]).await.unwrap(), 1);
    exec(&mut c, "ALTER TABLE t ALTER COLUMN x TYPE int8").await;
    // The probe cached by the first COPY describes `x` as float8: encoded
    // with that type, 7 would be refused or misread. The probe fails as
    // stale, the COPY sent with it is aborted, and both are sent again.
    assert_eq!(c.copy_in("t", &["id", "x"], [(2_i32, 7_i64)]).await.unwrap(), 1);
    let rows: Vec<(i32, i64)> = c.fetch_all(sql("SELECT id, x FROM t ORDER BY id")).await.unwrap();
    assert_eq!(rows, [(1, 1), (2, 7)]);

    // Inside a transaction nothing is sent again: the stale probe's error
    // has already aborted the transaction.
    exec(&mut c, "ALTER TABLE t ALTER COLUMN x TYPE float8").await;
    let mut tx = c.begin().await.unwrap();
    let err = tx.connection().copy_in("t", &["id", "x"], [(3_i32, 2.5_f64)]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StaleStatement, "{err}");
    tx.rollback().await.unwrap();
    assert_eq!(c.copy_in("t", &["id", "x"], [(3_i32, 2.5_f64)]).await.unwrap(), 1);
    assert_eq!(scalar::<f64>(&mut c, "SELECT sum(x) FROM t").await, 10.5);
}

#[tokio::test]
async fn a_copy_refused_before_it_starts_leaves_the_handle_usable() {
    let (db, pool) = pg!("copy_refused", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "SET lock_timeout = '200ms'").await;
    let pid = c.backend_pid();
    // A SHARE lock lets the column probe read the table but makes the
    // COPY itself time out, before the server enters COPY mode.
    let mut lock = adm.begin().await.unwrap();
    lock.connection().execute(sql("LOCK TABLE t IN SHARE MODE")).await.unwrap();
    let err = c.copy_in("t", &["id"], [(1_i32,)]).await.unwrap_err();
    assert!(err.to_string().contains("lock timeout"), "{err}");
    lock.rollback().await.unwrap();
    // The refused COPY leaves the server one reply ahead of what
    // tokio-postgres expects, so the connection is discarded: the handle's
    // next statement runs on a fresh one and gets its own answers.
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    assert_eq!(c.copy_in("t", &["id"], [(1_i32,), (2,)]).await.unwrap(), 2);
    assert_eq!(scalar::<i64>(&mut c, "SELECT sum(id) FROM t").await, 3);
    assert_eq!(scalar::<i32>(&mut c, "SELECT 7").await, 7);
    assert_ne!(c.backend_pid(), pid);
}
