//! Binding Quarry values as statement parameters.
//!
//! PostgreSQL decides each parameter's type when it prepares a statement
//! (`WHERE id = $1` makes `$1` whatever `id` is). [`Bind`] accepts every
//! type and converts the value at `to_sql` time to the type the server
//! chose: an `i64` binds to an `int4` parameter when it fits, a text binds
//! to a `jsonb` parameter with jsonb's version byte, an array binds
//! element by element. A pairing that has no exact conversion is an
//! [`ErrorKind::Encode`] error naming the parameter and both types, raised
//! before anything is sent.
//!
//! Without named prepared statements (`statement_cache_capacity = 0`),
//! there is no server-chosen type to convert to: [`unnamed_type`] derives
//! one from the value, and text and NULL are sent untyped so that the
//! server infers their type from the statement, as it does for literals.

use std::fmt;

use bytes::{BufMut, BytesMut};
use postgres_types::{Format, IsNull, Kind, ToSql, Type};
use quarry_core::{Error, ErrorKind, Value, ValueRef};

use crate::numeric;
use crate::types::{self, display_name};

/// PostgreSQL's limit for one value: 1 GiB - 1 bytes.
pub(crate) const MAX_VALUE_BYTES: usize = (1 << 30) - 1;
/// PostgreSQL's limit for one protocol message: 1 GiB.
const MAX_MESSAGE_BYTES: usize = 1 << 30;

/// Why a value could not be bound; carried through tokio-postgres's error
/// and turned back into an [`ErrorKind::Encode`] error.
#[derive(Clone, Debug)]
pub(crate) struct BindError {
    index: usize,
    message: String,
}

impl BindError {
    /// The 0-based parameter (or COPY column) index.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// What was wrong.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The Quarry error: "parameter $2: ...".
    pub(crate) fn to_error(&self) -> Error {
        Error::new(ErrorKind::Encode, format!("parameter ${}: {}", self.index + 1, self.message))
            .with_source(self.clone())
    }
}

impl fmt::Display for BindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parameter ${}: {}", self.index + 1, self.message)
    }
}

impl std::error::Error for BindError {}

/// A value bound to parameter `index` (0-based), converted to whatever
/// type the parameter has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bind<'a> {
    value: ValueRef<'a>,
    index: usize,
}

impl<'a> Bind<'a> {
    pub(crate) fn new(value: ValueRef<'a>, index: usize) -> Self {
        Bind { value, index }
    }
}

impl ToSql for Bind<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // Types compared as values, not by `oid()`: that is a match over
        // every built-in type, and this runs once per bound value.
        let result = match self.value {
            // The commonest pairings first (COPY and bulk inserts bind them
            // by the ten thousand): the same checks as `encode`, without
            // its dispatch on the type's kind.
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Text(v) if *ty == Type::TEXT || *ty == Type::VARCHAR => check_text(v).map(|()| {
                out.put_slice(v);
                IsNull::No
            }),
            ValueRef::I64(v) if *ty == Type::INT8 => {
                out.put_i64(v);
                Ok(IsNull::No)
            }
            _ if *ty == Type::UNKNOWN => encode_untyped(self.value, out),
            _ => encode(self.value, ty, out),
        };
        let result = result.and_then(|is_null| {
            if out.len() > MAX_MESSAGE_BYTES {
                Err("the statement's parameters add up to more than 1 GiB, PostgreSQL's message limit".to_owned())
            } else {
                Ok(is_null)
            }
        });
        result.map_err(|message| Box::new(BindError { index: self.index, message }) as _)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.to_sql(ty, out)
    }

    fn encode_format(&self, ty: &Type) -> Format {
        // Untyped parameters are sent as text for the server to parse.
        if *ty == Type::UNKNOWN { Format::Text } else { Format::Binary }
    }
}

/// The parameters of a statement, ready for tokio-postgres.
pub(crate) fn binds(params: &[Value]) -> impl ExactSizeIterator<Item = Bind<'_>> {
    params.iter().enumerate().map(|(i, v)| Bind::new(v.as_ref(), i))
}

