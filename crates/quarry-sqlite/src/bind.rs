//! Binding Quarry values as SQLite parameters.

use quarry_core::{Error, ErrorKind, Value};
use rusqlite::Statement;
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};

use crate::error::{self, EncodeError};

/// A [`Value`] as rusqlite binds it. Booleans are the integers 0 and 1;
/// dates, times and timestamps ISO-8601 text; UUIDs 16-byte blobs; JSON and
/// decimals text.
struct Bind<'a>(&'a Value);

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
            Value::I16(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
            Value::I32(v) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*v))),
            Value::I64(v) => ToSqlOutput::Borrowed(ValueRef::Integer(*v)),
            Value::F32(v) => ToSqlOutput::Borrowed(ValueRef::Real(f64::from(*v))),
            Value::F64(v) => ToSqlOutput::Borrowed(ValueRef::Real(*v)),
            Value::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Value::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v.as_bytes())),
            #[cfg(feature = "json")]
            Value::Json(v) => ToSqlOutput::Owned(rusqlite::types::Value::Text(v.to_string())),
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(v) => ToSqlOutput::Owned(rusqlite::types::Value::Text(v.to_string())),
            other => match other.temporal_text() {
                Some(text) => ToSqlOutput::Owned(rusqlite::types::Value::Text(text)),
                None => {
                    return Err(rusqlite::Error::ToSqlConversionFailure(Box::new(EncodeError(format!(
                        "SQLite cannot store a value of kind {}",
                        other.kind_name()
                    )))));
                }
            },
        })
    }
}

/// Bind `params` to `?1..?n` of `stmt`, refusing values SQLite would
/// silently change: NaN (stored as NULL), intervals and arrays (no such types).
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
        let refused = match value {
            Value::F64(v) if v.is_nan() => Some("NaN cannot be stored by SQLite (it would become NULL)"),
            Value::F32(v) if v.is_nan() => Some("NaN cannot be stored by SQLite (it would become NULL)"),
            Value::Interval(_) => Some("SQLite has no interval type"),
            Value::Array(_) => Some("SQLite has no array type"),
            _ => None,
        };
        if let Some(reason) = refused {
            return Err(Error::new(ErrorKind::Encode, format!("encoding parameter ?{position}: {reason}")));
        }
        stmt.raw_bind_parameter(position, Bind(value))
            .map_err(|e| error::map(e).context(format_args!("encoding parameter ?{position}")))?;
    }
    Ok(())
}
