//! `rust_decimal::Decimal` (feature `rust_decimal`): `numeric` on PostgreSQL,
//! text on SQLite so that no digit is lost to a double.

use rust_decimal::Decimal;

use super::decode::utf8;
use super::{DecodeError, FromValue, Value, ValueRef};

impl From<Decimal> for Value {
    fn from(v: Decimal) -> Self {
        Value::Decimal(v)
    }
}

impl FromValue for Decimal {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Decimal(v) => Ok(v),
            ValueRef::Text(t) => {
                let t = utf8(t)?;
                t.parse::<Decimal>().map_err(|e| DecodeError::invalid("Decimal", "text", format!("{t:?}: {e}")))
            }
            ValueRef::I64(v) => Ok(Decimal::from(v)),
            ValueRef::I32(v) => Ok(Decimal::from(v)),
            ValueRef::I16(v) => Ok(Decimal::from(v)),
            // SQLite turns text into a double as soon as arithmetic touches it
            // (`sum(price)`): accept it, rounded to the double's shortest form.
            ValueRef::F64(v) => {
                Decimal::try_from(v).map_err(|e| DecodeError::invalid("Decimal", "f64", format!("{v}: {e}")))
            }
            other => Err(DecodeError::mismatch("Decimal", &other)),
        }
    }
}
