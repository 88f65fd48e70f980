//! SQLite under file-system faults: a full disk, a read-only mount, corrupt pages.

use quarry::prelude::*;
use quarry::{ErrorKind, PoolConfig};
use quarry_testkit::Tmpfs;

use crate::common::assert_healthy;

type Result<T = (), E = Error> = std::result::Result<T, E>;

quarry::table! {
    pub struct Blobs("blobs") { id: i64 [primary_key], data: Vec<u8> }
}

fn config() -> PoolConfig {
    PoolConfig::new().max_size(2)
}

async fn count(engine: &Engine) -> Result<i64> {
    let mut conn = engine.acquire().await?;
    text("SELECT count(*) FROM blobs").read_only().fetch_scalar(&mut conn).await
}

async fn integrity(engine: &Engine) -> Result<String> {
    let mut conn = engine.acquire().await?;
    text("PRAGMA integrity_check").fetch_scalar(&mut conn).await
}

/// Insert 16 KiB blobs until the disk is full: the failure is `DiskFull`,
/// what was committed before is intact, and once there is room again the
/// same engine writes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_is_reported_and_recovered_from() -> Result {
    let fs = Tmpfs::mount(2 << 20).map_err(|e| Error::new(ErrorKind::Config, e))?;
    let url = format!("sqlite://{}", fs.file("full.db").display());
    let engine = Engine::connect_with(&url, config()).await?;
    let blobs = Blobs::table();
    engine.create_all(&MetaData::new().with(blobs)).await?;
    let mut conn = engine.acquire().await?;
    let mut committed = 0_i64;
    let error = loop {
        match insert_into(blobs).values(blobs.data.set(vec![7_u8; 16 * 1024])).execute(&mut conn).await {
            Ok(_) => committed += 1,
            Err(e) => break e,
        }
        assert!(committed < 1000, "a 2 MiB disk never filled up");
    };
    assert_eq!(error.kind(), ErrorKind::DiskFull, "{error}");
    assert!(committed > 10, "only {committed} rows fitted");
    drop(conn);
    assert_eq!(count(&engine).await?, committed, "every acknowledged row is there, nothing more");
    assert_eq!(integrity(&engine).await?, "ok");
    fs.remount_read_write(Some(8 << 20)).map_err(|e| Error::new(ErrorKind::Config, e))?;
    let mut conn = engine.acquire().await?;
    insert_into(blobs).values(blobs.data.set(vec![1_u8; 16 * 1024])).execute(&mut conn).await?;
    drop(conn);
    assert_eq!(count(&engine).await?, committed + 1);
    assert_healthy(&engine, fs.file("full.db").as_path().into()).await;
    Ok(())
}

/// The disk fills up inside an explicit transaction. SQLite may or may not
/// have rolled the transaction back by itself after `SQLITE_FULL`; Quarry
/// asks it (`is_autocommit`) before rolling back, so the rollback succeeds
/// either way, the rows committed before are intact, and the same
/// connection writes again (the rolled-back pages are reused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_inside_a_transaction_rolls_back_cleanly() -> Result {
    let fs = Tmpfs::mount(2 << 20).map_err(|e| Error::new(ErrorKind::Config, e))?;
    let url = format!("sqlite://{}", fs.file("full.db").display());
    let engine = Engine::connect_with(&url, config()).await?;
    let blobs = Blobs::table();
    engine.create_all(&MetaData::new().with(blobs)).await?;
    engine.execute(insert_into(blobs).rows(blobs.data, (0..10).map(|i| vec![i as u8; 1024]))).await?;
    let mut conn = engine.acquire().await?;
    let mut tx = conn.begin().await?;
    let mut inserted = 0;
    let error = loop {
        match insert_into(blobs).values(blobs.data.set(vec![9_u8; 16 * 1024])).execute(&mut tx).await {
            Ok(_) => inserted += 1,
            Err(e) => break e,
        }
        assert!(inserted < 1000, "a 2 MiB disk never filled up");
    };
    assert_eq!(error.kind(), ErrorKind::DiskFull, "{error}");
    tx.rollback().await?;
    assert_eq!(quarry::Connection::transaction_depth(&conn), 0);
    insert_into(blobs).values(blobs.data.set(vec![1_u8; 1024])).execute(&mut conn).await?;
    drop(conn);
    assert_eq!(count(&engine).await?, 11, "the ten rows from before and the one after");
    assert_eq!(integrity(&engine).await?, "ok");
    // The health check's WAL checkpoint needs room in the database file.
    fs.remount_read_write(Some(8 << 20)).map_err(|e| Error::new(ErrorKind::Config, e))?;
    assert_healthy(&engine, fs.file("full.db").as_path().into()).await;
    Ok(())
}

