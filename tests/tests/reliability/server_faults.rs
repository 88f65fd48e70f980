//! PostgreSQL servers that stop, crash, freeze or run out of connection
//! slots (RELIABILITY.md §2.3 and §2.4). Each test owns a temporary cluster
//! (quarry-testkit's `start_temp_cluster`), so that stopping or killing it
//! never disturbs the shared server the rest of the suite runs on.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use quarry_testkit::{Inspect, PgCluster, PgTestDb, StopMode};

use crate::common::*;

/// A private cluster and a test schema on it (the schema is dropped
/// first, then the cluster).
struct Private {
    db: PgTestDb,
    cluster: PgCluster,
}

impl Private {
    /// `None` (skipped loudly, or a failure under `QUARRY_REQUIRE_PG=1`)
    /// without PostgreSQL binaries.
    async fn start(test: &str, settings: &[&str]) -> Option<Private> {
        let cluster = match quarry_testkit::start_temp_cluster_with(settings).await {
            Ok(cluster) => cluster,
            Err(reason) => {
                quarry_testkit::pg_unavailable(test, &format!("no private cluster: {reason}"));
                return None;
            }
        };
        let db = PgTestDb::create(&cluster.server(), test).await.expect("a schema on the private cluster");
        Some(Private { db, cluster })
    }

    fn inspect(&self) -> Inspect<'_> {
        (&self.db).into()
    }

    async fn engine(&self, config: PoolConfig) -> Engine {
        Engine::connect_with(self.db.url(), config).await.expect("connect to the private cluster")
    }

    async fn stop(&self, mode: StopMode) {
        self.cluster.stop(mode).await.expect("pg_ctl stop");
    }

    async fn start_again(&self) {
        self.cluster.start().await.expect("pg_ctl start");
    }
}

async fn select_one(engine: &Engine) -> Result<i64> {
    engine.fetch_scalar(select(lit(1_i64))).await
}

/// Hold `n` connections at once (so the pool opens `n`), then return them.
async fn warm(engine: &Engine, n: usize) -> Result {
    let mut held = Vec::new();
    for _ in 0..n {
        let mut conn = engine.acquire().await?;
        select(lit(1_i64)).fetch_scalar::<i64>(&mut conn).await?;
        held.push(conn);
    }
    Ok(())
}

/// `pg_ctl stop -m immediate` (every backend killed, no shutdown checkpoint)
/// and start: with `verify_on_checkout`, every idle connection is pinged,
/// found dead and replaced, so not one query fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_stop_and_start_with_verify_on_checkout_fails_no_query() -> Result {
    let Some(pg) = Private::start("rel_stop_verify", &[]).await else { return Ok(()) };
    let engine = pg.engine(PoolConfig::new().max_size(4).verify_on_checkout(true)).await;
    warm(&engine, 4).await?;
    assert_eq!(engine.status().size, 4);
    pg.stop(StopMode::Immediate).await;
    pg.start_again().await;
    for i in 0..4 {
        assert_eq!(select_one(&engine).await.unwrap_or_else(|e| panic!("query {i} after the restart: {e:?}")), 1);
    }
    assert_healthy(&engine, pg.inspect()).await;
    Ok(())
}

/// The server stops (`-m immediate`) while a statement runs: the caller gets
/// `ConnectionLost` at once (not a hang, not a panic); when the server is
/// back the same engine works without being rebuilt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_stopped_mid_query_is_connection_lost_and_the_pool_recovers() -> Result {
    let Some(pg) = Private::start("rel_stop_mid_query", &[]).await else { return Ok(()) };
    let engine = pg.engine(PoolConfig::new().max_size(2)).await;
    warm(&engine, 2).await?;
    let sleeper = engine.clone();
    let running = tokio::spawn(async move { sleeper.execute(text("SELECT pg_sleep(30)")).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped_at = Instant::now();
    pg.stop(StopMode::Immediate).await;
    let outcome = tokio::time::timeout(Duration::from_secs(10), running).await;
    let err = outcome.expect("the statement hung after the server stopped").expect("no panic").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionLost, "{err:?}");
    assert!(stopped_at.elapsed() < Duration::from_secs(10));
    pg.start_again().await;
    assert_eq!(select_one(&engine).await?, 1);
    assert_healthy(&engine, pg.inspect()).await;
    Ok(())
}

/// `kill -9` of one backend makes the postmaster end every session and run
/// crash recovery (others get `57P02`, new connections `57P03` for a
/// moment): a pool of 8 gets all 8 back, and at most one query fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_backend_resets_every_session_and_a_pool_of_eight_recovers() -> Result {
    let Some(pg) = Private::start("rel_backend_sigkill", &[]).await else { return Ok(()) };
    let engine = pg.engine(PoolConfig::new().max_size(8)).await;
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..8 {
        let mut conn = engine.acquire().await?;
        pids.push(text("SELECT pg_backend_pid()").fetch_scalar::<i32>(&mut conn).await?);
        held.push(conn);
    }
    drop(held);
    quarry_testkit::signal(pids[3] as u32, "KILL").map_err(setup_error)?;
    // The postmaster notices the death and ends every other backend.
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists()) {
        assert!(Instant::now() < deadline, "the crash did not end the other sessions");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut failed = Vec::new();
    for i in 0..8 {
        let mut conn = engine.acquire().await?;
        match text("SELECT pg_backend_pid()").fetch_scalar::<i32>(&mut conn).await {
            Ok(pid) => assert!(!pids.contains(&pid), "query {i} ran on a session the crash ended"),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::ConnectionLost, "{e:?}");
                failed.push(e);
            }
        }
    }
    assert!(failed.len() <= 1, "{} queries failed after the crash: {failed:?}", failed.len());
    assert_healthy(&engine, pg.inspect()).await;
    Ok(())
}

