//! The pool: acquire deadlines and their errors, close, status, queue
//! modes, lifetimes, checkout verification, URLs, and connection failures
//! (bad passwords, refused connections, connection limits) on a private
//! temporary cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use common::{exec, scalar};
use quarry_core::prelude::*;
use quarry_core::{Pool, PoolConfig, PoolStatus, QueueMode};
use quarry_postgres::PgPool;
use quarry_testkit::PgSource;

#[tokio::test]
async fn acquire_times_out_waiting_for_a_slot() {
    let config = PoolConfig::new().max_size(2).acquire_timeout(Duration::from_millis(200));
    let (db, pool) = pg!("acquire_timeout", config);
    let a = pool.acquire().await.unwrap();
    let b = pool.acquire().await.unwrap();
    let started = Instant::now();
    let err = pool.acquire().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::PoolTimeout);
    assert!(elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(400), "{elapsed:?}");
    assert!(err.message().contains("waiting for a slot"), "{err}");
    assert_eq!(pool.status(), PoolStatus { max_size: 2, size: 2, available: 0, waiting: 0 });

    // A slot freed while waiting is handed over.
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let c = pool.acquire().await;
            (c.map(|c| c.backend_pid()), started.elapsed(), Instant::now())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.status().waiting, 1);
    let freed = a.backend_pid();
    let released = Instant::now();
    drop(a);
    let (got, waited, acquired) = waiter.await.unwrap();
    assert_eq!(got.unwrap(), freed);
    // Waited for the release, and got the slot promptly after it (measured
    // from the release, so a loaded machine's scheduling delays before it
    // do not count).
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    let handover = acquired.duration_since(released);
    assert!(handover < Duration::from_millis(150), "{handover:?}");
    drop(b);
    assert_eq!(pool.status(), PoolStatus { max_size: 2, size: 2, available: 2, waiting: 0 });
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn acquire_futures_dropped_early_leak_nothing() {
    let (db, pool) = pg!("acquire_cancelled", PoolConfig::new().max_size(1));
    for i in 0..1000 {
        let fut = Box::pin(pool.acquire());
        match common::poll_n(fut, i % 4).await {
            Ok(c) => drop(c.unwrap()),
            Err(pending) => drop(pending),
        }
    }
    let started = Instant::now();
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    assert!(started.elapsed() < Duration::from_secs(1));
    let status = pool.status();
    assert!(status.size <= 1 && status.waiting == 0, "{status:?}");
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn close_refuses_new_acquires_and_lets_work_finish() {
    let (_db, pool) = pg!("pool_close");
    let mut held = pool.acquire().await.unwrap();
    Pool::close(&pool);
    let err = pool.acquire().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PoolClosed);
    assert_eq!(scalar::<i32>(&mut held, "SELECT 1").await, 1);
    drop(held);
    assert_eq!(pool.acquire().await.unwrap_err().kind(), ErrorKind::PoolClosed);
    assert_eq!(Pool::dialect(&pool).name(), "PostgreSQL");
}

#[tokio::test]
async fn lifo_reuses_the_warm_connection_and_fifo_rotates() {
    for (mode, expect_last) in [(QueueMode::Lifo, true), (QueueMode::Fifo, false)] {
        let (_db, pool) = pg!("queue_modes", PoolConfig::new().max_size(2).queue_mode(mode));
        let a = pool.acquire().await.unwrap();
        let b = pool.acquire().await.unwrap();
        let (pa, pb) = (a.backend_pid(), b.backend_pid());
        drop(a);
        drop(b);
        let next = pool.acquire().await.unwrap().backend_pid();
        assert_eq!(next, if expect_last { pb } else { pa }, "{mode:?}");
    }
}

