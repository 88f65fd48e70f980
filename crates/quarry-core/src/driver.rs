//! The driver seam: the [`Connection`] and [`Pool`] traits every driver
//! implements, the pool's [`PoolConfig`], and the [`Transaction`] guard
//! written once on top of them.
//!
//! Native `async fn` in traits, no boxing: each method returns
//! `impl Future + Send`, so a driver's futures are concrete types.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use futures_core::Stream;

use crate::compile::Compiled;
use crate::dialect::Dialect;
use crate::error::Error;
use crate::row::FromRow;

/// A database connection, as a driver provides it.
///
/// Implementations must keep the connection's state known at all times: an
/// operation whose future is dropped after it has started talking to the
/// database leaves the connection *in flight*, and such a connection is
/// discarded rather than reused. A transaction abandoned by a dropped
/// [`Transaction`] guard is rolled back before the connection runs anything
/// else or goes back to its pool.
pub trait Connection: Send {
    /// The dialect statements are compiled for.
    fn dialect(&self) -> &'static dyn Dialect;

    /// The most parameters one statement may bind (bulk inserts are split
    /// into statements under it).
    fn max_params(&self) -> usize;

    /// Run a statement; the number of rows it affected.
    fn execute(&mut self, query: Compiled) -> impl Future<Output = Result<u64, Error>> + Send;

    /// Run a query and decode every row.
    fn fetch_all<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Vec<T>, Error>> + Send;

    /// Run a query and decode its first row, if any.
    fn fetch_optional<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send;

    /// Run a query and decode its rows as they arrive, holding a bounded
    /// number of rows in memory. Dropping the stream early stops the query.
    fn fetch_stream<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Stream<Item = Result<T, Error>> + Send + '_;

    /// Start a transaction, or a savepoint inside one.
    fn begin_transaction(&mut self, options: &TransactionOptions) -> impl Future<Output = Result<(), Error>> + Send;

    /// Commit the innermost transaction or release the innermost savepoint.
    fn commit_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// Roll back the innermost transaction or savepoint.
    fn rollback_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send;

    /// The innermost transaction's guard was dropped without commit or
    /// rollback: roll it back before the next use (or discard the
    /// connection). Must not block.
    fn abandon_transaction(&mut self);

    /// How many transactions and savepoints are open.
    fn transaction_depth(&self) -> usize;
}

impl<C: Connection + ?Sized> Connection for &mut C {
    fn dialect(&self) -> &'static dyn Dialect {
        (**self).dialect()
    }

    fn max_params(&self) -> usize {
        (**self).max_params()
    }

    fn execute(&mut self, query: Compiled) -> impl Future<Output = Result<u64, Error>> + Send {
        (**self).execute(query)
    }

    fn fetch_all<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Vec<T>, Error>> + Send {
        (**self).fetch_all(query)
    }

    fn fetch_optional<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        (**self).fetch_optional(query)
    }

    fn fetch_stream<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Stream<Item = Result<T, Error>> + Send + '_ {
        (**self).fetch_stream(query)
    }

    fn begin_transaction(&mut self, options: &TransactionOptions) -> impl Future<Output = Result<(), Error>> + Send {
        (**self).begin_transaction(options)
    }

    fn commit_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send {
        (**self).commit_transaction()
    }

    fn rollback_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send {
        (**self).rollback_transaction()
    }

    fn abandon_transaction(&mut self) {
        (**self).abandon_transaction()
    }

    fn transaction_depth(&self) -> usize {
        (**self).transaction_depth()
    }
}

/// A pool of connections.
pub trait Pool: Clone + Send + Sync + 'static {
    /// The pooled connection handle; dropping it returns the connection.
    type Connection: Connection;

    /// A connection, within the configured acquire timeout.
    fn acquire(&self) -> impl Future<Output = Result<Self::Connection, Error>> + Send;

    /// The pool's current occupancy.
    fn status(&self) -> PoolStatus;

    /// Close the pool: later acquires fail with
    /// [`ErrorKind::PoolClosed`](crate::ErrorKind::PoolClosed); connections
    /// in use finish their work.
    fn close(&self);

    /// The dialect of the pool's database.
    fn dialect(&self) -> &'static dyn Dialect;
}

/// A pool's occupancy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Connections idle in the pool now.
    pub available: usize,
    /// Tasks waiting for a connection.
    pub waiting: usize,
}

/// The order in which idle connections are handed out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueMode {
    /// Most recently used first: fewer, warmer connections (the default;
    /// FIFO measured 1.1 to 2.1 times slower on small queries).
    #[default]
    Lifo,
    /// Least recently used first: every connection kept in use.
    Fifo,
}

