//! Futures and streams dropped mid-flight: the running statement is
//! cancelled, the connection is discarded, the next borrower is clean.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{active_like, bound, exec, poll_n, scalar, sql};
use futures_util::StreamExt;
use quarry_core::prelude::*;
use quarry_core::{Connection, PoolConfig};
use quarry_postgres::{PgConnection, PgPool};

async fn idle_in_transaction(admin: &mut PgConnection, schema: &str) -> i64 {
    let q = bound(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
        vec![Value::from(schema)],
    );
    common::try_scalar(admin, q).await.unwrap()
}

#[tokio::test]
async fn a_query_dropped_mid_sleep_is_cancelled_and_its_connection_replaced() {
    let (db, pool) = pg!("drop_mid_query", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let timed_out = tokio::time::timeout(Duration::from_millis(100), c.execute(sql("SELECT pg_sleep(10)"))).await;
    assert!(timed_out.is_err());
    // The same handle goes on, on a fresh connection (the pool's only
    // slot: the abandoned one was given back and discarded).
    let started = Instant::now();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_ne!(c.backend_pid(), pid);
    drop(c);

    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert_ne!(c.backend_pid(), pid);
    drop(c);

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(active_like(&mut adm, db.schema(), "pg_sleep").await, 0);
    assert_eq!(pool.status().size, 1);
    common::healthy(&pool, &db).await;
}

/// A connection string Quarry leaves to tokio-postgres to open (here for
/// `target_session_attrs`) gets the same cancellation: its cancel token
/// knows the server, where a connection Quarry opened sends the cancel
/// request to the address it connected to (the test above).
#[tokio::test]
async fn a_query_dropped_on_a_connection_tokio_postgres_opened_is_cancelled() {
    let (db, _) = pg!("drop_std_socket", PoolConfig::new().max_size(1));
    let separator = if db.url().contains('?') { '&' } else { '?' };
    let url = format!("{}{separator}target_session_attrs=read-write", db.url());
    let pool = PgPool::connect(&url, PoolConfig::new().max_size(1)).await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    let mut c = dropped_sleep_is_cancelled(&db, c).await;
    assert_eq!(scalar::<i32>(&mut c, "SELECT 2").await, 2);
}

/// Over a Unix-domain socket, the cancel request goes to the socket file
/// the connection used.
#[tokio::test]
async fn a_query_dropped_on_a_unix_socket_connection_is_cancelled() {
    let (db, _) = pg!("drop_unix_socket", PoolConfig::new().max_size(1));
    if *db.server().source() != quarry_testkit::PgSource::Local {
        eprintln!("SKIPPED the Unix socket cancel: not the local server");
        return;
    }
    let url = format!("host=/var/run/postgresql user=postgres dbname=test application_name={}", db.schema());
    let pool = PgPool::connect(&url, PoolConfig::new().max_size(1)).await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    assert!(scalar::<Option<String>>(&mut c, "SELECT inet_server_addr()::text").await.is_none());
    dropped_sleep_is_cancelled(&db, c).await;
}

/// Drop a `pg_sleep(10)` on `c` after 100 ms, and check a second later that
/// no session of the test still runs it; `c` is handed back for more.
async fn dropped_sleep_is_cancelled(db: &quarry_testkit::PgTestDb, mut c: PgConnection) -> PgConnection {
    let admin = common::admin(db).await;
    let mut adm = admin.acquire().await.unwrap();
    let timed_out = tokio::time::timeout(Duration::from_millis(100), c.execute(sql("SELECT pg_sleep(10)"))).await;
    assert!(timed_out.is_err());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(active_like(&mut adm, db.schema(), "pg_sleep").await, 0);
    c
}

#[tokio::test]
async fn begin_dropped_after_each_poll_leaves_no_open_transaction() {
    let (db, pool) = pg!("drop_during_begin", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    for k in 1..=6 {
        let mut c = pool.acquire().await.unwrap();
        match poll_n(Box::pin(c.begin()), k).await {
            Ok(Ok(tx)) => drop(tx),
            Ok(Err(e)) => panic!("begin failed: {e}"),
            Err(pending) => drop(pending),
        }
        drop(c);

        let mut c = pool.acquire().await.unwrap();
        assert_eq!(c.transaction_depth(), 0, "k = {k}");
        assert!(scalar::<bool>(&mut c, "SELECT txid_current_if_assigned() IS NULL").await, "k = {k}");
        // An autocommit insert is visible at once to another session.
        c.execute(bound("INSERT INTO t VALUES ($1)", vec![Value::I32(k as i32)])).await.unwrap();
        drop(c);
        assert_eq!(scalar::<i64>(&mut adm, "SELECT count(*) FROM t").await, k as i64, "k = {k}");
        assert_eq!(idle_in_transaction(&mut adm, db.schema()).await, 0, "k = {k}");
    }
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn commit_dropped_after_each_poll_is_all_or_nothing() {
    let (db, pool) = pg!("drop_during_commit", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4, k int4)").await;
    for k in 1..=6 {
        let mut c = pool.acquire().await.unwrap();
        let pid = c.backend_pid();
        let mut tx = c.begin().await.unwrap();
        for id in 0..3 {
            tx.execute(bound("INSERT INTO t VALUES ($1, $2)", vec![Value::I32(id), Value::I32(k)])).await.unwrap();
        }
        let finished = match poll_n(Box::pin(tx.commit()), k as usize).await {
            Ok(result) => {
                result.unwrap();
                true
            }
            Err(pending) => {
                drop(pending);
                false
            }
        };
        drop(c);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let q = bound("SELECT count(*) FROM t WHERE k = $1", vec![Value::I32(k)]);
        let n: i64 = common::try_scalar(&mut adm, q).await.unwrap();
        assert!(n == 0 || n == 3, "k = {k}: {n} rows");
        if finished {
            assert_eq!(n, 3);
        }
        let mut c = pool.acquire().await.unwrap();
        if !finished {
            assert_ne!(c.backend_pid(), pid, "k = {k}: an abandoned connection was reused");
        }
        assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
        drop(c);
        assert_eq!(idle_in_transaction(&mut adm, db.schema()).await, 0);
    }
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_stream_dropped_after_ten_rows_does_not_hold_up_the_next_query() {
    let (db, pool) = pg!("drop_stream", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    {
        let stream =
            c.fetch_stream::<(i64, String)>(sql("SELECT g, repeat('x', 100) FROM generate_series(1, 1000000) g"));
        let first: Vec<_> = stream.take(10).collect().await;
        assert_eq!(first.len(), 10);
        assert_eq!(first[9].as_ref().unwrap().0, 10);
    }
    // The same handle runs the next query at once, on a fresh connection.
    let started = Instant::now();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert!(started.elapsed() < Duration::from_millis(100), "{:?}", started.elapsed());
    let replacement = c.backend_pid();
    assert_ne!(replacement, pid);
    drop(c);
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert_eq!(c.backend_pid(), replacement, "the replacement is a healthy pooled connection");
    drop(c);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(active_like(&mut adm, db.schema(), "generate_series").await, 0);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_stream_dropped_inside_a_transaction_fails_the_transaction_not_the_handle() {
    let (db, pool) = pg!("drop_stream_tx", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let mut tx = c.begin().await.unwrap();
    tx.execute(sql("INSERT INTO t VALUES (1)")).await.unwrap();
    {
        let stream = tx.fetch_stream::<(i64,)>(sql("SELECT g FROM generate_series(1, 1000000) g"));
        assert_eq!(stream.take(3).count().await, 3);
    }
    // The transaction's work went with its connection: nothing may run in
    // its name elsewhere, and commit says so.
    let err = tx.execute(sql("INSERT INTO t VALUES (2)")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err}");
    assert_eq!(tx.commit().await.unwrap_err().kind(), ErrorKind::ConnectionLost);
    // With the guard gone the handle goes on, on a fresh connection.
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 0);
    assert_ne!(c.backend_pid(), pid);
    assert_eq!(c.transaction_depth(), 0);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_stream_read_to_the_end_keeps_its_connection() {
    let (db, pool) = pg!("full_stream", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let stream = c.fetch_stream::<(i32,)>(sql("SELECT g FROM generate_series(1, 1000) g"));
    let rows: Vec<i32> = stream.map(|r| r.unwrap().0).collect().await;
    assert_eq!(rows.len(), 1000);
    // A server error mid-stream ends the stream; the connection survives.
    let stream = c.fetch_stream::<(i32,)>(sql("SELECT 10 / (5 - g) FROM generate_series(1, 10) g"));
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 5);
    assert_eq!(items[4].as_ref().unwrap_err().sqlstate(), Some("22012"));
    // A decode error is one item; the stream goes on.
    let stream =
        c.fetch_stream::<(i32,)>(sql("SELECT CASE WHEN g = 2 THEN NULL ELSE g END FROM generate_series(1, 3) g"));
    let items: Vec<_> = stream.collect().await;
    assert_eq!(items.len(), 3);
    assert!(items[0].is_ok() && items[1].is_err() && items[2].is_ok());
    drop(c);
    let c = pool.acquire().await.unwrap();
    assert_eq!(c.backend_pid(), pid);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_random_mix_of_dropped_operations_keeps_the_pool_healthy() {
    let (db, pool) = pg!("random_cancel", PoolConfig::new().max_size(2));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..300 {
        let mut c = pool.acquire().await.unwrap();
        let deadline = Duration::from_micros(next() % 3000);
        let op = next() % 4;
        let work = async {
            match op {
                0 => c.execute(sql("SELECT pg_sleep(0.001)")).await.map(|_| ()),
                1 => {
                    let mut tx = c.begin().await?;
                    tx.execute(sql("INSERT INTO t VALUES (1)")).await?;
                    tx.rollback().await
                }
                2 => c
                    .fetch_stream::<(i32,)>(sql("SELECT g FROM generate_series(1, 100) g"))
                    .count()
                    .await
                    .eq(&100)
                    .then_some(())
                    .ok_or_else(Error::row_not_found),
                _ => {
                    let mut tx = c.begin().await?;
                    tx.execute(sql("INSERT INTO t VALUES (2)")).await?;
                    drop(tx);
                    Ok(())
                }
            }
        };
        let _ = tokio::time::timeout(deadline, work).await;
        drop(c);
        if i % 50 == 49 {
            // Abandoned connections were closed; give their backends a moment to exit.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut c = pool.acquire().await.unwrap();
            assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
            drop(c);
            let status = pool.status();
            assert!(status.size <= 2 && status.waiting == 0, "{status:?}");
            assert_eq!(idle_in_transaction(&mut adm, db.schema()).await, 0);
        }
    }
    // Nothing uncommitted became visible.
    assert_eq!(scalar::<i64>(&mut adm, "SELECT count(*) FROM t").await, 0);
    common::healthy(&pool, &db).await;
}
