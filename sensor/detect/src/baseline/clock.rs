//! Local time for seasonal baselines. Danish offices, schools and nights
//! follow Copenhagen's wall clock, daylight saving included, so the slot
//! "Tuesday 03:00" must be local. Without a time-zone database (the sensor
//! is self-contained), the EU rule is computed: summer time from 01:00 UTC
//! on the last Sunday of March to 01:00 UTC on the last Sunday of October,
//! UTC+2; otherwise UTC+1.

/// Seconds per hour and per day.
pub const HOUR: f64 = 3600.0;
pub const DAY: f64 = 86_400.0;

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Day count of the last Sunday of a month (1970-01-01 was a Thursday).
fn last_sunday(y: i64, m: u32) -> i64 {
    let last = days_from_civil(
        if m == 12 { y + 1 } else { y },
        if m == 12 { 1 } else { m + 1 },
        1,
    ) - 1;
    // Weekday with Monday = 0: day 0 was a Thursday (3).
    let weekday = (last + 3).rem_euclid(7);
    last - (weekday + 1) % 7
}

/// Copenhagen's offset from UTC, in seconds, at Unix time `t`.
pub fn offset(t: f64) -> f64 {
    let days = (t / DAY).floor() as i64;
    let (y, _, _) = civil_from_days(days);
    let start = last_sunday(y, 3) as f64 * DAY + HOUR;
    let end = last_sunday(y, 10) as f64 * DAY + HOUR;
    if t >= start && t < end {
        2.0 * HOUR
    } else {
        HOUR
    }
}

/// Local time as seconds since the epoch, shifted so that whole days are
/// local days.
pub fn local(t: f64) -> f64 {
    t + offset(t)
}

/// Hour of the week in local time: 0 is Monday 00:00–01:00, 167 Sunday
/// 23:00.
pub fn hour_of_week(t: f64) -> u8 {
    let l = local(t);
    let days = (l / DAY).floor() as i64;
    let weekday = (days + 3).rem_euclid(7);
    let hour = ((l - days as f64 * DAY) / HOUR).floor() as i64;
    (weekday * 24 + hour.clamp(0, 23)) as u8
}

/// The local day number (days since 1970-01-01 in local time).
pub fn local_day(t: f64) -> i64 {
    (local(t) / DAY).floor() as i64
}

/// Start (Unix time) of the local hour that contains `t`.
pub fn hour_start(t: f64) -> f64 {
    let l = local(t);
    let start_local = (l / HOUR).floor() * HOUR;
    // The offset only changes on whole hours, so this is exact.
    start_local - (l - t)
}

/// "Tuesday 03:00" for an hour of the week.
pub fn slot_name(how: u8) -> String {
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let d = usize::from(how / 24).min(6);
    format!("{} {:02}:00", DAYS[d], how % 24)
}

/// "03:10" in local time.
pub fn clock(t: f64) -> String {
    let l = local(t);
    let secs = (l - (l / DAY).floor() * DAY) as i64;
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// "2026-12-01 03:10" in local time.
pub fn date_time(t: f64) -> String {
    let (y, m, d) = civil_from_days(local_day(t));
    format!("{y}-{m:02}-{d:02} {}", clock(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copenhagen_winter_and_summer_time() {
        // 2026-01-06 12:00 UTC is 13:00 local, a Tuesday.
        let t = 1_767_700_800.0;
        assert_eq!(offset(t), HOUR);
        assert_eq!(hour_of_week(t), 24 + 13);
        assert_eq!(slot_name(hour_of_week(t)), "Tuesday 13:00");
        // 2026-07-07 12:00 UTC is 14:00 local, a Tuesday.
        let s = 1_783_425_600.0;
        assert_eq!(offset(s), 2.0 * HOUR);
        assert_eq!(hour_of_week(s), 24 + 14);
        // Summer time 2026 starts 2026-03-29 01:00 UTC, ends 2026-10-25.
        let start = days_from_civil(2026, 3, 29) as f64 * DAY + HOUR;
        assert_eq!(offset(start - 1.0), HOUR);
        assert_eq!(offset(start), 2.0 * HOUR);
        let end = days_from_civil(2026, 10, 25) as f64 * DAY + HOUR;
        assert_eq!(offset(end - 1.0), 2.0 * HOUR);
        assert_eq!(offset(end), HOUR);
        assert_eq!(date_time(t), "2026-01-06 13:00");
        assert_eq!(hour_start(t + 1799.0), t);
    }

    #[test]
    fn civil_dates_round_trip() {
        for d in [-1000, 0, 1, 59, 60, 10_000, 20_454, 30_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }
}
