//! `chrono` date and time types (feature `chrono`).
//!
//! PostgreSQL has native types for all four. SQLite stores them as ISO-8601
//! text of a fixed width, always with six fractional digits
//! (`2024-05-01`, `13:45:00.250000`, `2024-05-01 13:45:00.250000`,
//! `2024-05-01 13:45:00.250000+00:00`): SQLite compares them as text, so one
//! instant must have one spelling, and the SQLite dialect writes its
//! computed timestamps (`now()`, casts, date arithmetic) in the same form.
//! Its date functions understand this form, and it sorts correctly.
//! Integers are read as Unix seconds; any ISO-8601 text is read.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::decode::utf8;
use super::{DecodeError, FromValue, Value, ValueRef};

impl From<NaiveDate> for Value {
    fn from(v: NaiveDate) -> Self {
        Value::Date(v)
    }
}

impl From<NaiveTime> for Value {
    fn from(v: NaiveTime) -> Self {
        Value::Time(v)
    }
}

impl From<NaiveDateTime> for Value {
    fn from(v: NaiveDateTime) -> Self {
        Value::Timestamp(v)
    }
}

impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::TimestampTz(v)
    }
}

/// The text form SQLite stores, also used by `to_debug_sql`.
pub(crate) fn date_text(v: &NaiveDate) -> String {
    v.format("%Y-%m-%d").to_string()
}

pub(crate) fn time_text(v: &NaiveTime) -> String {
    v.format("%H:%M:%S%.6f").to_string()
}

pub(crate) fn timestamp_text(v: &NaiveDateTime) -> String {
    v.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

pub(crate) fn timestamptz_text(v: &DateTime<Utc>) -> String {
    v.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
}

fn parse_error(expected: &'static str, text: &str, e: impl std::fmt::Display) -> DecodeError {
    DecodeError::invalid(expected, "text", format!("{text:?} is not a valid {expected}: {e}"))
}

impl FromValue for NaiveDate {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Date(v) => Ok(v),
            ValueRef::Text(t) => {
                let t = utf8(t)?;
                NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|e| parse_error("NaiveDate", t, e))
            }
            other => Err(DecodeError::mismatch("NaiveDate", &other)),
        }
    }
}

impl FromValue for NaiveTime {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Time(v) => Ok(v),
            ValueRef::Text(t) => {
                let t = utf8(t)?;
                NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
                    .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
                    .map_err(|e| parse_error("NaiveTime", t, e))
            }
            other => Err(DecodeError::mismatch("NaiveTime", &other)),
        }
    }
}

fn parse_naive_datetime(t: &str) -> Result<NaiveDateTime, chrono::ParseError> {
    NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|e| NaiveDate::parse_from_str(t, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN)).map_err(|_| e))
}

impl FromValue for NaiveDateTime {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::Timestamp(v) => Ok(v),
            ValueRef::Text(t) => {
                let t = utf8(t)?;
                parse_naive_datetime(t).map_err(|e| parse_error("NaiveDateTime", t, e))
            }
            ValueRef::I64(secs) => DateTime::from_timestamp(secs, 0)
                .map(|d| d.naive_utc())
                .ok_or_else(|| DecodeError::invalid("NaiveDateTime", "i64", format!("{secs} is out of range"))),
            other => Err(DecodeError::mismatch("NaiveDateTime", &other)),
        }
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, DecodeError> {
        match value {
            ValueRef::TimestampTz(v) => Ok(v),
            ValueRef::Text(t) => {
                let t = utf8(t)?;
                DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%:z")
                    .or_else(|_| DateTime::parse_from_rfc3339(t))
                    .map(|d| d.with_timezone(&Utc))
                    .or_else(|e| parse_naive_datetime(t).map(|n| n.and_utc()).map_err(|_| e))
                    .map_err(|e| parse_error("DateTime<Utc>", t, e))
            }
            ValueRef::I64(secs) => DateTime::from_timestamp(secs, 0)
                .ok_or_else(|| DecodeError::invalid("DateTime<Utc>", "i64", format!("{secs} is out of range"))),
            other => Err(DecodeError::mismatch("DateTime<Utc>", &other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_text_round_trips() {
        let ts = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap().and_hms_micro_opt(23, 59, 58, 123_456).unwrap();
        let text = timestamp_text(&ts);
        assert_eq!(text, "2024-02-29 23:59:58.123456");
        assert_eq!(NaiveDateTime::from_value(ValueRef::Text(text.as_bytes())).unwrap(), ts);
        let midnight = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap().and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(timestamp_text(&midnight), "2024-02-29 00:00:00.000000", "fixed width");
        assert_eq!(time_text(&midnight.time()), "00:00:00.000000");
        let tz = ts.and_utc();
        let text = timestamptz_text(&tz);
        assert_eq!(text, "2024-02-29 23:59:58.123456+00:00");
        assert_eq!(DateTime::<Utc>::from_value(ValueRef::Text(text.as_bytes())).unwrap(), tz);
        assert!(NaiveDate::from_value(ValueRef::Text(b"2024-13-01")).is_err());
    }
}
