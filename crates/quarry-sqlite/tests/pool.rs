//! The SQLite pool's lifetimes, checkout checks and acquire deadlines
//! (RELIABILITY.md §2.3), on real SQLite databases (temporary files, and
//! `sqlite::memory:` where the test needs SQLite itself to block a
//! connection).
//!
//! SQLite has no backend pid, so a test tells connections apart by a mark
//! it leaves on one: a reader gets `PRAGMA cache_size = -4321` (a
//! per-connection setting, allowed on a `query_only` reader), the writer a
//! `TEMP` table (temporary tables belong to one connection). A connection
//! that comes back from the pool with its mark is the same connection; one
//! without it is a new one.
//!
//! What is proved:
//! - `max_lifetime`: a reader and the writer in constant use are reused
//!   until they are older than `max_lifetime`, then replaced (never before).
//! - `idle_timeout`: connections used often are kept however long they
//!   live; one idle longer than `idle_timeout` is replaced at checkout.
//! - checkout checks: with `verify_on_checkout`, healthy connections pass and
//!   come back; a returned reader whose connection thread is still stuck in
//!   a dropped stream (blocked on a lock SQLite will not let it have) is not
//!   handed out: after `recycle_timeout` it is replaced by a new one. (What
//!   catches it is the wait for the dropped stream, which runs before
//!   `verify_on_checkout`'s own `SELECT 1` and without it; that query reads
//!   no file and takes no lock, and no real fault was found that makes it
//!   fail on a live SQLite connection, so it is not faked here.)
//! - acquire deadlines: `PoolTimeout` names its phase — "waiting for a free
//!   slot" (every reader held), "opening a connection" (SQLite makes the new
//!   reader wait for a lock), "checking a returned connection" (the stuck
//!   reader above) — whether deadpool's own `connect_timeout` or the overall
//!   `acquire_timeout` fires first; the writer, held by a transaction, makes
//!   another writer fail with `Busy` after `busy_timeout`, naming it.
//!
//! Locks that hold a connection up: in `sqlite::memory:` (SQLite's `memdb`
//! VFS), a write transaction's RESERVED lock refuses every new SHARED lock,
//! so while one is open no reader can read, or open (opening reads the
//! schema version), until it ends or the busy timeout passes; SQLite's busy
//! wait is not interrupted by `sqlite3_interrupt`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use quarry_core::prelude::*;
use quarry_core::{ErrorKind, Pool, PoolConfig, PoolStatus};
use quarry_sqlite::{SqliteConnection, SqlitePool};
use quarry_testkit::SqliteTestDb;

type Result<T = (), E = quarry_core::Error> = std::result::Result<T, E>;

/// The reader's mark: a per-connection setting, not the default (-2000).
const MARK_READER: &str = "PRAGMA cache_size = -4321";
const MARK_VALUE: i64 = -4321;

fn test_db() -> SqliteTestDb {
    SqliteTestDb::new().expect("temp dir")
}

/// `pool.acquire()` fails with `PoolTimeout` naming `phase` and the
/// `limit_ms` that fired, no sooner than the limit and less than `slack`
/// after it.
async fn acquire_times_out(pool: &SqlitePool, phase: &str, limit_ms: u64, slack: Duration) {
    let started = Instant::now();
    let err = pool.acquire().await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::PoolTimeout, "{err}");
    assert!(err.message().contains(phase), "{err}");
    assert!(err.message().contains(&format!("{limit_ms} ms")), "{err}");
    let limit = Duration::from_millis(limit_ms);
    assert!(elapsed >= limit && elapsed < limit + slack, "{elapsed:?}");
}

/// A read on the reader the handle holds.
async fn read_scalar<T: FromValue + Send + 'static>(conn: &mut SqliteConnection, sql: &'static str) -> Result<T>
where
    (T,): FromRow,
{
    text(sql).read_only().fetch_scalar(conn).await
}

async fn mark_reader(conn: &mut SqliteConnection) -> Result {
    text(MARK_READER).read_only().execute(conn).await?;
    assert!(reader_marked(conn).await?, "the mark was set");
    Ok(())
}

