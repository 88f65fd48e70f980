//! Helpers shared by the integration tests: a pool on a fresh schema per
//! test (from quarry-testkit), and statements built with quarry-core.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use quarry_core::prelude::*;
use quarry_core::statement::text_dynamic_unchecked;
use quarry_core::{Compiled, Connection, PoolConfig, StatementKind};
use quarry_postgres::{PgConnection, PgPool};
use quarry_testkit::PgTestDb;

/// A fresh schema and a pool whose connections use it; `None` (test
/// skipped, loudly) without PostgreSQL.
pub async fn setup(test: &str, config: PoolConfig) -> Option<(PgTestDb, PgPool)> {
    let db = quarry_testkit::pg_test_db(test).await?;
    let pool = PgPool::connect(db.url(), config).await.expect("connect");
    Some((db, pool))
}

/// `let (db, pool) = pg!("name");` or `pg!("name", config)`: returns from the
/// test when PostgreSQL is not available.
#[macro_export]
macro_rules! pg {
    ($name:expr) => {
        pg!($name, quarry_core::PoolConfig::new())
    };
    ($name:expr, $config:expr) => {
        match common::setup($name, $config).await {
            Some(x) => x,
            None => return,
        }
    };
}

/// A statement from run-time SQL with `:name` parameters.
pub fn sql(text: &str) -> Compiled {
    text_dynamic_unchecked(text.to_owned()).compile(&Postgres).expect("compile")
}

/// A statement from SQL with positional parameters (`$1`...), for tests of
/// the driver's binding.
pub fn bound(text: &str, params: Vec<Value>) -> Compiled {
    Compiled::new(text, params, StatementKind::Unknown)
}

pub async fn exec(conn: &mut impl Connection, text: &str) {
    conn.execute(sql(text)).await.unwrap_or_else(|e| panic!("{text}: {e}"));
}

pub async fn scalar<T: FromValue + Send + 'static>(conn: &mut impl Connection, text: &str) -> T
where
    (T,): FromRow,
{
    let (v,): (T,) = conn
        .fetch_optional(sql(text))
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .unwrap_or_else(|| panic!("{text}: no row"));
    v
}

pub async fn try_scalar<T: FromValue + Send + 'static>(conn: &mut impl Connection, c: Compiled) -> Result<T, Error>
where
    (T,): FromRow,
{
    let (v,): (T,) = conn.fetch_optional(c).await?.ok_or_else(Error::row_not_found)?;
    Ok(v)
}

/// The invariants of RELIABILITY.md §2 after a fault: no leaked slot, every
/// pooled connection usable and outside a transaction, no session of the
/// test idle in a transaction or still running, acquire prompt.
pub async fn healthy(pool: &PgPool, db: &PgTestDb) {
    quarry_testkit::assert_pool_healthy(pool, db).await;
}

/// A separate admin pool on the test's database (same schema).
pub async fn admin(db: &PgTestDb) -> PgPool {
    PgPool::connect(db.url(), PoolConfig::new().max_size(2)).await.expect("admin connect")
}

/// The number of this test's sessions running `needle` right now.
pub async fn active_like(conn: &mut PgConnection, schema: &str, needle: &str) -> i64 {
    let q = bound(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' \
         AND query LIKE $2 AND pid <> pg_backend_pid()",
        vec![Value::from(schema), Value::from(format!("%{needle}%"))],
    );
    try_scalar(conn, q).await.expect("pg_stat_activity")
}

