//! Mapping SQLite's result codes onto Quarry's [`ErrorKind`]s.

use quarry_core::{Error, ErrorKind};
use rusqlite::ffi;

/// The name of an extended result code, used as the error's `sqlstate()`.
fn code_name(extended: i32) -> Option<&'static str> {
    Some(match extended {
        ffi::SQLITE_ERROR => "SQLITE_ERROR",
        ffi::SQLITE_INTERNAL => "SQLITE_INTERNAL",
        ffi::SQLITE_PERM => "SQLITE_PERM",
        ffi::SQLITE_ABORT => "SQLITE_ABORT",
        ffi::SQLITE_BUSY => "SQLITE_BUSY",
        ffi::SQLITE_BUSY_SNAPSHOT => "SQLITE_BUSY_SNAPSHOT",
        ffi::SQLITE_BUSY_RECOVERY => "SQLITE_BUSY_RECOVERY",
        ffi::SQLITE_BUSY_TIMEOUT => "SQLITE_BUSY_TIMEOUT",
        ffi::SQLITE_LOCKED => "SQLITE_LOCKED",
        ffi::SQLITE_LOCKED_SHAREDCACHE => "SQLITE_LOCKED_SHAREDCACHE",
        ffi::SQLITE_NOMEM => "SQLITE_NOMEM",
        ffi::SQLITE_READONLY => "SQLITE_READONLY",
        ffi::SQLITE_READONLY_DBMOVED => "SQLITE_READONLY_DBMOVED",
        ffi::SQLITE_INTERRUPT => "SQLITE_INTERRUPT",
        ffi::SQLITE_IOERR => "SQLITE_IOERR",
        ffi::SQLITE_CORRUPT => "SQLITE_CORRUPT",
        ffi::SQLITE_NOTFOUND => "SQLITE_NOTFOUND",
        ffi::SQLITE_FULL => "SQLITE_FULL",
        ffi::SQLITE_CANTOPEN => "SQLITE_CANTOPEN",
        ffi::SQLITE_PROTOCOL => "SQLITE_PROTOCOL",
        ffi::SQLITE_SCHEMA => "SQLITE_SCHEMA",
        ffi::SQLITE_TOOBIG => "SQLITE_TOOBIG",
        ffi::SQLITE_CONSTRAINT => "SQLITE_CONSTRAINT",
        ffi::SQLITE_CONSTRAINT_CHECK => "SQLITE_CONSTRAINT_CHECK",
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => "SQLITE_CONSTRAINT_FOREIGNKEY",
        ffi::SQLITE_CONSTRAINT_NOTNULL => "SQLITE_CONSTRAINT_NOTNULL",
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => "SQLITE_CONSTRAINT_PRIMARYKEY",
        ffi::SQLITE_CONSTRAINT_UNIQUE => "SQLITE_CONSTRAINT_UNIQUE",
        ffi::SQLITE_CONSTRAINT_TRIGGER => "SQLITE_CONSTRAINT_TRIGGER",
        ffi::SQLITE_CONSTRAINT_DATATYPE => "SQLITE_CONSTRAINT_DATATYPE",
        ffi::SQLITE_MISMATCH => "SQLITE_MISMATCH",
        ffi::SQLITE_MISUSE => "SQLITE_MISUSE",
        ffi::SQLITE_AUTH => "SQLITE_AUTH",
        ffi::SQLITE_RANGE => "SQLITE_RANGE",
        ffi::SQLITE_NOTADB => "SQLITE_NOTADB",
        _ => return None,
    })
}

fn kind_of(extended: i32) -> ErrorKind {
    match extended {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => ErrorKind::UniqueViolation,
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
        ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
        ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
        _ => match extended & 0xff {
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => ErrorKind::Busy,
            ffi::SQLITE_READONLY => ErrorKind::ReadOnly,
            ffi::SQLITE_INTERRUPT => ErrorKind::QueryCanceled,
            ffi::SQLITE_CORRUPT => ErrorKind::Corrupt,
            ffi::SQLITE_NOTADB => ErrorKind::NotADatabase,
            ffi::SQLITE_FULL => ErrorKind::DiskFull,
            ffi::SQLITE_CANTOPEN => ErrorKind::CannotOpen,
            ffi::SQLITE_AUTH | ffi::SQLITE_PERM => ErrorKind::Auth,
            ffi::SQLITE_TOOBIG | ffi::SQLITE_RANGE => ErrorKind::Encode,
            ffi::SQLITE_ERROR => ErrorKind::Syntax,
            _ => ErrorKind::Database,
        },
    }
}