#[tokio::test]
async fn max_lifetime_and_idle_timeout_replace_connections() {
    let config = PoolConfig::new().max_size(1).max_lifetime(Some(Duration::from_millis(600))).idle_timeout(None);
    let (db, pool) = pg!("max_lifetime", config);
    let first = pool.acquire().await.unwrap().backend_pid();
    // Kept busy, it still retires at 600 ms.
    let deadline = Instant::now() + Duration::from_millis(900);
    let mut pids = std::collections::HashSet::new();
    while Instant::now() < deadline {
        let mut c = pool.acquire().await.unwrap();
        let _: i32 = scalar(&mut c, "SELECT 1").await;
        pids.insert(c.backend_pid());
        drop(c);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(pids.contains(&first) && pids.len() >= 2, "{pids:?}");
    common::healthy(&pool, &db).await;

    let config = PoolConfig::new().max_size(1).idle_timeout(Some(Duration::from_millis(300)));
    let (db, pool) = pg!("idle_timeout", config);
    let first = pool.acquire().await.unwrap().backend_pid();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.acquire().await.unwrap().backend_pid(), first, "used within the idle timeout");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_ne!(pool.acquire().await.unwrap().backend_pid(), first, "idle longer than the idle timeout");
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn verify_on_checkout_replaces_a_silent_connection_within_recycle_timeout() {
    let config = PoolConfig::new().max_size(1).verify_on_checkout(true).recycle_timeout(Duration::from_millis(200));
    let (db, pool) = pg!("verify_on_checkout", config);
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    let pid = c.backend_pid();
    drop(c);
    let Some(stopped) = common::Stopped::stop(&db, pid) else { return };
    let c = acquire_replacing(&pool, pid, Duration::from_millis(200)).await;
    drop(stopped);
    drop(c);
    common::healthy(&pool, &db).await;
}

/// `acquire()` when the pool's one idle connection, `stuck_pid`, does not
/// answer its check: after `recycle_timeout` (and well within a second) a
/// new connection that works is handed out instead.
async fn acquire_replacing(pool: &PgPool, stuck_pid: i32, recycle_timeout: Duration) -> quarry_postgres::PgConnection {
    let started = Instant::now();
    let mut c = pool.acquire().await.unwrap();
    let elapsed = started.elapsed();
    assert_ne!(c.backend_pid(), stuck_pid);
    assert!(elapsed >= recycle_timeout && elapsed < Duration::from_secs(1), "{elapsed:?}");
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    c
}

#[tokio::test]
async fn a_connection_returned_in_a_transaction_to_a_silent_server_is_replaced_within_recycle_timeout() {
    // The ROLLBACK sent when the handle is returned is confirmed at the next
    // checkout; a server that never answers costs recycle_timeout, then a
    // new connection takes the old one's place.
    let config = PoolConfig::new().max_size(1).recycle_timeout(Duration::from_millis(200));
    let (db, pool) = pg!("silent_rollback", config);
    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let tx = c.begin().await.unwrap();
    // The guard leaves the rollback to the handle, which sends it when it
    // is returned, without waiting for the answer.
    drop(tx);
    let Some(stopped) = common::Stopped::stop(&db, pid) else { return };
    drop(c);
    let c = acquire_replacing(&pool, pid, Duration::from_millis(200)).await;
    drop(stopped);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn urls_tls_modes_unix_sockets_and_several_hosts() {
    for url in ["postgres://u@127.0.0.1/db?sslmode=require", "host=127.0.0.1 sslmode=verify-full"] {
        let err = PgPool::connect(url, PoolConfig::new()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{url}");
        assert!(err.message().contains("TLS"), "{err}");
    }
    let err = PgPool::connect("postgres://u@127.0.0.1/db?bogus=1", PoolConfig::new()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);

    let started = Instant::now();
    let err = PgPool::connect("postgres://postgres@127.0.0.1:1/postgres", PoolConfig::new()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));

    let Some(db) = quarry_testkit::pg_test_db("urls").await else { return };
    if *db.server().source() != PgSource::Local {
        eprintln!("SKIPPED unix socket and multi-host checks: not the local server");
        return;
    }
    let err =
        PgPool::connect("postgres://postgres@127.0.0.1:5432/quarry_no_such_db", PoolConfig::new()).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::Config, Some("3D000")), "{err}");
    let unix = format!("host=/var/run/postgresql user=postgres dbname=test application_name={}", db.schema());
    let pool = PgPool::connect(&unix, PoolConfig::new().max_size(1)).await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    assert!(scalar::<Option<String>>(&mut c, "SELECT inet_server_addr()::text").await.is_none());

    let hosts = "postgresql://postgres@127.0.0.1:1,127.0.0.1:5432/test?connect_timeout=2&sslmode=prefer";
    let pool = PgPool::connect(hosts, PoolConfig::new().max_size(1)).await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
}