/// The parameters of an unnamed statement, each with the type derived from
/// its value.
pub(crate) fn typed_binds(params: &[Value]) -> impl ExactSizeIterator<Item = (Bind<'_>, Type)> {
    params.iter().enumerate().map(|(i, v)| {
        let value = v.as_ref();
        (Bind::new(value, i), unnamed_type(&value))
    })
}

fn mismatch(kind: &str, ty: &Type) -> String {
    format!("cannot bind {kind} to a parameter of type {} (cast it in SQL)", display_name(ty))
}

fn out_of_range(kind: &str, value: impl fmt::Display, ty: &Type) -> String {
    format!("{kind} value {value} is out of range for a parameter of type {}", display_name(ty))
}

fn check_len(len: usize, limit: usize, kind: &str) -> Result<(), String> {
    if len > limit {
        Err(format!("a {kind} value of {len} bytes is over PostgreSQL's limit of {limit} bytes (1 GiB - 1)"))
    } else {
        Ok(())
    }
}

#[inline]
fn check_text(bytes: &[u8]) -> Result<(), String> {
    check_len(bytes.len(), MAX_VALUE_BYTES, "text")?;
    if has_nul(bytes) {
        return Err("the text contains a NUL byte, which PostgreSQL text cannot hold (bind it as bytes)".to_owned());
    }
    Ok(())
}

/// Whether `bytes` holds a zero byte, eight bytes at a time. `contains(&0)`
/// is the same test, but its set-up cost about 50 instructions a value,
/// and bulk inserts and COPY check every text value (most a few bytes).
#[inline]
fn has_nul(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut words = bytes.chunks_exact(8);
    // `word` holds a zero byte exactly when this is non-zero (bytes above
    // the first zero byte may be flagged too, which does not matter here).
    let nul_in_a_word = words.by_ref().any(|chunk| {
        // Every chunk has eight bytes; were one ever short, the zeros
        // filling it would fail the check rather than pass a NUL.
        let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
        word.wrapping_sub(ONES) & !word & HIGHS != 0
    });
    if nul_in_a_word {
        return true;
    }
    // The last few bytes one by one (`contains` is the cost this avoids).
    for &byte in words.remainder() {
        if byte == 0 {
            return true;
        }
    }
    false
}

/// Encode `value` in the binary format of `ty`.
pub(crate) fn encode(value: ValueRef<'_>, ty: &Type, out: &mut BytesMut) -> Result<IsNull, String> {
    if value.is_null() {
        return Ok(IsNull::Yes);
    }
    match ty.kind() {
        Kind::Domain(base) => encode(value, base, out),
        Kind::Array(element) => match value {
            ValueRef::Array(items) => encode_array(items, element, out).map(|()| IsNull::No),
            other => Err(mismatch(other.kind_name(), ty)),
        },
        _ => encode_scalar(value, ty, out).map(|()| IsNull::No),
    }
}

