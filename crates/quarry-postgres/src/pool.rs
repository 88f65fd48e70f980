//! The pool: deadpool's generic managed pool over our own [`Manager`].
//!
//! deadpool-postgres is not used: its `ClientWrapper` keeps an unbounded
//! statement cache (deadpool#281) and has no place for the per-connection
//! state that cancellation safety needs (in flight, transaction depth,
//! pending rollback), so the pool manages [`ConnState`]s directly.
//!
//! deadpool recycles a connection when it is taken out of the pool, not
//! when it is returned: the checks below (abandoned, broken, closed,
//! `max_lifetime`, `idle_timeout`, a pending rollback, `verify_on_checkout`)
//! run at checkout, bounded by `recycle_timeout`; a connection that fails
//! any of them is dropped and the next one (or a new one) is tried. A
//! background task also closes idle connections past `max_lifetime` or
//! `idle_timeout`, so that an idle pool shrinks.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, PoolError, RecycleError, RecycleResult, TimeoutType, Timeouts};
use quarry_core::{Dialect, Error, ErrorKind, PoolConfig, PoolStatus, QueueMode};
use tokio_postgres::NoTls;

use crate::connection::PgConnection;
use crate::error;
use crate::io::Io;
use crate::socket;
use crate::state::ConnState;

/// What `acquire()` was doing, for the timeout message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    Connecting,
    Verifying,
}

impl Phase {
    fn describe(self) -> &'static str {
        match self {
            Phase::Waiting => "waiting for a slot",
            Phase::Connecting => "connecting",
            Phase::Verifying => "verifying a connection",
        }
    }
}

tokio::task_local! {
    /// Set by the manager while it connects or verifies inside `acquire()`
    /// (deadpool runs both inside the acquiring task).
    static PHASE: Cell<Phase>;
}

fn enter(phase: Phase) {
    let _ = PHASE.try_with(|p| p.set(phase));
}

/// The last error seen while connecting or verifying, kept for timeout
/// errors (the pool's caller never sees the attempts that failed).
#[derive(Clone, Debug)]
struct LastError {
    at: Instant,
    kind: ErrorKind,
    message: String,
    sqlstate: Option<String>,
}

impl fmt::Display for LastError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(code) = &self.sqlstate {
            write!(f, " [{code}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for LastError {}

/// State shared by the pool and its connections.
pub(crate) struct Shared {
    epoch: Instant,
    /// When a connection was last found lost: nanoseconds since `epoch`,
    /// plus one (0: never).
    lost_at: AtomicU64,
    last_error: Mutex<Option<LastError>>,
}

impl Shared {
    fn new() -> Self {
        Shared { epoch: Instant::now(), lost_at: AtomicU64::new(0), last_error: Mutex::new(None) }
    }

    /// A connection was lost: every idle connection older than now is
    /// pinged before it is handed out again (SQLAlchemy's rule: a server
    /// restart loses them all).
    pub(crate) fn connection_lost(&self) {
        let nanos = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.lost_at.store(nanos.saturating_add(1), Ordering::Relaxed);
    }

    fn lost_since(&self, t: Instant) -> bool {
        match self.lost_at.load(Ordering::Relaxed) {
            0 => false,
            n => self.epoch + Duration::from_nanos(n - 1) > t,
        }
    }

    fn record(&self, e: &Error) {
        let last = LastError {
            at: Instant::now(),
            kind: e.kind(),
            message: e.message().to_owned(),
            sqlstate: e.sqlstate().map(str::to_owned),
        };
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(last);
    }

    fn last_error_since(&self, t: Instant) -> Option<LastError> {
        self.last_error.lock().unwrap_or_else(|p| p.into_inner()).as_ref().filter(|e| e.at >= t).cloned()
    }
}

/// Opens, checks and discards connections for deadpool.
pub(crate) struct Manager {
    pg: tokio_postgres::Config,
    config: PoolConfig,
    shared: Arc<Shared>,
}

impl fmt::Debug for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The tokio-postgres config's Debug hides the password.
        f.debug_struct("Manager").field("pg", &self.pg).field("config", &self.config).finish()
    }
}

