//! Streaming a million rows keeps memory flat: a test binary of its own,
//! with a global allocator that counts live heap bytes, so that nothing
//! else running in the process disturbs the measurement.

use futures_util::StreamExt;
use quarry::prelude::*;
use quarry_testkit::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

const ROWS: i64 = 1_000_000;
/// How much the live heap may grow while streaming: a small multiple of the
/// bounded buffers, far below the ~120 MB the rows would take if held.
const MAX_GROWTH: usize = 16 << 20;

/// Stream `ROWS` rows of (integer, 100-character text) and check the sum,
/// the count and the growth of the live heap.
async fn stream_million(engine: &Engine, sql: &'static str) -> Result<(), Error> {
    let mut conn = engine.acquire().await?;
    let baseline = ALLOC.live();
    ALLOC.reset_peak();
    let mut rows = text(sql).read_only().stream::<(i64, String)>(&mut conn);
    let (mut count, mut sum) = (0_i64, 0_i64);
    while let Some(row) = rows.next().await {
        let (x, padding) = row?;
        assert_eq!(padding.len(), 100);
        count += 1;
        sum += x;
    }
    drop(rows);
    let growth = ALLOC.peak().saturating_sub(baseline);
    assert_eq!(count, ROWS);
    assert_eq!(sum, ROWS * (ROWS + 1) / 2);
    assert!(growth < MAX_GROWTH, "the live heap grew by {growth} bytes while streaming");
    eprintln!("streamed {count} rows; peak live heap growth {} KiB", growth / 1024);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_streams_a_million_rows_in_flat_memory() -> Result<(), Error> {
    let file = quarry_testkit::SqliteTestDb::new().map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let engine = Engine::connect(&file.url()).await?;
    stream_million(
        &engine,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) \
         SELECT x, printf('%0100d', x) FROM c",
    )
    .await
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_streams_a_million_rows_in_flat_memory() -> Result<(), Error> {
    let Some(db) = quarry_testkit::pg_test_db("stream_memory::postgres").await else {
        return Ok(());
    };
    let engine = Engine::connect(db.url()).await?;
    stream_million(&engine, "SELECT x::bigint, lpad(x::text, 100, '0') FROM generate_series(1, 1000000) AS x").await
}
