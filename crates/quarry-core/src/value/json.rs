//! `serde_json::Value` (feature `json`): `jsonb`/`json` on PostgreSQL, text
//! on SQLite.

use std::sync::Arc;

use super::decode::utf8;
use super::{DecodeError, FromValue, Value, ValueRef};

impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        Value::Json(Arc::new(v))
    }
}

impl FromValue for serde_json::Value {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::JsonValue(v) => Ok(v.clone()),
            ValueRef::Json(t) | ValueRef::Text(t) => {
                let t = utf8(t)?;
                serde_json::from_str(t).map_err(|e| DecodeError::invalid("serde_json::Value", "text", e))
            }
            other => Err(DecodeError::mismatch("serde_json::Value", &other)),
        }
    }
}