impl Manager {
    async fn connect(&self) -> Result<ConnState, Error> {
        // The connection future does the I/O, polled by each operation (see
        // `crate::io`); when it ends (server gone) the client is closed and
        // the pool discards it.
        let (client, io, peer) = if socket::opens_itself(&self.pg) {
            let opened = socket::connect(&self.pg).await?;
            (opened.client, Io::eager(opened.connection, opened.sent), Some(opened.peer))
        } else {
            let (client, connection) = self.pg.connect(NoTls).await.map_err(error::from_connect)?;
            (client, Io::standard(connection), None)
        };
        let io = Arc::new(io);
        let backend_pid = io.drive(backend_pid(&client)).await?;
        let cache = self.config.statement_cache_capacity;
        Ok(ConnState::new(client, io, peer, backend_pid, cache, self.shared.clone()))
    }
}

/// The server process id (`pg_backend_pid()`), asked once per connection
/// with the simple protocol (no prepared statement).
async fn backend_pid(client: &tokio_postgres::Client) -> Result<i32, Error> {
    let messages = client.simple_query("SELECT pg_backend_pid()").await.map_err(|e| error::from_pg(e).0)?;
    messages
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).and_then(|v| v.parse().ok()),
            _ => None,
        })
        .ok_or_else(|| Error::new(ErrorKind::Connect, "connecting: the server did not report its process id"))
}

impl Manager {
    /// Whether an idle connection may stay in the pool. This runs under the
    /// pool's lock, so it never waits: a connection whose socket saw
    /// something since its last use (the server ending the session) is
    /// polled once, without waiting, so that a closed one is let go.
    fn keep_idle(&self, conn: &ConnState) -> bool {
        conn.poll_idle();
        conn.unusable_reason().is_none()
            && self.config.max_lifetime.is_none_or(|max| conn.created.elapsed() < max)
            && self.config.idle_timeout.is_none_or(|idle| conn.returned.elapsed() < idle)
    }
}

impl managed::Manager for Manager {
    /// Boxed: deadpool moves the object several times on every checkout
    /// and return, and a `ConnState` is over 300 bytes.
    type Type = Box<ConnState>;
    type Error = Error;

    async fn create(&self) -> Result<Box<ConnState>, Error> {
        enter(Phase::Connecting);
        // Boxed: connecting is rare, and its future (the TCP connect and
        // startup) is several kilobytes that every `acquire()` future would
        // otherwise carry and copy, also when it finds an idle connection.
        let result = Box::pin(self.connect()).await.map(Box::new);
        if let Err(e) = &result {
            self.shared.record(e);
        }
        result
    }

    async fn recycle(&self, conn: &mut Box<ConnState>, _: &Metrics) -> RecycleResult<Error> {
        enter(Phase::Verifying);
        conn.poll_idle();
        if let Some(reason) = conn.unusable_reason() {
            return Err(RecycleError::message(reason));
        }
        // One clock read for both limits.
        let now = Instant::now();
        if let Some(max) = self.config.max_lifetime
            && now.saturating_duration_since(conn.created) >= max
        {
            return Err(RecycleError::message("the connection reached max_lifetime"));
        }
        if let Some(idle) = self.config.idle_timeout
            && now.saturating_duration_since(conn.returned) >= idle
        {
            return Err(RecycleError::message("the connection was idle longer than idle_timeout"));
        }
        // The round trips are boxed, for the same reason as `create`, and
        // bounded by `recycle_timeout` here rather than by deadpool, whose
        // timer would cost a clock read on every checkout.
        let round_trip: std::pin::Pin<Box<dyn Future<Output = Result<(), Error>> + Send + '_>> =
            if conn.needs_confirmation() {
                // Returned inside a transaction: make sure the ROLLBACK sent on
                // return went through.
                Box::pin(conn.reset())
            } else if self.config.verify_on_checkout || self.shared.lost_since(conn.verified) {
                Box::pin(conn.ping())
            } else {
                return Ok(());
            };
        let result = tokio::time::timeout(self.config.recycle_timeout, round_trip).await.unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::ConnectionLost,
                format!("verifying a connection: no answer within recycle_timeout ({:?})", self.config.recycle_timeout),
            ))
        });
        result.map_err(|e| {
            self.shared.record(&e);
            RecycleError::Backend(e)
        })
    }
}