/// What SQLite names in a constraint message: `UNIQUE constraint failed:
/// users.email` gives table `users` and column `email`; `CHECK constraint
/// failed: name_not_empty` gives the constraint's name.
fn with_constraint_details(mut error: Error, extended: i32, message: &str) -> Error {
    let Some((_, detail)) = message.split_once("constraint failed: ") else {
        return error;
    };
    match extended {
        ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_NOTNULL => {
            // One or more `table.column`, comma-separated.
            let first = detail.split(", ").next().unwrap_or(detail);
            if let Some((table, column)) = first.split_once('.') {
                error = error.with_table(table).with_column(column);
            }
            if detail.contains(", ") || extended != ffi::SQLITE_CONSTRAINT_NOTNULL {
                error = error.with_constraint(detail);
            }
            error
        }
        ffi::SQLITE_CONSTRAINT_CHECK => error.with_constraint(detail),
        _ => error,
    }
}

/// Map a rusqlite error to Quarry's error, with `doing` saying what was
/// being done ("executing", "opening ...").
pub(crate) fn map(err: rusqlite::Error) -> Error {
    match err {
        rusqlite::Error::SqliteFailure(code, message) => {
            let extended = code.extended_code;
            let text = message.unwrap_or_else(|| code.to_string());
            let mut error = Error::new(kind_of(extended), text.clone());
            if let Some(name) = code_name(extended) {
                error = error.with_sqlstate(name);
            }
            with_constraint_details(error, extended, &text)
        }
        rusqlite::Error::ToSqlConversionFailure(source) => {
            Error::new(ErrorKind::Encode, source.to_string()).with_source(source)
        }
        rusqlite::Error::InvalidParameterCount(given, expected) => {
            Error::new(ErrorKind::Encode, format!("the statement takes {expected} parameters but {given} were bound"))
        }
        rusqlite::Error::SqlInputError { error, msg, sql, offset } => {
            Error::new(kind_of(error.extended_code), format!("{msg} at offset {offset} of {sql:?}"))
                .with_sqlstate(code_name(error.extended_code).unwrap_or("SQLITE_ERROR"))
        }
        rusqlite::Error::MultipleStatement => {
            Error::new(ErrorKind::Syntax, "the SQL text holds more than one statement; run them one at a time")
        }
        other => Error::new(ErrorKind::Database, other.to_string()).with_source(other),
    }
}

/// The error for a connection whose worker thread is gone.
pub(crate) fn worker_gone() -> Error {
    Error::new(ErrorKind::ConnectionLost, "the SQLite connection's thread has stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(extended: i32, message: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(extended), Some(message.to_owned()))
    }

    #[test]
    fn constraint_errors_name_table_column_and_constraint() {
        let e = map(failure(ffi::SQLITE_CONSTRAINT_UNIQUE, "UNIQUE constraint failed: users.email"));
        assert_eq!(e.kind(), ErrorKind::UniqueViolation);
        assert_eq!((e.table(), e.column()), (Some("users"), Some("email")));
        assert_eq!(e.sqlstate(), Some("SQLITE_CONSTRAINT_UNIQUE"));
        let e = map(failure(ffi::SQLITE_CONSTRAINT_CHECK, "CHECK constraint failed: name_not_empty"));
        assert_eq!((e.kind(), e.constraint()), (ErrorKind::CheckViolation, Some("name_not_empty")));
        let e = map(failure(ffi::SQLITE_CONSTRAINT_NOTNULL, "NOT NULL constraint failed: t.a"));
        assert_eq!((e.kind(), e.column()), (ErrorKind::NotNullViolation, Some("a")));
        assert_eq!(map(failure(ffi::SQLITE_BUSY_SNAPSHOT, "database is locked")).kind(), ErrorKind::Busy);
        assert_eq!(map(failure(ffi::SQLITE_NOTADB, "file is not a database")).kind(), ErrorKind::NotADatabase);
    }
}
