//! The soak test: many tasks move money between accounts inside
//! transactions while their futures are cancelled at random, backends are
//! killed, and the server restarts once. The total never changes, no balance
//! goes negative, and the pool is healthy at the end.
//!
//! Run it with `just soak` (`cargo test -p quarry-tests --features soak --test soak`);
//! `QUARRY_SOAK_SECS` sets its length (default 60, at most 300).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use quarry::prelude::*;
use quarry::{ErrorKind, IsolationLevel, PoolConfig};

const ACCOUNTS: i64 = 20;
const OPENING: i64 = 1_000;
const TASKS: usize = 16;

quarry::table! {
    pub struct Accounts("accounts") { id: i64 [primary_key], balance: i64 }
}

/// A small xorshift generator: deterministic per task, no crate needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn soak_duration() -> Duration {
    let secs = std::env::var("QUARRY_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(60_u64);
    Duration::from_secs(secs.clamp(5, 300))
}

/// Move `amount` from `from` to `to` if `from` has it; false when it had not.
async fn transfer(engine: &Engine, from: i64, to: i64, amount: i64) -> Result<bool, Error> {
    let a = Accounts::table();
    engine
        .transaction_with(
            TransactionOptions::new().isolation(IsolationLevel::RepeatableRead),
            RetryPolicy::attempts(5),
            async move |tx| {
                let taken = update(a)
                    .set(a.balance, a.balance - amount)
                    .filter(a.id.eq(from).and(a.balance.ge(amount)))
                    .execute(tx)
                    .await?;
                if taken == 0 {
                    return Ok(false);
                }
                update(a).set(a.balance, a.balance + amount).filter(a.id.eq(to)).execute(tx).await?;
                Ok(true)
            },
        )
        .await
}

/// The kinds a fault may cause; anything else is a bug.
fn expected_under_faults(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionLost
            | ErrorKind::Connect
            | ErrorKind::PoolTimeout
            | ErrorKind::QueryCanceled
            | ErrorKind::SerializationFailure
            | ErrorKind::Deadlock
            | ErrorKind::Busy
    )
}

#[derive(Default)]
struct Tally {
    done: AtomicU64,
    refused: AtomicU64,
    cancelled: AtomicU64,
    faulted: AtomicU64,
}

async fn run_transfers(engine: Engine, seed: u64, stop: Arc<AtomicBool>, tally: Arc<Tally>) -> Result<(), Error> {
    let mut rng = Rng(seed | 1);
    while !stop.load(Ordering::Relaxed) {
        let from = 1 + rng.below(ACCOUNTS as u64) as i64;
        let to = 1 + (from + rng.below(ACCOUNTS as u64 - 1) as i64) % ACCOUNTS;
        let amount = 1 + rng.below(50) as i64;
        // One transfer in four is cancelled after a random 0-5 ms.
        let outcome = if rng.below(4) == 0 {
            let limit = Duration::from_micros(rng.below(5_000));
            match tokio::time::timeout(limit, transfer(&engine, from, to, amount)).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    tally.cancelled.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
        } else {
            transfer(&engine, from, to, amount).await
        };
        match outcome {
            Ok(true) => tally.done.fetch_add(1, Ordering::Relaxed),
            Ok(false) => tally.refused.fetch_add(1, Ordering::Relaxed),
            Err(e) if expected_under_faults(e.kind()) => tally.faulted.fetch_add(1, Ordering::Relaxed),
            Err(e) => return Err(e),
        };
    }
    Ok(())
}

/// RELIABILITY.md §2's invariants (quarry-testkit's `check_pool_health`) for
/// whichever pool the engine holds.
async fn assert_healthy(engine: &Engine, inspect: quarry_testkit::Inspect<'_>) {
    let health = match engine {
        Engine::Sqlite(pool) => quarry_testkit::check_pool_health(pool, inspect).await,
        Engine::Postgres(pool) => quarry_testkit::check_pool_health(pool, inspect).await,
        _ => Err("an engine of a driver the health check does not know".to_owned()),
    };
    if let Err(problem) = health {
        panic!("the pool is not healthy after the soak: {problem}");
    }
}

