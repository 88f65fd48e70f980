//! The connection handle users hold: a reader for reads, the writer (taken
//! per statement, or for a whole write transaction) for everything else.

use deadpool::managed::Object;
use futures_core::Stream;
use quarry_core::{
    Compiled, Connection, Dialect, Error, ErrorKind, FromRow, Sqlite, StatementKind, TransactionBehavior,
    TransactionOptions,
};
use tracing::Instrument;

use crate::pool::{ConnManager, SqlitePool, discard, release};
use crate::run;
use crate::stream::RowStream;
use crate::worker::PooledConn;

/// Which connection an open transaction runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Side {
    #[default]
    Reader,
    Writer,
}

/// Open transactions and savepoints.
#[derive(Debug, Default)]
struct TxState {
    /// Transactions plus savepoints open, as the guards see them.
    depth: usize,
    /// The connection they run on.
    side: Side,
    /// A dropped guard's level: roll back to this depth before anything else.
    rollback_to: Option<usize>,
}

/// The savepoint opened when going from `depth - 1` to `depth` (`depth >= 2`).
fn savepoint(depth: usize) -> String {
    format!("quarry_sp_{depth}")
}

/// A connection from a [`SqlitePool`].
///
/// It holds a reader connection for its whole life. Statements that only
/// read ([`StatementKind::Read`]) run on it; others take the pool's single
/// writer for the statement's duration, waiting for it up to the busy
/// timeout. `begin()` takes the writer for the whole transaction
/// (`BEGIN IMMEDIATE` by default), or stays on the reader for a read-only
/// transaction.
#[derive(Debug)]
pub struct SqliteConnection {
    pool: SqlitePool,
    reader: Option<Object<ConnManager>>,
    writer: Option<Object<ConnManager>>,
    tx: TxState,
}

fn statement_span(sql: &str) -> tracing::Span {
    tracing::debug_span!("quarry.statement", db.system = "sqlite", db.statement = sql)
}

impl SqliteConnection {
    pub(crate) fn new(pool: SqlitePool, reader: Object<ConnManager>) -> Self {
        SqliteConnection { pool, reader: Some(reader), writer: None, tx: TxState::default() }
    }

    fn side(&mut self, side: Side) -> Result<&mut PooledConn, Error> {
        let slot = match side {
            Side::Reader => &mut self.reader,
            Side::Writer => &mut self.writer,
        };
        slot.as_deref_mut().ok_or_else(crate::worker::abandoned)
    }

    /// Release the writer unless a transaction needs it.
    fn release_writer(&mut self) {
        if self.tx.depth == 0
            && self.tx.rollback_to.is_none()
            && let Some(writer) = self.writer.take()
        {
            if writer.in_flight || writer.broken { discard(writer) } else { release(writer) }
        }
    }

    /// Replace unusable connections, then carry out the rollback a dropped
    /// transaction guard asked for: what every operation does first.
    async fn resolve_pending(&mut self) -> Result<(), Error> {
        self.replace_unusable().await?;
        let Some(target) = self.tx.rollback_to else {
            return Ok(());
        };
        let side = self.tx.side;
        let conn = self.side(side)?;
        let result = if target == 0 {
            conn.run(run::rollback).await
        } else {
            let name = savepoint(target + 1);
            conn.run(move |c| run::rollback_to(c, &name)).await
        };
        self.tx.rollback_to = None;
        if target == 0 {
            if let Ok(conn) = self.side(side) {
                conn.maybe_in_transaction = false;
            }
            self.release_writer();
        }
        result
    }