async fn reader_marked(conn: &mut SqliteConnection) -> Result<bool> {
    Ok(read_scalar::<i64>(conn, "PRAGMA cache_size").await? == MARK_VALUE)
}

/// Raw text without `read_only()` runs on the writer, checked out for the
/// statement (and recycled by the pool at that checkout).
async fn mark_writer(conn: &mut SqliteConnection) -> Result {
    text("CREATE TEMP TABLE quarry_writer_mark (x INTEGER)").execute(conn).await?;
    assert!(writer_marked(conn).await?, "the mark was set");
    Ok(())
}

async fn writer_marked(conn: &mut SqliteConnection) -> Result<bool> {
    let n: i64 =
        text("SELECT count(*) FROM temp.sqlite_master WHERE name = 'quarry_writer_mark'").fetch_scalar(conn).await?;
    Ok(n == 1)
}

/// A new reader is configured like the first one.
async fn assert_reader_settings(conn: &mut SqliteConnection) -> Result {
    assert_eq!(read_scalar::<i64>(conn, "PRAGMA query_only").await?, 1);
    assert_eq!(read_scalar::<i64>(conn, "PRAGMA foreign_keys").await?, 1);
    Ok(())
}

#[tokio::test]
async fn max_lifetime_replaces_connections_in_constant_use() -> Result {
    const LIFETIME: Duration = Duration::from_millis(800);
    let db = test_db();
    let config = PoolConfig::new().max_size(1).max_lifetime(Some(LIFETIME)).idle_timeout(None);
    let writer_born_after = Instant::now();
    let pool = SqlitePool::connect(&db.url(), config).await?;
    // The reader is opened by the first acquire, the writer by connect().
    let reader_born_after = Instant::now();
    let mut conn = pool.acquire().await?;
    mark_reader(&mut conn).await?;
    mark_writer(&mut conn).await?;
    drop(conn);

    // Used every 20 ms, never idle: the same connections come back until
    // they are older than max_lifetime, then new ones.
    let (mut reader_replaced, mut writer_replaced) = (None, None);
    let give_up = Instant::now() + LIFETIME + Duration::from_secs(3);
    let mut checkouts = 0;
    while (reader_replaced.is_none() || writer_replaced.is_none()) && Instant::now() < give_up {
        let mut conn = pool.acquire().await?;
        checkouts += 1;
        if reader_replaced.is_none() && !reader_marked(&mut conn).await? {
            reader_replaced = Some(reader_born_after.elapsed());
            assert_reader_settings(&mut conn).await?;
        }
        if writer_replaced.is_none() && !writer_marked(&mut conn).await? {
            writer_replaced = Some(writer_born_after.elapsed());
        }
        drop(conn);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reader_replaced = reader_replaced.expect("the reader was never replaced");
    let writer_replaced = writer_replaced.expect("the writer was never replaced");
    // Replaced only once past max_lifetime (the elapsed times are upper
    // bounds of each connection's age), and not long after it.
    for (what, age) in [("reader", reader_replaced), ("writer", writer_replaced)] {
        assert!(age > LIFETIME, "the {what} was replaced at {age:?}, before max_lifetime {LIFETIME:?}");
        assert!(age < LIFETIME + Duration::from_secs(2), "the {what} was replaced only at {age:?}");
    }
    assert!(checkouts >= 10, "the connections were in use throughout: {checkouts} checkouts");

    // The new connections stay (no churn), and the pool is whole.
    let mut conn = pool.acquire().await?;
    mark_reader(&mut conn).await?;
    mark_writer(&mut conn).await?;
    drop(conn);
    let mut conn = pool.acquire().await?;
    assert!(reader_marked(&mut conn).await? && writer_marked(&mut conn).await?);
    drop(conn);
    quarry_testkit::assert_pool_healthy(&pool, &db).await;
    Ok(())
}

#[tokio::test]
async fn idle_timeout_replaces_only_connections_left_idle() -> Result {
    const IDLE: Duration = Duration::from_millis(400);
    let db = test_db();
    let config = PoolConfig::new().max_size(1).max_lifetime(None).idle_timeout(Some(IDLE));
    let pool = SqlitePool::connect(&db.url(), config).await?;
    let mut conn = pool.acquire().await?;
    mark_reader(&mut conn).await?;
    mark_writer(&mut conn).await?;
    drop(conn);

    // Used every 100 ms for three idle timeouts: kept. Both connections were
    // last returned after `used` (the reader when the handle was dropped,
    // the writer after its statement), so `used.elapsed()` bounds how long
    // they had been idle when checked out again.
    let mut used = Instant::now();
    let until = used + 3 * IDLE;
    let mut checked = 0;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut conn = pool.acquire().await?;
        let (reader, writer) = (reader_marked(&mut conn).await?, writer_marked(&mut conn).await?);
        let idle_at_most = used.elapsed();
        if idle_at_most < IDLE {
            assert!(reader, "a reader idle for under {idle_at_most:?} was replaced");
            assert!(writer, "the writer idle for under {idle_at_most:?} was replaced");
            checked += 1;
        }
        used = Instant::now();
        // Keep the writer in use too (its checkout is per statement).
        assert!(writer_marked(&mut conn).await? == writer);
        drop(conn);
    }
    assert!(checked >= 5, "only {checked} checkouts came within the idle timeout");

    // Idle twice as long as the idle timeout: both replaced at checkout.
    tokio::time::sleep(2 * IDLE).await;
    let mut conn = pool.acquire().await?;
    assert!(!reader_marked(&mut conn).await?, "a reader idle past the idle timeout was handed out");
    assert!(!writer_marked(&mut conn).await?, "the writer idle past the idle timeout was handed out");
    assert_reader_settings(&mut conn).await?;
    drop(conn);
    quarry_testkit::assert_pool_healthy(&pool, &db).await;
    Ok(())
}