/// Pool settings shared by every driver, after SQLAlchemy's and deadpool's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// The most connections open at once (for SQLite: the readers, beside
    /// the one writer).
    pub max_size: usize,
    /// How long `acquire()` waits in all (for a free slot, to connect, to
    /// verify) before failing with `PoolTimeout`. Always finite.
    pub acquire_timeout: Duration,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// How long verifying or cleaning a connection on checkout or return may take.
    pub recycle_timeout: Duration,
    /// Connections older than this are closed instead of reused
    /// (SQLAlchemy's `pool_recycle`).
    pub max_lifetime: Option<Duration>,
    /// Connections idle longer than this are closed instead of reused.
    pub idle_timeout: Option<Duration>,
    /// Ping each connection before handing it out (SQLAlchemy's `pool_pre_ping`).
    pub verify_on_checkout: bool,
    /// The order idle connections are handed out in.
    pub queue_mode: QueueMode,
    /// Prepared statements cached per connection; 0 uses no named prepared
    /// statements at all (for PgBouncer's transaction mode).
    pub statement_cache_capacity: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_size: 10,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            recycle_timeout: Duration::from_secs(5),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            verify_on_checkout: false,
            queue_mode: QueueMode::Lifo,
            statement_cache_capacity: 256,
        }
    }
}

impl PoolConfig {
    /// The defaults: 10 connections, 30 s acquire timeout, 30 min lifetime,
    /// 10 min idle timeout, no ping on checkout, LIFO, 256 cached statements.
    pub fn new() -> Self {
        PoolConfig::default()
    }

    /// Set [`max_size`](Self::max_size).
    pub fn max_size(mut self, n: usize) -> Self {
        self.max_size = n.max(1);
        self
    }

    /// Set [`acquire_timeout`](Self::acquire_timeout).
    pub fn acquire_timeout(mut self, d: Duration) -> Self {
        self.acquire_timeout = d;
        self
    }

    /// Set [`connect_timeout`](Self::connect_timeout).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Set [`recycle_timeout`](Self::recycle_timeout).
    pub fn recycle_timeout(mut self, d: Duration) -> Self {
        self.recycle_timeout = d;
        self
    }

    /// Set [`max_lifetime`](Self::max_lifetime).
    pub fn max_lifetime(mut self, d: Option<Duration>) -> Self {
        self.max_lifetime = d;
        self
    }

    /// Set [`idle_timeout`](Self::idle_timeout).
    pub fn idle_timeout(mut self, d: Option<Duration>) -> Self {
        self.idle_timeout = d;
        self
    }

    /// Set [`verify_on_checkout`](Self::verify_on_checkout).
    pub fn verify_on_checkout(mut self, on: bool) -> Self {
        self.verify_on_checkout = on;
        self
    }

    /// Set [`queue_mode`](Self::queue_mode).
    pub fn queue_mode(mut self, mode: QueueMode) -> Self {
        self.queue_mode = mode;
        self
    }

    /// Set [`statement_cache_capacity`](Self::statement_cache_capacity).
    pub fn statement_cache_capacity(mut self, n: usize) -> Self {
        self.statement_cache_capacity = n;
        self
    }
}

/// SQL isolation levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IsolationLevel {
    /// `READ UNCOMMITTED` (PostgreSQL treats it as `READ COMMITTED`).
    ReadUncommitted,
    /// `READ COMMITTED`
    ReadCommitted,
    /// `REPEATABLE READ`
    RepeatableRead,
    /// `SERIALIZABLE`
    Serializable,
}

impl IsolationLevel {
    /// The level's SQL words.
    pub fn as_sql(self) -> &'static str {
        match self {
            IsolationLevel::ReadUncommitted => "READ UNCOMMITTED",
            IsolationLevel::ReadCommitted => "READ COMMITTED",
            IsolationLevel::RepeatableRead => "REPEATABLE READ",
            IsolationLevel::Serializable => "SERIALIZABLE",
        }
    }
}

/// How SQLite takes its locks at `BEGIN`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TransactionBehavior {
    /// `BEGIN DEFERRED`: locks when first needed; a read that later writes
    /// may fail with `Busy` (SQLite cannot wait for that upgrade).
    Deferred,
    /// `BEGIN IMMEDIATE`: takes the write lock at once (Quarry's default for
    /// read-write transactions).
    #[default]
    Immediate,
    /// `BEGIN EXCLUSIVE`
    Exclusive,
}

/// Options for [`ConnectionExt::begin_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransactionOptions {
    /// The isolation level (PostgreSQL; SQLite is always serializable).
    pub isolation: Option<IsolationLevel>,
    /// `READ ONLY`: on SQLite the transaction runs on a reader connection.
    pub read_only: bool,
    /// `DEFERRABLE` (PostgreSQL, with `SERIALIZABLE READ ONLY`).
    pub deferrable: bool,
    /// SQLite's locking at `BEGIN` (ignored by PostgreSQL).
    pub behavior: TransactionBehavior,
}

