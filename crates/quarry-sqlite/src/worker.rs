//! One SQLite connection on its own thread (tokio-rusqlite), with the state
//! the pool needs to know whether it may be reused.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quarry_core::{Error, ErrorKind};
use rusqlite::limits::Limit;
use rusqlite::{Connection as RawConnection, InterruptHandle, OpenFlags};

use crate::error;
use crate::url::{AccessMode, Location, SqliteOptions};

/// What a connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The one connection that writes.
    Writer,
    /// A connection that only reads (`PRAGMA query_only`).
    Reader,
    /// Holds an in-memory database open for the pool's lifetime; never used.
    Keeper,
}

/// How long a stream's thread may take to notice it was dropped.
const DRAIN_WAIT: Duration = Duration::from_secs(5);

/// A pooled SQLite connection.
///
/// `in_flight` is set while an operation has been handed to the connection
/// thread and not yet answered: if the operation's future is dropped, it
/// stays set and the connection is discarded, never reused.
/// `maybe_in_transaction` is set while a transaction may be open, so that
/// the pool checks `is_autocommit()` (and rolls back) before reuse.
pub(crate) struct PooledConn {
    worker: tokio_rusqlite::Connection,
    interrupt: Arc<InterruptHandle>,
    pub(crate) in_flight: bool,
    pub(crate) maybe_in_transaction: bool,
    pub(crate) broken: bool,
    /// A dropped stream's thread-side loop, still stopping.
    pub(crate) draining: Option<tokio::task::JoinHandle<()>>,
    pub(crate) returned_at: Instant,
}

impl std::fmt::Debug for PooledConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledConn")
            .field("in_flight", &self.in_flight)
            .field("maybe_in_transaction", &self.maybe_in_transaction)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

/// The error for a connection that cannot be used again.
pub(crate) fn abandoned() -> Error {
    Error::new(
        ErrorKind::ConnectionLost,
        "the connection was abandoned during an operation (its future was dropped) and cannot be reused; acquire a new one",
    )
}

fn panic_error(payload: Box<dyn std::any::Any + Send>) -> Error {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    Error::new(ErrorKind::Panic, format!("code running on the SQLite connection panicked: {message}"))
}

impl PooledConn {
    /// Open and configure a connection for `role`, on a blocking thread.
    /// Returns it with the database's parameter limit.
    pub(crate) async fn open(
        options: &SqliteOptions,
        role: Role,
        cache_capacity: usize,
    ) -> Result<(PooledConn, usize), Error> {
        let options = options.clone();
        let opened = tokio::task::spawn_blocking(move || open_blocking(&options, role, cache_capacity))
            .await
            .map_err(|e| Error::new(ErrorKind::Panic, format!("opening the SQLite connection failed: {e}")))??;
        let (raw, limit) = opened;
        let interrupt = Arc::new(raw.get_interrupt_handle());
        let conn = PooledConn {
            worker: tokio_rusqlite::Connection::from(raw),
            interrupt,
            in_flight: false,
            maybe_in_transaction: false,
            broken: false,
            draining: None,
            returned_at: Instant::now(),
        };
        Ok((conn, limit))
    }

    /// The connection thread's handle, for streams that run on their own task.
    pub(crate) fn worker(&self) -> tokio_rusqlite::Connection {
        self.worker.clone()
    }

    /// The handle that interrupts the running statement.
    pub(crate) fn interrupt_handle(&self) -> Arc<InterruptHandle> {
        self.interrupt.clone()
    }

    /// Stop whatever the connection thread is running (a cancelled operation).
    pub(crate) fn interrupt(&self) {
        self.interrupt.interrupt();
    }

    /// Wait for a dropped stream to stop; fail if the connection is unusable.
    pub(crate) async fn settle(&mut self) -> Result<(), Error> {
        if let Some(draining) = self.draining.take()
            && tokio::time::timeout(DRAIN_WAIT, draining).await.is_err()
        {
            self.broken = true;
        }
        if self.broken || self.in_flight { Err(abandoned()) } else { Ok(()) }
    }

