//! `uuid::Uuid` (feature `uuid`): native on PostgreSQL, a 16-byte blob on
//! SQLite (text in the hyphenated form is accepted when reading).

use uuid::Uuid;

use super::decode::utf8;
use super::{DecodeError, FromValue, Value, ValueRef};

impl From<Uuid> for Value {
    fn from(v: Uuid) -> Self {
        Value::Uuid(v)
    }
}

impl FromValue for Uuid {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Uuid(v) => Ok(v),
            ValueRef::Bytes(b) => Uuid::from_slice(b)
                .map_err(|e| DecodeError::invalid("Uuid", "bytes", format!("{} bytes: {e}", b.len()))),
            ValueRef::Text(t) => {
                let t = utf8(t)?;
                Uuid::parse_str(t).map_err(|e| DecodeError::invalid("Uuid", "text", format!("{t:?}: {e}")))
            }
            other => Err(DecodeError::mismatch("Uuid", &other)),
        }
    }
}