/// Encode a non-NULL value for a scalar type.
fn encode_scalar(value: ValueRef<'_>, ty: &Type, out: &mut BytesMut) -> Result<(), String> {
    let oid = ty.oid();
    match value {
        ValueRef::Bool(v) if oid == types::BOOL => out.put_u8(u8::from(v)),
        ValueRef::I16(v) => encode_int(i64::from(v), "i16", ty, out)?,
        ValueRef::I32(v) => encode_int(i64::from(v), "i32", ty, out)?,
        ValueRef::I64(v) => encode_int(v, "i64", ty, out)?,
        ValueRef::F32(v) => encode_float(f64::from(v), true, ty, out)?,
        ValueRef::F64(v) => encode_float(v, false, ty, out)?,
        ValueRef::Text(v) => encode_text(v, ty, out)?,
        ValueRef::Bytes(v) if oid == types::BYTEA => {
            check_len(v.len(), MAX_VALUE_BYTES, "bytes")?;
            out.put_slice(v);
        }
        ValueRef::Interval(v) if oid == types::INTERVAL => {
            out.put_i64(v.microseconds);
            out.put_i32(v.days);
            out.put_i32(v.months);
        }
        ValueRef::Json(v) if oid == types::JSON || oid == types::JSONB => {
            check_len(v.len(), MAX_VALUE_BYTES, "json")?;
            if oid == types::JSONB {
                out.put_u8(1);
            }
            out.put_slice(v);
        }
        #[cfg(feature = "json")]
        ValueRef::JsonValue(v) if oid == types::JSON || oid == types::JSONB => {
            if oid == types::JSONB {
                out.put_u8(1);
            }
            write_json(v, out)?;
        }
        #[cfg(feature = "uuid")]
        ValueRef::Uuid(v) if oid == types::UUID => out.put_slice(v.as_bytes()),
        #[cfg(feature = "chrono")]
        ValueRef::Date(v) if oid == types::DATE => out.put_i32(crate::temporal::date_to_pg(v)?),
        #[cfg(feature = "chrono")]
        ValueRef::Time(v) if oid == types::TIME => out.put_i64(crate::temporal::time_to_pg(v)),
        #[cfg(feature = "chrono")]
        ValueRef::Timestamp(v) if oid == types::TIMESTAMP => out.put_i64(crate::temporal::timestamp_to_pg(v)?),
        // Taking it as UTC (or as the session's zone) would shift it silently.
        #[cfg(feature = "chrono")]
        ValueRef::Timestamp(_) if oid == types::TIMESTAMPTZ => {
            return Err("cannot bind a naive timestamp to a parameter of type timestamptz: say which time zone \
                        it is in (`.and_utc()` for UTC), or cast in SQL"
                .to_owned());
        }
        #[cfg(feature = "chrono")]
        ValueRef::TimestampTz(v) if oid == types::TIMESTAMPTZ => {
            out.put_i64(crate::temporal::timestamp_to_pg(v.naive_utc())?)
        }
        #[cfg(feature = "chrono")]
        ValueRef::TimestampTz(_) if oid == types::TIMESTAMP => {
            return Err("cannot bind timestamptz to a parameter of type timestamp: convert it to a naive \
                        timestamp in the time zone you mean, or cast in SQL"
                .to_owned());
        }
        #[cfg(feature = "rust_decimal")]
        ValueRef::Decimal(v) if oid == types::NUMERIC => numeric::write_scaled(v.mantissa(), v.scale(), out)?,
        other => return Err(mismatch(other.kind_name(), ty)),
    }
    Ok(())
}

fn encode_int(v: i64, kind: &str, ty: &Type, out: &mut BytesMut) -> Result<(), String> {
    match ty.oid() {
        types::INT2 => out.put_i16(i16::try_from(v).map_err(|_| out_of_range(kind, v, ty))?),
        types::INT4 => out.put_i32(i32::try_from(v).map_err(|_| out_of_range(kind, v, ty))?),
        types::INT8 => out.put_i64(v),
        types::OID => out.put_u32(u32::try_from(v).map_err(|_| out_of_range(kind, v, ty))?),
        types::FLOAT4 => {
            let f = v as f32;
            if f as i128 != i128::from(v) {
                return Err(format!("{kind} value {v} has no exact float4 representation (cast it in SQL)"));
            }
            out.put_f32(f);
        }
        types::FLOAT8 => {
            let f = v as f64;
            if f as i128 != i128::from(v) {
                return Err(format!("{kind} value {v} has no exact float8 representation (cast it in SQL)"));
            }
            out.put_f64(f);
        }
        types::NUMERIC => numeric::write_integer(i128::from(v), out)?,
        _ => return Err(mismatch(kind, ty)),
    }
    Ok(())
}

fn encode_float(v: f64, is_f32: bool, ty: &Type, out: &mut BytesMut) -> Result<(), String> {
    let kind = if is_f32 { "f32" } else { "f64" };
    match ty.oid() {
        types::FLOAT8 => out.put_f64(v),
        types::FLOAT4 => {
            // Rounds to the nearest float4; a finite value must stay finite.
            let f = v as f32;
            if v.is_finite() && f.is_infinite() {
                return Err(out_of_range(kind, v, ty));
            }
            out.put_f32(f);
        }
        types::NUMERIC => {
            // The shortest decimal that reads back as the same float.
            let shortest = if is_f32 { format!("{:e}", v as f32) } else { format!("{v:e}") };
            numeric::write_float(v, &shortest, out)?;
        }
        _ => return Err(mismatch(kind, ty)),
    }
    Ok(())
}