/// A pool on `sqlite::memory:` with `busy_timeout=5000` and two readers,
/// whose first handle (`blocker`) will hold the write transaction; the
/// second reader is opened and marked, and held in `victim`.
async fn memory_pool(config: PoolConfig) -> Result<(SqlitePool, SqliteConnection, SqliteConnection)> {
    let pool = SqlitePool::connect("sqlite::memory:?busy_timeout=5000", config.max_size(2)).await?;
    let mut blocker = pool.acquire().await?;
    text("CREATE TABLE t (x INTEGER)").execute(&mut blocker).await?;
    text("INSERT INTO t VALUES (1), (2), (3)").execute(&mut blocker).await?;
    let mut victim = pool.acquire().await?;
    mark_reader(&mut victim).await?;
    assert_eq!(read_scalar::<i64>(&mut victim, "SELECT count(*) FROM t").await?, 3);
    Ok((pool, blocker, victim))
}

/// Start a read stream on `victim` while a write transaction blocks it,
/// drop the stream while its connection thread waits for the lock, then
/// return `victim`'s reader to the pool with that thread still stuck.
async fn leave_a_stuck_reader(mut victim: SqliteConnection) -> Result {
    {
        let mut stream = text("SELECT x FROM t").read_only().stream::<(i64,)>(&mut victim);
        let first = tokio::time::timeout(Duration::from_millis(200), stream.next()).await;
        assert!(first.is_err(), "the read waits for the writer's lock: {first:?}");
    }
    drop(victim);
    Ok(())
}

