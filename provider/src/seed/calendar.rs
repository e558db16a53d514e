//! Calendar dates for generated orders (no date library needed for this one conversion).

/// `YYYY-MM-DD` of a Unix time plus `days` (UTC), by Howard Hinnant's `civil_from_days`.
pub(crate) fn date_after(unix_secs: i64, days: i64) -> String {
    let z = unix_secs.div_euclid(86_400) + days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::date_after;

    #[test]
    fn dates_are_civil_utc_dates() {
        assert_eq!(date_after(0, 0), "1970-01-01");
        assert_eq!(date_after(951_782_400, 0), "2000-02-29");
        assert_eq!(date_after(1_700_000_000, 0), "2023-11-14");
        assert_eq!(date_after(1_700_000_000, 48), "2024-01-01");
        assert_eq!(date_after(-86_400, 0), "1969-12-31");
    }
}
