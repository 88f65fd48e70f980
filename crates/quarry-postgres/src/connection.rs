//! [`PgConnection`], the pooled handle, and its [`Connection`] methods.

use std::fmt;

use deadpool::managed::Object;
use futures_core::Stream;
use quarry_core::{Compiled, Connection, Dialect, Error, ErrorKind, FromRow, TransactionOptions};
use tracing::Instrument;

use crate::decode::PgRow;
use crate::pool::{Manager, PgPool};
use crate::state::{ConnState, MAX_PARAMS};
use quarry_core::row::NameChecks;

/// A connection borrowed from a [`PgPool`](crate::PgPool); dropping it
/// returns the connection to the pool.
///
/// A handle returned inside a transaction rolls it back (the `ROLLBACK` is
/// sent at once, and confirmed before the connection is handed out again).
///
/// A connection whose operation was abandoned mid-way (a dropped future,
/// or a stream dropped before its end) is never reused: the server is asked
/// to cancel the running statement and the pool discards the connection.
/// The handle itself stays usable outside a transaction: its next call runs
/// on a fresh connection from the pool, as after a lost connection (the
/// call that found the loss failed with
/// [`ErrorKind::ConnectionLost`](quarry_core::ErrorKind::ConnectionLost)).
/// Session settings made with raw SQL (`SET`, temporary tables) do not
/// carry over. Inside a transaction every later call fails with
/// `ConnectionLost` until the transaction's guard is dropped: its work is
/// gone, and running the rest elsewhere would commit half of it.
pub struct PgConnection {
    /// `None` only after a replacement could not be acquired.
    object: Option<Object<Manager>>,
    pool: PgPool,
}

const NO_REPLACEMENT: &str = "the connection was lost and no replacement could be acquired";

impl PgConnection {
    pub(crate) fn new(object: Object<Manager>, pool: PgPool) -> Self {
        PgConnection { object: Some(object), pool }
    }

    /// The connection's state, on a fresh connection when the last one was
    /// abandoned or lost outside a transaction.
    pub(crate) async fn state(&mut self) -> Result<&mut ConnState, Error> {
        let replace = self.object.as_deref_mut().is_none_or(|state| state.replaceable());
        if replace {
            // Return the old one first: with every connection in use (a
            // pool of one) the new one is the old one's slot.
            if let Some(mut old) = self.object.take() {
                old.on_return();
            }
            let mut fresh = self.pool.acquire().await.map_err(|e| e.context(NO_REPLACEMENT))?;
            self.object = fresh.object.take();
        }
        match self.object.as_deref_mut() {
            Some(state) => Ok(&mut **state),
            None => Err(Error::new(ErrorKind::ConnectionLost, NO_REPLACEMENT)),
        }
    }

    /// The server process id of this connection (`pg_backend_pid()`, read
    /// once when the connection was opened), for diagnostics and tests; 0
    /// when the handle holds no connection (a replacement failed).
    pub fn backend_pid(&self) -> i32 {
        self.object.as_ref().map_or(0, |o| o.backend_pid())
    }

    /// How many prepared statements this connection has cached.
    pub fn cached_statements(&self) -> usize {
        self.object.as_ref().map_or(0, |o| o.cached_statements())
    }
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        if let Some(object) = &mut self.object {
            object.on_return();
        }
    }
}

impl fmt::Debug for PgConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConnection")
            .field("backend_pid", &self.backend_pid())
            .field("transaction_depth", &self.object.as_ref().map_or(0, |o| o.depth()))
            .finish()
    }
}

/// The `tracing` span of one statement (cheap when nothing listens: the
/// statement text is only recorded when the span is enabled).
pub(crate) fn statement_span(sql: &str) -> tracing::Span {
    tracing::debug_span!("quarry.statement", db.system = "postgresql", db.statement = sql)
}

impl Connection for PgConnection {
    fn dialect(&self) -> &'static dyn Dialect {
        &quarry_core::Postgres
    }

    fn max_params(&self) -> usize {
        MAX_PARAMS
    }

    async fn execute(&mut self, query: Compiled) -> Result<u64, Error> {
        let span = statement_span(&query.sql);
        async move {
            let state = self.state().await?;
            let (op, rows) = state.start(&query).await?;
            state.drain(op, rows, |_| Ok(())).await
        }
        .instrument(span)
        .await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&mut self, query: Compiled) -> Result<Vec<T>, Error> {
        let span = statement_span(&query.sql);
        async move {
            let state = self.state().await?;
            let (op, rows) = state.start(&query).await?;
            let mut out = Vec::new();
            let own_checks = NameChecks::new();
            let checks = query.kept_name_checks::<T>().unwrap_or(&own_checks);
            state
                .drain(op, rows, |row| {
                    out.push(T::from_row(&PgRow::of_statement(row, checks))?);
                    Ok(())
                })
                .await?;
            Ok(out)
        }
        .instrument(span)
        .await
    }

    async fn fetch_optional<T: FromRow + Send + 'static>(&mut self, query: Compiled) -> Result<Option<T>, Error> {
        let span = statement_span(&query.sql);
        async move {
            let state = self.state().await?;
            let (op, rows) = state.start(&query).await?;
            let mut first = None;
            // The other rows are read (not decoded): the statement may still
            // fail after its first row (an UPDATE ... RETURNING, say).
            state
                .drain(op, rows, |row| {
                    if first.is_none() {
                        let row = match query.kept_name_checks::<T>() {
                            Some(checks) => PgRow::of_statement(row, checks),
                            None => PgRow::new(row),
                        };
                        first = Some(T::from_row(&row)?);
                    }
                    Ok(())
                })
                .await?;
            Ok(first)
        }
        .instrument(span)
        .await
    }

    fn fetch_stream<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Stream<Item = Result<T, Error>> + Send + '_ {
        crate::stream::rows(self, query)
    }

    async fn begin_transaction(&mut self, options: &TransactionOptions) -> Result<(), Error> {
        self.state().await?.begin(options).await
    }

    async fn commit_transaction(&mut self) -> Result<(), Error> {
        self.state().await?.commit().await
    }

    async fn rollback_transaction(&mut self) -> Result<(), Error> {
        self.state().await?.rollback().await
    }

    fn abandon_transaction(&mut self) {
        if let Some(object) = &mut self.object {
            object.abandon();
        }
    }

    fn transaction_depth(&self) -> usize {
        self.object.as_ref().map_or(0, |o| o.depth())
    }
}
