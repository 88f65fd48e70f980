//! Network faults from user space (RELIABILITY.md §2.4; no iptables here):
//! quarry-testkit's `FaultProxy` between the pool and a private cluster,
//! which black-holes traffic (a peer gone silent without RST or FIN, as in
//! a failover) or resets every connection; and its `SilentServer`, which
//! completes the PostgreSQL handshake and then never answers.

use std::time::{Duration, Instant};

use quarry_testkit::{FaultProxy, Inspect, PgTestDb, SilentServer};

use crate::common::*;

/// With the network silent, `acquire()` gives up within its deadline
/// (pinging idle connections within `recycle_timeout`, connecting within
/// `connect_timeout`) instead of hanging, and a statement in flight can be
/// abandoned with a timeout; when traffic flows again the same engine
/// recovers, and after every connection is reset too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_holed_network_bounds_acquire_and_the_pool_recovers() -> Result {
    let cluster = match quarry_testkit::start_temp_cluster().await {
        Ok(cluster) => cluster,
        Err(reason) => {
            quarry_testkit::pg_unavailable("network", &format!("no private cluster: {reason}"));
            return Ok(());
        }
    };
    let db = PgTestDb::create(&cluster.server(), "rel_black_hole").await.map_err(setup_error)?;
    let direct = format!("127.0.0.1:{}", cluster.port());
    let proxy = FaultProxy::start(direct.parse().map_err(setup_error)?).await.map_err(setup_error)?;
    let url = db.url().replace(&direct, &proxy.addr().to_string());
    assert_ne!(url, db.url(), "the URL goes through the proxy");
    let config = PoolConfig::new()
        .max_size(2)
        .verify_on_checkout(true)
        .recycle_timeout(Duration::from_millis(200))
        .connect_timeout(Duration::from_millis(300))
        .acquire_timeout(Duration::from_millis(1500));
    let engine = Engine::connect_with(&url, config).await?;
    let mut held = engine.acquire().await?;
    assert_eq!(select(lit(1_i64)).fetch_scalar::<i64>(&mut held).await?, 1);
    let idle = engine.acquire().await?;
    drop(idle);

    proxy.blackhole();
    // A statement in flight never gets its answer: the caller's timeout ends it.
    let silent = tokio::time::timeout(Duration::from_millis(300), select(lit(2_i64)).fetch_scalar::<i64>(&mut held));
    assert!(silent.await.is_err(), "an answer came through a black hole");
    drop(held);
    let started = Instant::now();
    let err = engine.acquire().await.unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::PoolTimeout, "{err:?}");
    assert!(waited >= Duration::from_millis(1500) && waited < Duration::from_secs(5), "{waited:?}");

    proxy.pass();
    let mut conn = engine.acquire().await?;
    assert_eq!(select(lit(3_i64)).fetch_scalar::<i64>(&mut conn).await?, 3);
    drop(conn);

    // Every connection reset (RST): the pool finds out and replaces them.
    proxy.reset_all();
    let mut conn = engine.acquire().await?;
    assert_eq!(select(lit(4_i64)).fetch_scalar::<i64>(&mut conn).await?, 4);
    drop(conn);
    assert_healthy(&engine, Inspect::from(&db)).await;
    drop(engine);
    drop(proxy);
    Ok(())
}

/// A server that completes the handshake and then never answers: opening
/// the pool fails within `connect_timeout`, it does not hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_fails_connect_within_its_timeout() -> Result {
    let server = SilentServer::start().await.map_err(setup_error)?;
    let config = PoolConfig::new().connect_timeout(Duration::from_millis(300)).acquire_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let err = Engine::connect_with(&server.url(), config).await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err.kind(), ErrorKind::Connect | ErrorKind::PoolTimeout), "{err:?}");
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(3), "{waited:?}");
    Ok(())
}