fn encode_text(bytes: &[u8], ty: &Type, out: &mut BytesMut) -> Result<(), String> {
    check_text(bytes)?;
    let oid = ty.oid();
    if types::is_text_like(ty) || oid == types::JSON {
        out.put_slice(bytes);
        return Ok(());
    }
    if oid == types::JSONB {
        out.put_u8(1);
        out.put_slice(bytes);
        return Ok(());
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the text is not valid UTF-8: {e}"))?;
    let parse_error =
        |e: &dyn fmt::Display| format!("cannot bind text {text:?} to a parameter of type {}: {e}", display_name(ty));
    match oid {
        types::NUMERIC => numeric::write_text(text, out).map_err(|e| parse_error(&e))?,
        #[cfg(feature = "uuid")]
        types::UUID => {
            let v = uuid::Uuid::parse_str(text.trim()).map_err(|e| parse_error(&e))?;
            out.put_slice(v.as_bytes());
        }
        #[cfg(feature = "chrono")]
        types::DATE => {
            let v = <chrono::NaiveDate as quarry_core::FromValue>::from_value(ValueRef::Text(bytes))
                .map_err(|e| parse_error(&e))?;
            out.put_i32(crate::temporal::date_to_pg(v)?);
        }
        #[cfg(feature = "chrono")]
        types::TIME => {
            let v = <chrono::NaiveTime as quarry_core::FromValue>::from_value(ValueRef::Text(bytes))
                .map_err(|e| parse_error(&e))?;
            out.put_i64(crate::temporal::time_to_pg(v));
        }
        #[cfg(feature = "chrono")]
        types::TIMESTAMP => {
            let v = <chrono::NaiveDateTime as quarry_core::FromValue>::from_value(ValueRef::Text(bytes))
                .map_err(|e| parse_error(&e))?;
            out.put_i64(crate::temporal::timestamp_to_pg(v)?);
        }
        #[cfg(feature = "chrono")]
        types::TIMESTAMPTZ => {
            let v = <chrono::DateTime<chrono::Utc> as quarry_core::FromValue>::from_value(ValueRef::Text(bytes))
                .map_err(|e| parse_error(&e))?;
            out.put_i64(crate::temporal::timestamp_to_pg(v.naive_utc())?);
        }
        _ => return Err(mismatch("text", ty)),
    }
    Ok(())
}

#[cfg(feature = "json")]
fn write_json(v: &serde_json::Value, out: &mut BytesMut) -> Result<(), String> {
    let start = out.len();
    serde_json::to_writer((&mut *out).writer(), v).map_err(|e| format!("serializing JSON: {e}"))?;
    check_len(out.len() - start, MAX_VALUE_BYTES, "json")
}

/// A one-dimensional array of `element`, converting each item.
fn encode_array(items: &[Value], element: &Type, out: &mut BytesMut) -> Result<(), String> {
    let start = out.len();
    let len = i32::try_from(items.len()).map_err(|_| format!("an array of {} items is too long", items.len()))?;
    if items.is_empty() {
        out.put_i32(0); // dimensions
        out.put_i32(0); // has nulls
        out.put_u32(element.oid());
        return Ok(());
    }
    out.put_i32(1);
    out.put_i32(i32::from(items.iter().any(Value::is_null)));
    out.put_u32(element.oid());
    out.put_i32(len);
    out.put_i32(1); // lower bound
    for item in items {
        if matches!(item, Value::Array(_)) {
            return Err("nested arrays are not supported (one-dimensional arrays only)".to_owned());
        }
        let at = out.len();
        out.put_i32(0);
        let written = match encode(item.as_ref(), element, out) {
            Ok(IsNull::Yes) => -1,
            Ok(IsNull::No) => {
                i32::try_from(out.len() - at - 4).map_err(|_| "an array element is too large".to_owned())?
            }
            Err(e) => return Err(format!("array element: {e}")),
        };
        out[at..at + 4].copy_from_slice(&written.to_be_bytes());
    }
    check_len(out.len() - start, MAX_VALUE_BYTES, "array")
}

/// Encode `value` in text format for an untyped (`unknown`) parameter,
/// which the server parses as the type it infers: text, JSON, and arrays of
/// those (as an array literal).
fn encode_untyped(value: ValueRef<'_>, out: &mut BytesMut) -> Result<IsNull, String> {
    match value {
        ValueRef::Null => return Ok(IsNull::Yes),
        ValueRef::Text(v) => {
            check_text(v)?;
            out.put_slice(v);
        }
        ValueRef::Json(v) => {
            check_text(v)?;
            out.put_slice(v);
        }
        #[cfg(feature = "json")]
        ValueRef::JsonValue(v) => write_json(v, out)?,
        ValueRef::Array(items) => {
            let start = out.len();
            out.put_u8(b'{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put_u8(b',');
                }
                match item.as_ref() {
                    ValueRef::Null => out.put_slice(b"NULL"),
                    ValueRef::Text(v) | ValueRef::Json(v) => {
                        check_text(v)?;
                        quote_element(v, out);
                    }
                    #[cfg(feature = "json")]
                    ValueRef::JsonValue(v) => quote_element(v.to_string().as_bytes(), out),
                    other => return Err(format!("cannot bind {} inside an array of text", other.kind_name())),
                }
            }
            out.put_u8(b'}');
            check_len(out.len() - start, MAX_VALUE_BYTES, "array")?;
        }
        other => return Err(mismatch(other.kind_name(), &Type::UNKNOWN)),
    }
    Ok(IsNull::No)
}