    /// Outside a transaction (as the user sees it: a dropped guard's
    /// rollback to depth 0 counts as none), a connection abandoned
    /// mid-operation (a dropped future) or broken is discarded, which also
    /// ends any transaction on it, and the handle takes a fresh reader; the
    /// writer is taken afresh when next needed. Inside a transaction its
    /// work is gone with the connection, and the handle reports
    /// `ConnectionLost` until the guard is dropped.
    async fn replace_unusable(&mut self) -> Result<(), Error> {
        if self.tx.depth > 0 {
            return Ok(());
        }
        let unusable = |slot: &Option<Object<ConnManager>>| slot.as_ref().is_some_and(|c| c.in_flight || c.broken);
        if unusable(&self.writer) {
            if self.tx.side == Side::Writer {
                self.tx.rollback_to = None;
            }
            if let Some(writer) = self.writer.take() {
                discard(writer);
            }
        }
        if self.reader.is_none() || unusable(&self.reader) {
            if self.tx.side == Side::Reader {
                self.tx.rollback_to = None;
            }
            if let Some(reader) = self.reader.take() {
                discard(reader);
            }
            self.reader = Some(self.pool.checkout_reader().await?);
        }
        Ok(())
    }

    /// The connection a statement of `kind` runs on, taking the writer if
    /// it is needed and free.
    async fn target(&mut self, kind: StatementKind) -> Result<Side, Error> {
        self.resolve_pending().await?;
        if self.tx.depth > 0 {
            return Ok(self.tx.side);
        }
        if kind == StatementKind::Read {
            return Ok(Side::Reader);
        }
        if self.writer.is_none() {
            // Boxed: the checkout's future (deadpool's, with its timeouts
            // and connection opening) is large, and every statement's
            // future, reads included, would otherwise carry and copy it.
            self.writer = Some(Box::pin(self.pool.checkout_writer()).await?);
        }
        Ok(Side::Writer)
    }

    /// Run `f` on the connection for `kind`, inside `span` (made by the
    /// caller before the statement moves into `f`, so that its text is not
    /// copied: 200 KB for a 10,000-row insert).
    async fn run_statement<R, F>(&mut self, kind: StatementKind, span: tracing::Span, f: F) -> Result<R, Error>
    where
        F: FnOnce(&mut rusqlite::Connection) -> Result<R, Error> + Send + 'static,
        R: Send + 'static,
    {
        let side = self.target(kind).await?;
        let result = self.side(side)?.run(f).instrument(span).await;
        self.release_writer();
        result
    }
}

