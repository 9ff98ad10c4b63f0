//! Instants and calendar dates as the domain sees them: plain values with a
//! stable serialised form (microseconds since the Unix epoch; `YYYY-MM-DD`).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An instant, in microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = i64, format = Int64))]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Microseconds in one day.
    pub const DAY: i64 = 86_400_000_000;

    /// The instant `days` whole days later (negative for earlier), saturating.
    pub fn plus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(days.saturating_mul(Self::DAY)))
    }

    /// The instant `micros` microseconds later (negative for earlier), saturating.
    pub fn plus_micros(self, micros: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(micros))
    }

    /// The calendar date (UTC) this instant falls on.
    pub fn date(self) -> Date {
        Date::from_days_since_epoch(self.0.div_euclid(Self::DAY))
    }

    /// Year, month, day, hour and minute (UTC).
    pub fn utc_parts(self) -> (i32, u8, u8, u8, u8) {
        let (year, month, day) = self.date().parts();
        let minutes = self.0.rem_euclid(Self::DAY) / 60_000_000;
        // minutes < 1440, so both fit in a u8 after the division.
        (year, month, day, (minutes / 60) as u8, (minutes % 60) as u8)
    }
}

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))).examples(["1984-03-27"]).into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Date {}

/// Why a text is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date: write it as YYYY-MM-DD, e.g. 1984-03-27")]
pub struct DateError(pub String);

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date from its parts, if it exists in the calendar (years 1–9999).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let fail = || DateError(text.chars().take(40).collect());
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
            return Err(fail());
        }
        let number = |range: std::ops::Range<usize>| -> Option<i32> {
            let part = text.get(range)?;
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = number(0..4).ok_or_else(fail)?;
        let month = u8::try_from(number(5..7).ok_or_else(fail)?).map_err(|_| fail())?;
        let day = u8::try_from(number(8..10).ok_or_else(fail)?).map_err(|_| fail())?;
        Date::new(year, month, day).ok_or_else(fail)
    }

    /// Year, month (1–12) and day (1–31).
    pub fn parts(self) -> (i32, u8, u8) {
        (self.year, self.month, self.day)
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil, valid for the whole proleptic calendar.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The first instant of this date (UTC).
    pub fn start(self) -> Timestamp {
        Timestamp(self.days_since_epoch().saturating_mul(Timestamp::DAY))
    }

    /// Whole years from this date to `on` (an age).
    pub fn years_until(self, on: Date) -> i32 {
        let mut years = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }
}

impl TryFrom<String> for Date {
    type Error = DateError;
    fn try_from(value: String) -> Result<Date, DateError> {
        Date::parse(&value)
    }
}

impl From<Date> for String {
    fn from(date: Date) -> String {
        date.to_string()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_dates() {
        let d = Date::parse("2024-02-29").expect("leap day");
        assert_eq!(d.to_string(), "2024-02-29");
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2023-13-01").is_err());
        assert!(Date::parse("23-01-01").is_err());
        assert!(Date::parse("2023-1-011").is_err());
        assert!(Date::parse("２０２３-01-01").is_err());
    }

    #[test]
    fn epoch_days_are_right() {
        assert_eq!(Date::parse("1970-01-01").map(Date::days_since_epoch), Ok(0));
        assert_eq!(Date::parse("2000-03-01").map(Date::days_since_epoch), Ok(11_017));
        assert_eq!(Timestamp(0).date().to_string(), "1970-01-01");
        assert_eq!(Timestamp(-1).date().to_string(), "1969-12-31");
    }

    #[test]
    fn instants_split_into_utc_parts() {
        let day = Date::parse("2026-03-02").expect("date").start();
        assert_eq!(Timestamp(day.0 + (9 * 60 + 30) * 60_000_000).utc_parts(), (2026, 3, 2, 9, 30));
        assert_eq!(Timestamp(day.0 - 60_000_000).utc_parts(), (2026, 3, 1, 23, 59));
    }

    #[test]
    fn ages_count_birthdays() {
        let born = Date::parse("1980-06-15").expect("date");
        assert_eq!(born.years_until(Date::parse("2026-06-14").expect("date")), 45);
        assert_eq!(born.years_until(Date::parse("2026-06-15").expect("date")), 46);
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -700_000i64..2_900_000) {
            let date = Date::from_days_since_epoch(days);
            prop_assert_eq!(date.days_since_epoch(), days);
            prop_assert_eq!(Date::parse(&date.to_string()), Ok(date));
        }

        #[test]
        fn parse_never_panics(text in ".{0,16}") {
            let _ = Date::parse(&text);
        }
    }
}