/// A database on a file system mounted read-only (a mount in use cannot be
/// remounted, so the pool is closed first, as at a deploy): opening it
/// read-write, or read-only without its WAL index, fails at once with a
/// clear kind; `?immutable=1` reads it, and its writes fail with `ReadOnly`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_file_system() -> Result {
    let fs = Tmpfs::mount(4 << 20).map_err(|e| Error::new(ErrorKind::Config, e))?;
    let url = format!("sqlite://{}", fs.file("ro.db").display());
    let blobs = Blobs::table();
    {
        let engine = Engine::connect_with(&url, config()).await?;
        engine.create_all(&MetaData::new().with(blobs)).await?;
        let mut conn = engine.acquire().await?;
        insert_into(blobs).values(blobs.data.set(vec![1_u8; 10])).execute(&mut conn).await?;
        drop(conn);
        engine.close();
    }
    fs.remount_read_only().map_err(|e| Error::new(ErrorKind::Config, e))?;
    let err = Engine::connect_with(&url, config()).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::ReadOnly | ErrorKind::CannotOpen), "{err:?}");
    let err = Engine::connect_with(&format!("{url}?mode=ro"), config()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::CannotOpen, "a WAL database needs its -shm file: {err:?}");
    let engine = Engine::connect_with(&format!("{url}?immutable=1"), config()).await?;
    assert_eq!(count(&engine).await?, 1);
    let mut conn = engine.acquire().await?;
    let err = insert_into(blobs).values(blobs.data.set(vec![2_u8; 10])).execute(&mut conn).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ReadOnly, "{err:?}");
    drop(conn);
    assert_healthy(&engine, fs.file("ro.db").as_path().into()).await;
    Ok(())
}

/// A page of the table is overwritten: the query touching it fails with
/// `Corrupt`, promptly, and the pool keeps serving other queries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_pages_are_reported_as_corrupt() -> Result {
    let file = quarry_testkit::SqliteTestDb::new().map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let blobs = Blobs::table();
    {
        let engine = Engine::connect_with(&file.url(), config()).await?;
        engine.create_all(&MetaData::new().with(blobs)).await?;
        let mut conn = engine.acquire().await?;
        insert_into(blobs).rows(blobs.data, (0..200).map(|i| vec![i as u8; 500])).execute(&mut conn).await?;
        text("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await?;
        engine.close();
    }
    // Page 1 is the schema; the table's pages follow. Break one in the middle.
    quarry_testkit::corrupt_page(file.path(), 5).map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let engine = Engine::connect_with(&file.url(), config()).await?;
    let started = std::time::Instant::now();
    let err = count(&engine).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let mut conn = engine.acquire().await?;
    assert_eq!(text("SELECT 40 + 2").read_only().fetch_scalar::<i64>(&mut conn).await?, 42);
    drop(conn);
    assert_healthy(&engine, file.path().into()).await;
    Ok(())
}

/// A database whose 16-byte header was overwritten: opening the pool fails
/// at once with `NotADatabase` (no retries, no wait for a timeout), and the
/// file is left as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overwritten_header_is_not_a_database_at_connect() -> Result {
    let file = quarry_testkit::SqliteTestDb::new().map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let blobs = Blobs::table();
    {
        let engine = Engine::connect_with(&file.url(), config()).await?;
        engine.create_all(&MetaData::new().with(blobs)).await?;
        engine.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
        engine.close();
    }
    quarry_testkit::corrupt_header(file.path()).map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let before = std::fs::read(file.path()).map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let started = std::time::Instant::now();
    let err = Engine::connect_with(&file.url(), config()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotADatabase, "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    let after = std::fs::read(file.path()).map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    assert!(before == after, "opening the broken file changed it");
    Ok(())
}
