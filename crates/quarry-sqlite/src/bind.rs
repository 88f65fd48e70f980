//! Binding Quarry values as SQLite parameters.

use quarry_core::{Error, ErrorKind, Value};
use rusqlite::Statement;
use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error;

/// `value` as rusqlite binds it, or why SQLite cannot store it. Booleans are
/// the integers 0 and 1; dates, times and timestamps ISO-8601 text; UUIDs
/// 16-byte blobs; JSON and decimals text. Refused: NaN (SQLite would store
/// NULL), intervals and arrays (SQLite has no such types).
///
/// Every kind is here, so that this says how each is stored; `bind_all`
/// binds NULL, `i64` and text directly and comes here for the rest. The
/// common kinds are borrowed, and rusqlite's `ToSql` for `ToSqlOutput`
/// passes them on.
#[inline]
fn sqlite_value(value: &Value) -> Result<ToSqlOutput<'_>, Error> {
    Ok(ToSqlOutput::Borrowed(match value {
        Value::Null => ValueRef::Null,
        Value::Bool(v) => ValueRef::Integer(i64::from(*v)),
        Value::I16(v) => ValueRef::Integer(i64::from(*v)),
        Value::I32(v) => ValueRef::Integer(i64::from(*v)),
        Value::I64(v) => ValueRef::Integer(*v),
        Value::F32(v) if v.is_nan() => return Err(refused("NaN cannot be stored by SQLite (it would become NULL)")),
        Value::F64(v) if v.is_nan() => return Err(refused("NaN cannot be stored by SQLite (it would become NULL)")),
        Value::F32(v) => ValueRef::Real(f64::from(*v)),
        Value::F64(v) => ValueRef::Real(*v),
        Value::Text(v) => ValueRef::Text(v.as_bytes()),
        Value::Bytes(v) => ValueRef::Blob(v),
        #[cfg(feature = "uuid")]
        Value::Uuid(v) => ValueRef::Blob(v.as_bytes()),
        other => return sqlite_text(other),
    }))
}

/// The kinds [`sqlite_value`] stores as text it formats, out of line.
#[inline(never)]
fn sqlite_text(value: &Value) -> Result<ToSqlOutput<'static>, Error> {
    let text = match value {
        Value::Interval(_) => return Err(refused("SQLite has no interval type")),
        Value::Array(_) => return Err(refused("SQLite has no array type")),
        #[cfg(feature = "json")]
        Value::Json(v) => v.to_string(),
        #[cfg(feature = "rust_decimal")]
        Value::Decimal(v) => v.to_string(),
        other => match other.temporal_text() {
            Some(text) => text,
            None => return Err(refused(&format!("SQLite cannot store a value of kind {}", other.kind_name()))),
        },
    };
    Ok(ToSqlOutput::Owned(rusqlite::types::Value::Text(text)))
}

/// Bind `params` to `?1..?n` of `stmt`, refusing values SQLite would
/// silently change (see [`sqlite_value`]).
pub(crate) fn bind_all(stmt: &mut Statement<'_>, params: &[Value]) -> Result<(), Error> {
    let expected = stmt.parameter_count();
    if expected != params.len() {
        return Err(Error::new(
            ErrorKind::Encode,
            format!("the statement takes {expected} parameters but {} were given", params.len()),
        ));
    }
    for (i, value) in params.iter().enumerate() {
        let position = i + 1;
        // The commonest kinds bound as their own Rust types, as a caller of
        // rusqlite would: each call is a small copy of rusqlite's bind,
        // inlined here.
        let bound = match value {
            Value::Null => stmt.raw_bind_parameter(position, rusqlite::types::Null),
            Value::I64(v) => stmt.raw_bind_parameter(position, *v),
            Value::Text(v) => stmt.raw_bind_parameter(position, v.as_str()),
            other => match sqlite_value(other) {
                Ok(output) => stmt.raw_bind_parameter(position, output),
                Err(e) => return Err(e.context(format_args!("encoding parameter ?{position}"))),
            },
        };
        bound.map_err(|e| error::map(e).context(format_args!("encoding parameter ?{position}")))?;
    }
    Ok(())
}

/// The error for a value SQLite cannot store.
#[cold]
fn refused(reason: &str) -> Error {
    Error::new(ErrorKind::Encode, reason.to_owned())
}