/// A pool of PostgreSQL connections.
///
/// Cloning is cheap and clones share the pool. See the crate docs for what
/// happens to connections returned mid-transaction or mid-operation.
///
/// Built on deadpool's generic managed pool with this crate's own manager,
/// not on deadpool-postgres: its `ClientWrapper` keeps an unbounded
/// statement cache and has no place for the per-connection state that
/// cancellation safety needs (in flight, transaction depth, pending
/// rollback).
///
/// [`PoolConfig`] maps as follows: `max_size`; `queue_mode` (LIFO by
/// default); the whole of [`acquire`](Self::acquire) bounded by
/// `acquire_timeout`, opening a connection by `connect_timeout` (deadpool's
/// create timeout) and the round trip that checks a returned connection, if
/// it needs one, by `recycle_timeout`;
/// `max_lifetime` and `idle_timeout` (time since the connection was
/// returned) checked when a connection is taken from the pool;
/// `verify_on_checkout` pings it then, within `recycle_timeout`;
/// `statement_cache_capacity` per connection (0: no named statements).
#[derive(Clone)]
pub struct PgPool {
    pool: managed::Pool<Manager>,
}

impl fmt::Debug for PgPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgPool").field("status", &self.status()).finish()
    }
}

impl PgPool {
    /// Parse `url` (`postgres://` or `postgresql://` URLs and `key=value`
    /// strings, as tokio-postgres reads them: hosts including Unix socket
    /// directories and several hosts, port, user, password, dbname,
    /// `application_name`, `options`, `connect_timeout`,
    /// `target_session_attrs`), build the pool, and open one connection at
    /// once, so that bad credentials ([`ErrorKind::Auth`]), a missing
    /// database ([`ErrorKind::Config`]) or an unreachable server
    /// ([`ErrorKind::Connect`]) fail here, within `connect_timeout`.
    ///
    /// `sslmode=require`, `verify-ca` and `verify-full` are refused with
    /// [`ErrorKind::Config`]: TLS is not supported yet, and the driver never
    /// falls back to a plain connection when TLS was asked for.
    pub async fn connect(url: &str, config: PoolConfig) -> Result<PgPool, Error> {
        let mut pg = crate::url::parse(url)?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(config.connect_timeout);
        }
        let manager = Manager { pg, config: config.clone(), shared: Arc::new(Shared::new()) };
        let pool = managed::Pool::builder(manager)
            .max_size(config.max_size.max(1))
            .queue_mode(match config.queue_mode {
                QueueMode::Fifo => managed::QueueMode::Fifo,
                QueueMode::Lifo => managed::QueueMode::Lifo,
            })
            .wait_timeout(Some(config.acquire_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(None)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| Error::new(ErrorKind::Config, format!("building the pool: {e}")))?;
        let pool = PgPool { pool };
        pool.spawn_reaper();
        let timeouts = pool.timeouts(config.acquire_timeout);
        match pool.pool.timeout_get(&timeouts).await {
            Ok(first) => drop(first),
            Err(PoolError::Backend(e)) => return Err(e),
            Err(PoolError::Timeout(TimeoutType::Create)) => {
                return Err(Error::new(
                    ErrorKind::Connect,
                    format!("connecting: no answer within connect_timeout ({:?})", config.connect_timeout),
                ));
            }
            Err(e) => return Err(Error::new(ErrorKind::Connect, format!("connecting: {e}"))),
        }
        Ok(pool)
    }