async fn totals(engine: &Engine) -> Result<(i64, i64), Error> {
    let a = Accounts::table();
    engine.fetch_one(select((sum(a.balance).coalesce(0), min(a.balance).coalesce(0))).from(a)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn money_is_conserved_under_cancellations_kills_and_a_restart() -> Result<(), Error> {
    let cluster = quarry_testkit::start_temp_cluster().await.map_err(|e| Error::new(ErrorKind::Config, e))?;
    let url = format!("{}?application_name=quarry_soak", cluster.url());
    let config = PoolConfig::new()
        .max_size(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(2))
        .verify_on_checkout(true);
    let engine = Engine::connect_with(&url, config).await?;
    let a = Accounts::table();
    engine.create_all(&MetaData::new().with(a)).await?;
    engine.execute(insert_into(a).rows((a.id, a.balance), (1..=ACCOUNTS).map(|id| (id, OPENING)))).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let workers: Vec<_> = (0..TASKS)
        .map(|i| tokio::spawn(run_transfers(engine.clone(), 0x9E37_79B9 * (i as u64 + 1), stop.clone(), tally.clone())))
        .collect();

    // Chaos: kill a random backend of ours every 300 ms; restart the server
    // once, half way through.
    let length = soak_duration();
    let started = Instant::now();
    let admin =
        quarry_testkit::connect(cluster.url()).await.map_err(|e| Error::new(ErrorKind::Connect, e.to_string()))?;
    let mut restarted = false;
    let mut kills = 0_u64;
    while started.elapsed() < length {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if !restarted && started.elapsed() > length / 2 {
            cluster.stop(quarry_testkit::StopMode::Fast).await.map_err(|e| Error::new(ErrorKind::Config, e))?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            cluster.start().await.map_err(|e| Error::new(ErrorKind::Config, e))?;
            restarted = true;
            continue;
        }
        let killed = quarry_testkit::connect(cluster.url()).await.ok().map(|c| async move {
            c.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = 'quarry_soak' ORDER BY random() LIMIT 1",
                &[],
            )
            .await
            .map(|rows| rows.len())
            .unwrap_or(0)
        });
        if let Some(kill) = killed {
            kills += kill.await as u64;
        }
    }
    drop(admin);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.map_err(|e| Error::new(ErrorKind::Panic, e.to_string()))??;
    }

    // The invariants: money conserved, none negative, the pool healthy.
    let (total, lowest) = totals(&engine).await?;
    assert_eq!(total, ACCOUNTS * OPENING, "money was created or destroyed");
    assert!(lowest >= 0, "a balance went negative: {lowest}");
    let status = engine.status();
    assert!(status.size <= status.max_size && status.waiting == 0, "{status:?}");
    let check = Instant::now();
    let one: i64 = engine.fetch_scalar(text("SELECT 1")).await?;
    assert_eq!(one, 1);
    assert!(check.elapsed() < Duration::from_secs(1), "a fresh query took {:?}", check.elapsed());
    let stuck: i64 = engine
        .fetch_scalar(text(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE application_name = 'quarry_soak' AND state LIKE 'idle in transaction%'",
        ))
        .await?;
    assert_eq!(stuck, 0, "sessions left idle in a transaction");
    assert_healthy(&engine, quarry_testkit::Inspect::postgres(cluster.url(), "quarry_soak")).await;
    let done = tally.done.load(Ordering::Relaxed);
    eprintln!(
        "soak {length:?}: {done} transfers, {} refused, {} cancelled, {} failed under faults; {kills} backends killed; restarted: {restarted}",
        tally.refused.load(Ordering::Relaxed),
        tally.cancelled.load(Ordering::Relaxed),
        tally.faulted.load(Ordering::Relaxed),
    );
    assert!(restarted && done > 100, "the soak did too little to prove anything");
    Ok(())
}

/// The same on SQLite: cancellations at random while 16 tasks share one
/// writer (no server to kill or restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_money_is_conserved_under_cancellations() -> Result<(), Error> {
    let file = quarry_testkit::SqliteTestDb::new().map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    let config = PoolConfig::new().max_size(4).acquire_timeout(Duration::from_secs(10));
    let engine = Engine::connect_with(&format!("{}?busy_timeout=10000", file.url()), config).await?;
    let a = Accounts::table();
    engine.create_all(&MetaData::new().with(a)).await?;
    engine.execute(insert_into(a).rows((a.id, a.balance), (1..=ACCOUNTS).map(|id| (id, OPENING)))).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let workers: Vec<_> = (0..TASKS)
        .map(|i| tokio::spawn(run_transfers(engine.clone(), 0x85EB_CA6B * (i as u64 + 1), stop.clone(), tally.clone())))
        .collect();
    tokio::time::sleep(soak_duration() / 2).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.map_err(|e| Error::new(ErrorKind::Panic, e.to_string()))??;
    }
    let (total, lowest) = totals(&engine).await?;
    assert_eq!(total, ACCOUNTS * OPENING, "money was created or destroyed");
    assert!(lowest >= 0, "a balance went negative: {lowest}");
    let status = engine.status();
    assert!(status.size <= status.max_size && status.waiting == 0, "{status:?}");
    assert_healthy(&engine, (&file).into()).await;
    let done = tally.done.load(Ordering::Relaxed);
    eprintln!(
        "sqlite soak: {done} transfers, {} refused, {} cancelled, {} failed under faults",
        tally.refused.load(Ordering::Relaxed),
        tally.cancelled.load(Ordering::Relaxed),
        tally.faulted.load(Ordering::Relaxed),
    );
    assert!(done > 100, "the soak did too little to prove anything");
    Ok(())
}