/// A private cluster whose role `alice` needs a password (scram-sha-256) and
/// whose role `limited` may open one connection.
async fn auth_cluster() -> Option<quarry_testkit::PgCluster> {
    let cluster = match quarry_testkit::start_temp_cluster().await {
        Ok(c) => c,
        Err(reason) => {
            quarry_testkit::pg_unavailable("auth_cluster", &format!("no private cluster: {reason}"));
            return None;
        }
    };
    let pool = PgPool::connect(cluster.url(), PoolConfig::new().max_size(1)).await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    exec(&mut c, "CREATE ROLE alice LOGIN PASSWORD 'right'").await;
    exec(&mut c, "CREATE ROLE limited LOGIN CONNECTION LIMIT 1").await;
    let hba = cluster.data_dir().join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(&hba, format!("host all alice 127.0.0.1/32 scram-sha-256\n{old}")).unwrap();
    assert!(scalar::<bool>(&mut c, "SELECT pg_reload_conf()").await);
    tokio::time::sleep(Duration::from_millis(200)).await;
    Some(cluster)
}

#[tokio::test]
async fn bad_passwords_fail_fast_and_transient_failures_time_out_with_their_cause() {
    let Some(cluster) = auth_cluster().await else { return };
    let port = cluster.port();
    let alice = |password: &str| format!("postgres://alice:{password}@127.0.0.1:{port}/postgres");

    let started = Instant::now();
    let err = PgPool::connect(&alice("wrong"), PoolConfig::new()).await.unwrap_err();
    assert_eq!((err.kind(), err.sqlstate()), (ErrorKind::Auth, Some("28P01")), "{err}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(!err.to_string().contains("wrong"), "the password must not appear: {err}");

    // A pool whose password stops working: acquire fails at once with Auth.
    let config = PoolConfig::new().max_size(2).acquire_timeout(Duration::from_secs(10));
    let pool = PgPool::connect(&alice("right"), config).await.unwrap();
    let mut held = pool.acquire().await.unwrap();
    exec(&mut held, "ALTER ROLE alice PASSWORD 'changed'").await;
    let started = Instant::now();
    let err = pool.acquire().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    drop(held);

    // A role limited to one connection: the second times out, and says why.
    let limited = format!("postgres://limited@127.0.0.1:{port}/postgres");
    let config = PoolConfig::new().max_size(2).acquire_timeout(Duration::from_millis(500));
    let pool = PgPool::connect(&limited, config).await.unwrap();
    let held = pool.acquire().await.unwrap();
    let started = Instant::now();
    let err = pool.acquire().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::PoolTimeout, "{err}");
    assert!(elapsed >= Duration::from_millis(500) && elapsed < Duration::from_millis(900), "{elapsed:?}");
    assert!(err.message().contains("connecting"), "{err}");
    assert!(err.message().contains("53300"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
    drop(held);
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    drop(c);

    // The server goes away: acquire times out naming "connection refused";
    // when it comes back, the pool recovers.
    let config = PoolConfig::new().max_size(1).acquire_timeout(Duration::from_millis(500));
    let url = format!("{}?application_name=refused", cluster.url());
    let pool = PgPool::connect(&url, config).await.unwrap();
    cluster.stop(quarry_testkit::StopMode::Fast).await.unwrap();
    let err = pool.acquire().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PoolTimeout, "{err}");
    assert!(err.message().to_lowercase().contains("refused"), "{err}");
    let started = Instant::now();
    let err = PgPool::connect(cluster.url(), PoolConfig::new()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert!(started.elapsed() < Duration::from_secs(1));
    cluster.start().await.unwrap();
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    drop(c);
    quarry_testkit::assert_pool_healthy(&pool, quarry_testkit::Inspect::postgres(cluster.url(), "refused")).await;
}

#[tokio::test]
async fn a_restart_loses_every_idle_connection_and_the_pool_recovers() {
    let Some(cluster) = auth_cluster().await else { return };
    let config = PoolConfig::new().max_size(4);
    let url = format!("{}?application_name=restarted", cluster.url());
    let pool = PgPool::connect(&url, config).await.unwrap();
    let conns: Vec<_> = futures_util::future::join_all((0..4).map(|_| pool.acquire())).await;
    drop(conns);
    cluster.stop(quarry_testkit::StopMode::Immediate).await.unwrap();
    cluster.start().await.unwrap();
    let mut lost = 0;
    for _ in 0..4 {
        let mut c = pool.acquire().await.unwrap();
        match quarry_core::Connection::execute(&mut c, common::sql("SELECT 1")).await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e}");
                lost += 1;
            }
        }
    }
    assert!(lost <= 1, "{lost} queries failed after the restart");
    let mut c = pool.acquire().await.unwrap();
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    drop(c);
    quarry_testkit::assert_pool_healthy(&pool, quarry_testkit::Inspect::postgres(cluster.url(), "restarted")).await;
}

