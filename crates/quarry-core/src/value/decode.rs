//! Decoding a borrowed [`ValueRef`] into Rust types.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;

use super::{Interval, Value, ValueRef};

/// Why a value could not be decoded into the requested Rust type.
///
/// The row accessor that produced the value adds the column's index and
/// name, so that the final [`Error`](crate::Error) reads like
/// "decoding column 2 `age` as i32: found text".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    expected: Cow<'static, str>,
    found: Cow<'static, str>,
    detail: Option<String>,
}

impl DecodeError {
    /// The value was of another kind than the Rust type accepts.
    #[cold]
    pub fn mismatch(expected: impl Into<Cow<'static, str>>, found: &ValueRef<'_>) -> Self {
        DecodeError { expected: expected.into(), found: Cow::Borrowed(found.kind_name()), detail: None }
    }

    /// The value had the right kind but could not be represented (out of
    /// range, malformed text, ...).
    #[cold]
    pub fn invalid(
        expected: impl Into<Cow<'static, str>>,
        found: impl Into<Cow<'static, str>>,
        detail: impl fmt::Display,
    ) -> Self {
        DecodeError { expected: expected.into(), found: found.into(), detail: Some(detail.to_string()) }
    }

    /// The Rust type that was requested.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// What the value was (the database type name when the driver knows it).
    pub fn found(&self) -> &str {
        &self.found
    }

    /// Why a value of the right kind could not be represented (`300 is out
    /// of range for i8`), when that is known.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }

    /// Replace the description of what was found, for drivers that know the
    /// database's own type name (`int4`, `timestamptz`).
    pub fn with_found(mut self, found: impl Into<Cow<'static, str>>) -> Self {
        self.found = found.into();
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, found {}", self.expected, self.found)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

/// Converts a borrowed SQL value into a Rust value.
///
/// Implemented for the integer and float types (with range checks), `bool`,
/// `String`, `Vec<u8>`, [`Bytes`], [`Interval`], `Option<T>` for nullable
/// columns, `Vec<T>` for arrays, [`Value`] itself, and the types of the
/// optional crates when their feature is on.
///
/// ```
/// use quarry_core::{FromValue, ValueRef};
///
/// assert_eq!(i32::from_value(ValueRef::I64(7)).unwrap(), 7);
/// assert!(i32::from_value(ValueRef::I64(1 << 40)).is_err());
/// assert_eq!(Option::<i32>::from_value(ValueRef::Null).unwrap(), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be decoded from a SQL value",
    note = "implement `quarry::FromValue` for it, or decode a supported type (integers, floats, bool, String, Vec<u8>, Option<T>, ...) and convert"
)]
pub trait FromValue: Sized {
    /// Decode `value`, or say why it does not fit.
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError>;
}

// The commonest `from_value`s are `#[inline]` and their errors `#[cold]`,
// so that decoding a field compiles into the row's decoding: called out of
// line, each returned its `Result` through memory, and the caller's copy of
// it, a wide load of narrower stores still in flight, stalled the CPU. That
// was a fifth of a 10,000-row SQLite select's time (`perf`; callgrind, which
// counts instructions, does not see it).
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(invalid_utf8)
}

#[cold]
fn invalid_utf8(e: std::str::Utf8Error) -> DecodeError {
    DecodeError::invalid("text", "text", format!("invalid UTF-8: {e}"))
}

macro_rules! int_from_value {
    ($($ty:ty),*) => {$(
        impl FromValue for $ty {
            #[inline]
            fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
                let wide: i64 = match value {
                    ValueRef::I16(v) => v.into(),
                    ValueRef::I32(v) => v.into(),
                    ValueRef::I64(v) => v,
                    other => return Err(DecodeError::mismatch(stringify!($ty), &other)),
                };
                <$ty>::try_from(wide).map_err(|_| {
                    DecodeError::invalid(stringify!($ty), value.kind_name(), format!("{wide} is out of range"))
                })
            }
        }
    )*};
}

int_from_value!(i8, i16, i32, i64, u8, u16, u32, u64);

impl FromValue for f64 {
    #[inline]
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::F64(v) => Ok(v),
            ValueRef::F32(v) => Ok(v.into()),
            ValueRef::I16(v) => Ok(v.into()),
            ValueRef::I32(v) => Ok(v.into()),
            // SQLite computes `sum()`/`avg()` of integer-valued reals as
            // integers; accept them when the conversion is exact.
            ValueRef::I64(v) if v.unsigned_abs() <= (1_u64 << 53) => Ok(v as f64),
            other => Err(DecodeError::mismatch("f64", &other)),
        }
    }
}

