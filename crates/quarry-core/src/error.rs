//! The one error type every part of Quarry returns.

use std::borrow::Cow;
use std::fmt;

use crate::compile::CompileError;
use crate::value::DecodeError;

/// A boxed error from a lower layer, kept as [`source`](std::error::Error::source).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, independent of the driver that saw it.
///
/// The same failure has the same kind on every backend: a duplicate key is
/// [`ErrorKind::UniqueViolation`] whether PostgreSQL reported SQLSTATE
/// `23505` or SQLite `SQLITE_CONSTRAINT_UNIQUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A unique or primary key constraint was violated.
    UniqueViolation,
    /// A foreign key constraint was violated.
    ForeignKeyViolation,
    /// A `NOT NULL` constraint was violated.
    NotNullViolation,
    /// A `CHECK` constraint was violated.
    CheckViolation,
    /// The transaction could not be serialized (PostgreSQL `40001`); retry it.
    SerializationFailure,
    /// The transaction was chosen as a deadlock victim (PostgreSQL `40P01`); retry it.
    Deadlock,
    /// The database is busy or locked (SQLite `SQLITE_BUSY`/`SQLITE_LOCKED`,
    /// PostgreSQL `55P03` lock timeout); retry it.
    Busy,
    /// The statement was cancelled (PostgreSQL `57014`, statement timeout, or
    /// an interrupted SQLite statement).
    QueryCanceled,
    /// A cached prepared statement no longer matches the schema, inside a
    /// transaction where it could not be re-prepared transparently.
    StaleStatement,
    /// No connection could be had from the pool in time. The error names
    /// the phase (waiting, connecting, verifying) and carries the last
    /// connection error, if any, as its source.
    PoolTimeout,
    /// The pool has been closed.
    PoolClosed,
    /// The connection was lost, or is in an unknown state and was discarded
    /// (I/O error, server shutdown, an operation abandoned mid-way).
    ConnectionLost,
    /// A connection could not be opened (refused, unreachable, too many
    /// connections).
    Connect,
    /// The server rejected the credentials (PostgreSQL `28P01`, `28000`).
    Auth,
    /// The server could not parse or analyse the statement (`42601`, unknown
    /// table or column, `SQLITE_ERROR`).
    Syntax,
    /// A write was attempted on a read-only database or transaction.
    ReadOnly,
    /// The disk or a resource limit is full (SQLite `SQLITE_FULL`, PostgreSQL `53100`).
    DiskFull,
    /// The database file is corrupt (`SQLITE_CORRUPT`).
    Corrupt,
    /// The file is not a database (`SQLITE_NOTADB`).
    NotADatabase,
    /// The database file could not be opened (`SQLITE_CANTOPEN`).
    CannotOpen,
    /// A value from the database could not be decoded into the Rust type asked for.
    Decode,
    /// A value could not be encoded for the database (out of range for the
    /// parameter's type, NaN on SQLite, over the 1 GiB limit).
    Encode,
    /// The statement could not be compiled for the dialect (see [`CompileError`]).
    Compile,
    /// A URL or configuration value is invalid, or names a driver whose
    /// cargo feature is off.
    Config,
    /// `fetch_one` found no row.
    RowNotFound,
    /// Code running on Quarry's behalf (a row decoder, a hook) panicked.
    Panic,
    /// Any other error reported by the database.
    Database,
    /// An error raised by application code inside a transaction closure.
    Other,
}

impl ErrorKind {
    /// A short lower-case name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UniqueViolation => "unique violation",
            ErrorKind::ForeignKeyViolation => "foreign key violation",
            ErrorKind::NotNullViolation => "not-null violation",
            ErrorKind::CheckViolation => "check violation",
            ErrorKind::SerializationFailure => "serialization failure",
            ErrorKind::Deadlock => "deadlock detected",
            ErrorKind::Busy => "database busy",
            ErrorKind::QueryCanceled => "query canceled",
            ErrorKind::StaleStatement => "stale prepared statement",
            ErrorKind::PoolTimeout => "pool timeout",
            ErrorKind::PoolClosed => "pool closed",
            ErrorKind::ConnectionLost => "connection lost",
            ErrorKind::Connect => "cannot connect",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::Syntax => "invalid statement",
            ErrorKind::ReadOnly => "read-only",
            ErrorKind::DiskFull => "disk full",
            ErrorKind::Corrupt => "database corrupt",
            ErrorKind::NotADatabase => "not a database",
            ErrorKind::CannotOpen => "cannot open database",
            ErrorKind::Decode => "decode error",
            ErrorKind::Encode => "encode error",
            ErrorKind::Compile => "compile error",
            ErrorKind::Config => "configuration error",
            ErrorKind::RowNotFound => "no row found",
            ErrorKind::Panic => "panic",
            ErrorKind::Database => "database error",
            ErrorKind::Other => "error",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error type of every Quarry operation.
///
/// `kind()` says what went wrong in driver-independent terms; `sqlstate()`,
/// `constraint()`, `table()` and `column()` give what the database reported.
/// The error is one pointer wide.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<BoxError>,
    sqlstate: Option<Cow<'static, str>>,
    constraint: Option<String>,
    table: Option<String>,
    column: Option<String>,
    outcome_unknown: bool,
}

