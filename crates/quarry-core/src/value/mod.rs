//! Values: the owned [`Value`] that is bound as a parameter, the borrowed
//! [`ValueRef`] a driver hands out of a row, and the conversions between them
//! and Rust types ([`FromValue`], `From<T> for Value`).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

mod decode;
mod interval;
mod text;

#[cfg(feature = "chrono")]
mod chrono;
#[cfg(feature = "rust_decimal")]
mod decimal;
#[cfg(feature = "json")]
mod json;
#[cfg(feature = "uuid")]
mod uuid;

pub use decode::{DecodeError, FromValue};
pub use interval::Interval;
pub use text::Text;
pub(crate) use text::push_text;

#[cfg(feature = "chrono")]
pub(crate) use self::chrono::{date_text, time_text, timestamp_text, timestamptz_text};

/// An owned SQL value: what a statement binds as a parameter and what a
/// driver can give back for a cell.
///
/// Values are always sent to the database as bound parameters, never written
/// into the SQL text (see [`to_debug_sql`](crate::compile::Compiled) for the
/// one exception, which is for logs only and never executed).
///
/// Text is a [`Text`] (inline up to 24 bytes, shared beyond) and bytes a
/// [`Bytes`], so cloning a value never copies a large string or blob, and
/// short text never allocates. Variants for optional crates exist when the
/// matching cargo feature is on.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean (`boolean` on PostgreSQL, the integers 0 and 1 on SQLite).
    Bool(bool),
    /// A 16-bit integer (`smallint`).
    I16(i16),
    /// A 32-bit integer (`integer`).
    I32(i32),
    /// A 64-bit integer (`bigint`; every SQLite integer).
    I64(i64),
    /// A 32-bit float (`real`).
    F32(f32),
    /// A 64-bit float (`double precision`; every SQLite real).
    F64(f64),
    /// UTF-8 text.
    Text(Text),
    /// A byte string (`bytea` on PostgreSQL, `BLOB` on SQLite).
    Bytes(Bytes),
    /// A PostgreSQL `interval` (SQLite has no interval type).
    Interval(Interval),
    /// A UUID (`uuid` on PostgreSQL, a 16-byte `BLOB` on SQLite).
    #[cfg(feature = "uuid")]
    Uuid(::uuid::Uuid),
    /// A JSON document (`jsonb`/`json` on PostgreSQL, `TEXT` on SQLite).
    #[cfg(feature = "json")]
    Json(Arc<serde_json::Value>),
    /// A calendar date (`date`; ISO-8601 text on SQLite).
    #[cfg(feature = "chrono")]
    Date(::chrono::NaiveDate),
    /// A time of day (`time`; ISO-8601 text on SQLite).
    #[cfg(feature = "chrono")]
    Time(::chrono::NaiveTime),
    /// A timestamp without time zone (`timestamp`; ISO-8601 text on SQLite).
    #[cfg(feature = "chrono")]
    Timestamp(::chrono::NaiveDateTime),
    /// A timestamp with time zone, in UTC (`timestamptz`; ISO-8601 text with
    /// offset on SQLite).
    #[cfg(feature = "chrono")]
    TimestampTz(::chrono::DateTime<::chrono::Utc>),
    /// An exact decimal (`numeric`; text on SQLite, to keep every digit).
    #[cfg(feature = "rust_decimal")]
    Decimal(::rust_decimal::Decimal),
    /// A one-dimensional array (PostgreSQL only).
    Array(Arc<[Value]>),
}

