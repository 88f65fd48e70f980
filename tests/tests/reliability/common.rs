//! Fixtures of the reliability suite: a fresh database per test and backend,
//! the `both!` macro that runs a body on SQLite and on PostgreSQL,
//! `assert_pool_healthy` for an `Engine`, iteration counts, and the
//! poll-count cancellation technique.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use quarry::prelude::*;
pub use quarry::{ErrorKind, PoolConfig};
use quarry_testkit::{Inspect, PgTestDb, SqliteTestDb, check_pool_health};

/// `Result` for test bodies.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for one test: its engine, and the temporary SQLite file
/// or PostgreSQL schema, dropped after the engine.
pub struct Db {
    pub engine: Engine,
    pub backend: Backend,
    pub url: String,
    sqlite: Option<SqliteTestDb>,
    postgres: Option<PgTestDb>,
}

impl Db {
    /// A SQLite database in a temporary file (WAL, as in production).
    pub async fn sqlite(config: PoolConfig) -> Result<Db> {
        let file = SqliteTestDb::new().map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
        let url = file.url();
        let engine = Engine::connect_with(&url, config).await?;
        Ok(Db { engine, backend: Backend::Sqlite, url, sqlite: Some(file), postgres: None })
    }

    /// A fresh schema on the test server, or `None` (skipped loudly, or a
    /// failure under `QUARRY_REQUIRE_PG=1`) without PostgreSQL.
    pub async fn postgres(test: &str, config: PoolConfig) -> Result<Option<Db>> {
        let Some(db) = quarry_testkit::pg_test_db(test).await else { return Ok(None) };
        let url = db.url().to_owned();
        let engine = Engine::connect_with(&url, config).await?;
        Ok(Some(Db { engine, backend: Backend::Postgres, url, sqlite: None, postgres: Some(db) }))
    }

    pub fn is_postgres(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// What the health check may look at: the SQLite file, or the
    /// PostgreSQL server and the schema's sessions.
    pub fn inspect(&self) -> Inspect<'_> {
        match (&self.sqlite, &self.postgres) {
            (Some(file), _) => file.into(),
            (_, Some(db)) => db.into(),
            _ => Inspect::PoolOnly,
        }
    }

    /// RELIABILITY.md §2's invariants for this test's engine.
    pub async fn assert_healthy(&self) {
        assert_healthy(&self.engine, self.inspect()).await;
    }

    /// Another engine on the same database, as another process would open it.
    pub async fn connect_again(&self, config: PoolConfig) -> Result<Engine> {
        Engine::connect_with(&self.url, config).await
    }
}

/// Define a test run once per backend (`<name>::sqlite`, `<name>::postgres`);
/// the body sees `$db: Db` and returns `Result`. `config = expr;` before
/// `async` sets the pool configuration (default: [`config`]).
macro_rules! both {
    ($(config = $config:expr;)? async fn $name:ident($db:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::common::*;

            #[allow(unused_mut)]
            async fn body(mut $db: Db) -> Result {
                $body
            }

            fn pool_config() -> PoolConfig {
                #[allow(unused_variables)]
                let c = $crate::common::config();
                $( let c = $config; )?
                c
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> Result {
                body(Db::sqlite(pool_config()).await?).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> Result {
                match Db::postgres(concat!("rel_", stringify!($name)), pool_config()).await? {
                    Some(db) => body(db).await,
                    None => Ok(()),
                }
            }
        }
    };
}

/// The default pool of these tests: small, so that a leak shows up at once.
pub fn config() -> PoolConfig {
    PoolConfig::new().max_size(2).acquire_timeout(std::time::Duration::from_secs(20))
}

/// RELIABILITY.md §2's invariants after a fault (see
/// `quarry_testkit::assert_pool_healthy`), for whichever pool the engine holds.
pub async fn assert_healthy(engine: &Engine, inspect: Inspect<'_>) {
    if let Err(problem) = health(engine, inspect).await {
        panic!("the engine's pool is not healthy: {problem}");
    }
}

/// The checks of [`assert_healthy`], as a `Result`.
pub async fn health(engine: &Engine, inspect: Inspect<'_>) -> std::result::Result<(), String> {
    match engine {
        Engine::Sqlite(pool) => check_pool_health(pool, inspect).await,
        Engine::Postgres(pool) => check_pool_health(pool, inspect).await,
        _ => Err("an engine of a driver the health check does not know".to_owned()),
    }
}

/// `local` iterations, or `ci` when `CI=true` (CI machines are slower and
/// run more at once); never zero.
pub fn iterations(local: usize, ci: usize) -> usize {
    let on_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    (if on_ci { ci } else { local }).max(1)
}

/// Polls `fut` at most `n` times, letting the runtime run between polls
/// (so that I/O and the connection's thread make progress), and gives it
/// back if it has not finished: the technique of rust-postgres#834 for
/// cancelling a future at each of its await points in turn.
pub async fn poll_n<F: Future + Unpin>(mut fut: F, n: usize) -> std::result::Result<F::Output, F> {
    for _ in 0..n {
        let polled = std::future::poll_fn(|cx: &mut Context<'_>| Poll::Ready(Pin::new(&mut fut).poll(cx))).await;
        if let Poll::Ready(out) = polled {
            return Ok(out);
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    Err(fut)
}

/// A small xorshift generator: deterministic, no crate needed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A `Config` error from any displayable failure of the test's own set-up.
pub fn setup_error(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Config, e.to_string())
}
