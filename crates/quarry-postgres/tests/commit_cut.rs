//! A `COMMIT` whose bytes reach the server but whose answer never comes back
//! (RELIABILITY.md §2.4 `pg_commit_lost`): quarry-testkit's `FaultProxy`
//! sits between the pool and a private cluster and cuts the connection right
//! after forwarding the client's `COMMIT`, before relaying anything back.
//! The caller must get `ConnectionLost` flagged "outcome unknown" (here the
//! commit did happen), Quarry must not retry, and the pool must recover.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::time::Duration;

use common::{bound, exec, scalar, sql};
use quarry_core::prelude::*;
use quarry_core::{Connection, PoolConfig};
use quarry_postgres::PgPool;
use quarry_testkit::{FaultProxy, PgTestDb};

/// Long enough for a loaded machine, short enough that a hang fails the test.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

async fn count(c: &mut impl Connection, id: i32) -> i64 {
    common::try_scalar(c, bound("SELECT count(*) FROM t WHERE id = $1", vec![Value::I32(id)])).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_cut_after_reaching_the_server_is_committed_with_an_unknown_outcome() {
    const TEST: &str = "a_commit_cut_after_reaching_the_server_is_committed_with_an_unknown_outcome";
    let cluster = match quarry_testkit::start_temp_cluster().await {
        Ok(cluster) => cluster,
        Err(reason) => return quarry_testkit::pg_unavailable(TEST, &format!("no private cluster: {reason}")),
    };
    let db = PgTestDb::create(&cluster.server(), "commit_cut").await.unwrap();
    let direct = format!("127.0.0.1:{}", cluster.port());
    let proxy = FaultProxy::start(direct.parse().unwrap()).await.unwrap();
    let url = db.url().replace(&direct, &proxy.addr().to_string());
    assert_ne!(url, db.url(), "the pool's URL goes through the proxy");
    let pool = PgPool::connect(&url, PoolConfig::new().max_size(2)).await.unwrap();
    // Reads straight from the server, not through the proxy.
    let admin = common::admin(&db).await;
    let mut adm = admin.acquire().await.unwrap();
    exec(&mut adm, "CREATE TABLE t (id int4 PRIMARY KEY)").await;

    let mut c = pool.acquire().await.unwrap();
    let pid = c.backend_pid();
    let mut tx = c.begin().await.unwrap();
    tx.execute(sql("INSERT INTO t VALUES (1)")).await.unwrap();
    let connections = proxy.connections();
    proxy.cut_after_forwarding(b"COMMIT");
    let err = tokio::time::timeout(ANSWER_WITHIN, tx.commit()).await.expect("the commit hung").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err:?}");
    assert!(err.commit_outcome_unknown(), "{err:?}");
    eprintln!("COMMIT cut after forwarding: {err}");
    assert_eq!(proxy.cuts(), 1, "the cut fired once, on the COMMIT");
    // No retry: a second attempt would need a new connection through the proxy.
    assert_eq!(proxy.connections(), connections, "Quarry opened a connection during the failed commit");
    drop(c);

    // Its backend has gone (its client vanished): it ended no later than the
    // health check's wait for the server to settle. It read the COMMIT before
    // the end of its input, so once it has gone the commit is done; before,
    // a loaded server may not have reached it yet (the client learns of the
    // cut as soon as the proxy forwards the COMMIT).
    assert!(
        common::session_ends_within(&mut adm, pid, Duration::from_secs(3)).await,
        "backend {pid} outlived its cut connection"
    );
    // The server got the COMMIT: the row is there, read directly.
    assert_eq!(count(&mut adm, 1).await, 1, "the COMMIT reached the server, so the row must be committed");

    // The pool recovers: a new connection, and commits work again.
    let mut c = pool.acquire().await.unwrap();
    assert_ne!(c.backend_pid(), pid, "the cut connection was handed out again");
    let mut tx = c.begin().await.unwrap();
    tx.execute(sql("INSERT INTO t VALUES (2)")).await.unwrap();
    tokio::time::timeout(ANSWER_WITHIN, tx.commit()).await.expect("the commit hung").unwrap();
    assert_eq!(scalar::<i64>(&mut c, "SELECT count(*) FROM t").await, 2);

    // The same cut on a statement inside a transaction is a plain
    // ConnectionLost (no commit was asked for), and nothing of the
    // transaction is kept. A text of its own, so the Parse message (which
    // carries the SQL) is sent.
    let mut tx = c.begin().await.unwrap();
    tx.execute(sql("INSERT INTO t VALUES (3)")).await.unwrap();
    proxy.cut_after_forwarding(b"VALUES (4)");
    let err = tokio::time::timeout(ANSWER_WITHIN, tx.execute(sql("INSERT INTO t VALUES (4)")))
        .await
        .expect("the insert hung")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err:?}");
    assert!(!err.commit_outcome_unknown(), "{err:?}");
    assert_eq!(proxy.cuts(), 2);
    // The guard reports the loss instead of running anything elsewhere; no
    // COMMIT was sent, so that outcome is known: nothing was committed.
    let err = tx.commit().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err:?}");
    assert!(!err.commit_outcome_unknown(), "{err:?}");
    drop(c);
    assert_eq!((count(&mut adm, 3).await, count(&mut adm, 4).await), (0, 0), "a lost transaction was kept");

    drop(adm);
    common::healthy(&pool, &db).await;
    drop(pool);
    drop(admin);
    drop(proxy);
}