impl Value {
    /// The name of the value's kind, as used in error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::I16(_) => "i16",
            Value::I32(_) => "i32",
            Value::I64(_) => "i64",
            Value::F32(_) => "f32",
            Value::F64(_) => "f64",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Interval(_) => "interval",
            #[cfg(feature = "uuid")]
            Value::Uuid(_) => "uuid",
            #[cfg(feature = "json")]
            Value::Json(_) => "json",
            #[cfg(feature = "chrono")]
            Value::Date(_) => "date",
            #[cfg(feature = "chrono")]
            Value::Time(_) => "time",
            #[cfg(feature = "chrono")]
            Value::Timestamp(_) => "timestamp",
            #[cfg(feature = "chrono")]
            Value::TimestampTz(_) => "timestamptz",
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(_) => "decimal",
            Value::Array(_) => "array",
        }
    }

    /// Whether this is SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Borrow this value as a [`ValueRef`], for decoding with [`FromValue`].
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Bool(v) => ValueRef::Bool(*v),
            Value::I16(v) => ValueRef::I16(*v),
            Value::I32(v) => ValueRef::I32(*v),
            Value::I64(v) => ValueRef::I64(*v),
            Value::F32(v) => ValueRef::F32(*v),
            Value::F64(v) => ValueRef::F64(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Bytes(v) => ValueRef::Bytes(v),
            Value::Interval(v) => ValueRef::Interval(*v),
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => ValueRef::Uuid(*v),
            #[cfg(feature = "json")]
            Value::Json(v) => ValueRef::JsonValue(v),
            #[cfg(feature = "chrono")]
            Value::Date(v) => ValueRef::Date(*v),
            #[cfg(feature = "chrono")]
            Value::Time(v) => ValueRef::Time(*v),
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => ValueRef::Timestamp(*v),
            #[cfg(feature = "chrono")]
            Value::TimestampTz(v) => ValueRef::TimestampTz(*v),
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(v) => ValueRef::Decimal(*v),
            Value::Array(v) => ValueRef::Array(v),
        }
    }

    /// The ISO-8601 text of a date, time or timestamp value: the form SQLite
    /// stores, its date functions read, and that sorts correctly as text.
    /// `None` for other values.
    pub fn temporal_text(&self) -> Option<String> {
        match self {
            #[cfg(feature = "chrono")]
            Value::Date(v) => Some(date_text(v)),
            #[cfg(feature = "chrono")]
            Value::Time(v) => Some(time_text(v)),
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => Some(timestamp_text(v)),
            #[cfg(feature = "chrono")]
            Value::TimestampTz(v) => Some(timestamptz_text(v)),
            _ => None,
        }
    }

    /// Decode this value into a Rust type.
    ///
    /// ```
    /// use quarry_core::Value;
    /// let v = Value::from(42_i64);
    /// assert_eq!(v.decode::<i64>().unwrap(), 42);
    /// assert!(v.decode::<String>().is_err());
    /// ```
    pub fn decode<T: FromValue>(&self) -> Result<T, DecodeError> {
        T::from_value(self.as_ref())
    }
}

