//! Calendar values used by the date and time structures.
//!
//! This module owns the small [`Date`] and [`Time`] types (no time-zone
//! arithmetic, no dependency on a date crate), ordinal-day ("Julian")
//! conversion, and the century-digit policy of DS004–DS009
//! ([`year_from_century_digit`]).

use std::fmt;

/// A proleptic Gregorian calendar date (years 0–9999).
///
/// ```
/// let d = isbt128::Date::from_ordinal(2019, 32).unwrap();
/// assert_eq!(d.to_string(), "2019-02-01");
/// assert_eq!((d.year(), d.month(), d.day()), (2019, 2, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// A time of day, 00:00–23:59.
///
/// ```
/// let t = isbt128::Time::new(23, 59).unwrap();
/// assert_eq!(t.to_string(), "23:59");
/// assert!(isbt128::Time::new(24, 0).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Time {
    hour: u8,
    minute: u8,
}

/// Whether `year` is a Gregorian leap year.
///
/// ```
/// assert!(isbt128::date::is_leap_year(2020));
/// assert!(!isbt128::date::is_leap_year(1900));
/// ```
#[must_use]
pub const fn is_leap_year(year: u16) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `year` (365 or 366).
///
/// ```
/// assert_eq!(isbt128::date::days_in_year(2019), 365);
/// ```
#[must_use]
pub const fn days_in_year(year: u16) -> u16 {
    if is_leap_year(year) {
        366
    } else {
        365
    }
}

/// Number of days in `month` (1–12) of `year`; 0 for an invalid month.
///
/// ```
/// assert_eq!(isbt128::date::days_in_month(2024, 2), 29);
/// ```
#[must_use]
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if is_leap_year(year) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// The calendar year of a `cyy` date (DS004–DS009).
///
/// ST-001 only says `c` is "the century of the year". This crate decodes
/// `c = 0` as 2000–2099 (all published examples), `c = 9` as 1900–1999
/// (legacy readers agree on this) and `c = 1`–`8` as `2000 + 100·c + yy`.
/// The digits themselves are always kept, so encoding is unaffected.
///
/// ```
/// use isbt128::date::year_from_century_digit;
/// assert_eq!(year_from_century_digit(0, 19), 2019);
/// assert_eq!(year_from_century_digit(9, 98), 1998);
/// assert_eq!(year_from_century_digit(1, 5), 2105);
/// ```
#[must_use]
pub const fn year_from_century_digit(c: u8, yy: u8) -> u16 {
    let yy = (yy % 100) as u16;
    match c {
        9 => 1900 + yy,
        c => 2000 + 100 * (c % 10) as u16 + yy,
    }
}

impl Date {
    /// Builds a date from year, month (1–12) and day; `None` if invalid.
    ///
    /// ```
    /// assert!(isbt128::Date::new(2023, 2, 29).is_none());
    /// assert!(isbt128::Date::new(2024, 2, 29).is_some());
    /// ```
    #[must_use]
    pub const fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        if year > 9999 || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Self { year, month, day })
    }

    /// Builds a date from a year and an ordinal day (1 January = 1).
    ///
    /// ```
    /// assert_eq!(isbt128::Date::from_ordinal(2020, 366).unwrap().to_string(), "2020-12-31");
    /// assert!(isbt128::Date::from_ordinal(2019, 366).is_none());
    /// ```
    #[must_use]
    pub const fn from_ordinal(year: u16, ordinal: u16) -> Option<Self> {
        if ordinal == 0 || ordinal > days_in_year(year) || year > 9999 {
            return None;
        }
        let mut remaining = ordinal;
        let mut month = 1u8;
        while month <= 12 {
            let dim = days_in_month(year, month) as u16;
            if remaining <= dim {
                return Some(Self {
                    year,
                    month,
                    day: remaining as u8,
                });
            }
            remaining -= dim;
            month += 1;
        }
        None
    }

    /// The ordinal day of the year (1 January = 1).
    ///
    /// ```
    /// assert_eq!(isbt128::Date::new(2019, 2, 1).unwrap().ordinal(), 32);
    /// ```
    #[must_use]
    pub const fn ordinal(self) -> u16 {
        let mut total = self.day as u16;
        let mut m = 1u8;
        while m < self.month {
            total += days_in_month(self.year, m) as u16;
            m += 1;
        }
        total
    }

    /// The year.
    ///
    /// ```
    /// assert_eq!(isbt128::Date::new(2017, 3, 17).unwrap().year(), 2017);
    /// ```
    #[must_use]
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    ///
    /// ```
    /// assert_eq!(isbt128::Date::new(2017, 3, 17).unwrap().month(), 3);
    /// ```
    #[must_use]
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    ///
    /// ```
    /// assert_eq!(isbt128::Date::new(2017, 3, 17).unwrap().day(), 17);
    /// ```
    #[must_use]
    pub const fn day(self) -> u8 {
        self.day
    }

    /// The eye-readable form `17 MAR 2017` (ST-001 §7.4.4.2).
    ///
    /// ```
    /// assert_eq!(isbt128::Date::new(2017, 3, 17).unwrap().label_text(), "17 MAR 2017");
    /// ```
    #[must_use]
    pub fn label_text(self) -> String {
        const MONTHS: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        let m = MONTHS
            .get(usize::from(self.month).saturating_sub(1))
            .copied()
            .unwrap_or("???");
        format!("{:02} {} {:04}", self.day, m, self.year)
    }
}

impl fmt::Display for Date {
    /// ISO 8601 extended form, `YYYY-MM-DD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Time {
    /// Builds a time; `None` unless `hour` ≤ 23 and `minute` ≤ 59.
    ///
    /// ```
    /// assert_eq!(isbt128::Time::new(13, 30).unwrap().minute(), 30);
    /// ```
    #[must_use]
    pub const fn new(hour: u8, minute: u8) -> Option<Self> {
        if hour > 23 || minute > 59 {
            None
        } else {
            Some(Self { hour, minute })
        }
    }

    /// The hour, 0–23.
    ///
    /// ```
    /// assert_eq!(isbt128::Time::new(13, 30).unwrap().hour(), 13);
    /// ```
    #[must_use]
    pub const fn hour(self) -> u8 {
        self.hour
    }

    /// The minute, 0–59.
    ///
    /// ```
    /// assert_eq!(isbt128::Time::new(13, 30).unwrap().minute(), 30);
    /// ```
    #[must_use]
    pub const fn minute(self) -> u8 {
        self.minute
    }
}

impl fmt::Display for Time {
    /// 24-hour `hh:mm`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinal_round_trip_all_days() {
        for year in [1999u16, 2000, 2019, 2020, 2100] {
            for o in 1..=days_in_year(year) {
                let d = Date::from_ordinal(year, o);
                assert_eq!(d.map(Date::ordinal), Some(o), "{year} {o}");
            }
        }
    }

    #[test]
    fn leap_rules() {
        assert!(is_leap_year(2000));
        assert!(!is_leap_year(2100));
        assert_eq!(Date::from_ordinal(2019, 0), None);
    }
}