quarry::table! {
    struct Acks("acks") { id: i64 [primary_key] }
}

/// A writer records every commit that returned `Ok`; the server is stopped
/// with `-m immediate` under it. After the restart every acknowledged row is
/// there (`synchronous_commit` is on; the cluster's `fsync=off` only matters
/// if the OS crashes, which this does not simulate), and at most one row
/// more (a commit whose answer was lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_commits_survive_an_immediate_stop() -> Result {
    let Some(pg) = Private::start("rel_durability", &[]).await else { return Ok(()) };
    // Between statements the writer may find the server gone while
    // connecting: acquire() then retries until its deadline.
    let engine = pg.engine(PoolConfig::new().max_size(2).acquire_timeout(Duration::from_secs(2))).await;
    let acks = Acks::table();
    engine.create_all(&MetaData::new().with(acks)).await?;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let (engine, acknowledged) = (engine.clone(), acknowledged.clone());
        tokio::spawn(async move {
            for id in 1_i64.. {
                if let Err(e) = engine.execute(insert_into(acks).values(acks.id.set(id))).await {
                    return e;
                }
                acknowledged.lock().expect("lock").push(id);
            }
            unreachable!()
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    pg.stop(StopMode::Immediate).await;
    let err = tokio::time::timeout(Duration::from_secs(15), writer).await.expect("the writer hung").expect("no panic");
    assert!(matches!(err.kind(), ErrorKind::ConnectionLost | ErrorKind::PoolTimeout | ErrorKind::Connect), "{err:?}");
    pg.start_again().await;
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() > 10, "only {} commits before the stop", acknowledged.len());
    let stored: Vec<i64> = engine.fetch_all(select(acks.id).from(acks).order_by(acks.id)).await?;
    let missing: Vec<&i64> = acknowledged.iter().filter(|id| stored.binary_search(id).is_err()).collect();
    assert!(missing.is_empty(), "acknowledged commits lost: {missing:?}");
    assert!(stored.len() <= acknowledged.len() + 1, "{} stored, {} acknowledged", stored.len(), acknowledged.len());
    assert_healthy(&engine, pg.inspect()).await;
    Ok(())
}

/// A server with `max_connections = 5`, four of them held by others: the
/// pool's second connection cannot be opened, so `acquire()` fails within
/// its deadline naming the phase and the server's `53300`; once a slot frees
/// up, the next acquire succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_max_connections_exhausted_then_recovers() -> Result {
    let settings = ["max_connections=5", "superuser_reserved_connections=0"];
    let Some(pg) = Private::start("rel_max_connections", &settings).await else { return Ok(()) };
    let config = PoolConfig::new().max_size(2).acquire_timeout(Duration::from_millis(800));
    let engine = pg.engine(config).await;
    let first = engine.acquire().await?;
    let mut others = Vec::new();
    for _ in 0..4 {
        others.push(quarry_testkit::connect(pg.cluster.url()).await.map_err(setup_error)?);
    }
    let started = Instant::now();
    let err = engine.acquire().await.unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::PoolTimeout, "{err:?}");
    assert!(err.message().contains("connecting") && err.message().contains("53300"), "{err}");
    assert!(waited >= Duration::from_millis(800) && waited < Duration::from_secs(5), "{waited:?}");
    others.pop();
    let mut second = engine.acquire().await?;
    assert_eq!(select(lit(1_i64)).fetch_scalar::<i64>(&mut second).await?, 1);
    drop((first, second));
    // The health check needs sessions of its own.
    drop(others);
    assert_healthy(&engine, pg.inspect()).await;
    Ok(())
}

/// Continues a stopped process when dropped, so that a failed assertion
/// never leaves the postmaster frozen.
struct Frozen(u32);

impl Drop for Frozen {
    fn drop(&mut self) {
        let _ = quarry_testkit::signal(self.0, "CONT");
    }
}

/// The postmaster frozen with SIGSTOP: running sessions still answer (their
/// backends are processes of their own), new connections hang in the
/// handshake, so `acquire()` gives up after its deadline naming the
/// connecting phase instead of hanging; after SIGCONT the pool recovers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_postmaster_makes_acquire_time_out_then_the_pool_recovers() -> Result {
    let Some(pg) = Private::start("rel_frozen_postmaster", &[]).await else { return Ok(()) };
    let config = PoolConfig::new()
        .max_size(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect_timeout(Duration::from_millis(300));
    let engine = pg.engine(config).await;
    let mut held = engine.acquire().await?;
    let postmaster = pg.cluster.postmaster_pid().map_err(setup_error)?;
    quarry_testkit::signal(postmaster, "STOP").map_err(setup_error)?;
    let frozen = Frozen(postmaster);
    assert_eq!(select(lit(1_i64)).fetch_scalar::<i64>(&mut held).await?, 1, "a running session still answers");
    let started = Instant::now();
    let err = engine.acquire().await.unwrap_err();
    let waited = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::PoolTimeout, "{err:?}");
    assert!(err.message().contains("connecting"), "{err}");
    assert!(waited >= Duration::from_secs(1) && waited < Duration::from_secs(4), "{waited:?}");
    drop(frozen);
    let mut second = engine.acquire().await?;
    assert_eq!(select(lit(1_i64)).fetch_scalar::<i64>(&mut second).await?, 1);
    drop((held, second));
    assert_healthy(&engine, pg.inspect()).await;
    Ok(())
}