#[tokio::test]
async fn verify_on_checkout_keeps_healthy_connections_and_a_stuck_one_is_replaced() -> Result {
    // Healthy connections pass the check and come back, many times.
    let db = test_db();
    let config = PoolConfig::new().max_size(1).verify_on_checkout(true);
    let pool = SqlitePool::connect(&db.url(), config).await?;
    let mut conn = pool.acquire().await?;
    mark_reader(&mut conn).await?;
    mark_writer(&mut conn).await?;
    drop(conn);
    for _ in 0..20 {
        let mut conn = pool.acquire().await?;
        assert!(reader_marked(&mut conn).await?, "a healthy reader was replaced");
        assert!(writer_marked(&mut conn).await?, "the healthy writer was replaced");
    }
    quarry_testkit::assert_pool_healthy(&pool, &db).await;

    // A returned reader whose thread is stuck in a dropped stream cannot be
    // checked in time: after recycle_timeout it is replaced, and the new
    // reader (opened once the lock is free) is handed out instead. The
    // wait for the stream is what is bounded, with or without
    // verify_on_checkout.
    let cases = [
        (true, Duration::from_millis(300), true),
        (false, Duration::from_millis(300), true),
        (true, Duration::from_secs(10), false),
    ];
    for (verify, recycle_timeout, replaced) in cases {
        let config = PoolConfig::new()
            .verify_on_checkout(verify)
            .recycle_timeout(recycle_timeout)
            .acquire_timeout(Duration::from_secs(20));
        let (pool, mut blocker, victim) = memory_pool(config).await?;
        let mut tx = blocker.begin().await?;
        text("INSERT INTO t VALUES (4)").execute(&mut tx).await?;
        leave_a_stuck_reader(victim).await?;
        let acquiring = {
            let pool = pool.clone();
            tokio::spawn(async move {
                let started = Instant::now();
                let mut conn = pool.acquire().await?;
                let waited = started.elapsed();
                let marked = reader_marked(&mut conn).await?;
                let rows = read_scalar::<i64>(&mut conn, "SELECT count(*) FROM t").await?;
                Ok::<_, quarry_core::Error>((waited, marked, rows))
            })
        };
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(!acquiring.is_finished(), "acquire() waits while the lock is held");
        tx.commit().await?;
        let (waited, marked, rows) = acquiring.await.expect("task")?;
        assert_eq!(marked, !replaced, "verify {verify}, recycle_timeout {recycle_timeout:?}: replaced: {replaced}");
        assert_eq!(rows, 4, "the connection handed out works");
        assert!(waited >= Duration::from_millis(800) && waited < Duration::from_secs(5), "{waited:?}");
        drop(blocker);
        quarry_testkit::assert_pool_healthy(&pool, quarry_testkit::Inspect::PoolOnly).await;
    }
    Ok(())
}

#[tokio::test]
async fn acquire_times_out_waiting_for_a_free_slot() -> Result {
    let db = test_db();
    let config = PoolConfig::new().max_size(2).acquire_timeout(Duration::from_millis(200));
    let pool = SqlitePool::connect(&db.url(), config).await?;
    let mut a = pool.acquire().await?;
    mark_reader(&mut a).await?;
    let b = pool.acquire().await?;
    acquire_times_out(&pool, "waiting for a free slot", 200, Duration::from_millis(800)).await;
    // One writer beside the two readers, all idle but the two held.
    assert_eq!(pool.status(), PoolStatus { max_size: 3, size: 3, available: 1, waiting: 0 });

    // A reader freed while a task waits is handed to it.
    let waiter = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let mut conn = pool.acquire().await?;
            let waited = started.elapsed();
            Ok::<_, quarry_core::Error>((reader_marked(&mut conn).await?, waited, Instant::now()))
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(pool.status().waiting, 1);
    let released = Instant::now();
    drop(a);
    let (got_a, waited, acquired) = waiter.await.expect("task")?;
    assert!(got_a, "the waiter got the reader that was freed");
    assert!(waited >= Duration::from_millis(100), "{waited:?}");
    let handover = acquired.duration_since(released);
    assert!(handover < Duration::from_millis(150), "{handover:?}");
    drop(b);
    quarry_testkit::assert_pool_healthy(&pool, &db).await;
    Ok(())
}