/// An array literal element: `"..."` with `"` and `\` escaped.
fn quote_element(v: &[u8], out: &mut BytesMut) {
    out.put_u8(b'"');
    for &b in v {
        if b == b'"' || b == b'\\' {
            out.put_u8(b'\\');
        }
        out.put_u8(b);
    }
    out.put_u8(b'"');
}

/// The type to declare for a parameter of an unnamed statement: the value's
/// own type, or `unknown` (inferred by the server) for NULL, text and JSON.
pub(crate) fn unnamed_type(value: &ValueRef<'_>) -> Type {
    match value {
        ValueRef::Bool(_) => Type::BOOL,
        ValueRef::I16(_) => Type::INT2,
        ValueRef::I32(_) => Type::INT4,
        ValueRef::I64(_) => Type::INT8,
        ValueRef::F32(_) => Type::FLOAT4,
        ValueRef::F64(_) => Type::FLOAT8,
        ValueRef::Bytes(_) => Type::BYTEA,
        ValueRef::Interval(_) => Type::INTERVAL,
        #[cfg(feature = "uuid")]
        ValueRef::Uuid(_) => Type::UUID,
        #[cfg(feature = "chrono")]
        ValueRef::Date(_) => Type::DATE,
        #[cfg(feature = "chrono")]
        ValueRef::Time(_) => Type::TIME,
        #[cfg(feature = "chrono")]
        ValueRef::Timestamp(_) => Type::TIMESTAMP,
        #[cfg(feature = "chrono")]
        ValueRef::TimestampTz(_) => Type::TIMESTAMPTZ,
        #[cfg(feature = "rust_decimal")]
        ValueRef::Decimal(_) => Type::NUMERIC,
        ValueRef::Array(items) => array_type(items),
        _ => Type::UNKNOWN,
    }
}

/// The array type for `items`: the widest numeric element type, else the
/// first element's type; untyped (an array literal) for text, JSON and
/// all-NULL arrays.
fn array_type(items: &[Value]) -> Type {
    let mut element: Option<Type> = None;
    for item in items.iter().filter(|v| !v.is_null()) {
        let t = unnamed_type(&item.as_ref());
        element = Some(match element {
            None => t,
            Some(e) => wider(e, t),
        });
    }
    let Some(element) = element else { return Type::UNKNOWN };
    match element.oid() {
        types::BOOL => Type::BOOL_ARRAY,
        types::INT2 => Type::INT2_ARRAY,
        types::INT4 => Type::INT4_ARRAY,
        types::INT8 => Type::INT8_ARRAY,
        types::FLOAT4 => Type::FLOAT4_ARRAY,
        types::FLOAT8 => Type::FLOAT8_ARRAY,
        types::BYTEA => Type::BYTEA_ARRAY,
        types::INTERVAL => Type::INTERVAL_ARRAY,
        types::UUID => Type::UUID_ARRAY,
        types::DATE => Type::DATE_ARRAY,
        types::TIME => Type::TIME_ARRAY,
        types::TIMESTAMP => Type::TIMESTAMP_ARRAY,
        types::TIMESTAMPTZ => Type::TIMESTAMPTZ_ARRAY,
        types::NUMERIC => Type::NUMERIC_ARRAY,
        _ => Type::UNKNOWN,
    }
}

