//! `chrono` dates and times in PostgreSQL's binary formats (feature
//! `chrono`): days and microseconds since 2000-01-01.
//!
//! `'infinity'`, `'-infinity'` and years outside chrono's range are errors
//! (never a panic, never a clamped value).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

const EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
const EPOCH_TS: NaiveDateTime = EPOCH.and_time(NaiveTime::MIN);
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A date as days since 2000-01-01.
pub(crate) fn date_to_pg(date: NaiveDate) -> Result<i32, String> {
    i32::try_from(date.signed_duration_since(EPOCH).num_days()).map_err(|_| format!("date {date} is out of range"))
}

/// A time of day as microseconds since midnight (sub-microsecond digits
/// are truncated).
pub(crate) fn time_to_pg(time: NaiveTime) -> i64 {
    i64::from(time.num_seconds_from_midnight()) * 1_000_000 + i64::from(time.nanosecond() / 1000)
}

/// A timestamp as microseconds since 2000-01-01 00:00:00 (sub-microsecond
/// digits are truncated).
pub(crate) fn timestamp_to_pg(ts: NaiveDateTime) -> Result<i64, String> {
    ts.signed_duration_since(EPOCH_TS).num_microseconds().ok_or_else(|| format!("timestamp {ts} is out of range"))
}

/// Days since 2000-01-01 as a date.
pub(crate) fn date_from_pg(days: i32) -> Result<NaiveDate, String> {
    match days {
        i32::MAX => Err("'infinity' has no chrono equivalent".to_owned()),
        i32::MIN => Err("'-infinity' has no chrono equivalent".to_owned()),
        _ => TimeDelta::try_days(i64::from(days))
            .and_then(|d| EPOCH.checked_add_signed(d))
            .ok_or_else(|| format!("{days} days from 2000-01-01 is outside chrono's range")),
    }
}

/// Microseconds since midnight as a time of day.
pub(crate) fn time_from_pg(micros: i64) -> Result<NaiveTime, String> {
    if micros == MICROS_PER_DAY {
        return Err("24:00:00 has no chrono equivalent".to_owned());
    }
    let secs = u32::try_from(micros.div_euclid(1_000_000)).map_err(|_| format!("{micros} µs is not a time of day"))?;
    let nanos =
        u32::try_from(micros.rem_euclid(1_000_000) * 1000).map_err(|_| format!("{micros} µs is not a time of day"))?;
    NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
        .ok_or_else(|| format!("{micros} µs is not a time of day"))
}

/// Microseconds since 2000-01-01 00:00:00 as a timestamp.
pub(crate) fn timestamp_from_pg(micros: i64) -> Result<NaiveDateTime, String> {
    match micros {
        i64::MAX => Err("'infinity' has no chrono equivalent".to_owned()),
        i64::MIN => Err("'-infinity' has no chrono equivalent".to_owned()),
        _ => EPOCH_TS
            .checked_add_signed(TimeDelta::microseconds(micros))
            .ok_or_else(|| "the timestamp is outside chrono's range (years -262143 to 262142)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_round_trips() {
        assert_eq!(date_to_pg(EPOCH).unwrap(), 0);
        let d = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        assert_eq!(date_to_pg(d).unwrap(), -10957);
        assert_eq!(date_from_pg(-10957).unwrap(), d);
        let ts = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap().and_hms_micro_opt(23, 59, 59, 999_999).unwrap();
        assert_eq!(timestamp_from_pg(timestamp_to_pg(ts).unwrap()).unwrap(), ts);
        let t = NaiveTime::from_hms_micro_opt(13, 45, 0, 250_000).unwrap();
        assert_eq!(time_from_pg(time_to_pg(t)).unwrap(), t);
    }

    #[test]
    fn infinities_and_out_of_range_are_errors() {
        assert!(date_from_pg(i32::MAX).unwrap_err().contains("infinity"));
        assert!(date_from_pg(i32::MIN).unwrap_err().contains("-infinity"));
        assert!(timestamp_from_pg(i64::MAX).unwrap_err().contains("infinity"));
        assert!(timestamp_from_pg(i64::MIN).unwrap_err().contains("-infinity"));
        // PostgreSQL allows years up to 294276; chrono stops at 262142.
        assert!(timestamp_from_pg(9_200_000_000_000_000_000).is_err());
        assert!(time_from_pg(MICROS_PER_DAY).is_err());
    }
}
