//! The client side of the bounded statement cache (RELIABILITY.md §2.5
//! `statement_cache_bounded`, "client RSS stable"): 10,000 distinct SQL
//! texts on one connection with a cache of 16 leave the client's live heap
//! where it was after 1,000. The server side is checked by
//! `statements.rs::the_statement_cache_stays_bounded_on_the_server`.
//!
//! Its own test binary, for its counting global allocator; the tests here
//! take turns (a lock), so that one's allocations never show in the other's
//! counts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::sync::Mutex;

use quarry_core::PoolConfig;
use quarry_postgres::PgConnection;

#[global_allocator]
static ALLOC: quarry_testkit::CountingAlloc = quarry_testkit::CountingAlloc::new();

/// One test at a time in this binary.
static TURN: Mutex<()> = Mutex::new(());

/// How much the live heap may differ between two points where the cache
/// holds the same number of statements.
///
/// What is live at both points is the same set of objects: the pool, the
/// connection (its socket buffers, which reached their size on the first
/// statements), and a full cache of 16 entries — each a SQL text of about 20
/// bytes plus tokio-postgres' statement (its name, one column and no
/// parameter), a few hundred bytes. Texts at 10,000 are one digit longer
/// than at 1,000 (16 bytes in all), and allocator-visible noise (a buffer
/// that grew by doubling, a timer slot) is a few KiB. 64 KiB covers that
/// with room to spare, while anything kept per statement shows: the 9,000
/// statements between the two points would have to leave less than 8 bytes
/// each to stay under it (a cached statement costs well over 100).
const SLACK: usize = 64 << 10;

/// Runs `SELECT <i>::int8` for `i` in `range`, each text new to the connection.
async fn distinct_statements(c: &mut PgConnection, range: std::ops::Range<i64>) {
    for i in range {
        let n: i64 = common::try_scalar(c, common::sql(&format!("SELECT {i}::int8"))).await.unwrap();
        assert_eq!(n, i);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn client_memory_stays_flat_over_ten_thousand_distinct_statements() {
    let _turn = TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    runtime().block_on(async {
        let (_db, pool) = pg!("cache_memory", PoolConfig::new().max_size(1).statement_cache_capacity(16));
        let mut c = pool.acquire().await.unwrap();
        distinct_statements(&mut c, 0..1_000).await;
        assert_eq!(c.cached_statements(), 16);
        let after_1k = ALLOC.live();
        let mut highest = after_1k;
        for thousand in 1..10 {
            distinct_statements(&mut c, thousand * 1_000..(thousand + 1) * 1_000).await;
            assert_eq!(c.cached_statements(), 16);
            highest = highest.max(ALLOC.live());
        }
        let after_10k = ALLOC.live();
        eprintln!(
            "live heap after 1,000 statements: {after_1k} B; after 10,000: {after_10k} B; \
             highest checkpoint between: {highest} B (allowed: +{SLACK} B)"
        );
        assert!(
            after_10k <= after_1k + SLACK,
            "the live heap grew by {} B from 1,000 to 10,000 distinct statements",
            after_10k - after_1k
        );
        assert!(highest <= after_1k + SLACK, "the live heap reached {} B over its 1,000 mark", highest - after_1k);
    });
}

/// The measurement above can fail: with a cache large enough to keep every
/// statement, 2,000 more distinct texts leave their statements on the heap
/// and the same check sees it.
#[test]
fn a_cache_that_keeps_every_statement_grows_past_the_slack() {
    let _turn = TURN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    runtime().block_on(async {
        let (_db, pool) = pg!("cache_memory_control", PoolConfig::new().max_size(1).statement_cache_capacity(5_000));
        let mut c = pool.acquire().await.unwrap();
        distinct_statements(&mut c, 0..1_000).await;
        let before = ALLOC.live();
        distinct_statements(&mut c, 1_000..3_000).await;
        assert_eq!(c.cached_statements(), 3_000);
        let grown = ALLOC.live().saturating_sub(before);
        eprintln!("a cache of 5,000: 2,000 more statements kept {grown} B ({} B each)", grown / 2_000);
        assert!(grown > SLACK, "2,000 cached statements grew the live heap by only {grown} B");
    });
}
