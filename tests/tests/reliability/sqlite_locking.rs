//! SQLite's locks across processes and connections (RELIABILITY.md §2.7):
//! writers in other processes, a writer process killed mid-stream, the
//! deferred read-then-write trap, and readers beside a writer in WAL mode.
//!
//! The other processes are this test binary, run again on one test
//! (`child_process`) with `QUARRY_RELIABILITY_CHILD` naming its role.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use quarry::TransactionBehavior;
use quarry_testkit::SqliteTestDb;

use crate::common::*;

const CHILD_ENV: &str = "QUARRY_RELIABILITY_CHILD";
const CHILD_DB_ENV: &str = "QUARRY_RELIABILITY_CHILD_DB";
/// Write transactions per writer process.
const WRITES: i64 = 50;

quarry::table! {
    pub struct Counter("counter") { id: i64 [primary_key], n: i64 }
}

quarry::table! {
    pub struct Events("events") { id: i64 [primary_key], writer: i64, step: i64 }
}

async fn create(url: &str) -> Result<Engine> {
    let engine = Engine::connect_with(url, config()).await?;
    let (c, e) = (Counter::table(), Events::table());
    engine.create_all(&MetaData::new().with(c).with(e)).await?;
    engine.execute(insert_into(c).values((c.id.set(1), c.n.set(0)))).await?;
    Ok(engine)
}

/// The body of a child process; a test that does nothing unless this
/// process was started as a child.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_process() -> Result {
    let (Ok(role), Ok(url)) = (std::env::var(CHILD_ENV), std::env::var(CHILD_DB_ENV)) else { return Ok(()) };
    let (c, e) = (Counter::table(), Events::table());
    let engine = Engine::connect_with(&url, config()).await?;
    match role.split_once(':') {
        // `writer:<n>`: WRITES read-modify-write transactions (BEGIN IMMEDIATE).
        Some(("writer", n)) => {
            let writer: i64 = n.parse().map_err(setup_error)?;
            for step in 0..WRITES {
                let mut tx = engine.begin().await?;
                let n: i64 = select(c.n).from(c).filter(c.id.eq(1)).fetch_scalar(&mut tx).await?;
                update(c).set(c.n, n + 1).filter(c.id.eq(1)).execute(&mut tx).await?;
                insert_into(e).values((e.writer.set(writer), e.step.set(step))).execute(&mut tx).await?;
                tx.commit().await?;
            }
        }
        // `acker`: commit rows one by one, printing each acknowledged id,
        // until killed.
        Some(("acker", _)) => {
            for step in 1.. {
                engine.execute(insert_into(e).values((e.id.set(step), e.writer.set(0), e.step.set(step)))).await?;
                println!("ack {step}");
            }
        }
        _ => panic!("unknown child role {role:?}"),
    }
    Ok(())
}

fn child(role: &str, url: &str) -> Command {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = Command::new(exe);
    cmd.args(["sqlite_locking::child_process", "--exact", "--test-threads=1", "--nocapture"])
        .env(CHILD_ENV, role)
        .env(CHILD_DB_ENV, url)
        .stdin(Stdio::null());
    cmd
}

/// Four processes, 50 read-modify-write transactions each, on one file:
/// no `database is locked`, no lost update (write transactions are
/// `BEGIN IMMEDIATE`, so the busy timeout applies to every wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_in_four_processes_lose_no_update() -> Result {
    let file = SqliteTestDb::new().map_err(setup_error)?;
    let url = format!("{}?busy_timeout=20000", file.url());
    let engine = create(&url).await?;
    let children: Vec<_> = (1..=4)
        .map(|n| child(&format!("writer:{n}"), &url).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn())
        .collect::<std::io::Result<_>>()
        .map_err(setup_error)?;
    for (n, child) in children.into_iter().enumerate() {
        let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.map_err(setup_error)?;
        let out = out.map_err(setup_error)?;
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "writer {} failed ({}):\n{}\n{}",
            n + 1,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (c, e) = (Counter::table(), Events::table());
    let n: i64 = engine.fetch_scalar(select(c.n).from(c)).await?;
    let events: i64 = engine.fetch_scalar(select(count_star()).from(e)).await?;
    assert_eq!((n, events), (4 * WRITES, 4 * WRITES), "updates lost between processes");
    let check: String = engine.fetch_scalar(text("PRAGMA integrity_check")).await?;
    assert_eq!(check, "ok");
    assert_healthy(&engine, file.path().into()).await;
    Ok(())
}

/// A process committing row after row is killed with SIGKILL: on reopening,
/// the file is intact and every commit the process saw acknowledged is
/// there (a process crash, not a power loss).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_writer_process_loses_no_acknowledged_commit() -> Result {
    let file = SqliteTestDb::new().map_err(setup_error)?;
    drop(create(&file.url()).await?);
    let mut acker =
        child("acker:", &file.url()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().map_err(setup_error)?;
    let stdout = acker.stdout.take().expect("piped stdout");
    let (acked, killed) = tokio::task::spawn_blocking(move || {
        let mut acked = Vec::new();
        let mut killed = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The test harness may print on the same line ("test ... ack 1").
            if let Some(id) = line.rfind("ack ").and_then(|at| line[at + 4..].trim().parse::<i64>().ok()) {
                acked.push(id);
            }
            if acked.len() == 200 && !killed {
                acker.kill().expect("SIGKILL the writer");
                killed = true;
            }
        }
        let _ = acker.wait();
        (acked, killed)
    })
    .await
    .map_err(setup_error)?;
    assert!(killed, "the writer stopped by itself after {} commits", acked.len());
    let engine = Engine::connect_with(&file.url(), config()).await?;
    let check: String = engine.fetch_scalar(text("PRAGMA integrity_check")).await?;
    assert_eq!(check, "ok");
    let e = Events::table();
    let stored: Vec<i64> = engine.fetch_all(select(e.id).from(e).order_by(e.id)).await?;
    let missing: Vec<&i64> = acked.iter().filter(|id| stored.binary_search(id).is_err()).collect();
    assert!(missing.is_empty(), "acknowledged commits lost: {missing:?}");
    let extra: Vec<&i64> = stored.iter().filter(|id| !acked.contains(id)).collect();
    assert!(
        extra.len() <= 1,
        "{} stored, {} acknowledged; stored but never acknowledged: {extra:?}",
        stored.len(),
        acked.len()
    );
    assert_healthy(&engine, file.path().into()).await;
    Ok(())
}