impl FromValue for f32 {
    #[inline]
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::F32(v) => Ok(v),
            // Narrowing a double is what every driver does for `real`
            // columns stored as doubles (SQLite); precision loss is expected.
            ValueRef::F64(v) => Ok(v as f32),
            ValueRef::I16(v) => Ok(v.into()),
            ValueRef::I32(v) if v.unsigned_abs() <= (1 << 24) => Ok(v as f32),
            ValueRef::I64(v) if v.unsigned_abs() <= (1 << 24) => Ok(v as f32),
            other => Err(DecodeError::mismatch("f32", &other)),
        }
    }
}

impl FromValue for bool {
    #[inline]
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Bool(v) => Ok(v),
            // SQLite has no boolean type: 0 and 1 are its booleans.
            ValueRef::I64(0) | ValueRef::I32(0) | ValueRef::I16(0) => Ok(false),
            ValueRef::I64(1) | ValueRef::I32(1) | ValueRef::I16(1) => Ok(true),
            ValueRef::I64(v) => Err(DecodeError::invalid("bool", "i64", format!("{v} is neither 0 nor 1"))),
            other => Err(DecodeError::mismatch("bool", &other)),
        }
    }
}

impl FromValue for String {
    #[inline]
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Text(v) | ValueRef::Json(v) => utf8(v).map(str::to_owned),
            other => Err(DecodeError::mismatch("String", &other)),
        }
    }
}

impl FromValue for super::Text {
    #[inline]
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Text(v) | ValueRef::Json(v) => utf8(v).map(super::Text::from),
            other => Err(DecodeError::mismatch("Text", &other)),
        }
    }
}

impl FromValue for Arc<str> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Text(v) | ValueRef::Json(v) => utf8(v).map(Arc::from),
            other => Err(DecodeError::mismatch("Arc<str>", &other)),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Bytes(v) => Ok(v.to_vec()),
            other => Err(DecodeError::mismatch("Vec<u8>", &other)),
        }
    }
}

impl FromValue for Bytes {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Bytes(v) => Ok(Bytes::copy_from_slice(v)),
            other => Err(DecodeError::mismatch("Bytes", &other)),
        }
    }
}

impl FromValue for Interval {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Interval(v) => Ok(v),
            other => Err(DecodeError::mismatch("Interval", &other)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    #[inline]
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for Value {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        value.to_owned_value()
    }
}

/// Arrays decode element by element; `Vec<u8>` stays bytes (see above).
macro_rules! vec_from_value {
    ($($ty:ty),*) => {$(
        impl FromValue for Vec<$ty> {
            fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
                match value {
                    ValueRef::Array(items) => items.iter().map(|item| <$ty>::from_value(item.as_ref())).collect(),
                    other => Err(DecodeError::mismatch(concat!("Vec<", stringify!($ty), ">"), &other)),
                }
            }
        }
        impl FromValue for Vec<Option<$ty>> {
            fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
                match value {
                    ValueRef::Array(items) => items.iter().map(|item| Option::<$ty>::from_value(item.as_ref())).collect(),
                    other => Err(DecodeError::mismatch(concat!("Vec<Option<", stringify!($ty), ">>"), &other)),
                }
            }
        }
    )*};
}

vec_from_value!(bool, i16, i32, i64, f32, f64, String, Interval, Vec<u8>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_widen_and_check_range() {
        assert_eq!(i64::from_value(ValueRef::I16(-5)).unwrap(), -5);
        assert_eq!(u8::from_value(ValueRef::I64(255)).unwrap(), 255);
        let err = u8::from_value(ValueRef::I64(256)).unwrap_err();
        assert_eq!(err.to_string(), "expected u8, found i64 (256 is out of range)");
        let err = i32::from_value(ValueRef::Text(b"1")).unwrap_err();
        assert_eq!(err.to_string(), "expected i32, found text");
    }

    #[test]
    fn floats_accept_exact_integers_only() {
        assert_eq!(f64::from_value(ValueRef::I64(3)).unwrap(), 3.0);
        assert!(f64::from_value(ValueRef::I64(i64::MAX)).is_err());
    }

    #[test]
    fn bools_accept_sqlite_integers() {
        assert!(bool::from_value(ValueRef::I64(1)).unwrap());
        assert!(!bool::from_value(ValueRef::I64(0)).unwrap());
        assert!(bool::from_value(ValueRef::I64(2)).is_err());
    }

    #[test]
    fn arrays_decode_elements() {
        let items = [Value::I32(1), Value::Null, Value::I32(3)];
        let v = Vec::<Option<i64>>::from_value(ValueRef::Array(&items)).unwrap();
        assert_eq!(v, vec![Some(1), None, Some(3)]);
        assert!(Vec::<i64>::from_value(ValueRef::Array(&items)).is_err());
    }
}
