//! FHIR date, dateTime and instant text from the domain's microsecond
//! timestamps (always UTC, `Z`), and the instant ranges that FHIR date search
//! compares (a date means its whole day, a minute its whole minute).

use celltrace_domain::time::{Date, Timestamp};

const DAY: i64 = Timestamp::DAY;
const SECOND: i64 = 1_000_000;
/// 0001-01-01T00:00:00Z: FHIR years have four digits and start at 1.
const MIN_MICROS: i64 = -719_162 * DAY;
/// 9999-12-31T23:59:59.999999Z.
const MAX_MICROS: i64 = 2_932_897 * DAY - 1;

/// A FHIR `dateTime` (also a valid `instant`): `2026-01-02T03:04:05Z`, with a
/// fraction only when the timestamp has one (`…:05.25Z`). Timestamps outside
/// years 1–9999 are clamped to that range, since FHIR cannot say them.
pub fn date_time(ts: Timestamp) -> String {
    let micros = ts.0.clamp(MIN_MICROS, MAX_MICROS);
    let (year, month, day) = Date::from_days_since_epoch(micros.div_euclid(DAY)).parts();
    let of_day = micros.rem_euclid(DAY);
    let secs = of_day / SECOND;
    let frac = of_day % SECOND;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if frac != 0 {
        let digits = format!("{frac:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// A FHIR `date`: `YYYY-MM-DD`.
pub fn date(d: Date) -> String {
    d.to_string()
}

/// The instants a FHIR date, dateTime or instant text covers, as a half-open
/// range of microseconds since the epoch: `2026` is the whole year,
/// `2026-01-02T03:04Z` the whole minute. `None` when the text is not one.
pub fn range(text: &str) -> Option<(i64, i64)> {
    let (date_part, time_part) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let fields: Vec<&str> = date_part.split('-').collect();
    let number = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
    };
    let year = i32::try_from(number(fields.first()?, 4)?).ok()?;
    let month = fields.get(1).map(|m| number(m, 2)).unwrap_or(Some(1))?;
    let day = fields.get(2).map(|d| number(d, 2)).unwrap_or(Some(1))?;
    if fields.len() > 3 {
        return None;
    }
    let start_date = Date::new(year, u8::try_from(month).ok()?, u8::try_from(day).ok()?)?;
    let start = start_date.days_since_epoch().checked_mul(DAY)?;
    let Some(time) = time_part else {
        // Partial dates cover their whole month or year.
        let end = match fields.len() {
            1 => Date::new(year + 1, 1, 1).map(|d| d.days_since_epoch() * DAY).unwrap_or(MAX_MICROS + 1),
            2 if month == 12 => Date::new(year + 1, 1, 1).map(|d| d.days_since_epoch() * DAY).unwrap_or(MAX_MICROS + 1),
            2 => Date::new(year, u8::try_from(month + 1).ok()?, 1)?.days_since_epoch() * DAY,
            _ => start + DAY,
        };
        return Some((start, end));
    };
    if fields.len() != 3 {
        return None;
    }
    // Split off the zone: `Z`, `+hh:mm` or `-hh:mm` (FHIR requires one with a time).
    let (clock, offset) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (zh, zm) = zone.get(1..)?.split_once(':')?;
        (c, sign * (number(zh, 2)? * 3600 + number(zm, 2)? * 60) * SECOND)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (clock, None),
    };
    let parts: Vec<&str> = hms.split(':').collect();
    let hour = number(parts.first()?, 2)?;
    let minute = number(parts.get(1)?, 2)?;
    let second = parts.get(2).map(|s| number(s, 2)).unwrap_or(Some(0))?;
    if parts.len() > 3 || hour > 23 || minute > 59 || second > 60 || (frac.is_some() && parts.len() != 3) {
        return None;
    }
    let mut begin = start + ((hour * 60 + minute) * 60 + second) * SECOND - offset;
    let width = match frac {
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            let digits: String = f.chars().chain(std::iter::repeat('0')).take(6).collect();
            begin += digits.parse::<i64>().ok()?;
            1
        }
        Some(_) => return None,
        None if parts.len() == 3 => SECOND,
        None => 60 * SECOND,
    };
    Some((begin, begin + width))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp(range(text).expect("parses").0)
    }

    #[test]
    fn formats_utc_with_zone_and_optional_fraction() {
        assert_eq!(date_time(Timestamp(0)), "1970-01-01T00:00:00Z");
        let t = at("2026-01-02T03:04:05Z");
        assert_eq!(date_time(t), "2026-01-02T03:04:05Z");
        assert_eq!(date_time(Timestamp(t.0 + 250_000)), "2026-01-02T03:04:05.25Z");
        assert_eq!(date_time(Timestamp(t.0 + 7)), "2026-01-02T03:04:05.000007Z");
        assert_eq!(date_time(Timestamp(-1)), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn clamps_to_four_digit_years() {
        assert_eq!(date_time(Timestamp(i64::MIN)), "0001-01-01T00:00:00Z");
        assert_eq!(date_time(Timestamp(i64::MAX)), "9999-12-31T23:59:59.999999Z");
        assert_eq!(Some(MIN_MICROS), Date::new(1, 1, 1).map(|d| d.start().0));
        assert_eq!(Some(MAX_MICROS + 1), Date::new(9999, 12, 31).map(|d| d.start().0 + DAY));
    }

    #[test]
    fn ranges_follow_precision_and_zone() {
        let day = range("2026-03-02").expect("date");
        assert_eq!(day.1 - day.0, DAY);
        let month = range("2024-02").expect("month");
        assert_eq!(month.1 - month.0, 29 * DAY);
        let december = range("2025-12").expect("month");
        assert_eq!(december.1, range("2026").expect("year").0);
        let minute = range("2026-03-02T09:30Z").expect("minute");
        assert_eq!((minute.0 - day.0, minute.1 - minute.0), ((9 * 60 + 30) * 60 * SECOND, 60 * SECOND));
        let zoned = range("2026-03-02T11:30:00+02:00").expect("zoned");
        assert_eq!(zoned.0, minute.0);
        assert_eq!(range("2026-03-02T09:30:00.5Z").map(|r| r.0 - minute.0), Some(500_000));
        for bad in ["", "2026-13-01", "26-01-01", "2026-01-01T25:00Z", "2026-01-01T10:00", "2026-01-01T10:00:00.xZ", "2026-1-01"] {
            assert_eq!(range(bad), None, "{bad}");
        }
    }

    #[test]
    fn formatted_instants_parse_back() {
        for micros in [0, 1, 1_780_000_000_123_456, -5_000_000_000] {
            let text = date_time(Timestamp(micros));
            assert_eq!(range(&text).map(|r| r.0), Some(micros), "{text}");
        }
    }
}
