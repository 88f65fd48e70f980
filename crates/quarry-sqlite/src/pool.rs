//! The pool: one writer connection and a pool of readers, each managed by
//! deadpool.
//!
//! SQLite lets one connection write at a time. Rather than let many
//! connections race for the write lock (and fail with "database is locked"
//! when a read transaction tries to upgrade, which no busy timeout can fix),
//! the pool has exactly one writer: writes and write transactions queue for
//! it, reads run on the readers concurrently (in a file database WAL lets
//! them read while the writer writes; an in-memory database has no WAL, so
//! there readers wait, up to `busy_timeout`, for an open write transaction).

use std::cell::Cell;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult, TimeoutType, Timeouts};
use quarry_core::{Dialect, Error, ErrorKind, Pool, PoolConfig, PoolStatus, QueueMode, Sqlite};

use crate::connection::SqliteConnection;
use crate::run;
use crate::url::{self, Location, SqliteOptions};
use crate::worker::{PooledConn, Role};

/// Creates and recycles connections of one role.
#[derive(Debug)]
pub(crate) struct ConnManager {
    options: SqliteOptions,
    role: Role,
    config: PoolConfig,
    last_error: Mutex<Option<String>>,
    /// `SQLITE_LIMIT_VARIABLE_NUMBER`, read from the first connection.
    max_params: OnceLock<usize>,
}

tokio::task_local! {
    /// What the reader checkout running on this task is doing (waiting for
    /// a slot until `create` or `recycle` says otherwise), so that when
    /// `acquire_timeout` cuts it short the error names the right phase.
    static CHECKOUT_PHASE: Cell<TimeoutType>;
}

/// Note the checkout's phase, if a reader checkout is running on this task.
fn enter_phase(phase: TimeoutType) {
    let _ = CHECKOUT_PHASE.try_with(|p| p.set(phase));
}

impl managed::Manager for ConnManager {
    type Type = PooledConn;
    type Error = Error;

    async fn create(&self) -> Result<PooledConn, Error> {
        enter_phase(TimeoutType::Create);
        match PooledConn::open(&self.options, self.role, self.config.statement_cache_capacity).await {
            Ok((conn, max_params)) => {
                self.max_params.get_or_init(|| max_params);
                Ok(conn)
            }
            Err(e) => {
                if let Ok(mut last) = self.last_error.lock() {
                    *last = Some(e.to_string());
                }
                Err(e)
            }
        }
    }

    /// Before a connection is handed out again: it must not be broken or
    /// abandoned mid-operation, must be within its lifetime and idle time,
    /// and must not be inside a transaction (rolled back here if it is).
    ///
    /// Bounded by `recycle_timeout` when it has something to wait for (a
    /// stream's thread-side loop still stopping, a rollback,
    /// `verify_on_checkout`'s query); the usual check waits for nothing and
    /// sets no timer. A connection that fails the check is dropped, one
    /// that outlasts it is interrupted first, and deadpool tries the next.
    async fn recycle(&self, conn: &mut PooledConn, metrics: &Metrics) -> RecycleResult<Error> {
        enter_phase(TimeoutType::Recycle);
        let stream_running = conn.draining.as_ref().is_some_and(|draining| !draining.is_finished());
        let waits = stream_running || conn.maybe_in_transaction || self.config.verify_on_checkout;
        if !waits {
            return self.check(conn, metrics).await;
        }
        match tokio::time::timeout(self.config.recycle_timeout, self.check(conn, metrics)).await {
            Ok(checked) => checked,
            Err(_) => {
                // Stop whatever the connection's thread is stuck in.
                conn.interrupt();
                Err(RecycleError::message("checking the connection took longer than recycle_timeout"))
            }
        }
    }
}

impl ConnManager {
    fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|e| e.clone())
    }

    /// [`recycle`](managed::Manager::recycle)'s checks, without its timer.
    async fn check(&self, conn: &mut PooledConn, metrics: &Metrics) -> RecycleResult<Error> {
        conn.settle().await.map_err(RecycleError::Backend)?;
        // One clock read for both limits.
        let now = Instant::now();
        if self.config.max_lifetime.is_some_and(|max| now.saturating_duration_since(metrics.created) > max) {
            return Err(RecycleError::message("connection is older than max_lifetime"));
        }
        if self.config.idle_timeout.is_some_and(|idle| now.saturating_duration_since(conn.returned_at) > idle) {
            return Err(RecycleError::message("connection was idle longer than idle_timeout"));
        }
        if conn.maybe_in_transaction {
            conn.run(run::rollback).await?;
            conn.maybe_in_transaction = false;
        }
        if self.config.verify_on_checkout {
            conn.run(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(crate::error::map)).await?;
        }
        Ok(())
    }
}