impl Connection for SqliteConnection {
    fn dialect(&self) -> &'static dyn Dialect {
        &Sqlite
    }

    fn max_params(&self) -> usize {
        self.pool.max_params()
    }

    async fn execute(&mut self, query: Compiled) -> Result<u64, Error> {
        let (kind, span) = (query.kind, statement_span(&query.sql));
        self.run_statement(kind, span, move |c| run::execute(c, &query)).await
    }

    async fn fetch_all<T: FromRow + Send + 'static>(&mut self, query: Compiled) -> Result<Vec<T>, Error> {
        let (kind, span) = (query.kind, statement_span(&query.sql));
        self.run_statement(kind, span, move |c| run::fetch_all::<T>(c, &query)).await
    }

    async fn fetch_optional<T: FromRow + Send + 'static>(&mut self, query: Compiled) -> Result<Option<T>, Error> {
        let (kind, span) = (query.kind, statement_span(&query.sql));
        self.run_statement(kind, span, move |c| run::fetch_optional::<T>(c, &query)).await
    }

    fn fetch_stream<T: FromRow + Send + 'static>(
        &mut self,
        query: Compiled,
    ) -> impl Stream<Item = Result<T, Error>> + Send + '_ {
        RowStream::new(Box::pin(async move {
            let side = self.target(query.kind).await?;
            let conn = self.side(side)?;
            let (receiver, interrupt) = crate::stream::start::<T>(conn, query).await?;
            Ok((receiver, interrupt))
        }))
    }

    async fn begin_transaction(&mut self, options: &TransactionOptions) -> Result<(), Error> {
        self.resolve_pending().await?;
        if self.tx.depth > 0 {
            options.check_for_savepoint()?;
            let name = savepoint(self.tx.depth + 1);
            let side = self.tx.side;
            self.side(side)?.run(move |c| run::batch(c, &format!("SAVEPOINT {name}"))).await?;
            self.tx.depth += 1;
            return Ok(());
        }
        let (side, sql) = if options.read_only {
            (Side::Reader, "BEGIN DEFERRED")
        } else {
            let sql = match options.behavior {
                TransactionBehavior::Deferred => "BEGIN DEFERRED",
                TransactionBehavior::Immediate => "BEGIN IMMEDIATE",
                TransactionBehavior::Exclusive => "BEGIN EXCLUSIVE",
            };
            if self.writer.is_none() {
                self.writer = Some(self.pool.checkout_writer().await?);
            }
            (Side::Writer, sql)
        };
        let conn = self.side(side)?;
        conn.maybe_in_transaction = true;
        match conn.run(move |c| run::batch(c, sql)).await {
            Ok(()) => {
                self.tx = TxState { depth: 1, side, rollback_to: None };
                Ok(())
            }
            Err(e) => {
                self.release_writer();
                Err(e)
            }
        }
    }

    async fn commit_transaction(&mut self) -> Result<(), Error> {
        self.resolve_pending().await?;
        let side = self.tx.side;
        match self.tx.depth {
            0 => Err(Error::new(ErrorKind::Database, "COMMIT with no transaction open")),
            1 => {
                let conn = self.side(side)?;
                let result = conn.run(run::commit).await;
                // A failed COMMIT was rolled back by `run::commit`; if even that
                // failed, the pool checks the connection again before reuse.
                conn.maybe_in_transaction = result.is_err();
                self.tx.depth = 0;
                self.release_writer();
                result
            }
            depth => {
                let name = savepoint(depth);
                self.tx.depth -= 1;
                self.side(side)?.run(move |c| run::batch(c, &format!("RELEASE SAVEPOINT {name}"))).await
            }
        }
    }

    async fn rollback_transaction(&mut self) -> Result<(), Error> {
        self.resolve_pending().await?;
        let side = self.tx.side;
        match self.tx.depth {
            0 => Err(Error::new(ErrorKind::Database, "ROLLBACK with no transaction open")),
            1 => {
                let conn = self.side(side)?;
                let result = conn.run(run::rollback).await;
                if result.is_ok() {
                    conn.maybe_in_transaction = false;
                }
                self.tx.depth = 0;
                self.release_writer();
                result
            }
            depth => {
                let name = savepoint(depth);
                self.tx.depth -= 1;
                self.side(side)?.run(move |c| run::rollback_to(c, &name)).await
            }
        }
    }

    fn abandon_transaction(&mut self) {
        if self.tx.depth > 0 {
            self.tx.depth -= 1;
            let target = self.tx.depth;
            self.tx.rollback_to = Some(self.tx.rollback_to.map_or(target, |t| t.min(target)));
        }
    }

    fn transaction_depth(&self) -> usize {
        self.tx.depth
    }
}

impl Drop for SqliteConnection {
    /// Connections go back to their pools clean: one abandoned mid-operation
    /// is interrupted and discarded; one still inside a transaction is rolled
    /// back (on a task) before it returns to the pool, or discarded when no
    /// runtime is there to do it.
    fn drop(&mut self) {
        let open_tx = self.tx.depth > 0 || self.tx.rollback_to.is_some();
        for (side, slot) in [(Side::Reader, self.reader.take()), (Side::Writer, self.writer.take())] {
            let Some(mut conn) = slot else { continue };
            if conn.in_flight || conn.broken {
                discard(conn);
            } else if open_tx && side == self.tx.side {
                conn.maybe_in_transaction = true;
                roll_back_then_release(conn);
            } else {
                release(conn);
            }
        }
    }
}

/// Roll back `conn`'s open transaction, then return it to the pool.
fn roll_back_then_release(mut conn: Object<ConnManager>) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                match conn.run(run::rollback).await {
                    Ok(()) => {
                        conn.maybe_in_transaction = false;
                        release(conn);
                    }
                    Err(_) => discard(conn),
                }
            });
        }
        Err(_) => discard(conn),
    }
}