impl Error {
    /// A new error of `kind` with a lower-case message saying what was being done.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error(Box::new(Inner {
            kind,
            message: message.into(),
            source: None,
            sqlstate: None,
            constraint: None,
            table: None,
            column: None,
            outcome_unknown: false,
        }))
    }

    /// Wrap an application error raised inside a transaction closure
    /// ([`ErrorKind::Other`], never retried).
    pub fn other(error: impl Into<BoxError>) -> Self {
        let source = error.into();
        Error::new(ErrorKind::Other, source.to_string()).with_source(source)
    }

    /// Attach the lower-level cause.
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.0.source = Some(source.into());
        self
    }

    /// Attach the SQLSTATE (PostgreSQL) or extended result code name (SQLite).
    pub fn with_sqlstate(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.0.sqlstate = Some(code.into());
        self
    }

    /// Attach the name of the violated constraint.
    pub fn with_constraint(mut self, name: impl Into<String>) -> Self {
        self.0.constraint = Some(name.into());
        self
    }

    /// Attach the table the error concerns.
    pub fn with_table(mut self, name: impl Into<String>) -> Self {
        self.0.table = Some(name.into());
        self
    }

    /// Attach the column the error concerns.
    pub fn with_column(mut self, name: impl Into<String>) -> Self {
        self.0.column = Some(name.into());
        self
    }

    /// Mark that the connection was lost while a `COMMIT` was in flight, so
    /// whether the transaction committed is unknown.
    pub fn with_outcome_unknown(mut self) -> Self {
        self.0.outcome_unknown = true;
        self
    }

    /// Prefix the message with what was being done ("decoding column 2 `age`").
    pub fn context(mut self, doing: impl fmt::Display) -> Self {
        self.0.message = Cow::Owned(format!("{doing}: {}", self.0.message));
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The SQLSTATE code (PostgreSQL, e.g. `23505`) or the extended result
    /// code name (SQLite, e.g. `SQLITE_CONSTRAINT_UNIQUE`).
    pub fn sqlstate(&self) -> Option<&str> {
        self.0.sqlstate.as_deref()
    }

    /// The violated constraint's name, when the database reports it.
    pub fn constraint(&self) -> Option<&str> {
        self.0.constraint.as_deref()
    }

    /// The table the error concerns, when the database reports it.
    pub fn table(&self) -> Option<&str> {
        self.0.table.as_deref()
    }

    /// The column the error concerns, when the database reports it.
    pub fn column(&self) -> Option<&str> {
        self.0.column.as_deref()
    }

    /// Whether the connection was lost during `COMMIT`, so that the
    /// transaction may or may not have been committed. Quarry never retries
    /// such a commit.
    pub fn commit_outcome_unknown(&self) -> bool {
        self.0.outcome_unknown
    }

    /// Whether running the whole transaction again may succeed:
    /// serialization failures, deadlocks and busy databases.
    pub fn is_retryable(&self) -> bool {
        matches!(self.0.kind, ErrorKind::SerializationFailure | ErrorKind::Deadlock | ErrorKind::Busy)
    }

    /// Whether the connection that raised this error must not be used again.
    pub fn is_connection_lost(&self) -> bool {
        self.0.kind == ErrorKind::ConnectionLost
    }

    /// A decode failure for column `index` (named `name`) of a row.
    pub fn decode(index: usize, name: &str, error: DecodeError) -> Self {
        let mut message = format!("decoding column {index} `{name}` as {}: found {}", error.expected(), error.found());
        if let Some(detail) = error.detail() {
            message.push_str(" (");
            message.push_str(detail);
            message.push(')');
        }
        Error::new(ErrorKind::Decode, message).with_column(name).with_source(error)
    }

    /// "no row found" for `fetch_one`.
    pub fn row_not_found() -> Self {
        Error::new(ErrorKind::RowNotFound, "the query returned no row")
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.0.kind).field("message", &self.0.message);
        if let Some(code) = &self.0.sqlstate {
            d.field("sqlstate", code);
        }
        if let Some(c) = &self.0.constraint {
            d.field("constraint", c);
        }
        if let Some(t) = &self.0.table {
            d.field("table", t);
        }
        if let Some(c) = &self.0.column {
            d.field("column", c);
        }
        if self.0.outcome_unknown {
            d.field("commit_outcome_unknown", &true);
        }
        if let Some(s) = &self.0.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.kind, self.0.message)?;
        if let Some(code) = &self.0.sqlstate {
            write!(f, " [{code}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<CompileError> for Error {
    fn from(e: CompileError) -> Self {
        Error::new(ErrorKind::Compile, e.to_string()).with_source(e)
    }
}

/// `Result` with Quarry's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer_and_shows_kind_and_code() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        let e = Error::new(ErrorKind::UniqueViolation, "duplicate key value")
            .with_sqlstate("23505")
            .with_constraint("users_email_key");
        assert_eq!(e.to_string(), "unique violation: duplicate key value [23505]");
        assert_eq!(e.constraint(), Some("users_email_key"));
        assert!(!e.is_retryable());
        assert!(Error::new(ErrorKind::Deadlock, "x").is_retryable());
    }
}