/// Whether the session with process id `pid` ends within `limit` (polled
/// every 20 ms from `conn`, another session).
pub async fn session_ends_within(conn: &mut PgConnection, pid: i32, limit: Duration) -> bool {
    let q = bound("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", vec![Value::I32(pid)]);
    let started = std::time::Instant::now();
    loop {
        if try_scalar::<i64>(conn, q.clone()).await.expect("pg_stat_activity") == 0 {
            return true;
        }
        if started.elapsed() >= limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `fut` at most `n` times (yielding to the runtime between polls so
/// that I/O progresses), then gives it back if it has not finished: the
/// technique of rust-postgres#834 for cancelling at every await point.
pub async fn poll_n<F: Future + Unpin>(mut fut: F, n: usize) -> Result<F::Output, F> {
    for _ in 0..n {
        let polled = std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(Pin::new(&mut fut).poll(cx))).await;
        if let Poll::Ready(out) = polled {
            return Ok(out);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Err(fut)
}

/// A backend stopped with SIGSTOP (a live socket that never answers),
/// continued with SIGCONT on drop, so a failed assertion never leaves it
/// stopped. `None` (with a note) when the server is not on this machine.
pub struct Stopped(i32);

impl Stopped {
    pub fn stop(db: &PgTestDb, pid: i32) -> Option<Stopped> {
        use quarry_testkit::PgSource;
        if !matches!(db.server().source(), PgSource::Local | PgSource::TempCluster { .. }) {
            eprintln!("SKIPPED (in part): the server is not local, its backends cannot be stopped");
            return None;
        }
        let ok =
            std::process::Command::new("kill").args(["-STOP", &pid.to_string()]).status().is_ok_and(|s| s.success());
        if !ok {
            eprintln!("SKIPPED (in part): cannot send SIGSTOP to backend {pid}");
        }
        ok.then_some(Stopped(pid))
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-CONT", &self.0.to_string()]).status();
    }
}

/// The tables of the stale-plan scenario, made from `adm`, and three
/// distinct connections of `pool` (which must have at least three).
pub async fn stale_plan_tables(adm: &mut PgConnection, pool: &PgPool) -> Vec<PgConnection> {
    exec(adm, "CREATE TABLE t (id int4, name text)").await;
    exec(adm, "INSERT INTO t VALUES (1, 'a')").await;
    exec(adm, "CREATE TABLE w (id int4, name text)").await;
    exec(adm, "INSERT INTO w VALUES (1, 'a')").await;
    exec(adm, "CREATE VIEW v AS SELECT id FROM w").await;
    let conns = vec![pool.acquire().await.unwrap(), pool.acquire().await.unwrap(), pool.acquire().await.unwrap()];
    let pids: std::collections::HashSet<i32> = conns.iter().map(PgConnection::backend_pid).collect();
    assert_eq!(pids.len(), 3, "three distinct connections");
    conns
}

/// The stale-plan scenario of RELIABILITY.md §2.5, on tables `t (id int4,
/// name text)` holding `(1, 'a')`, `w` and a view `v` over `w`: cache three
/// statements on every connection of `conns`, then, from `adm`, add a
/// column to `t` and change its key's type (each connection reads the new
/// shape at once), then replace `v` with a view of another shape (left for
/// the caller to read).
pub async fn reshape_under_cached_statements(conns: &mut [PgConnection], adm: &mut PgConnection) {
    for c in conns.iter_mut() {
        let _: Vec<(i32, String)> = c.fetch_all(sql("SELECT * FROM t")).await.unwrap();
        let _: Vec<(i32,)> = c.fetch_all(sql("SELECT id FROM t")).await.unwrap();
        let _: Vec<(i32,)> = c.fetch_all(sql("SELECT * FROM v")).await.unwrap();
    }

    exec(adm, "ALTER TABLE t ADD COLUMN x int4 DEFAULT 7").await;
    for c in conns.iter_mut() {
        let rows: Vec<(i32, String, i32)> = c.fetch_all(sql("SELECT * FROM t")).await.unwrap();
        assert_eq!(rows, vec![(1, "a".to_owned(), 7)]);
    }

    exec(adm, "ALTER TABLE t ALTER COLUMN id TYPE bigint").await;
    for c in conns.iter_mut() {
        let rows: Vec<(i64,)> = c.fetch_all(sql("SELECT id FROM t")).await.unwrap();
        assert_eq!(rows, vec![(1,)]);
    }

    exec(adm, "DROP VIEW v").await;
    exec(adm, "CREATE VIEW v AS SELECT name, id FROM w").await;
}
