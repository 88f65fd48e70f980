//! The `interval` type, which has no counterpart in `std` or `chrono`.

use std::fmt;

/// A PostgreSQL `interval`: months, days and microseconds kept apart, as the
/// server keeps them (a month is not a fixed number of days).
///
/// ```
/// use quarry_core::Interval;
/// let i = Interval::days(3).plus(Interval::microseconds(1_500_000));
/// assert_eq!(i.to_string(), "0 mons 3 days 1.500000 secs");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Whole months.
    pub months: i32,
    /// Whole days.
    pub days: i32,
    /// Microseconds.
    pub microseconds: i64,
}

impl Interval {
    /// An interval of whole months.
    pub const fn months(months: i32) -> Self {
        Interval { months, days: 0, microseconds: 0 }
    }

    /// An interval of whole days.
    pub const fn days(days: i32) -> Self {
        Interval { months: 0, days, microseconds: 0 }
    }

    /// An interval of microseconds.
    pub const fn microseconds(microseconds: i64) -> Self {
        Interval { months: 0, days: 0, microseconds }
    }

    /// The component-wise sum, saturating at the bounds of each component.
    pub const fn plus(self, other: Interval) -> Self {
        Interval {
            months: self.months.saturating_add(other.months),
            days: self.days.saturating_add(other.days),
            microseconds: self.microseconds.saturating_add(other.microseconds),
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.microseconds < 0 { "-" } else { "" };
        let micros = self.microseconds.unsigned_abs();
        write!(f, "{} mons {} days {sign}{}.{:06} secs", self.months, self.days, micros / 1_000_000, micros % 1_000_000)
    }
}
