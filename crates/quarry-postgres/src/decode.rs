//! Decoding result cells: [`PgRow`] implements Quarry's [`Row`] over a
//! tokio-postgres row, reading each cell's bytes in place and handing a
//! borrowed [`ValueRef`] to [`FromValue`]; no `Vec<Value>` per row.

use std::fmt;

use postgres_types::{FromSql, Kind, Type};
use quarry_core::row::{NameChecks, index_out_of_range};
use quarry_core::{DecodeError, Error, ErrorKind, FromValue, Interval, Row, Value, ValueRef};

use crate::types::{self, display_name};

/// One row of a PostgreSQL result, decoded column by column on demand.
///
/// Decode errors name the column, the Rust type asked for and the
/// PostgreSQL type found: "decoding column 2 `age` as i32: found text".
pub struct PgRow<'r> {
    row: &'r tokio_postgres::Row,
    /// The statement's names already matched to fields, shared by its rows.
    checks: Option<&'r NameChecks>,
}

impl<'r> PgRow<'r> {
    /// View a tokio-postgres row as a Quarry [`Row`].
    pub fn new(row: &'r tokio_postgres::Row) -> Self {
        PgRow { row, checks: None }
    }

    /// A row of a statement whose rows share `checks`, so that field names
    /// are compared once per statement.
    pub(crate) fn of_statement(row: &'r tokio_postgres::Row, checks: &'r NameChecks) -> Self {
        PgRow { row, checks: Some(checks) }
    }

    fn cell(&self, index: usize) -> Result<(&'r tokio_postgres::Column, Option<&'r [u8]>), Error> {
        let row: &'r tokio_postgres::Row = self.row;
        let column = row.columns().get(index).ok_or_else(|| index_out_of_range(index, row.len()))?;
        let RawCell(raw) = row.try_get::<_, RawCell<'r>>(index).map_err(|e| {
            Error::new(ErrorKind::Decode, format!("reading column {index} `{}`: {e}", column.name())).with_source(e)
        })?;
        Ok((column, raw))
    }
}

impl fmt::Debug for PgRow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgRow").field("columns", &self.row.columns()).finish()
    }
}

impl Row for PgRow<'_> {
    fn len(&self) -> usize {
        self.row.len()
    }

    fn column_name(&self, index: usize) -> Option<&str> {
        self.row.columns().get(index).map(|c| c.name())
    }

    fn get<T: FromValue>(&self, index: usize) -> Result<T, Error> {
        let (column, raw) = self.cell(index)?;
        decode::<T>(column.type_(), raw).map_err(|e| Error::decode(index, column.name(), e))
    }

    fn is_null(&self, index: usize) -> Result<bool, Error> {
        self.cell(index).map(|(_, raw)| raw.is_none())
    }

    fn name_checks(&self) -> Option<&NameChecks> {
        self.checks
    }
}