fn wider(a: Type, b: Type) -> Type {
    let rank = |t: &Type| match t.oid() {
        types::INT2 => Some(1),
        types::INT4 => Some(2),
        types::INT8 => Some(3),
        types::FLOAT4 => Some(4),
        types::FLOAT8 => Some(5),
        _ => None,
    };
    match (rank(&a), rank(&b)) {
        // Integers and floats together: float8 holds both (int8 inexactly,
        // which binding then reports).
        (Some(x), Some(y)) if (x <= 3) != (y <= 3) => Type::FLOAT8,
        (Some(x), Some(y)) if y > x => b,
        _ => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(value: Value, ty: &Type) -> Result<Vec<u8>, String> {
        let mut out = BytesMut::new();
        match encode(value.as_ref(), ty, &mut out)? {
            IsNull::Yes => Ok(b"NULL".to_vec()),
            IsNull::No => Ok(out.to_vec()),
        }
    }

    #[test]
    fn integers_convert_to_the_parameter_type_with_range_checks() {
        assert_eq!(bind(Value::I64(5), &Type::INT4).unwrap(), 5i32.to_be_bytes());
        assert_eq!(bind(Value::I16(-2), &Type::INT8).unwrap(), (-2i64).to_be_bytes());
        assert_eq!(bind(Value::I32(7), &Type::INT2).unwrap(), 7i16.to_be_bytes());
        let err = bind(Value::I64(i64::MAX), &Type::INT4).unwrap_err();
        assert_eq!(err, "i64 value 9223372036854775807 is out of range for a parameter of type int4");
        assert!(bind(Value::I32(70000), &Type::INT2).is_err());
        assert_eq!(bind(Value::I32(3), &Type::FLOAT8).unwrap(), 3f64.to_be_bytes());
        assert_eq!(bind(Value::I64(1 << 24), &Type::FLOAT4).unwrap(), 16777216f32.to_be_bytes());
        assert!(bind(Value::I64((1 << 24) + 1), &Type::FLOAT4).is_err());
        assert!(bind(Value::I64(i64::MAX), &Type::FLOAT8).is_err());
        assert!(bind(Value::I64(-1), &Type::OID).is_err());
    }

    #[test]
    fn mismatches_say_what_to_do() {
        let err = bind(Value::from("x"), &Type::INT4).unwrap_err();
        assert_eq!(err, "cannot bind text to a parameter of type int4 (cast it in SQL)");
        let err = bind(Value::Bool(true), &Type::INT4_ARRAY).unwrap_err();
        assert_eq!(err, "cannot bind bool to a parameter of type int4[] (cast it in SQL)");
        assert!(bind(Value::I32(1), &Type::TEXT).is_err());
        assert_eq!(bind(Value::Null, &Type::INT4).unwrap(), b"NULL");
    }

    #[test]
    fn floats_keep_specials() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0] {
            let out = bind(Value::F64(v), &Type::FLOAT8).unwrap();
            assert_eq!(out, v.to_be_bytes());
        }
        assert_eq!(bind(Value::F64(f64::INFINITY), &Type::FLOAT4).unwrap(), f32::INFINITY.to_be_bytes());
        assert!(bind(Value::F64(1e300), &Type::FLOAT4).is_err());
        // NaN as numeric: sign 0xC000.
        assert_eq!(bind(Value::F64(f64::NAN), &Type::NUMERIC).unwrap(), [0, 0, 0, 0, 0xC0, 0, 0, 0]);
        // 0.1 as numeric is 0.1, not the binary float's 55 digits.
        assert_eq!(bind(Value::F64(0.1), &Type::NUMERIC).unwrap(), [0, 1, 0xff, 0xff, 0, 0, 0, 1, 0x03, 0xe8]);
        assert_eq!(bind(Value::F32(0.1), &Type::NUMERIC).unwrap(), [0, 1, 0xff, 0xff, 0, 0, 0, 1, 0x03, 0xe8]);
    }

    #[test]
    fn text_binds_to_text_json_and_jsonb() {
        assert_eq!(bind(Value::from("hé"), &Type::VARCHAR).unwrap(), "hé".as_bytes());
        assert_eq!(bind(Value::from("{}"), &Type::JSONB).unwrap(), b"\x01{}");
        assert_eq!(bind(Value::from("{}"), &Type::JSON).unwrap(), b"{}");
        let err = bind(Value::from("a\0b"), &Type::TEXT).unwrap_err();
        assert!(err.contains("NUL"), "{err}");
        assert!(bind(Value::from("12.50"), &Type::NUMERIC).is_ok());
        assert!(bind(Value::from("twelve"), &Type::NUMERIC).is_err());
    }

    #[test]
    fn a_nul_byte_is_found_at_every_position_of_every_length() {
        // Bytes either side of zero in the arithmetic (1, 0x80, 0xff) around it.
        for len in 0..=40 {
            for filler in [1_u8, b'a', 0x7f, 0x80, 0xff] {
                let clean = vec![filler; len];
                assert!(!has_nul(&clean), "len {len}, filler {filler:#x}");
                for at in 0..len {
                    let mut with_nul = clean.clone();
                    with_nul[at] = 0;
                    assert!(has_nul(&with_nul), "len {len}, NUL at {at}, filler {filler:#x}");
                }
            }
        }
    }

    #[test]
    fn arrays_convert_element_wise() {
        let v = Value::from(vec![1_i64, 2]);
        let out = bind(v, &Type::INT4_ARRAY).unwrap();
        let mut expected = vec![];
        for w in [1i32, 0, 23, 2, 1, 4, 1, 4, 2] {
            expected.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(out, expected);
        let v = Value::Array(vec![Value::I64(1), Value::I64(i64::MAX)].into());
        let err = bind(v, &Type::INT4_ARRAY).unwrap_err();
        assert!(err.starts_with("array element: i64 value"), "{err}");
        let nested = Value::Array(vec![Value::from(vec![1_i32])].into());
        assert!(bind(nested, &Type::INT4_ARRAY).is_err());
        let empty = Value::Array(Vec::new().into());
        assert_eq!(bind(empty, &Type::TEXT_ARRAY).unwrap().len(), 12);
    }

    #[test]
    fn the_size_guard_uses_the_limit() {
        assert!(check_len(10, 10, "bytes").is_ok());
        let err = check_len(11, 10, "bytes").unwrap_err();
        assert!(err.contains("11 bytes"), "{err}");
        assert_eq!(MAX_VALUE_BYTES, 1_073_741_823);
    }

    #[test]
    fn unnamed_types_come_from_values() {
        assert_eq!(unnamed_type(&ValueRef::I64(1)), Type::INT8);
        assert_eq!(unnamed_type(&ValueRef::Text(b"x")), Type::UNKNOWN);
        assert_eq!(unnamed_type(&ValueRef::Null), Type::UNKNOWN);
        let ints = [Value::I16(1), Value::Null, Value::I64(2)];
        assert_eq!(unnamed_type(&ValueRef::Array(&ints)), Type::INT8_ARRAY);
        let mixed = [Value::I32(1), Value::F32(2.0)];
        assert_eq!(unnamed_type(&ValueRef::Array(&mixed)), Type::FLOAT8_ARRAY);
        let texts = [Value::from("a"), Value::Null];
        assert_eq!(unnamed_type(&ValueRef::Array(&texts)), Type::UNKNOWN);
        let mut out = BytesMut::new();
        encode_untyped(ValueRef::Array(&[Value::from("a\"b\\c"), Value::Null]), &mut out).unwrap();
        assert_eq!(&out[..], br#"{"a\"b\\c",NULL}"#);
    }
}
