//! Mapping tokio-postgres errors to Quarry's [`Error`]: SQLSTATE codes to
//! [`ErrorKind`]s, connection loss, and encode errors raised while binding.
//!
//! Classification never looks at the server's message text (it depends on
//! `lc_messages`): only at the SQLSTATE code, the severity and, for stale
//! prepared statements, the reporting routine.

use std::borrow::Cow;
use std::io;

use quarry_core::{Error, ErrorKind};
use tokio_postgres::error::{DbError, Severity};

use crate::bind::BindError;

/// The server routine that raises "cached plan must not change result type".
const STALE_PLAN_ROUTINE: &str = "RevalidateCachedQuery";

/// The [`ErrorKind`] for a SQLSTATE code.
pub(crate) fn kind_for_sqlstate(code: &str) -> ErrorKind {
    match code {
        "23505" => ErrorKind::UniqueViolation,
        "23503" => ErrorKind::ForeignKeyViolation,
        "23502" => ErrorKind::NotNullViolation,
        "23514" => ErrorKind::CheckViolation,
        "40001" => ErrorKind::SerializationFailure,
        "40P01" => ErrorKind::Deadlock,
        "55P03" => ErrorKind::Busy,
        "57014" => ErrorKind::QueryCanceled,
        "57P01" | "57P02" | "57P03" | "25P03" => ErrorKind::ConnectionLost,
        "28P01" | "28000" => ErrorKind::Auth,
        "53300" => ErrorKind::Connect,
        "53100" => ErrorKind::DiskFull,
        "25006" => ErrorKind::ReadOnly,
        _ if code.starts_with("08") => ErrorKind::ConnectionLost,
        _ if code.starts_with("42") => ErrorKind::Syntax,
        _ => ErrorKind::Database,
    }
}

/// Whether `db` is PostgreSQL's "cached plan must not change result type",
/// matched by code and routine, never by the (localised) message.
fn is_stale_plan(db: &DbError) -> bool {
    db.code().code() == "0A000" && db.routine() == Some(STALE_PLAN_ROUTINE)
}

/// A server error as a Quarry error: kind, SQLSTATE, message and the
/// constraint, table and column the server names.
pub(crate) fn from_db_error(db: &DbError) -> Error {
    let code = db.code().code();
    let kind = if is_stale_plan(db) { ErrorKind::StaleStatement } else { kind_for_sqlstate(code) };
    let mut err = Error::new(kind, db.message().to_owned()).with_sqlstate(Cow::Owned(code.to_owned()));
    if let Some(c) = db.constraint() {
        err = err.with_constraint(c);
    }
    if let Some(t) = db.table() {
        err = err.with_table(t);
    }
    if let Some(c) = db.column() {
        err = err.with_column(c);
    }
    err
}

/// Whether the session is over after `db` (a FATAL or PANIC report, or a
/// connection-loss SQLSTATE).
fn ends_session(db: &DbError) -> bool {
    matches!(db.parsed_severity(), Some(Severity::Fatal | Severity::Panic))
        || kind_for_sqlstate(db.code().code()) == ErrorKind::ConnectionLost
}

/// What an error means for the connection that raised it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The connection is in a known state and may be used again.
    Usable,
    /// The connection is lost or desynchronised: discard it.
    Broken,
}

/// Map an error from running a statement. Encode errors raised by our
/// binding come back as [`ErrorKind::Encode`]; server errors by SQLSTATE;
/// everything else (I/O, a closed client, a protocol surprise) means the
/// connection is lost.
pub(crate) fn from_pg(e: tokio_postgres::Error) -> (Error, Fate) {
    if let Some(db) = e.as_db_error() {
        let fate = if ends_session(db) { Fate::Broken } else { Fate::Usable };
        let mut err = from_db_error(db);
        if fate == Fate::Broken && err.kind() != ErrorKind::ConnectionLost {
            err = Error::new(ErrorKind::ConnectionLost, err.message().to_owned())
                .with_sqlstate(Cow::Owned(db.code().code().to_owned()));
        }
        return (err.with_source(e), fate);
    }
    if let Some(bind) = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<BindError>()) {
        // Raised while encoding, before anything was sent.
        return (bind.to_error(), Fate::Usable);
    }
    if e.is_closed() {
        return (
            Error::new(ErrorKind::ConnectionLost, "the connection to the server is closed").with_source(e),
            Fate::Broken,
        );
    }
    let io = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>());
    let message = match io {
        Some(io) => format!("{e}: {io}"),
        None => e.to_string(),
    };
    (Error::new(ErrorKind::ConnectionLost, message).with_source(e), Fate::Broken)
}

