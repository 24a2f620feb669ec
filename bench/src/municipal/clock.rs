//! Time in the generated network: the calendar of the run in
//! Europe/Copenhagen local time (CET, and CEST between the last Sundays of
//! March and October, changing at 01:00 UTC as in the whole EU), and the
//! activity curves that give traffic its daily and weekly seasons: office
//! hours, school days, care shifts, library opening hours, evenings and
//! nights. The generator thinks in local days; events carry Unix time.

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil year of a day count (only the year is needed, for DST).
fn year_of(days: i64) -> i64 {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

/// The day count of the last Sunday of a month (1970-01-01 was a Thursday).
fn last_sunday(y: i64, m: i64) -> i64 {
    let first_next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let last = first_next - 1;
    // weekday: 0 = Monday ... 6 = Sunday.
    let wd = (last + 3).rem_euclid(7);
    last - (wd - 6).rem_euclid(7)
}

/// Copenhagen's offset from UTC at Unix time `t`, in seconds.
pub fn utc_offset(t: f64) -> f64 {
    let day = (t / 86_400.0).floor() as i64;
    let y = year_of(day);
    let start = last_sunday(y, 3) as f64 * 86_400.0 + 3600.0;
    let end = last_sunday(y, 10) as f64 * 86_400.0 + 3600.0;
    if t >= start && t < end {
        7200.0
    } else {
        3600.0
    }
}

/// The run's calendar: day 0 is the local midnight it starts at.
#[derive(Clone, Debug)]
pub struct Calendar {
    /// Days since 1970-01-01 of day 0's civil date.
    first_day: i64,
}

impl Calendar {
    /// A calendar starting on the given civil date.
    pub fn new(y: i64, m: i64, d: i64) -> Calendar {
        Calendar {
            first_day: days_from_civil(y, m, d),
        }
    }

    /// Unix time of local midnight that starts day `d` of the run.
    pub fn midnight(&self, d: u32) -> f64 {
        let civil = (self.first_day + i64::from(d)) as f64 * 86_400.0;
        // The offset at local midnight is that of 3 hours earlier in UTC
        // at the latest; DST never changes between 21:00 and 01:00 UTC.
        civil - utc_offset(civil - 3.0 * 3600.0)
    }

    /// Unix time of local hour `h` (fractional) on day `d`. Hours past a
    /// DST change are counted on the clock, as people live them.
    pub fn at(&self, d: u32, h: f64) -> f64 {
        let m = self.midnight(d);
        let guess = m + h * 3600.0;
        // Correct for a DST change earlier that day.
        guess + utc_offset(m + 3.0 * 3600.0) - utc_offset(guess)
    }

    /// Weekday of day `d`: 0 = Monday ... 6 = Sunday.
    pub fn weekday(&self, d: u32) -> u32 {
        ((self.first_day + i64::from(d) + 3).rem_euclid(7)) as u32
    }

    /// Whether day `d` is a patch Tuesday (the second Tuesday of its month).
    pub fn is_patch_tuesday(&self, d: u32) -> bool {
        let day = self.first_day + i64::from(d);
        // Day of the month: count back to the first of the month.
        let y = year_of(day);
        let mut m = 12;
        while m > 1 && days_from_civil(y, m, 1) > day {
            m -= 1;
        }
        let dom = day - days_from_civil(y, m, 1) + 1;
        self.weekday(d) == 1 && (8..=14).contains(&dom)
    }
}

/// Activity patterns: relative intensity 0..1 at local hour `h` of a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// Town hall and job centre: 08-16 on weekdays, a lunch dip.
    Office,
    /// Schools: 08-15 on weekdays.
    School,
    /// Care homes and home care: around the clock, in shifts.
    Care,
    /// Library: 10-19 weekdays, 10-14 Saturday.
    Library,
    /// Guest Wi-Fi: visitors' phones, daytime and evening.
    Guest,
    /// Servers and OT: flat.
    Flat,
}

impl Curve {
    pub fn level(self, h: f64, weekday: u32) -> f64 {
        let weekend = weekday >= 5;
        match self {
            Curve::Office => {
                if weekend {
                    return if (9.0..13.0).contains(&h) { 0.03 } else { 0.0 };
                }
                match h {
                    h if !(7.0..17.5).contains(&h) => 0.0,
                    h if h < 8.0 => 0.4,
                    h if (11.5..12.5).contains(&h) => 0.5,
                    h if h >= 16.0 => 0.3,
                    _ => 1.0,
                }
            }
            Curve::School => {
                if weekend || !(7.8..15.5).contains(&h) {
                    0.0
                } else if (11.5..12.2).contains(&h) {
                    0.4
                } else {
                    1.0
                }
            }
            Curve::Care => match h {
                h if (7.0..15.0).contains(&h) => 1.0,
                h if (15.0..23.0).contains(&h) => 0.6,
                _ => 0.15,
            },
            Curve::Library => match weekday {
                5 if (10.0..14.0).contains(&h) => 0.8,
                0..=4 if (10.0..19.0).contains(&h) => 1.0,
                _ => 0.0,
            },
            Curve::Guest => match h {
                h if (8.0..17.0).contains(&h) => {
                    if weekend {
                        0.2
                    } else {
                        1.0
                    }
                }
                h if (17.0..21.0).contains(&h) => 0.4,
                _ => 0.02,
            },
            Curve::Flat => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copenhagen_time_and_calendar() {
        // 2026-11-02 is a Monday; CET (UTC+1): midnight is 23:00 UTC before.
        let c = Calendar::new(2026, 11, 2);
        assert_eq!(c.weekday(0), 0);
        assert_eq!(
            c.midnight(0),
            days_from_civil(2026, 11, 1) as f64 * 86_400.0 + 23.0 * 3600.0
        );
        // 2026-11-10 is the second Tuesday of November.
        assert!(c.is_patch_tuesday(8));
        assert!(!c.is_patch_tuesday(1));
        // Summer: 2026-07-01 12:00 local is 10:00 UTC.
        let s = Calendar::new(2026, 7, 1);
        assert_eq!(
            s.at(0, 12.0),
            days_from_civil(2026, 7, 1) as f64 * 86_400.0 + 10.0 * 3600.0
        );
        // DST ended 2026-10-25 01:00 UTC.
        let t = days_from_civil(2026, 10, 25) as f64 * 86_400.0;
        assert_eq!(utc_offset(t + 3599.0), 7200.0);
        assert_eq!(utc_offset(t + 3600.0), 3600.0);
    }
}