/// A value borrowed from a driver's row (or from a [`Value`]): decoding
/// copies only what the caller keeps.
///
/// Text is given as bytes because SQLite does not enforce UTF-8; decoding it
/// into `String` or `&str` checks it once.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ValueRef<'a> {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 16-bit integer.
    I16(i16),
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// Text, not yet checked to be UTF-8.
    Text(&'a [u8]),
    /// A byte string.
    Bytes(&'a [u8]),
    /// An interval.
    Interval(Interval),
    /// A UUID.
    #[cfg(feature = "uuid")]
    Uuid(::uuid::Uuid),
    /// A JSON document as text (PostgreSQL `json` and `jsonb` columns).
    Json(&'a [u8]),
    /// A parsed JSON document (from an owned [`Value::Json`]).
    #[cfg(feature = "json")]
    JsonValue(&'a serde_json::Value),
    /// A calendar date.
    #[cfg(feature = "chrono")]
    Date(::chrono::NaiveDate),
    /// A time of day.
    #[cfg(feature = "chrono")]
    Time(::chrono::NaiveTime),
    /// A timestamp without time zone.
    #[cfg(feature = "chrono")]
    Timestamp(::chrono::NaiveDateTime),
    /// A timestamp with time zone.
    #[cfg(feature = "chrono")]
    TimestampTz(::chrono::DateTime<::chrono::Utc>),
    /// An exact decimal.
    #[cfg(feature = "rust_decimal")]
    Decimal(::rust_decimal::Decimal),
    /// A one-dimensional array.
    Array(&'a [Value]),
}

impl ValueRef<'_> {
    /// The name of the value's kind, as used in error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Bool(_) => "bool",
            ValueRef::I16(_) => "i16",
            ValueRef::I32(_) => "i32",
            ValueRef::I64(_) => "i64",
            ValueRef::F32(_) => "f32",
            ValueRef::F64(_) => "f64",
            ValueRef::Text(_) => "text",
            ValueRef::Bytes(_) => "bytes",
            ValueRef::Interval(_) => "interval",
            #[cfg(feature = "uuid")]
            ValueRef::Uuid(_) => "uuid",
            ValueRef::Json(_) => "json",
            #[cfg(feature = "json")]
            ValueRef::JsonValue(_) => "json",
            #[cfg(feature = "chrono")]
            ValueRef::Date(_) => "date",
            #[cfg(feature = "chrono")]
            ValueRef::Time(_) => "time",
            #[cfg(feature = "chrono")]
            ValueRef::Timestamp(_) => "timestamp",
            #[cfg(feature = "chrono")]
            ValueRef::TimestampTz(_) => "timestamptz",
            #[cfg(feature = "rust_decimal")]
            ValueRef::Decimal(_) => "decimal",
            ValueRef::Array(_) => "array",
        }
    }

    /// Whether this is SQL `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, ValueRef::Null)
    }

    /// Copy this borrowed value into an owned [`Value`].
    pub fn to_owned_value(&self) -> Result<Value, DecodeError> {
        Ok(match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(v) => Value::Bool(v),
            ValueRef::I16(v) => Value::I16(v),
            ValueRef::I32(v) => Value::I32(v),
            ValueRef::I64(v) => Value::I64(v),
            ValueRef::F32(v) => Value::F32(v),
            ValueRef::F64(v) => Value::F64(v),
            ValueRef::Text(v) => Value::Text(Text::from(decode::utf8(v)?)),
            ValueRef::Bytes(v) => Value::Bytes(Bytes::copy_from_slice(v)),
            ValueRef::Interval(v) => Value::Interval(v),
            #[cfg(feature = "uuid")]
            ValueRef::Uuid(v) => Value::Uuid(v),
            #[cfg(feature = "json")]
            ValueRef::Json(_) | ValueRef::JsonValue(_) => {
                Value::Json(Arc::new(<serde_json::Value as FromValue>::from_value(*self)?))
            }
            #[cfg(not(feature = "json"))]
            ValueRef::Json(v) => Value::Text(Text::from(decode::utf8(v)?)),
            #[cfg(feature = "chrono")]
            ValueRef::Date(v) => Value::Date(v),
            #[cfg(feature = "chrono")]
            ValueRef::Time(v) => Value::Time(v),
            #[cfg(feature = "chrono")]
            ValueRef::Timestamp(v) => Value::Timestamp(v),
            #[cfg(feature = "chrono")]
            ValueRef::TimestampTz(v) => Value::TimestampTz(v),
            #[cfg(feature = "rust_decimal")]
            ValueRef::Decimal(v) => Value::Decimal(v),
            ValueRef::Array(v) => Value::Array(Arc::from(v)),
        })
    }
}

