//! Streaming a million rows keeps memory flat (its own test binary, for its
//! counting global allocator).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use futures_util::StreamExt;
use quarry_core::{Connection, PoolConfig};

#[global_allocator]
static ALLOC: quarry_testkit::CountingAlloc = quarry_testkit::CountingAlloc::new();

#[tokio::test]
async fn streaming_a_million_rows_keeps_memory_flat() {
    let (_db, pool) = pg!("stream_1m_rows", PoolConfig::new().max_size(1));
    let mut c = pool.acquire().await.unwrap();
    let q = common::sql("SELECT g, repeat('x', 100) FROM generate_series(1, 1000000) g");
    ALLOC.reset_peak();
    let baseline = ALLOC.live();
    let mut stream = c.fetch_stream::<(i64, String)>(q);
    let (mut count, mut sum, mut bytes) = (0_u64, 0_i64, 0_usize);
    while let Some(row) = stream.next().await {
        let (g, text) = row.unwrap();
        count += 1;
        sum += g;
        bytes += text.len();
    }
    drop(stream);
    let grown = ALLOC.peak().saturating_sub(baseline);
    assert_eq!((count, sum, bytes), (1_000_000, 500_000_500_000, 100_000_000));
    assert!(grown < 16 << 20, "the peak live heap grew by {} KiB", grown >> 10);
    eprintln!("streamed 1,000,000 rows ({} MB of text); peak live heap grew by {} KiB", bytes / 1_000_000, grown >> 10);
}
