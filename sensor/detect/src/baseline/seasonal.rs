//! Robust online estimates and the seasonal (hour-of-week) model built
//! from them. Each slot keeps a count, an exponentially weighted mean and
//! an exponentially weighted mean absolute deviation; once a slot has a
//! few samples, a new sample is clipped to three spreads of the mean
//! before it is learned, so one attack hour cannot teach the baseline that
//! attacks are normal. A slot of the week ("Tuesday 03:00") is used once
//! it has two samples; before that, the same hour on the same kind of day
//! (weekdays, weekends), which learns five times faster.

use super::clock;
use serde::{Deserialize, Serialize};

/// Weight of a new sample once a slot has many: about the last ten.
const ALPHA_MIN: f64 = 0.1;
/// Samples after which clipping starts.
const CLIP_AFTER: u32 = 3;
/// Spreads from the mean at which a new sample is clipped.
const CLIP: f64 = 3.0;
/// A normal distribution's standard deviation per mean absolute deviation.
const SD_PER_MAD: f64 = 1.2533;

/// One robust running estimate: (samples, mean, mean absolute deviation).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Robust(pub u32, pub f64, pub f64);

impl Robust {
    pub fn samples(&self) -> u32 {
        self.0
    }

    pub fn mean(&self) -> f64 {
        self.1
    }

    /// The spread, comparable to a standard deviation.
    pub fn spread(&self) -> f64 {
        self.2 * SD_PER_MAD
    }

    pub fn update(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.0 = self.0.saturating_add(1);
        if self.0 == 1 {
            self.1 = x;
            self.2 = 0.0;
            return;
        }
        let x = if self.0 > CLIP_AFTER {
            let lim = CLIP * self.spread().max(self.1.abs() * 0.05);
            x.clamp(self.1 - lim, self.1 + lim)
        } else {
            x
        };
        let alpha = (1.0 / f64::from(self.0)).max(ALPHA_MIN);
        let d = (x - self.1).abs();
        self.1 += alpha * (x - self.1);
        self.2 += alpha * (d - self.2);
    }
}

/// What a slot expects, and which slot said so.
#[derive(Clone, Debug, PartialEq)]
pub struct Expected {
    pub mean: f64,
    pub spread: f64,
    pub samples: u32,
    /// "Tuesday 03:00" or "weekdays 03:00".
    pub slot: String,
}

/// Hours of the week, and hours of weekdays and of weekends.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Seasonal {
    week: Vec<Robust>,
    day_type: Vec<Robust>,
}

impl Default for Seasonal {
    fn default() -> Self {
        Seasonal {
            week: vec![Robust::default(); 168],
            day_type: vec![Robust::default(); 48],
        }
    }
}

fn day_type(how: u8) -> usize {
    let weekend = how / 24 >= 5;
    usize::from(weekend) * 24 + usize::from(how % 24)
}

impl Seasonal {
    /// Learns `x` for hour of the week `how`.
    pub fn update(&mut self, how: u8, x: f64) {
        if let Some(s) = self.week.get_mut(usize::from(how)) {
            s.update(x);
        }
        if let Some(s) = self.day_type.get_mut(day_type(how)) {
            s.update(x);
        }
    }

    /// What hour `how` normally holds, when learnt.
    pub fn expected(&self, how: u8) -> Option<Expected> {
        let week = self.week.get(usize::from(how))?;
        if week.samples() >= 2 {
            return Some(Expected {
                mean: week.mean(),
                spread: week.spread(),
                samples: week.samples(),
                slot: clock::slot_name(how),
            });
        }
        let dt = self.day_type.get(day_type(how))?;
        (dt.samples() >= 2).then(|| Expected {
            mean: dt.mean(),
            spread: dt.spread(),
            samples: dt.samples(),
            slot: format!(
                "{} {:02}:00",
                if how / 24 >= 5 {
                    "weekends"
                } else {
                    "weekdays"
                },
                how % 24
            ),
        })
    }

    /// The hour-of-week slot itself, for display.
    pub fn slot(&self, how: u8) -> Robust {
        self.week.get(usize::from(how)).copied().unwrap_or_default()
    }

    /// A state read from disk has the right number of slots.
    pub fn is_well_formed(&self) -> bool {
        self.week.len() == 168 && self.day_type.len() == 48
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_outlier_does_not_teach_the_baseline() {
        let mut r = Robust::default();
        for i in 0..50 {
            r.update(100.0 + f64::from(i % 5));
        }
        let before = r.mean();
        r.update(1e9);
        assert!(r.mean() < before * 1.2, "{r:?}");
        assert!(r.spread() > 0.0 && r.spread() < 20.0, "{r:?}");
    }

    #[test]
    fn a_slot_falls_back_to_its_day_type_until_it_has_samples() {
        let mut s = Seasonal::default();
        // Monday and Tuesday 03:00 once each: the week slot has 1 sample,
        // weekdays 03:00 has 2.
        s.update(3, 10.0);
        s.update(24 + 3, 20.0);
        let e = s.expected(2 * 24 + 3).expect("weekday fallback");
        assert_eq!(e.slot, "weekdays 03:00");
        assert_eq!(e.samples, 2);
        assert!(s.expected(5 * 24 + 3).is_none(), "no weekend data yet");
        s.update(3, 12.0);
        let e = s.expected(3).expect("week slot");
        assert_eq!(e.slot, "Monday 03:00");
    }
}
