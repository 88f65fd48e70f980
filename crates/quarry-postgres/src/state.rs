//! What the pool keeps per connection: the tokio-postgres client, its
//! statement cache, and the state that makes cancellation safe (the
//! transaction depth, a pending rollback, the in-flight flag).
//!
//! The rules:
//! - Every operation that writes to the server marks the connection in
//!   flight and clears the mark when the server has answered. An operation
//!   whose future is dropped in between leaves the mark set: a cancel
//!   request is sent at once (the server may still be running the query),
//!   the socket is closed (the server rolls back), and the connection is
//!   never used again. Using the same handle returns
//!   [`ErrorKind::ConnectionLost`]; the pool discards it.
//! - A transaction guard dropped without commit or rollback only records a
//!   rollback as pending (`abandon`, which cannot await); it runs before the
//!   next statement on the handle. A handle returned to the pool inside a
//!   transaction sends `ROLLBACK` at once (without waiting, so that locks
//!   are released while the connection is idle) and the pool confirms it
//!   with a round trip before handing the connection out again.
//! - Connection-loss errors mark the connection broken; it is discarded.
//! - Every client call runs inside [`Io::drive`], which polls the
//!   connection's socket in the calling task (see [`crate::io`]).

use std::borrow::Cow;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use postgres_types::{ToSql, Type};
use quarry_core::{Compiled, Error, ErrorKind, TransactionBehavior, TransactionOptions};
use tokio_postgres::{CancelToken, Client, CopyInSink, NoTls, RowStream, Statement};
use tracing::Instrument;

use crate::bind::{binds, typed_binds};
use crate::connection::statement_span;
use crate::error::{self, Fate};
use crate::io::Io;
use crate::pool::Shared;
use crate::socket::Peer;
use crate::statement_cache::StatementCache;

/// The most parameters one statement can bind (a 16-bit count in the protocol).
pub(crate) const MAX_PARAMS: usize = 65535;

const ABANDONED: &str = "connection was abandoned during an operation (its future or stream was dropped \
                         before the server answered); it is discarded";

/// Gives up on a connection whose operation was abandoned, once.
pub(crate) struct Canceller {
    token: CancelToken,
    /// Where the connection went, when Quarry opened it. Its cancel token
    /// does not know (tokio-postgres's `connect_raw` keeps no address), so
    /// `token.cancel_query` would fail on it: cancel through this.
    peer: Option<Peer>,
    /// The connection's socket.
    io: Arc<Io>,
    sent: AtomicBool,
}

impl Canceller {
    /// Ask the server to cancel whatever the connection is running (from a
    /// spawned task: a new connection, no TLS), and close the connection's
    /// socket at once, so that the server rolls back any open transaction
    /// and releases its locks now rather than when the pool next looks at
    /// the connection. At most once per connection: the connection is never
    /// used again, so a late cancel can never hit another user's query.
    pub(crate) fn cancel(&self) {
        if self.sent.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let token = self.token.clone();
            let peer = self.peer.clone();
            runtime.spawn(async move {
                let cancel = async {
                    match &peer {
                        Some(peer) => peer.cancel(&token).await,
                        None => token.cancel_query(NoTls).await.map_err(Into::into),
                    }
                };
                // The socket is closed below anyway, so the server ends the
                // session when it next reads from it: a cancel request
                // that could not be sent is only logged.
                match tokio::time::timeout(Duration::from_secs(10), cancel).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => tracing::debug!(%error, "a cancel request could not be sent"),
                    Err(_) => tracing::debug!("a cancel request timed out"),
                }
            });
        }
        self.close();
    }

    /// Close the connection's socket now (the server ends the session and
    /// rolls back whatever it had open).
    pub(crate) fn close(&self) {
        self.io.close();
    }
}

