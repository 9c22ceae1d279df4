//! Timestamps as the dataset and the API write them: RFC 3339 in UTC with milliseconds
//! (`2026-01-02T03:04:05.678Z`), from and to Unix milliseconds, by the `time` crate.

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// `2026-01-02T03:04:05.678Z` from Unix milliseconds; empty for 0 (never) and for instants
/// `time` cannot represent (after year 9999).
pub fn format_rfc3339(ms: u64) -> String {
    if ms == 0 {
        return String::new();
    }
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// The inverse of [`format_rfc3339`] (that shape, or without the fraction; digits of the
/// fraction beyond milliseconds are dropped). `None` before 1970.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let with_fraction = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]Z");
    let without = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let t = PrimitiveDateTime::parse(s, with_fraction).or_else(|_| PrimitiveDateTime::parse(s, without)).ok()?;
    u64::try_from(t.assume_utc().unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formatting_round_trips() {
        assert_eq!(format_rfc3339(0), "");
        assert_eq!(format_rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20.123Z"), Some(1_700_000_000_123));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    /// The same figures as the hand-rolled civil-date code this replaced.
    #[test]
    fn leap_years_century_rules_and_milliseconds() {
        let cases = [
            (1, "1970-01-01T00:00:00.001Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"), // divisible by 400: leap
            (4_107_542_399_999, "2100-02-28T23:59:59.999Z"), // by 100 only: no 29 February
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (1_735_689_599_999, "2024-12-31T23:59:59.999Z"), // day 366 of a leap year
            (1_767_323_045_678, "2026-01-02T03:04:05.678Z"),
            (1_700_000_000_007, "2023-11-14T22:13:20.007Z"),
        ];
        for (ms, text) in cases {
            assert_eq!(format_rfc3339(ms), text, "{ms}");
            assert_eq!(parse_rfc3339(text), Some(ms), "{text}");
        }
        assert_eq!(parse_rfc3339("2024-02-29T12:00:00.250999Z"), Some(1_709_208_000_250));
        assert_eq!(parse_rfc3339("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
    }
}