    /// Close idle connections past `max_lifetime` or `idle_timeout` in the
    /// background (deadpool only looks at a connection when it hands it
    /// out), so that an idle pool shrinks. The task ends with the pool.
    fn spawn_reaper(&self) {
        let config = self.config();
        let Some(shortest) = [config.max_lifetime, config.idle_timeout].into_iter().flatten().min() else { return };
        let period = (shortest / 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
        let weak = self.pool.weak();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(pool) = weak.upgrade() else { break };
                if pool.is_closed() {
                    break;
                }
                let expired = pool.retain(|conn, _| pool.manager().keep_idle(conn)).removed;
                // Closed here, outside the pool's lock.
                drop(expired);
            }
        });
    }

    fn config(&self) -> &PoolConfig {
        &self.pool.manager().config
    }

    fn timeouts(&self, remaining: Duration) -> Timeouts {
        let config = self.config();
        let mut t = Timeouts::new();
        // No wait timeout of deadpool's own: `acquire` bounds the whole call
        // with `acquire_timeout` (and names the phase), and a second timer
        // per waiting task cost a timer-wheel registration on every
        // contended `acquire()` (measured with 64 tasks on 8 connections).
        t.wait = None;
        t.create = Some(config.connect_timeout.min(remaining));
        // None: `Manager::recycle` bounds its round trips itself.
        t.recycle = None;
        t
    }

    /// A connection, within `acquire_timeout` in all.
    ///
    /// Fails with [`ErrorKind::PoolTimeout`] when the deadline passes; the
    /// message names the phase (waiting for a slot, connecting, verifying a
    /// connection) and carries the last connection error seen since the
    /// call began ("too many connections", "connection refused"), also as
    /// the error's source. Connection failures that may pass (refused,
    /// unreachable, too many connections) are retried with backoff until
    /// the deadline; authentication and configuration errors are returned
    /// at once. After [`close`](Self::close): [`ErrorKind::PoolClosed`].
    pub async fn acquire(&self) -> Result<PgConnection, Error> {
        let start = Instant::now();
        let deadline = start + self.config().acquire_timeout;
        PHASE
            .scope(Cell::new(Phase::Waiting), async {
                match tokio::time::timeout_at(deadline.into(), self.acquire_until(start, deadline)).await {
                    Ok(result) => result,
                    Err(_) => Err(self.timeout_error(PHASE.with(Cell::get), start)),
                }
            })
            .await
    }

    async fn acquire_until(&self, start: Instant, deadline: Instant) -> Result<PgConnection, Error> {
        let mut backoff = Duration::from_millis(10);
        loop {
            enter(Phase::Waiting);
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(self.timeout_error(PHASE.with(Cell::get), start));
            }
            match self.pool.timeout_get(&self.timeouts(remaining)).await {
                Ok(object) => return Ok(PgConnection::new(object, self.clone())),
                Err(PoolError::Closed) => return Err(Error::new(ErrorKind::PoolClosed, "the pool is closed")),
                Err(PoolError::Timeout(TimeoutType::Wait)) => {
                    return Err(self.timeout_error(Phase::Waiting, start));
                }
                Err(PoolError::Timeout(TimeoutType::Create)) => {
                    let e = Error::new(
                        ErrorKind::Connect,
                        format!("connecting: no answer within connect_timeout ({:?})", self.config().connect_timeout),
                    );
                    self.pool.manager().shared.record(&e);
                }
                Err(PoolError::Timeout(TimeoutType::Recycle)) => {}
                Err(PoolError::Backend(e)) if error::is_transient_connect(&e) => {
                    let pause = backoff.min(deadline.saturating_duration_since(Instant::now()));
                    tokio::time::sleep(pause).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Err(PoolError::Backend(e)) => return Err(e),
                Err(e) => return Err(Error::new(ErrorKind::Config, format!("acquiring a connection: {e}"))),
            }
        }
    }

    fn timeout_error(&self, phase: Phase, start: Instant) -> Error {
        let status = self.status();
        let mut message = format!(
            "no connection within acquire_timeout ({:?}): timed out {} ({} of {} connections open, {} idle, {} waiting)",
            self.config().acquire_timeout,
            phase.describe(),
            status.size,
            status.max_size,
            status.available,
            status.waiting,
        );
        let last = self.pool.manager().shared.last_error_since(start);
        if let Some(last) = &last {
            message.push_str("; last connection error: ");
            message.push_str(&last.to_string());
        }
        let err = Error::new(ErrorKind::PoolTimeout, message);
        match last {
            Some(last) => err.with_source(last),
            None => err,
        }
    }

    /// The pool's occupancy.
    pub fn status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus { max_size: s.max_size, size: s.size, available: s.available, waiting: s.waiting }
    }

    /// Close the pool: idle connections are closed, later acquires fail
    /// with [`ErrorKind::PoolClosed`], connections in use finish their
    /// work and are closed when returned.
    pub fn close(&self) {
        self.pool.close();
    }
}

impl quarry_core::Pool for PgPool {
    type Connection = PgConnection;

    fn acquire(&self) -> impl Future<Output = Result<PgConnection, Error>> + Send {
        PgPool::acquire(self)
    }

    fn status(&self) -> PoolStatus {
        PgPool::status(self)
    }

    fn close(&self) {
        PgPool::close(self)
    }

    fn dialect(&self) -> &'static dyn Dialect {
        &quarry_core::Postgres
    }
}