/// Marks an operation in flight; dropped while armed (the operation's
/// future was dropped), it sends a cancel request.
pub(crate) struct InFlight {
    canceller: Option<Arc<Canceller>>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(c) = self.canceller.take() {
            c.cancel();
        }
    }
}

/// The transaction state of a connection, as the server has it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TxState {
    /// Open transactions and savepoints on the server.
    depth: usize,
    /// A guard was dropped: roll back to this depth before the next use.
    pending: Option<usize>,
    /// A statement failed inside the transaction, so the server will roll
    /// it back whatever we send (until a savepoint rollback).
    failed: bool,
}

/// A binary `COPY` the server is ready to receive rows for.
pub(crate) struct StartedCopy {
    /// In flight until the COPY ends.
    pub(crate) op: InFlight,
    /// Where the rows go.
    pub(crate) sink: CopyInSink<Bytes>,
    /// The columns' types, in order.
    pub(crate) types: Vec<Type>,
    /// The columns' names, for errors.
    pub(crate) names: Vec<String>,
}

/// The types and names of a COPY probe's columns.
fn column_types_and_names(columns: &[tokio_postgres::Column]) -> (Vec<Type>, Vec<String>) {
    (columns.iter().map(|c| c.type_().clone()).collect(), columns.iter().map(|c| c.name().to_owned()).collect())
}

/// A pooled connection's client and state.
pub(crate) struct ConnState {
    /// Declared before `io`, so that it is dropped first: with the client
    /// gone, the connection can say goodbye when `io` is dropped.
    pub(crate) client: Client,
    /// The connection's socket, polled by every operation.
    io: Arc<Io>,
    cache: StatementCache,
    named: bool,
    tx: TxState,
    in_flight: bool,
    broken: Option<&'static str>,
    /// `ROLLBACK` was sent without waiting when the handle was returned.
    rollback_sent: bool,
    canceller: Arc<Canceller>,
    pub(crate) created: Instant,
    pub(crate) returned: Instant,
    /// When the connection was last known to work (created or pinged).
    pub(crate) verified: Instant,
    backend_pid: i32,
    shared: Arc<Shared>,
}

impl ConnState {
    pub(crate) fn new(
        client: Client,
        io: Arc<Io>,
        peer: Option<Peer>,
        backend_pid: i32,
        cache_capacity: usize,
        shared: Arc<Shared>,
    ) -> Self {
        let now = Instant::now();
        let canceller =
            Arc::new(Canceller { token: client.cancel_token(), peer, io: io.clone(), sent: AtomicBool::new(false) });
        ConnState {
            client,
            io,
            cache: StatementCache::new(cache_capacity),
            named: cache_capacity > 0,
            tx: TxState::default(),
            in_flight: false,
            broken: None,
            rollback_sent: false,
            canceller,
            created: now,
            returned: now,
            verified: now,
            backend_pid,
            shared,
        }
    }

    /// The connection's socket, for operations that poll it themselves
    /// (a row stream, a COPY's rows).
    pub(crate) fn io(&self) -> &Io {
        &self.io
    }

    /// Read what the server sent while the connection was idle, without
    /// waiting: a connection the server closed meanwhile is then known to
    /// be closed.
    pub(crate) fn poll_idle(&self) {
        self.io.poll_now();
    }

    pub(crate) fn backend_pid(&self) -> i32 {
        self.backend_pid
    }

    pub(crate) fn cached_statements(&self) -> usize {
        self.cache.len()
    }