#[tokio::test]
async fn acquire_times_out_opening_a_connection() -> Result {
    // Whichever limit fires first, deadpool's connect_timeout or the whole
    // acquire_timeout, the error names the phase and the limit.
    let cases = [
        (PoolConfig::new().connect_timeout(Duration::from_millis(300)).acquire_timeout(Duration::from_secs(20)), 300),
        (PoolConfig::new().acquire_timeout(Duration::from_millis(300)).connect_timeout(Duration::from_secs(20)), 300),
    ];
    for (config, limit_ms) in cases {
        let pool = SqlitePool::connect("sqlite::memory:?busy_timeout=5000", config.max_size(2)).await?;
        let mut blocker = pool.acquire().await?;
        text("CREATE TABLE t (x INTEGER)").execute(&mut blocker).await?;
        let mut tx = blocker.begin().await?;
        text("INSERT INTO t VALUES (1)").execute(&mut tx).await?;
        // The second reader is opened now, and its opening waits for the lock.
        acquire_times_out(&pool, "opening a connection", limit_ms, Duration::from_secs(1)).await;
        // Once the lock is free, the next acquire opens a reader at once.
        tx.commit().await?;
        let started = Instant::now();
        let mut conn = pool.acquire().await?;
        assert_eq!(read_scalar::<i64>(&mut conn, "SELECT count(*) FROM t").await?, 1);
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        drop((conn, blocker));
        quarry_testkit::assert_pool_healthy(&pool, quarry_testkit::Inspect::PoolOnly).await;
    }
    Ok(())
}

#[tokio::test]
async fn acquire_times_out_checking_a_returned_connection() -> Result {
    let config = PoolConfig::new().acquire_timeout(Duration::from_millis(300)).recycle_timeout(Duration::from_secs(20));
    let (pool, mut blocker, victim) = memory_pool(config).await?;
    let mut tx = blocker.begin().await?;
    text("INSERT INTO t VALUES (4)").execute(&mut tx).await?;
    leave_a_stuck_reader(victim).await?;
    // The only idle reader is the stuck one: checking it outlasts acquire_timeout.
    acquire_times_out(&pool, "checking a returned connection", 300, Duration::from_secs(1)).await;
    // The slot is not lost: once the lock is free, acquire() succeeds.
    tx.commit().await?;
    let mut conn = tokio::time::timeout(Duration::from_secs(3), pool.acquire()).await.expect("prompt")?;
    assert_eq!(read_scalar::<i64>(&mut conn, "SELECT count(*) FROM t").await?, 4);
    drop((conn, blocker));
    quarry_testkit::assert_pool_healthy(&pool, quarry_testkit::Inspect::PoolOnly).await;
    Ok(())
}

#[tokio::test]
async fn a_writer_held_by_a_transaction_makes_other_writers_busy_after_busy_timeout() -> Result {
    let db = test_db();
    let pool = SqlitePool::connect(&format!("{}?busy_timeout=300", db.url()), PoolConfig::new().max_size(2)).await?;
    let mut a = pool.acquire().await?;
    text("CREATE TABLE t (x INTEGER)").execute(&mut a).await?;
    let mut tx = a.begin().await?;
    text("INSERT INTO t VALUES (1)").execute(&mut tx).await?;
    let mut b = pool.acquire().await?;
    for what in ["a write", "begin()"] {
        let started = Instant::now();
        let err = match what {
            "a write" => text("INSERT INTO t VALUES (2)").execute(&mut b).await.map(drop).unwrap_err(),
            _ => b.begin().await.map(drop).unwrap_err(),
        };
        let elapsed = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Busy, "{what}: {err}");
        assert!(err.is_retryable(), "{what}: {err}");
        assert!(err.message().contains("busy_timeout") && err.message().contains("300 ms"), "{what}: {err}");
        assert!(elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1300), "{what}: {elapsed:?}");
    }
    // Reads go on meanwhile; after the commit the other writer writes.
    assert_eq!(read_scalar::<i64>(&mut b, "SELECT count(*) FROM t").await?, 0);
    tx.commit().await?;
    text("INSERT INTO t VALUES (2)").execute(&mut b).await?;
    assert_eq!(read_scalar::<i64>(&mut b, "SELECT count(*) FROM t").await?, 2);
    drop((a, b));
    quarry_testkit::assert_pool_healthy(&pool, &db).await;
    Ok(())
}