    /// Run `f` on the connection thread. A panic inside `f` is caught and
    /// reported as [`ErrorKind::Panic`]; the connection is then discarded.
    pub(crate) async fn run<R, F>(&mut self, f: F) -> Result<R, Error>
    where
        F: FnOnce(&mut RawConnection) -> Result<R, Error> + Send + 'static,
        R: Send + 'static,
    {
        self.settle().await?;
        self.in_flight = true;
        let result = self
            .worker
            .call(move |c| catch_unwind(AssertUnwindSafe(|| f(c))).unwrap_or_else(|p| Err(panic_error(p))))
            .await;
        self.in_flight = false;
        match result {
            Ok(value) => Ok(value),
            Err(tokio_rusqlite::Error::Error(e)) => {
                if matches!(e.kind(), ErrorKind::Panic | ErrorKind::ConnectionLost) {
                    self.broken = true;
                }
                Err(e)
            }
            Err(_) => {
                self.broken = true;
                Err(error::worker_gone())
            }
        }
    }
}

fn open_flags(options: &SqliteOptions) -> OpenFlags {
    let access = match options.mode {
        AccessMode::Ro => OpenFlags::SQLITE_OPEN_READ_ONLY,
        AccessMode::Rw => OpenFlags::SQLITE_OPEN_READ_WRITE,
        AccessMode::Rwc => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
    };
    // Each connection is used by its own thread only.
    access | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// `file:<path>?immutable=1`, with the characters that URIs reserve escaped.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

fn pragma_value(conn: &RawConnection, pragma: &str) -> Result<String, Error> {
    conn.query_row(&format!("PRAGMA {pragma}"), [], |r| r.get::<_, rusqlite::types::Value>(0))
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .map_err(error::map)
}

fn open_blocking(options: &SqliteOptions, role: Role, cache_capacity: usize) -> Result<(RawConnection, usize), Error> {
    let flags = open_flags(options);
    let conn = match &options.location {
        Location::Memory(name) => RawConnection::open_with_flags_and_vfs(name, flags, c"memdb"),
        Location::File(path) if options.immutable => {
            RawConnection::open_with_flags(immutable_uri(path), flags | OpenFlags::SQLITE_OPEN_URI)
        }
        Location::File(path) => RawConnection::open_with_flags(Path::new(path), flags),
    }
    .map_err(|e| error::map(e).context(format_args!("opening SQLite database {:?}", options.location)))?;
    configure(&conn, options, role, cache_capacity)
        .map_err(|e| e.context(format_args!("configuring SQLite database {:?}", options.location)))?;
    if let Some(n) = options.max_variables {
        // SQLite keeps the lower of this and its compiled-in maximum.
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        conn.set_limit(Limit::SQLITE_LIMIT_VARIABLE_NUMBER, n).map_err(error::map)?;
    }
    let limit = conn.limit(Limit::SQLITE_LIMIT_VARIABLE_NUMBER).map_err(error::map)?;
    Ok((conn, usize::try_from(limit).unwrap_or(999)))
}

/// Every connection: double-quoted string literals off (a misspelt quoted
/// column is an error, not a string), foreign keys on (read back to check),
/// case-sensitive `LIKE` (as on PostgreSQL), the busy timeout, the statement
/// cache. File databases: WAL, set by the writer and checked by all.
fn configure(conn: &RawConnection, options: &SqliteOptions, role: Role, cache_capacity: usize) -> Result<(), Error> {
    use rusqlite::config::DbConfig;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DML, false).map_err(error::map)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DDL, false).map_err(error::map)?;
    conn.busy_timeout(options.busy_timeout).map_err(error::map)?;
    conn.set_prepared_statement_cache_capacity(cache_capacity);
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA case_sensitive_like = ON;").map_err(error::map)?;
    if pragma_value(conn, "foreign_keys")? != "1" {
        return Err(Error::new(ErrorKind::Config, "SQLite refused to turn foreign keys on"));
    }
    let file = matches!(options.location, Location::File(_));
    let writable = options.mode != AccessMode::Ro;
    if file && writable {
        // The writer is opened first and switches the file to WAL; the
        // others check that it is.
        let pragma = if role == Role::Writer { "journal_mode = WAL" } else { "journal_mode" };
        if role != Role::Keeper {
            let mode = pragma_value(conn, pragma)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("SQLite could not switch the database to WAL mode (journal_mode is {mode})"),
                ));
            }
        }
        conn.execute_batch(&format!("PRAGMA synchronous = {}", options.synchronous.as_sql())).map_err(error::map)?;
    } else {
        // Touch the database so that a file that is not one fails here.
        pragma_value(conn, "schema_version")?;
    }
    if role == Role::Reader {
        conn.execute_batch("PRAGMA query_only = ON").map_err(error::map)?;
    }
    Ok(())
}