/// A cell's raw binary bytes (`None` for NULL), whatever its type.
struct RawCell<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawCell<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawCell(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawCell(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Decode one cell of type `ty` into `T`.
pub(crate) fn decode<T: FromValue>(ty: &Type, raw: Option<&[u8]>) -> Result<T, DecodeError> {
    match raw {
        None => T::from_value(ValueRef::Null).map_err(|e| e.with_found("null")),
        Some(raw) => with_value_ref(ty, raw, T::from_value).map_err(|e| e.with_found(display_name(ty))),
    }
}

/// The Rust type's name without module paths (`Option<String>`), for messages.
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment_start = 0;
    for (i, c) in full.char_indices() {
        if c == ':' {
            segment_start = i + 1;
        } else if matches!(c, '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | '&' | ';') {
            out.push_str(&full[segment_start..i]);
            out.push(c);
            segment_start = i + 1;
        }
    }
    out.push_str(&full[segment_start..]);
    out
}

fn invalid<T>(ty: &Type, detail: impl fmt::Display) -> DecodeError {
    DecodeError::invalid(short_type_name::<T>(), display_name(ty), detail)
}

fn fixed<const N: usize, T>(ty: &Type, raw: &[u8]) -> Result<[u8; N], DecodeError> {
    raw.try_into().map_err(|_| invalid::<T>(ty, format!("{} bytes where {N} were expected", raw.len())))
}

#[cfg_attr(all(feature = "chrono", feature = "uuid", feature = "rust_decimal"), allow(dead_code))]
fn needs_feature<T>(ty: &Type, feature: &str) -> DecodeError {
    invalid::<T>(ty, format!("decoding {} needs quarry-postgres's `{feature}` feature (or cast it in SQL)", ty.name()))
}

/// Turn a cell into a [`ValueRef`] according to its type, and hand it to `f`.
fn with_value_ref<T, F>(ty: &Type, raw: &[u8], f: F) -> Result<T, DecodeError>
where
    F: FnOnce(ValueRef<'_>) -> Result<T, DecodeError>,
{
    // Built-in scalar types first (one match on the OID); arrays, domains,
    // enums and extension types after.
    match ty.oid() {
        types::TEXT | types::VARCHAR | types::BPCHAR | types::NAME | types::UNKNOWN | types::XML => {
            f(ValueRef::Text(raw))
        }
        types::BOOL => f(ValueRef::Bool(fixed::<1, T>(ty, raw)?[0] != 0)),
        types::INT2 => f(ValueRef::I16(i16::from_be_bytes(fixed::<2, T>(ty, raw)?))),
        types::INT4 => f(ValueRef::I32(i32::from_be_bytes(fixed::<4, T>(ty, raw)?))),
        types::INT8 => f(ValueRef::I64(i64::from_be_bytes(fixed::<8, T>(ty, raw)?))),
        types::OID => f(ValueRef::I64(i64::from(u32::from_be_bytes(fixed::<4, T>(ty, raw)?)))),
        types::FLOAT4 => f(ValueRef::F32(f32::from_be_bytes(fixed::<4, T>(ty, raw)?))),
        types::FLOAT8 => f(ValueRef::F64(f64::from_be_bytes(fixed::<8, T>(ty, raw)?))),
        // `"char"`: one byte (none for '\0').
        types::CHAR => f(ValueRef::Text(raw)),
        types::BYTEA => f(ValueRef::Bytes(raw)),
        types::JSON => f(ValueRef::Json(raw)),
        types::JSONB => match raw.split_first() {
            Some((1, text)) => f(ValueRef::Json(text)),
            _ => Err(invalid::<T>(ty, "unknown jsonb format version")),
        },
        types::INTERVAL => {
            let b = fixed::<16, T>(ty, raw)?;
            let [m0, m1, m2, m3, m4, m5, m6, m7, d0, d1, d2, d3, n0, n1, n2, n3] = b;
            f(ValueRef::Interval(Interval {
                microseconds: i64::from_be_bytes([m0, m1, m2, m3, m4, m5, m6, m7]),
                days: i32::from_be_bytes([d0, d1, d2, d3]),
                months: i32::from_be_bytes([n0, n1, n2, n3]),
            }))
        }
        #[cfg(feature = "rust_decimal")]
        types::NUMERIC => f(ValueRef::Decimal(crate::numeric::read_decimal(raw).map_err(|e| invalid::<T>(ty, e))?)),
        #[cfg(not(feature = "rust_decimal"))]
        types::NUMERIC => Err(needs_feature::<T>(ty, "rust_decimal")),
        #[cfg(feature = "uuid")]
        types::UUID => f(ValueRef::Uuid(uuid::Uuid::from_bytes(fixed::<16, T>(ty, raw)?))),
        #[cfg(not(feature = "uuid"))]
        types::UUID => Err(needs_feature::<T>(ty, "uuid")),
        #[cfg(feature = "chrono")]
        types::DATE => {
            let days = i32::from_be_bytes(fixed::<4, T>(ty, raw)?);
            f(ValueRef::Date(crate::temporal::date_from_pg(days).map_err(|e| invalid::<T>(ty, e))?))
        }
        #[cfg(feature = "chrono")]
        types::TIME => {
            let micros = i64::from_be_bytes(fixed::<8, T>(ty, raw)?);
            f(ValueRef::Time(crate::temporal::time_from_pg(micros).map_err(|e| invalid::<T>(ty, e))?))
        }
        #[cfg(feature = "chrono")]
        types::TIMESTAMP => {
            let micros = i64::from_be_bytes(fixed::<8, T>(ty, raw)?);
            f(ValueRef::Timestamp(crate::temporal::timestamp_from_pg(micros).map_err(|e| invalid::<T>(ty, e))?))
        }
        #[cfg(feature = "chrono")]
        types::TIMESTAMPTZ => {
            let micros = i64::from_be_bytes(fixed::<8, T>(ty, raw)?);
            let naive = crate::temporal::timestamp_from_pg(micros).map_err(|e| invalid::<T>(ty, e))?;
            f(ValueRef::TimestampTz(naive.and_utc()))
        }
        #[cfg(not(feature = "chrono"))]
        types::DATE | types::TIME | types::TIMESTAMP | types::TIMESTAMPTZ => Err(needs_feature::<T>(ty, "chrono")),
        _ => match ty.kind() {
            Kind::Array(element) => with_array::<T, F>(ty, element, raw, f),
            Kind::Domain(base) => with_value_ref(base, raw, f),
            // Enums and `citext`.
            _ if types::is_text_like(ty) => f(ValueRef::Text(raw)),
            _ => Err(invalid::<T>(ty, format!("quarry-postgres cannot decode type {} (cast it in SQL)", ty.name()))),
        },
    }
}

/// The next `n` bytes of `rest`.
fn take<'a>(rest: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if rest.len() < n {
        return None;
    }
    let (head, tail) = rest.split_at(n);
    *rest = tail;
    Some(head)
}

fn take_i32(rest: &mut &[u8]) -> Option<i32> {
    take(rest, 4).and_then(|b| b.try_into().ok()).map(i32::from_be_bytes)
}

