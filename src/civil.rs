//! Calendar arithmetic: days since 1970-01-01 → a proleptic Gregorian date.
//!
//! One implementation (H. Hinnant's `civil_from_days`) for everything that writes
//! dates by hand: DuckDB's and BigQuery's result cells, the audit log's time
//! stamps, `m4 auth status`. It formats nothing and depends on nothing in m4.

/// `(year, month, day)` of the day `days` after 1970-01-01 (negative: before it).
pub fn from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right_around_leap_years() {
        assert_eq!(from_days(0), (1970, 1, 1));
        assert_eq!(from_days(11_016), (2000, 2, 29));
        assert_eq!(from_days(-1), (1969, 12, 31));
    }
}