impl fmt::Display for Value {
    /// Shows the value for humans (not SQL: see `to_debug_sql` for that).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::I16(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F32(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v}"),
            Value::Text(v) => write!(f, "{v:?}"),
            Value::Bytes(v) => write!(f, "<{} bytes>", v.len()),
            Value::Interval(v) => write!(f, "{v}"),
            #[cfg(feature = "uuid")]
            Value::Uuid(v) => write!(f, "{v}"),
            #[cfg(feature = "json")]
            Value::Json(v) => write!(f, "{v}"),
            #[cfg(feature = "chrono")]
            Value::Date(v) => write!(f, "{v}"),
            #[cfg(feature = "chrono")]
            Value::Time(v) => write!(f, "{v}"),
            #[cfg(feature = "chrono")]
            Value::Timestamp(v) => write!(f, "{v}"),
            #[cfg(feature = "chrono")]
            Value::TimestampTz(v) => write!(f, "{v}"),
            #[cfg(feature = "rust_decimal")]
            Value::Decimal(v) => write!(f, "{v}"),
            Value::Array(v) => {
                f.write_str("[")?;
                for (i, item) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

macro_rules! value_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                Value::$variant(v)
            }
        }
    )*};
}

value_from! {
    bool => Bool,
    i16 => I16,
    i32 => I32,
    i64 => I64,
    f32 => F32,
    f64 => F64,
    Text => Text,
    Bytes => Bytes,
    Interval => Interval,
}

impl From<i8> for Value {
    fn from(v: i8) -> Self {
        Value::I16(v.into())
    }
}

impl From<u8> for Value {
    fn from(v: u8) -> Self {
        Value::I16(v.into())
    }
}

impl From<u16> for Value {
    fn from(v: u16) -> Self {
        Value::I32(v.into())
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::I64(v.into())
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Text::from(v))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Text::from(v))
    }
}

impl From<Arc<str>> for Value {
    fn from(v: Arc<str>) -> Self {
        Value::Text(Text::from(v))
    }
}

impl From<std::borrow::Cow<'_, str>> for Value {
    fn from(v: std::borrow::Cow<'_, str>) -> Self {
        Value::Text(Text::from(v))
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(Bytes::from(v))
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(Bytes::copy_from_slice(v))
    }
}

impl<const N: usize> From<[u8; N]> for Value {
    fn from(v: [u8; N]) -> Self {
        Value::Bytes(Bytes::copy_from_slice(&v))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        match v {
            Some(v) => v.into(),
            None => Value::Null,
        }
    }
}

impl<T: Clone + Into<Value>> From<&T> for Value {
    fn from(v: &T) -> Self {
        v.clone().into()
    }
}

/// Arrays bind as one parameter (PostgreSQL only). `Vec<u8>` is bytes, not an
/// array: use [`Value::Array`] for an array of small integers.
macro_rules! array_from {
    ($($ty:ty),*) => {$(
        impl From<Vec<$ty>> for Value {
            fn from(v: Vec<$ty>) -> Self {
                Value::Array(v.into_iter().map(Value::from).collect())
            }
        }
        impl From<&[$ty]> for Value {
            fn from(v: &[$ty]) -> Self {
                Value::Array(v.iter().cloned().map(Value::from).collect())
            }
        }
    )*};
}

array_from!(bool, i16, i32, i64, f32, f64, String, Interval);

impl From<Vec<&str>> for Value {
    fn from(v: Vec<&str>) -> Self {
        Value::Array(v.into_iter().map(Value::from).collect())
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(v.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_pick_the_matching_variant() {
        assert_eq!(Value::from(1_i32), Value::I32(1));
        assert_eq!(Value::from("a"), Value::Text("a".into()));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Value::from(vec![1_u8, 2]), Value::Bytes(Bytes::from_static(&[1, 2])));
        assert_eq!(Value::from(vec![1_i64, 2]), Value::Array(vec![Value::I64(1), Value::I64(2)].into()));
    }

    #[test]
    fn to_owned_value_round_trips() {
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::I16(-3),
            Value::I64(i64::MIN),
            Value::F64(1.5),
            Value::from("héllo"),
            Value::from(vec![0_u8, 255]),
        ] {
            assert_eq!(v.as_ref().to_owned_value().unwrap(), v);
        }
    }

    #[test]
    fn invalid_utf8_text_is_a_decode_error() {
        let err = ValueRef::Text(&[0xff, 0xfe]).to_owned_value().unwrap_err();
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }
}
