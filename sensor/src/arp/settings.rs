//! The ARP table's settings (`[arp]`): its bounds and what makes a sweep.

use super::Limits;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ArpSection {
    /// Address-to-MAC bindings kept at most, over all segments; the least
    /// recently announced are forgotten first (counted in the stats event).
    pub max_bindings: usize,
    /// ARP senders whose requests are counted for sweeps at most.
    pub max_senders: usize,
    /// Distinct addresses one sender asks for in broadcast requests,
    /// within `sweep_window` seconds, that make a sweep.
    pub sweep_targets: u32,
    pub sweep_window: f64,
}

impl Default for ArpSection {
    fn default() -> Self {
        let l = Limits::default();
        ArpSection {
            max_bindings: l.bindings,
            max_senders: l.senders,
            sweep_targets: l.sweep_targets,
            sweep_window: l.sweep_window as f64 / 1e9,
        }
    }
}

impl ArpSection {
    pub fn limits(&self) -> Limits {
        Limits {
            bindings: self.max_bindings,
            senders: self.max_senders,
            sweep_targets: self.sweep_targets,
            sweep_window: (self.sweep_window * 1e9) as i64,
        }
    }

    /// Checks what types alone cannot: (setting, what is wrong).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=16_777_216).contains(&self.max_bindings) {
            return Err(("arp.max_bindings", "must be between 1 and 16777216".into()));
        }
        if !(1..=1_048_576).contains(&self.max_senders) {
            return Err(("arp.max_senders", "must be between 1 and 1048576".into()));
        }
        if !(2..=256).contains(&self.sweep_targets) {
            // A sender's targets set bits of a 1,024-bit set: past a
            // quarter of it, shared bits make the count too low to trust.
            return Err(("arp.sweep_targets", "must be between 2 and 256".into()));
        }
        if !self.sweep_window.is_finite() || !(1.0..=86_400.0).contains(&self.sweep_window) {
            return Err((
                "arp.sweep_window",
                "must be between 1 and 86400 seconds".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_tables_and_bad_values_are_named() {
        let d = ArpSection::default();
        let l = d.limits();
        let want = Limits::default();
        assert_eq!(
            (l.bindings, l.senders, l.sweep_targets, l.sweep_window),
            (
                want.bindings,
                want.senders,
                want.sweep_targets,
                want.sweep_window
            )
        );
        assert!(d.validate().is_ok());
        for (bad, key) in [
            (
                ArpSection {
                    max_bindings: 0,
                    ..ArpSection::default()
                },
                "arp.max_bindings",
            ),
            (
                ArpSection {
                    sweep_targets: 5000,
                    ..ArpSection::default()
                },
                "arp.sweep_targets",
            ),
            (
                ArpSection {
                    sweep_window: f64::NAN,
                    ..ArpSection::default()
                },
                "arp.sweep_window",
            ),
        ] {
            assert_eq!(bad.validate().map_err(|(k, _)| k), Err(key));
        }
    }
}