type ConnPool = managed::Pool<ConnManager>;

/// A pool of SQLite connections: one writer and `max_size` readers.
///
/// `sqlite::memory:` is one in-memory database per pool, shared by all its
/// connections and kept alive by a connection the pool holds until it is
/// dropped.
#[derive(Clone, Debug)]
pub struct SqlitePool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    readers: ConnPool,
    writer: ConnPool,
    /// Holds an in-memory database open; never used.
    _keeper: Option<PooledConn>,
    config: PoolConfig,
    busy_timeout: Duration,
    max_params: usize,
}

fn build_pool(
    manager: ConnManager,
    max_size: usize,
    config: &PoolConfig,
    wait: Option<Duration>,
) -> Result<ConnPool, Error> {
    let queue_mode = match config.queue_mode {
        QueueMode::Lifo => managed::QueueMode::Lifo,
        QueueMode::Fifo => managed::QueueMode::Fifo,
    };
    ConnPool::builder(manager)
        .max_size(max_size)
        .queue_mode(queue_mode)
        // No recycle timeout of deadpool's own: `recycle` sets one only when
        // it has something to wait for (deadpool's cost a clock read and a
        // timer on every checkout).
        .timeouts(Timeouts { wait, create: Some(config.connect_timeout), recycle: None })
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| Error::new(ErrorKind::Config, format!("building the SQLite pool: {e}")))
}

impl SqlitePool {
    /// Open a pool on `url`: `sqlite::memory:`, `sqlite://relative/path.db`,
    /// `sqlite:///absolute/path.db`, with `?mode=ro|rw|rwc` (default `rwc`),
    /// `busy_timeout=<ms>` (default 5000), `synchronous=off|normal|full`
    /// (default `full`), `immutable=1`, and `max_variables=<n>` (lowers
    /// SQLite's limit on parameters per statement; bulk inserts split under
    /// it).
    ///
    /// The writer connection is opened at once, so that a missing file (with
    /// `mode=rw`), a file that is not a database, or a database that cannot be
    /// switched to WAL fails here.
    pub async fn connect(url: &str, config: PoolConfig) -> Result<SqlitePool, Error> {
        let options = url::parse(url)?;
        let keeper = match options.location {
            Location::Memory(_) => Some(PooledConn::open(&options, Role::Keeper, 0).await?.0),
            Location::File(_) => None,
        };
        let manager = |role| ConnManager {
            options: options.clone(),
            role,
            config: config.clone(),
            last_error: Mutex::new(None),
            max_params: OnceLock::new(),
        };
        let writer = build_pool(manager(Role::Writer), 1, &config, Some(options.busy_timeout))?;
        // No wait timeout of deadpool's own for readers: `checkout_reader`
        // bounds the whole checkout by `acquire_timeout`, and a second timer
        // cost a timer-wheel registration on every contended checkout.
        let readers = build_pool(manager(Role::Reader), config.max_size.max(1), &config, None)?;
        // Open the writer now: it fails fast on a bad file and sets WAL mode
        // before any reader opens.
        let first =
            writer.get().await.map_err(|e| pool_error(e, &writer, "write connection", config.connect_timeout))?;
        release(first);
        let max_params = writer.manager().max_params.get().copied().unwrap_or(999);
        Ok(SqlitePool {
            inner: Arc::new(Inner {
                readers,
                writer,
                _keeper: keeper,
                busy_timeout: options.busy_timeout,
                config,
                max_params,
            }),
        })
    }

    /// The most parameters one statement may bind (SQLite's
    /// `SQLITE_LIMIT_VARIABLE_NUMBER`).
    pub fn max_params(&self) -> usize {
        self.inner.max_params
    }

    /// Check out a reader, within the acquire timeout.
    pub(crate) async fn checkout_reader(&self) -> Result<Object<ConnManager>, Error> {
        let wait = self.inner.config.acquire_timeout;
        let checkout = CHECKOUT_PHASE.scope(Cell::new(TimeoutType::Wait), self.inner.readers.get());
        let mut checkout = std::pin::pin!(checkout);
        match tokio::time::timeout(wait, checkout.as_mut()).await {
            Ok(result) => result.map_err(|e| pool_error(e, &self.inner.readers, "reader connection", wait)),
            Err(_) => {
                let phase = checkout.as_mut().take_value().map_or(TimeoutType::Wait, Cell::into_inner);
                Err(timeout_error(phase, &self.inner.readers, "reader connection", wait))
            }
        }
    }