/// Map an error from opening a connection: authentication and
/// configuration problems are permanent (fail fast), refused or unreachable
/// servers and "too many connections" are transient ([`ErrorKind::Connect`]).
pub(crate) fn from_connect(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let kind = match kind_for_sqlstate(code) {
            ErrorKind::Auth => ErrorKind::Auth,
            // "permission denied for database"
            _ if code == "42501" => ErrorKind::Auth,
            // "database does not exist"
            _ if code == "3D000" => ErrorKind::Config,
            _ => ErrorKind::Connect,
        };
        let err = Error::new(kind, format!("connecting: {}", db.message())).with_sqlstate(Cow::Owned(code.to_owned()));
        return err.with_source(e);
    }
    let io = std::error::Error::source(&e).and_then(|s| s.downcast_ref::<io::Error>());
    match io {
        Some(io) => Error::new(ErrorKind::Connect, format!("connecting: {io}")).with_source(e),
        None => {
            // tokio-postgres keeps its error kinds private; its Display
            // (not the server's text) says which one this is.
            let text = e.to_string();
            let detail = std::error::Error::source(&e).map(|s| s.to_string());
            let message = match &detail {
                Some(d) => format!("connecting: {text}: {d}"),
                None => format!("connecting: {text}"),
            };
            let kind = if text.starts_with("authentication") || detail.as_deref() == Some("password missing") {
                ErrorKind::Auth
            } else if text.starts_with("invalid configuration") || text.starts_with("invalid connection string") {
                ErrorKind::Config
            } else {
                ErrorKind::Connect
            };
            Error::new(kind, message).with_source(e)
        }
    }
}

/// Whether a failed connection attempt may succeed if tried again before
/// the acquire deadline (the server refused, is unreachable, starting up,
/// or out of connection slots), as opposed to bad credentials or
/// configuration, which fail at once.
pub(crate) fn is_transient_connect(e: &Error) -> bool {
    if !matches!(e.kind(), ErrorKind::Connect | ErrorKind::ConnectionLost) {
        return false;
    }
    match e.sqlstate() {
        // I/O: refused, unreachable, reset, timed out.
        None => true,
        // Out of connection slots; starting up or shutting down.
        Some(code) => matches!(code, "53300" | "57P01" | "57P02" | "57P03") || code.starts_with("08"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_passing_connect_failures_are_retried() {
        let connect = |code: Option<&'static str>| {
            let e = Error::new(ErrorKind::Connect, "x");
            match code {
                Some(c) => e.with_sqlstate(c),
                None => e,
            }
        };
        assert!(is_transient_connect(&connect(None)));
        assert!(is_transient_connect(&connect(Some("53300"))));
        assert!(is_transient_connect(&connect(Some("57P03"))));
        assert!(is_transient_connect(&connect(Some("08006"))));
        assert!(!is_transient_connect(&connect(Some("XX000"))));
        assert!(!is_transient_connect(&Error::new(ErrorKind::Auth, "x").with_sqlstate("28P01")));
        assert!(!is_transient_connect(&Error::new(ErrorKind::Config, "x").with_sqlstate("3D000")));
    }

    #[test]
    fn sqlstates_map_to_kinds() {
        let table = [
            ("23505", ErrorKind::UniqueViolation),
            ("23503", ErrorKind::ForeignKeyViolation),
            ("23502", ErrorKind::NotNullViolation),
            ("23514", ErrorKind::CheckViolation),
            ("40001", ErrorKind::SerializationFailure),
            ("40P01", ErrorKind::Deadlock),
            ("55P03", ErrorKind::Busy),
            ("57014", ErrorKind::QueryCanceled),
            ("08006", ErrorKind::ConnectionLost),
            ("08P01", ErrorKind::ConnectionLost),
            ("57P01", ErrorKind::ConnectionLost),
            ("57P02", ErrorKind::ConnectionLost),
            ("57P03", ErrorKind::ConnectionLost),
            ("25P03", ErrorKind::ConnectionLost),
            ("28P01", ErrorKind::Auth),
            ("28000", ErrorKind::Auth),
            ("53300", ErrorKind::Connect),
            ("53100", ErrorKind::DiskFull),
            ("25006", ErrorKind::ReadOnly),
            ("42601", ErrorKind::Syntax),
            ("42P01", ErrorKind::Syntax),
            ("42703", ErrorKind::Syntax),
            ("0A000", ErrorKind::Database),
            ("22012", ErrorKind::Database),
            ("25P02", ErrorKind::Database),
        ];
        for (code, kind) in table {
            assert_eq!(kind_for_sqlstate(code), kind, "{code}");
        }
    }
}