    /// Why the pool must not hand this connection out again, if it must not.
    pub(crate) fn unusable_reason(&self) -> Option<&'static str> {
        if self.in_flight {
            self.canceller.cancel();
            return Some(ABANDONED);
        }
        if let Some(reason) = self.broken {
            return Some(reason);
        }
        if self.client.is_closed() {
            return Some("the connection to the server is closed");
        }
        None
    }

    /// Whether the handle should take a fresh connection in place of this
    /// one: it is unusable (abandoned, lost, closed) and no transaction is
    /// open as the user sees it (a dropped guard's pending rollback to depth
    /// 0 counts as none). Records the loss like any use would.
    pub(crate) fn replaceable(&mut self) -> bool {
        self.poll_idle();
        self.check_usable().is_err() && self.depth() == 0
    }

    pub(crate) fn needs_confirmation(&self) -> bool {
        self.rollback_sent || self.tx.depth > 0 || self.tx.pending.is_some()
    }

    fn check_usable(&mut self) -> Result<(), Error> {
        if let Some(reason) = self.unusable_reason() {
            if self.broken.is_none() && !self.in_flight {
                self.broken = Some(reason);
                self.shared.connection_lost();
            }
            return Err(Error::new(ErrorKind::ConnectionLost, reason));
        }
        Ok(())
    }

    /// Never use this connection again, and close it now.
    fn discard(&mut self, reason: &'static str) {
        if self.broken.is_none() {
            self.broken = Some(reason);
        }
        self.canceller.close();
    }

    fn begin_op(&mut self) -> InFlight {
        self.in_flight = true;
        InFlight { canceller: Some(self.canceller.clone()) }
    }

    fn end_op(&mut self, mut op: InFlight) {
        op.canceller = None;
        self.in_flight = false;
    }

    /// Map an error from the server, marking the connection broken on
    /// connection loss and the transaction failed on a server error.
    fn fail(&mut self, e: tokio_postgres::Error) -> Error {
        let (err, fate) = error::from_pg(e);
        match fate {
            Fate::Broken => {
                if self.broken.is_none() {
                    self.shared.connection_lost();
                }
                self.discard("the connection was lost");
            }
            Fate::Usable => {
                if self.tx.depth > 0 && err.kind() != ErrorKind::Encode {
                    self.tx.failed = true;
                }
            }
        }
        err
    }

    /// Run `sql` with the simple query protocol (transaction control).
    async fn simple(&mut self, sql: &str) -> Result<(), Error> {
        let op = self.begin_op();
        let result = self.io.drive(self.client.batch_execute(sql)).instrument(statement_span(sql)).await;
        self.end_op(op);
        result.map_err(|e| self.fail(e))
    }

    /// Check the connection and run a pending rollback: what every
    /// operation does first (local flag tests unless a rollback is pending).
    pub(crate) async fn settle(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        if let Some(target) = self.tx.pending {
            self.rollback_to(target).await?;
        }
        Ok(())
    }

    async fn rollback_to(&mut self, target: usize) -> Result<(), Error> {
        let sql: Cow<'static, str> = if target == 0 {
            Cow::Borrowed("ROLLBACK")
        } else {
            Cow::Owned(format!("ROLLBACK TO SAVEPOINT quarry_sp_{target}; RELEASE SAVEPOINT quarry_sp_{target}"))
        };
        match self.simple(&sql).await {
            Ok(()) => {
                self.tx = TxState { depth: target, pending: None, failed: false };
                Ok(())
            }
            Err(e) => {
                // The transaction state is unknown: never reuse.
                self.discard("a rollback failed, so the connection's transaction state is unknown");
                Err(e.context("rolling back"))
            }
        }
    }

    /// The statement prepared for `sql` (cached), or `None` when named
    /// statements are off.
    pub(crate) async fn prepared(&mut self, sql: &str) -> Result<Option<Statement>, Error> {
        if !self.named {
            return Ok(None);
        }
        if let Some(statement) = self.cache.get(sql) {
            return Ok(Some(statement));
        }
        let op = self.begin_op();
        let result = self.io.drive(self.client.prepare(sql)).await;
        self.end_op(op);
        let statement = result.map_err(|e| self.fail(e))?;
        self.cache.insert(sql, statement.clone());
        Ok(Some(statement))
    }

    /// Prepare `sql` without caching it (named even when the cache is off).
    pub(crate) async fn prepare_uncached(&mut self, sql: &str) -> Result<Statement, Error> {
        let op = self.begin_op();
        let result = self.io.drive(self.client.prepare(sql)).await;
        self.end_op(op);
        result.map_err(|e| self.fail(e))
    }

    /// Whether to re-run a statement that failed with `err`: a stale cached
    /// plan is evicted, and re-prepared once outside a transaction (the
    /// error is raised before execution, so nothing ran).
    fn retry_stale(&mut self, err: &Error, sql: &str, retried: &mut bool) -> bool {
        if err.kind() != ErrorKind::StaleStatement {
            return false;
        }
        self.cache.remove(sql);
        if self.tx.depth == 0 && !*retried {
            *retried = true;
            return true;
        }
        false
    }

    /// Send `q` and return its rows as they come, with the connection
    /// marked in flight until the caller ends the operation.
    pub(crate) async fn start(&mut self, q: &Compiled) -> Result<(InFlight, RowStream), Error> {
        self.settle().await?;
        if q.params.len() > MAX_PARAMS {
            return Err(Error::new(
                ErrorKind::Encode,
                format!(
                    "a statement can bind at most {MAX_PARAMS} parameters and this one has {} \
                     (split it, or bind an array)",
                    q.params.len()
                ),
            ));
        }
        let mut retried = false;
        loop {
            let statement = self.prepared(&q.sql).await?;
            if let Some(s) = &statement
                && s.params().len() != q.params.len()
            {
                return Err(Error::new(
                    ErrorKind::Encode,
                    format!(
                        "the statement has {} parameters but {} values were bound",
                        s.params().len(),
                        q.params.len()
                    ),
                ));
            }
            let op = self.begin_op();
            let result = match &statement {
                Some(s) => self.io.drive(self.client.query_raw(s, binds(&q.params))).await,
                None => self.io.drive(self.client.query_typed_raw(&q.sql, typed_binds(&q.params))).await,
            };
            match result {
                Ok(rows) => return Ok((op, rows)),
                Err(e) => {
                    self.end_op(op);
                    let err = self.fail(e);
                    if self.retry_stale(&err, &q.sql, &mut retried) {
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Start a binary `COPY` with `copy_sql`, and find its columns' types
    /// and names with `probe_sql` (a query of those columns that returns
    /// one row). Returns the operation (in flight until the COPY ends), the
    /// sink to write to, and the columns.
    ///
    /// Outside a transaction, with the statement cache on, both statements
    /// are cached and sent together, in one round trip: the probe's types
    /// are those its prepared statement described, and running it proves
    /// they are still current (a table altered since fails it with a
    /// stale-plan error; the COPY started beside it is then aborted, and
    /// both are prepared and sent again, once). Otherwise the probe runs
    /// first, then the COPY: in a transaction, a failed probe must not be
    /// followed by a COPY the aborted transaction refuses (see
    /// [`copy_refused`](Self::copy_refused)).
    pub(crate) async fn start_copy(&mut self, probe_sql: &str, copy_sql: &str) -> Result<StartedCopy, Error> {
        self.settle().await?;
        if !self.named || self.tx.depth > 0 {
            return self.start_copy_unpipelined(probe_sql, copy_sql).await;
        }
        let mut retried = false;
        loop {
            let (Some(probe), Some(copy)) = (self.prepared(probe_sql).await?, self.prepared(copy_sql).await?) else {
                return self.start_copy_unpipelined(probe_sql, copy_sql).await;
            };
            let op = self.begin_op();
            let client = &self.client;
            let run_probe = async {
                let rows = client.query_raw(&probe, std::iter::empty::<&(dyn ToSql + Sync)>()).await?;
                let mut rows = pin!(rows);
                while let Some(row) = rows.next().await {
                    row?;
                }
                Ok::<(), tokio_postgres::Error>(())
            };
            // Both requests are queued before either answer is awaited.
            let (probed, started) =
                self.io.drive(futures_util::future::join(run_probe, client.copy_in::<_, Bytes>(&copy))).await;
            match (probed, started) {
                (Ok(()), Ok(sink)) => {
                    let (types, names) = column_types_and_names(probe.columns());
                    return Ok(StartedCopy { op, sink, types, names });
                }
                (Err(e), Ok(sink)) => {
                    // The COPY started: dropping its sink aborts it cleanly,
                    // once the server has the abort.
                    drop(sink);
                    self.end_abandoned_copy(op).await;
                    let err = self.fail(e);
                    if self.retry_stale(&err, probe_sql, &mut retried) {
                        continue;
                    }
                    return Err(err);
                }
                (Err(e), Err(refused)) => {
                    self.end_op(op);
                    let err = self.fail(e);
                    self.copy_refused(refused);
                    return Err(err);
                }
                (Ok(()), Err(e)) => {
                    self.end_op(op);
                    return Err(self.copy_refused(e));
                }
            }
        }
    }

    /// [`start_copy`](Self::start_copy) one statement after the other: the
    /// probe, then the COPY (each cached if the cache is on, else prepared
    /// for this call only).
    async fn start_copy_unpipelined(&mut self, probe_sql: &str, copy_sql: &str) -> Result<StartedCopy, Error> {
        let probe = Compiled::new(probe_sql, Vec::new(), quarry_core::StatementKind::Read);
        let (op, rows) = self.start(&probe).await?;
        let mut found = None;
        self.drain(op, rows, |row| {
            found = Some(column_types_and_names(row.columns()));
            Ok(())
        })
        .await?;
        let (types, names) =
            found.ok_or_else(|| Error::new(ErrorKind::Database, "copy: the column probe returned no row"))?;
        let statement = match self.prepared(copy_sql).await? {
            Some(statement) => statement,
            None => self.prepare_uncached(copy_sql).await?,
        };
        let op = self.begin_op();
        match self.io.drive(self.client.copy_in::<_, Bytes>(&statement)).await {
            Ok(sink) => Ok(StartedCopy { op, sink, types, names }),
            Err(e) => {
                self.end_op(op);
                Err(self.copy_refused(e))
            }
        }
    }

    /// A COPY failed before the server entered COPY mode (a lock timeout,
    /// an aborted transaction). tokio-postgres then still sends `CopyFail`
    /// and `Sync`, and the server answers that `Sync` too: one answer more
    /// than tokio-postgres expects, which it would hand to the next
    /// statement. So the connection is discarded now; the error is the
    /// server's.
    fn copy_refused(&mut self, e: tokio_postgres::Error) -> Error {
        let err = self.fail(e);
        self.discard("a COPY the server refused before it began left the connection's replies out of step");
        err
    }

    /// Read every row of a started query, handing each to `each` until it
    /// fails; the rest are read (not decoded) so that an error the server
    /// reports later is not missed. Returns the rows affected.
    pub(crate) async fn drain(
        &mut self,
        op: InFlight,
        rows: RowStream,
        mut each: impl FnMut(&tokio_postgres::Row) -> Result<(), Error> + Send,
    ) -> Result<u64, Error> {
        let mut rows = pin!(rows);
        let mut first_error = None;
        loop {
            match self.io.drive(rows.next()).await {
                Some(Ok(row)) => {
                    if first_error.is_none()
                        && let Err(e) = each(&row)
                    {
                        first_error = Some(e);
                    }
                }
                Some(Err(e)) => {
                    self.end_op(op);
                    return Err(self.fail(e));
                }
                None => break,
            }
        }
        let affected = rows.rows_affected().unwrap_or(0);
        self.end_op(op);
        match first_error {
            Some(e) => Err(e),
            None => Ok(affected),
        }
    }

    /// The operation ended and the server answered.
    pub(crate) fn end_ok(&mut self, op: InFlight) {
        self.end_op(op);
    }

    /// The operation failed with `e`.
    pub(crate) fn end_err(&mut self, op: InFlight, e: tokio_postgres::Error) -> Error {
        self.end_op(op);
        self.fail(e)
    }

    /// A COPY was aborted by the client (a bad row): its dropped sink
    /// queued `CopyFail`; once the server has it, it rolls the COPY back,
    /// and aborts the enclosing transaction, if any.
    pub(crate) async fn copy_aborted(&mut self, op: InFlight) {
        self.end_abandoned_copy(op).await;
        if self.tx.depth > 0 {
            self.tx.failed = true;
        }
    }

    /// End the operation of a COPY whose sink was dropped, once the server
    /// has the `CopyFail` and `Sync` the sink queued: a `Sync` of our own,
    /// sent after them, is answered after them. Nobody polls the connection
    /// between operations, and until the server reads them it stays in the
    /// COPY, holding the table's lock and its transaction. A connection lost
    /// meanwhile is marked so.
    async fn end_abandoned_copy(&mut self, op: InFlight) {
        let flushed = self.io.drive(self.client.check_connection()).await;
        self.end_op(op);
        if let Err(lost) = flushed {
            self.fail(lost);
        }
    }

    /// A round trip to the server, proving it answers (and that everything
    /// sent before has been processed).
    pub(crate) async fn ping(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        let op = self.begin_op();
        let result = self.io.drive(self.client.check_connection()).await;
        self.end_op(op);
        result.map_err(|e| self.fail(e))?;
        self.rollback_sent = false;
        self.verified = Instant::now();
        Ok(())
    }

    /// Roll back whatever transaction is open, and wait for it (recycling).
    pub(crate) async fn reset(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        if self.tx.depth > 0 {
            self.rollback_to(0).await?;
        }
        self.tx = TxState::default();
        self.ping().await
    }

    /// `BEGIN` or `SAVEPOINT`.
    pub(crate) async fn begin(&mut self, options: &TransactionOptions) -> Result<(), Error> {
        self.settle().await?;
        let depth = self.tx.depth;
        if depth == 0 {
            self.simple(&begin_sql(options)).await?;
        } else {
            if options.isolation.is_some() || options.read_only || options.deferrable {
                return Err(Error::new(
                    ErrorKind::Config,
                    "isolation, READ ONLY and DEFERRABLE apply to the outermost transaction only, \
                     not to a savepoint",
                ));
            }
            self.simple(&format!("SAVEPOINT quarry_sp_{depth}")).await?;
        }
        self.tx.depth = depth + 1;
        Ok(())
    }

    /// `COMMIT` or `RELEASE SAVEPOINT`. The guard is gone whatever the
    /// outcome, so a level that could not be committed is rolled back
    /// before the next use (or, on a lost connection, lets the handle take
    /// a fresh one once no transaction is left).
    pub(crate) async fn commit(&mut self) -> Result<(), Error> {
        let result = self.commit_level().await;
        if result.is_err() {
            self.abandon();
        }
        result
    }

    async fn commit_level(&mut self) -> Result<(), Error> {
        self.settle().await?;
        match self.tx.depth {
            0 => Err(Error::new(ErrorKind::Config, "commit: no transaction is open")),
            1 => {
                let failed = self.tx.failed;
                let result = self.simple("COMMIT").await;
                // Whatever the answer, the server has ended the transaction
                // (a lost connection is discarded).
                self.tx = TxState::default();
                match result {
                    // PostgreSQL answers COMMIT of a failed transaction with
                    // ROLLBACK, not an error: say so.
                    Ok(()) if failed => Err(Error::new(
                        ErrorKind::Database,
                        "commit: the transaction was aborted by an earlier error and has been rolled back",
                    )
                    .with_sqlstate("25P02")),
                    Ok(()) => Ok(()),
                    Err(e) if e.is_connection_lost() => Err(e.with_outcome_unknown().context("commit")),
                    Err(e) => Err(e),
                }
            }
            depth => {
                self.simple(&format!("RELEASE SAVEPOINT quarry_sp_{}", depth - 1)).await?;
                self.tx.depth = depth - 1;
                Ok(())
            }
        }
    }

    /// `ROLLBACK`, or `ROLLBACK TO SAVEPOINT` and `RELEASE SAVEPOINT`.
    pub(crate) async fn rollback(&mut self) -> Result<(), Error> {
        if self.depth() == 0 {
            self.check_usable()?;
            return Err(Error::new(ErrorKind::Config, "rollback: no transaction is open"));
        }
        self.abandon();
        self.settle().await
    }

    /// The innermost transaction's guard was dropped: roll it back before
    /// the next use.
    pub(crate) fn abandon(&mut self) {
        let depth = self.depth();
        if depth > 0 {
            self.tx.pending = Some(depth - 1);
        }
    }

    /// The transaction depth as the handle's user sees it.
    pub(crate) fn depth(&self) -> usize {
        self.tx.pending.unwrap_or(self.tx.depth)
    }

    /// The handle goes back to the pool: if a transaction is open, send
    /// `ROLLBACK` now without waiting (the pool confirms it before reuse).
    pub(crate) fn on_return(&mut self) {
        self.returned = Instant::now();
        if self.in_flight {
            self.canceller.cancel();
            return;
        }
        if self.broken.is_some() || self.tx.depth == 0 {
            self.tx.pending = None;
            return;
        }
        // The first poll of `batch_execute` queues the message on the
        // connection's channel; the answer is discarded when the future is
        // dropped. Later requests are queued behind it, in order.
        let sent = {
            let mut rollback = pin!(self.client.batch_execute("ROLLBACK"));
            let mut cx = Context::from_waker(Waker::noop());
            !matches!(rollback.as_mut().poll(&mut cx), Poll::Ready(Err(_)))
        };
        // Nobody else polls the connection: write the ROLLBACK now, so that
        // the server releases the transaction's locks while it is idle.
        self.io.poll_now();
        if sent {
            self.tx = TxState::default();
            self.rollback_sent = true;
        } else {
            self.discard("the connection was lost");
        }
    }
}

impl Drop for ConnState {
    fn drop(&mut self) {
        // Idle and sound: close with `Terminate`, as a client should.
        if self.broken.is_none() && !self.in_flight {
            self.io.terminate_on_drop();
        }
    }
}

fn begin_sql(options: &TransactionOptions) -> Cow<'static, str> {
    // `behavior` is SQLite's locking mode; PostgreSQL has no equivalent.
    let _: TransactionBehavior = options.behavior;
    if options.isolation.is_none() && !options.read_only && !options.deferrable {
        return Cow::Borrowed("BEGIN");
    }
    let mut sql = String::from("BEGIN");
    let mut sep = " ";
    if let Some(level) = options.isolation {
        sql.push_str(sep);
        sql.push_str("ISOLATION LEVEL ");
        sql.push_str(level.as_sql());
        sep = ", ";
    }
    if options.read_only {
        sql.push_str(sep);
        sql.push_str("READ ONLY");
        sep = ", ";
    }
    if options.deferrable {
        sql.push_str(sep);
        sql.push_str("DEFERRABLE");
    }
    Cow::Owned(sql)
}

#[cfg(test)]
mod tests {
    use quarry_core::IsolationLevel;

    use super::*;

    #[test]
    fn begin_statements() {
        assert_eq!(begin_sql(&TransactionOptions::new()), "BEGIN");
        let o = TransactionOptions::new().isolation(IsolationLevel::Serializable).read_only().deferrable();
        assert_eq!(begin_sql(&o), "BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE");
        assert_eq!(begin_sql(&TransactionOptions::new().read_only()), "BEGIN READ ONLY");
    }
}