/// An array element as an owned value (one instantiation of
/// `with_value_ref`, however deep the recursion goes).
fn element_value(ty: &Type, raw: &[u8]) -> Result<Value, DecodeError> {
    type ToOwned = fn(ValueRef<'_>) -> Result<Value, DecodeError>;
    let to_owned: ToOwned = |v| v.to_owned_value();
    with_value_ref::<Value, ToOwned>(ty, raw, to_owned)
}

/// A one-dimensional array, decoded into a temporary `Vec<Value>`.
fn with_array<T, F>(ty: &Type, element: &Type, raw: &[u8], f: F) -> Result<T, DecodeError>
where
    F: FnOnce(ValueRef<'_>) -> Result<T, DecodeError>,
{
    let truncated = || invalid::<T>(ty, "truncated array");
    let mut rest = raw;
    let dimensions = take_i32(&mut rest).ok_or_else(truncated)?;
    // has-nulls flag and element type
    take(&mut rest, 8).ok_or_else(truncated)?;
    let items: Vec<Value> = match dimensions {
        0 => Vec::new(),
        1 => {
            let len = take_i32(&mut rest).and_then(|n| usize::try_from(n).ok()).ok_or_else(truncated)?;
            take_i32(&mut rest).ok_or_else(truncated)?; // lower bound
            let mut items = Vec::with_capacity(len.min(raw.len() / 4));
            for _ in 0..len {
                let n = take_i32(&mut rest).ok_or_else(truncated)?;
                let item = match usize::try_from(n) {
                    Err(_) => Value::Null,
                    Ok(n) => {
                        let bytes = take(&mut rest, n).ok_or_else(truncated)?;
                        element_value(element, bytes).map_err(|e| invalid::<T>(ty, format!("array element: {e}")))?
                    }
                };
                items.push(item);
            }
            items
        }
        n => return Err(invalid::<T>(ty, format!("{n}-dimensional arrays are not supported (one dimension only)"))),
    };
    f(ValueRef::Array(&items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_module_paths() {
        assert_eq!(short_type_name::<Option<String>>(), "Option<String>");
        assert_eq!(short_type_name::<Vec<(i32, std::sync::Arc<str>)>>(), "Vec<(i32, Arc<str>)>");
        assert_eq!(short_type_name::<i64>(), "i64");
    }

    #[test]
    fn cells_decode_by_type() {
        assert_eq!(decode::<i64>(&Type::INT4, Some(&7i32.to_be_bytes())).unwrap(), 7);
        assert_eq!(decode::<Option<i32>>(&Type::INT4, None).unwrap(), None);
        let err = decode::<i32>(&Type::TEXT, Some(b"x")).unwrap_err();
        assert_eq!((err.expected(), err.found()), ("i32", "text"));
        let err = decode::<i32>(&Type::INT4, None).unwrap_err();
        assert_eq!(err.found(), "null");
        let err = decode::<i16>(&Type::INT8, Some(&(1i64 << 40).to_be_bytes())).unwrap_err();
        assert_eq!(err.found(), "int8");
        assert_eq!(decode::<String>(&Type::JSONB, Some(b"\x01{\"a\":1}")).unwrap(), "{\"a\":1}");
        assert!(decode::<f64>(&Type::FLOAT8, Some(&f64::NAN.to_be_bytes())).unwrap().is_nan());
        let err = decode::<i32>(&Type::INT4, Some(&[1, 2])).unwrap_err();
        assert!(err.to_string().contains("2 bytes"), "{err}");
    }

    #[test]
    fn arrays_decode_into_values() {
        let mut raw = vec![];
        for w in [1i32, 1, 23, 3, 1, 4, 5, -1, 4, 6] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        let v = decode::<Vec<Option<i32>>>(&Type::INT4_ARRAY, Some(&raw)).unwrap();
        assert_eq!(v, vec![Some(5), None, Some(6)]);
        let err = decode::<Vec<i32>>(&Type::INT4_ARRAY, Some(&raw)).unwrap_err();
        assert_eq!(err.found(), "int4[]");
        let empty = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23];
        assert_eq!(decode::<Vec<i32>>(&Type::INT4_ARRAY, Some(&empty)).unwrap(), Vec::<i32>::new());
    }

    #[cfg(feature = "chrono")]
    #[test]
    fn infinity_timestamps_are_decode_errors() {
        let err = decode::<chrono::NaiveDateTime>(&Type::TIMESTAMP, Some(&i64::MAX.to_be_bytes())).unwrap_err();
        assert!(err.to_string().contains("infinity"), "{err}");
        assert_eq!(err.found(), "timestamp");
    }

    #[cfg(not(feature = "rust_decimal"))]
    #[test]
    fn numeric_without_the_feature_names_it() {
        let err = decode::<Value>(&Type::NUMERIC, Some(&[0, 0, 0, 0, 0, 0, 0, 0])).unwrap_err();
        assert!(err.to_string().contains("rust_decimal"), "{err}");
    }
}