/// Two pools on one file (two writers, as two processes): a DEFERRED
/// transaction that read before the other wrote cannot upgrade to write —
/// SQLite answers at once (`SQLITE_BUSY_SNAPSHOT`, which no busy timeout
/// can fix) and Quarry reports `Busy`. The same with `BEGIN IMMEDIATE`
/// (Quarry's default) waits for the lock instead, and both writes land.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_read_then_write_is_busy_at_once_immediate_waits() -> Result {
    let file = SqliteTestDb::new().map_err(setup_error)?;
    let url = format!("{}?busy_timeout=5000", file.url());
    let a = create(&url).await?;
    let b = Engine::connect_with(&url, config()).await?;
    let c = Counter::table();

    let mut tx = a.begin_with(TransactionOptions::new().behavior(TransactionBehavior::Deferred)).await?;
    let n: i64 = select(c.n).from(c).fetch_scalar(&mut tx).await?;
    b.execute(update(c).set(c.n, c.n + 10)).await?;
    let started = Instant::now();
    let err = update(c).set(c.n, n + 1).execute(&mut tx).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err:?}");
    assert!(err.is_retryable());
    assert!(started.elapsed() < Duration::from_secs(1), "waited {:?} for a lock it could never get", started.elapsed());
    drop(tx);

    let mut tx = a.begin().await?;
    let n: i64 = select(c.n).from(c).fetch_scalar(&mut tx).await?;
    let other = tokio::spawn({
        let b = b.clone();
        async move { b.execute(update(c).set(c.n, c.n + 100)).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    update(c).set(c.n, n + 1).execute(&mut tx).await?;
    tx.commit().await?;
    other.await.map_err(setup_error)??;
    assert_eq!(a.fetch_scalar::<i64>(select(c.n).from(c)).await?, 10 + 1 + 100);
    assert_healthy(&a, file.path().into()).await;
    assert_healthy(&b, file.path().into()).await;
    Ok(())
}

/// WAL: a stream reading on a reader does not block the writer, keeps its
/// own snapshot while rows are written, and once dropped lets a
/// `wal_checkpoint(TRUNCATE)` complete (it held no read lock after).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_does_not_block_the_writer_in_wal_mode() -> Result {
    let file = SqliteTestDb::new().map_err(setup_error)?;
    let engine = create(&file.url()).await?;
    let e = Events::table();
    engine.execute(insert_into(e).rows((e.writer, e.step), (1..=5000_i64).map(|i| (1_i64, i)))).await?;
    let mut reader = engine.acquire().await?;
    let mut rows = select(e.step).from(e).filter(e.writer.eq(1)).order_by(e.id).stream::<(i64,)>(&mut reader);
    let mut seen = 0_i64;
    for _ in 0..10 {
        rows.next().await.expect("a row")?;
        seen += 1;
    }
    // Writes go through while the stream is open.
    let started = Instant::now();
    for i in 0..50_i64 {
        engine.execute(insert_into(e).values((e.writer.set(1), e.step.set(10_000 + i)))).await?;
    }
    assert!(started.elapsed() < Duration::from_secs(5), "writes waited for the reader: {:?}", started.elapsed());
    while let Some(row) = rows.next().await {
        row?;
        seen += 1;
    }
    assert_eq!(seen, 5000, "the stream kept its snapshot");
    drop(rows);
    drop(reader);
    let (busy, _, _): (i64, i64, i64) = engine.fetch_one(text("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
    assert_eq!(busy, 0, "a read lock outlived the stream");
    assert_healthy(&engine, file.path().into()).await;
    Ok(())
}

/// `sqlite::memory:` is one database shared by the pool's connections
/// (SQLite's memdb VFS, with normal locking): 50 tasks writing at once on a
/// pool of four see no `SQLITE_LOCKED` and lose no update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_database_concurrent_writers_lose_no_update() -> Result {
    let engine = create("sqlite::memory:").await?;
    let c = Counter::table();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let engine = engine.clone();
        tasks.spawn(async move {
            for _ in 0..10 {
                let mut tx = engine.begin().await?;
                let n: i64 = select(c.n).from(c).fetch_scalar(&mut tx).await?;
                update(c).set(c.n, n + 1).execute(&mut tx).await?;
                tx.commit().await?;
                let _: i64 = engine.fetch_scalar(select(c.n).from(c)).await?;
            }
            Ok::<_, Error>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(setup_error)??;
    }
    assert_eq!(engine.fetch_scalar::<i64>(select(c.n).from(c)).await?, 500);
    assert_healthy(&engine, quarry_testkit::Inspect::PoolOnly).await;
    Ok(())
}
