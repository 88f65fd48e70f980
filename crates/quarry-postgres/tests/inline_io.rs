//! The connection's socket is polled by the task that waits for the
//! server, not by a task of its own: what must still happen when nobody
//! is waiting.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{bound, exec, scalar, sql};
use futures_util::StreamExt;
use quarry_core::prelude::*;
use quarry_core::{Connection, PoolConfig};

#[tokio::test]
async fn an_abandoned_statement_ends_the_session_while_its_handle_is_still_held() {
    let (db, pool) = pg!("abandoned_held", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4)").await;
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let mut tx = c.begin().await.unwrap();
    tx.execute(bound("INSERT INTO t VALUES ($1)", vec![Value::I32(1)])).await.unwrap();
    exec(&mut tx, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE").await;
    let abandoned = tokio::time::timeout(Duration::from_millis(100), tx.execute(sql("SELECT pg_sleep(10)"))).await;
    assert!(abandoned.is_err());
    // Nobody polls the connection now, and the guard and the handle are
    // still held: the socket was closed when the statement was dropped, so
    // the server has ended the session and released the lock.
    assert!(
        common::session_ends_within(&mut adm, pid, Duration::from_secs(2)).await,
        "the session outlived its statement"
    );
    exec(&mut adm, "SET lock_timeout = '1s'").await;
    assert_eq!(scalar::<i64>(&mut adm, "SELECT count(*) FROM t").await, 0);
    assert_eq!(tx.execute(sql("SELECT 1")).await.unwrap_err().kind(), ErrorKind::ConnectionLost);
    drop(tx);
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert_ne!(c.backend_pid(), pid);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_copy_aborted_by_a_bad_row_frees_its_table_while_the_handle_is_held() {
    let (db, pool) = pg!("copy_abort_held", PoolConfig::new().max_size(1));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4, name text)").await;
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    // Enough good rows before the bad one that some were already sent: the
    // server is inside the COPY when the client gives up.
    let rows = (0..50_000_i64).map(|i| (if i == 40_000 { i64::MAX } else { i }, "x"));
    let err = c.copy_in("t", &["id", "name"], rows).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    // The handle is held and not used: the server must have the abort
    // already, or it would still be in the COPY, holding the table.
    exec(&mut adm, "SET lock_timeout = '2s'").await;
    assert_eq!(scalar::<i64>(&mut adm, "SELECT count(*) FROM t").await, 0);
    // An exclusive lock, which the COPY's lock would block.
    exec(&mut adm, "TRUNCATE t").await;
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert_eq!(c.backend_pid(), pid, "the connection stayed usable");
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn a_closed_pool_ends_its_idle_sessions_at_once() {
    let (db, pool) = pg!("closed_pool_sessions", PoolConfig::new().max_size(2));
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    let (mut a, mut b) = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
    assert_eq!(scalar::<i32>(&mut a, "SELECT 1").await + scalar::<i32>(&mut b, "SELECT 2").await, 3);
    let pids = [a.backend_pid(), b.backend_pid()];
    drop((a, b));
    pool.close();
    for pid in pids {
        assert!(
            common::session_ends_within(&mut adm, pid, Duration::from_secs(2)).await,
            "session {pid} outlived the pool"
        );
    }
}

#[tokio::test]
async fn a_stream_read_slowly_is_driven_by_its_reader() {
    let (db, pool) = pg!("slow_stream", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let mut stream =
        c.fetch_stream::<(i64, String)>(sql("SELECT g, repeat('x', 200) FROM generate_series(1, 50000) g"));
    let mut sum = 0_i64;
    let mut n = 0_i64;
    while let Some(row) = stream.next().await {
        let (g, text) = row.unwrap();
        assert_eq!(text.len(), 200);
        sum += g;
        n += 1;
        // Other tasks run between rows; the socket is read only when
        // the stream asks for more.
        if n % 5_000 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    drop(stream);
    assert_eq!((n, sum), (50_000, 50_000 * 50_001 / 2));
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert_eq!(c.backend_pid(), pid, "a stream read to its end keeps its connection");
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_move_between_tasks_and_threads() {
    let (db, pool) = pg!("moving_connections", PoolConfig::new().max_size(3));
    let mut tasks = Vec::new();
    for task in 0..12_i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut total = 0_i64;
            for i in 0..50_i64 {
                let mut c = pool.acquire().await.unwrap();
                let q = bound("SELECT $1::int8 * 2", vec![Value::I64(task * 1000 + i)]);
                total += common::try_scalar::<i64>(&mut c, q).await.unwrap();
                if i % 7 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            total
        }));
    }
    let mut all = 0_i64;
    for t in tasks {
        all += t.await.unwrap();
    }
    let expected: i64 = (0..12_i64).map(|t| (0..50_i64).map(|i| 2 * (t * 1000 + i)).sum::<i64>()).sum();
    assert_eq!(all, expected);
    common::healthy(&pool, &db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_statements_racing_the_io_thread_never_wait_for_ever() {
    // Each answer is announced by the runtime's I/O thread while the task
    // that drives the connection re-arms it: a lost wake-up there leaves a
    // task waiting for ever, which the timeout turns into a failure.
    let (db, pool) = pg!("racing_wakeups", PoolConfig::new().max_size(4));
    let mut tasks = Vec::new();
    for task in 0..4_i64 {
        let pool = pool.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = pool.acquire().await.unwrap();
            let mut total = 0_i64;
            for i in 0..1_500_i64 {
                let q = bound("SELECT $1::int8 + 1", vec![Value::I64(task + i)]);
                total += common::try_scalar::<i64>(&mut c, q).await.unwrap();
            }
            total
        }));
    }
    let all = tokio::time::timeout(Duration::from_secs(60), futures_util::future::join_all(tasks))
        .await
        .expect("a statement waited for an answer that had arrived");
    let sum: i64 = all.into_iter().map(|t| t.unwrap()).sum();
    let expected: i64 = (0..4_i64).map(|t| (0..1_500_i64).map(|i| t + i + 1).sum::<i64>()).sum();
    assert_eq!(sum, expected);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn the_reaper_lets_go_of_idle_sessions_the_server_ended() {
    // The reaper runs every idle_timeout / 2: every 2 s here, while the
    // connections themselves stay young enough to keep for 4 s.
    let config = PoolConfig::new().max_size(2).idle_timeout(Some(Duration::from_secs(4)));
    let (db, pool) = pg!("reaper_polls_idle", config);
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    let (a, b) = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
    let (ended, kept) = (a.backend_pid(), b.backend_pid());
    drop((a, b));
    let q = bound("SELECT pg_terminate_backend($1)", vec![Value::I32(ended)]);
    assert!(common::try_scalar::<bool>(&mut adm, q).await.unwrap());
    // Nobody uses either connection: only the reaper can notice the end.
    let started = Instant::now();
    while pool.status().size != 1 && started.elapsed() < Duration::from_millis(3_500) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pool.status().size, 1, "the ended session stayed in the pool");
    let c = pool.acquire().await.unwrap();
    assert_eq!(c.backend_pid(), kept);
    drop(c);
    common::healthy(&pool, &db).await;
}