#[tokio::test]
async fn a_lost_connection_makes_the_pool_verify_older_idle_ones() {
    // No verify_on_checkout: the check comes from the loss alone.
    let config = PoolConfig::new().max_size(2).recycle_timeout(Duration::from_millis(200));
    let (db, pool) = pg!("loss_verifies_idle", config);
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    let mut a = pool.acquire().await.unwrap();
    let b = pool.acquire().await.unwrap();
    let (pa, pb) = (a.backend_pid(), b.backend_pid());
    drop(b);
    // B goes silent (a live socket that never answers), A is lost.
    let Some(stopped) = common::Stopped::stop(&db, pb) else { return };
    let q = common::bound("SELECT pg_terminate_backend($1)", vec![Value::I32(pa)]);
    assert!(common::try_scalar::<bool>(&mut adm, q).await.unwrap());
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A's handle finds its connection closed before sending anything, and
    // takes another from the pool: B, which is pinged before it is handed
    // out because of the loss; the ping times out and a new connection
    // takes its place.
    let started = Instant::now();
    assert_eq!(quarry_core::Connection::execute(&mut a, common::sql("SELECT 1")).await.unwrap(), 1);
    assert!(a.backend_pid() != pa && a.backend_pid() != pb);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    drop(a);
    let started = Instant::now();
    let mut c = pool.acquire().await.unwrap();
    assert!(c.backend_pid() != pa && c.backend_pid() != pb);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    assert_eq!(scalar::<i32>(&mut c, "SELECT 1").await, 1);
    drop(stopped);
    drop(c);
    common::healthy(&pool, &db).await;
}

#[tokio::test]
async fn idle_connections_past_idle_timeout_are_closed_in_the_background() {
    let config = PoolConfig::new().max_size(3).idle_timeout(Some(Duration::from_millis(300)));
    let (db, pool) = pg!("idle_reaper", config);
    let conns: Vec<_> = futures_util::future::join_all((0..3).map(|_| pool.acquire())).await;
    let pids: Vec<i32> = conns.iter().map(|c| c.as_ref().unwrap().backend_pid()).collect();
    drop(conns);
    assert_eq!(pool.status().size, 3);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(pool.status().size, 0, "idle connections were not closed");
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    let pids = Value::from(pids.into_iter().map(Value::I32).collect::<Vec<_>>());
    let q = common::bound("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", vec![pids]);
    assert_eq!(common::try_scalar::<i64>(&mut adm, q).await.unwrap(), 0);
    common::healthy(&pool, &db).await;
}