    /// Check out the writer, waiting at most the busy timeout for the
    /// transaction that holds it, as SQLite's own busy handler would.
    pub(crate) async fn checkout_writer(&self) -> Result<Object<ConnManager>, Error> {
        // The writer free (the usual case: one statement at a time): taken
        // without setting a timer. A writer being opened or checked is
        // still bounded by the pool's connect and recycle timeouts.
        let free_now = Timeouts { wait: Some(Duration::ZERO), ..self.inner.writer.timeouts() };
        match self.inner.writer.timeout_get(&free_now).await {
            Ok(conn) => return Ok(conn),
            Err(PoolError::Timeout(TimeoutType::Wait)) => {}
            Err(e) => return Err(pool_error(e, &self.inner.writer, "write connection", Duration::ZERO)),
        }
        let wait = self.inner.busy_timeout.max(Duration::from_millis(1));
        let deadline = wait + self.inner.config.connect_timeout + self.inner.config.recycle_timeout;
        match tokio::time::timeout(deadline, self.inner.writer.get()).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(PoolError::Timeout(TimeoutType::Wait))) | Err(_) => Err(Error::new(
                ErrorKind::Busy,
                format!(
                    "waited {} ms for the write connection, which another transaction holds (busy_timeout)",
                    wait.as_millis()
                ),
            )),
            Ok(Err(e)) => Err(pool_error(e, &self.inner.writer, "write connection", wait)),
        }
    }
}

fn timeout_error(phase: TimeoutType, pool: &ConnPool, what: &str, wait: Duration) -> Error {
    let doing = match phase {
        TimeoutType::Wait => "waiting for a free slot",
        TimeoutType::Create => "opening a connection",
        TimeoutType::Recycle => "checking a returned connection",
    };
    let mut message = format!("no {what} within {} ms ({doing})", wait.as_millis());
    if let Some(last) = pool.manager().last_error() {
        message.push_str(&format!("; last connection error: {last}"));
    }
    Error::new(ErrorKind::PoolTimeout, message)
}

/// `wait` is the caller's limit for waiting for a slot; deadpool's own
/// create timeout is `connect_timeout` (it has no recycle timeout: the
/// manager bounds its checks itself, so a `Recycle` timeout does not come
/// from deadpool).
fn pool_error(e: PoolError<Error>, pool: &ConnPool, what: &str, wait: Duration) -> Error {
    match e {
        PoolError::Backend(e) => e,
        PoolError::Timeout(phase) => {
            let config = &pool.manager().config;
            let limit = match phase {
                TimeoutType::Wait => wait,
                TimeoutType::Create => config.connect_timeout,
                TimeoutType::Recycle => config.recycle_timeout,
            };
            timeout_error(phase, pool, what, limit)
        }
        PoolError::Closed => Error::new(ErrorKind::PoolClosed, "the pool is closed"),
        PoolError::NoRuntimeSpecified => Error::new(ErrorKind::Config, "the pool has no async runtime"),
        PoolError::PostCreateHook(e) => Error::new(ErrorKind::Config, format!("a pool hook failed: {e}")),
    }
}

/// Return `conn` to its pool, noting when, for the idle timeout.
pub(crate) fn release(mut conn: Object<ConnManager>) {
    conn.returned_at = Instant::now();
    drop(conn);
}

/// Remove `conn` from its pool for good (it is closed when dropped).
pub(crate) fn discard(conn: Object<ConnManager>) {
    conn.interrupt();
    drop(Object::take(conn));
}

impl Pool for SqlitePool {
    type Connection = SqliteConnection;

    async fn acquire(&self) -> Result<SqliteConnection, Error> {
        let reader = self.checkout_reader().await?;
        Ok(SqliteConnection::new(self.clone(), reader))
    }

    fn status(&self) -> PoolStatus {
        let (r, w) = (self.inner.readers.status(), self.inner.writer.status());
        PoolStatus {
            max_size: r.max_size + w.max_size,
            size: r.size + w.size,
            available: r.available + w.available,
            waiting: r.waiting + w.waiting,
        }
    }

    fn close(&self) {
        self.inner.readers.close();
        self.inner.writer.close();
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &Sqlite
    }
}