impl TransactionOptions {
    /// Default options: the database's isolation, read-write, `BEGIN IMMEDIATE` on SQLite.
    pub fn new() -> Self {
        TransactionOptions::default()
    }

    /// Set the isolation level.
    pub fn isolation(mut self, level: IsolationLevel) -> Self {
        self.isolation = Some(level);
        self
    }

    /// Make the transaction read-only.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Make the transaction deferrable.
    pub fn deferrable(mut self) -> Self {
        self.deferrable = true;
        self
    }

    /// Set SQLite's locking behaviour.
    pub fn behavior(mut self, behavior: TransactionBehavior) -> Self {
        self.behavior = behavior;
        self
    }

    /// Refuse options that only an outermost transaction can have, for a
    /// nested `begin` (a savepoint): isolation, read-only, deferrable.
    pub fn check_for_savepoint(&self) -> Result<(), Error> {
        if self.isolation.is_some() || self.read_only || self.deferrable {
            return Err(Error::new(
                crate::ErrorKind::Config,
                "isolation, READ ONLY and DEFERRABLE apply to the outermost transaction only, not to a savepoint",
            ));
        }
        Ok(())
    }
}

/// An open transaction (or savepoint) on connection `C`.
///
/// Statements run on `&mut tx` as on a connection. [`commit`](Self::commit)
/// and [`rollback`](Self::rollback) consume the guard; a guard dropped
/// without either (an early `return`, `?`, a panic, a cancelled task) rolls
/// the transaction back before the connection is used again. Beginning on a
/// transaction opens a savepoint.
#[must_use = "a transaction is rolled back when dropped: call commit()"]
pub struct Transaction<C: Connection> {
    conn: C,
    finished: bool,
}

impl<C: Connection> Transaction<C> {
    /// Begin a transaction on `conn` (a savepoint if one is open).
    pub async fn begin(mut conn: C, options: &TransactionOptions) -> Result<Self, Error> {
        conn.begin_transaction(options).await?;
        Ok(Transaction { conn, finished: false })
    }

    /// Commit (or release the savepoint).
    pub async fn commit(mut self) -> Result<(), Error> {
        let result = self.conn.commit_transaction().await;
        self.finished = true;
        result
    }

    /// Roll back (to the savepoint).
    pub async fn rollback(mut self) -> Result<(), Error> {
        let result = self.conn.rollback_transaction().await;
        self.finished = true;
        result
    }

    /// The connection the transaction runs on.
    pub fn connection(&mut self) -> &mut C {
        &mut self.conn
    }
}

impl<C: Connection> Drop for Transaction<C> {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.abandon_transaction();
        }
    }
}

impl<C: Connection> fmt::Debug for Transaction<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction").field("depth", &self.conn.transaction_depth()).finish()
    }
}

impl<C: Connection> Connection for Transaction<C> {
    fn dialect(&self) -> &'static dyn Dialect {
        self.conn.dialect()
    }

    fn max_params(&self) -> usize {
        self.conn.max_params()
    }

    fn execute(&mut self, query: Compiled) -> impl Future<Output = Result<u64, Error>> + Send {
        self.conn.execute(query)
    }

    fn fetch_all<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Vec<T>, Error>> + Send {
        self.conn.fetch_all(query)
    }

    fn fetch_optional<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Future<Output = Result<Option<T>, Error>> + Send {
        self.conn.fetch_optional(query)
    }

    fn fetch_stream<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Stream<Item = Result<T, Error>> + Send + '_ {
        self.conn.fetch_stream(query)
    }

    fn begin_transaction(&mut self, options: &TransactionOptions) -> impl Future<Output = Result<(), Error>> + Send {
        self.conn.begin_transaction(options)
    }

    fn commit_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send {
        self.conn.commit_transaction()
    }

    fn rollback_transaction(&mut self) -> impl Future<Output = Result<(), Error>> + Send {
        self.conn.rollback_transaction()
    }

    fn abandon_transaction(&mut self) {
        self.conn.abandon_transaction()
    }

    fn transaction_depth(&self) -> usize {
        self.conn.transaction_depth()
    }
}

/// Transactions on any connection: `conn.begin()`.
pub trait ConnectionExt: Connection + Sized {
    /// Begin a transaction (a savepoint if one is open) with default options.
    fn begin(&mut self) -> impl Future<Output = Result<Transaction<&mut Self>, Error>> + Send {
        async move {
            let options = TransactionOptions::default();
            Transaction::begin(self, &options).await
        }
    }

    /// Begin a transaction with `options`.
    fn begin_with(
        &mut self,
        options: TransactionOptions,
    ) -> impl Future<Output = Result<Transaction<&mut Self>, Error>> + Send {
        async move { Transaction::begin(self, &options).await }
    }
}

impl<C: Connection + Sized> ConnectionExt for C {}
