//! OT changes from a new source: the first write or control command
//! (start, stop, mode change, operating an output) a host sends at all,
//! and the first program change (upload, download, firmware) it sends to
//! each controller, by the OT class the parsers give every request. A
//! master that has always written setpoints raises nothing, also when it
//! writes to a controller it had not written to before (masters and
//! engineering stations spread their routine writes over the controllers
//! as the process needs); a host that never wrote does, and an
//! engineering laptop that downloads a program to a controller for the
//! first time does.
//!
//! "First" means first in the detector's memory: a replay starts with none,
//! and the memory is bounded (the least recently active pairs are
//! forgotten first). Writes, and control commands such as operating a
//! breaker, are routine for a SCADA master, so while the detector is still
//! learning (`learning` seconds of traffic since its memory began) a first
//! one raises a lower score and says so; program changes (downloads,
//! uploads, firmware) are rare enough to raise their full score from the
//! start. A source's findings name the device but
//! fold into one alert per source and class, so a master that writes to
//! forty controllers is one alert, not forty.

use super::table::Table;
use super::{span, Detector};
use crate::{Evidence, Notice};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use vagt_schema::{ConnId, Event, EventBody, OtClass};

/// `[ot_change]` in the rules files.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Scores (0-100) per class: the policy makes 70 and up high.
    pub program_score: u8,
    pub control_score: u8,
    pub write_score: u8,
    /// Scores of a first write and control command while still learning.
    pub learning_write_score: u8,
    pub learning_control_score: u8,
    /// Seconds of traffic before a first write counts as new rather than
    /// not yet learnt (7 days).
    pub learning: f64,
    /// Source-device-class triples remembered at most.
    pub max_tracked: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            program_score: 80,
            control_score: 70,
            write_score: 45,
            learning_write_score: 25,
            learning_control_score: 55,
            learning: 7.0 * 86_400.0,
            max_tracked: 100_000,
        }
    }
}

pub struct OtChange {
    settings: Settings,
    /// (source, device, class) -> times seen; the device is the
    /// unspecified address for writes and control commands, which are
    /// judged per source.
    seen: Table<(IpAddr, IpAddr, OtClass), u64>,
    /// When the detector's memory begins, for the message.
    since: Option<f64>,
}

impl OtChange {
    pub fn new(settings: Settings) -> OtChange {
        OtChange {
            seen: Table::new(settings.max_tracked),
            settings,
            since: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        segment: &str,
        ts: f64,
        uid: &str,
        id: &ConnId,
        protocol: &str,
        function: &str,
        class: OtClass,
        n: u64,
        out: &mut Vec<Notice>,
    ) {
        let since = *self.since.get_or_insert(ts);
        let learned = ts - since;
        let learning = learned < self.settings.learning;
        let (score, technique, kind) = match class {
            OtClass::Program => (self.settings.program_score, "T0843", "program"),
            OtClass::Control if learning => {
                (self.settings.learning_control_score, "T0858", "control")
            }
            OtClass::Control => (self.settings.control_score, "T0858", "control"),
            OtClass::Write if learning => (self.settings.learning_write_score, "T0836", "write"),
            OtClass::Write => (self.settings.write_score, "T0836", "write"),
            OtClass::Read | OtClass::Other => return,
        };
        let per_device = class == OtClass::Program;
        let device = if per_device {
            id.resp_h
        } else {
            IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
        };
        let seen = self.seen.entry(&(id.orig_h, device, class), ts, || 0);
        *seen += n;
        if *seen != n {
            return;
        }
        let mut evidence = Evidence::default();
        evidence.add(uid, None);
        out.push(Notice {
            ts,
            segment: segment.to_string(),
            detector: "ot_change",
            kind,
            technique: technique.into(),
            score,
            src: id.orig_h,
            // The device is in the message; the alert is per source.
            dst: None,
            subject: Some(protocol.to_string()),
            message: format!(
                "{} sent a {kind} request ({protocol} {function}) to {} port {}; no {kind} request from {}{} had been seen in {}{}",
                id.orig_h,
                id.resp_h,
                id.resp_p,
                id.orig_h,
                if per_device { " to this device" } else { " to any device" },
                span(learned),
                if learning {
                    format!(" (still learning: {} of {} learnt)", span(learned), span(self.settings.learning))
                } else {
                    String::new()
                }
            ),
            count: n,
            first: ts,
            last: ts,
            evidence,
        });
    }
}

impl Detector for OtChange {
    fn tracked(&self) -> super::Tracked {
        self.seen.tracked()
    }

    fn observe(&mut self, event: &Event, out: &mut Vec<Notice>) {
        let seg = &event.origin.segment;
        let (ts, uid, id, protocol, function, class, n): (
            f64,
            &str,
            &ConnId,
            &str,
            String,
            _,
            u64,
        ) = match &event.body {
            EventBody::Modbus(r) => (
                r.ts,
                &r.uid,
                &r.id,
                "modbus",
                r.func.clone().unwrap_or_default(),
                r.class,
                1,
            ),
            EventBody::Dnp3(r) => (
                r.ts,
                &r.uid,
                &r.id,
                "dnp3",
                r.fc_request.clone().unwrap_or_default(),
                r.class,
                1,
            ),
            EventBody::Bacnet(r) => (
                r.ts,
                &r.uid,
                &r.id,
                "bacnet",
                r.pdu_service.clone().unwrap_or_default(),
                r.class,
                1,
            ),
            EventBody::S7comm(r) => (
                r.ts,
                &r.uid,
                &r.id,
                "s7comm",
                r.function_name.clone().unwrap_or_default(),
                r.class,
                1,
            ),
            EventBody::Enip(r) => (
                r.ts,
                &r.uid,
                &r.id,
                "enip",
                r.cip_service
                    .clone()
                    .unwrap_or_else(|| r.enip_command.clone()),
                r.class,
                1,
            ),
            EventBody::OtSummary(r) => (
                r.ts,
                &r.uid,
                &r.id,
                r.protocol.as_str(),
                r.function.clone(),
                r.class,
                r.count,
            ),
            _ => return,
        };
        if let Some(class) = class {
            self.request(seg, ts, uid, id, protocol, &function, class, n, out);
        }
    }

    fn sweep(&mut self, _now: f64, _out: &mut Vec<Notice>) {}

    fn save(&self) -> Option<(&'static str, serde_json::Value)> {
        let v = serde_json::to_value((&self.seen, self.since)).ok()?;
        Some(("ot_change", v))
    }

    fn restore(&mut self, name: &str, value: &serde_json::Value) -> bool {
        if name != "ot_change" {
            return true;
        }
        type Saved = (Table<(IpAddr, IpAddr, OtClass), u64>, Option<f64>);
        match Saved::deserialize(value) {
            Ok((seen, since)) => {
                self.seen = seen.with_cap(self.settings.max_tracked);
                self.since = since;
                true
            }
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detectors::testutil::{body, event};
    use serde_json::json;

    const T0: f64 = 1_780_000_000.0;

    fn modbus(ts: f64, src: &str, dst: &str, func: &str, class: &str) -> Event {
        event(
            "ot",
            body(json!({
                "event_type": "modbus",
                "ts": ts, "uid": "C1",
                "id.orig_h": src, "id.orig_p": 50000, "id.resp_h": dst, "id.resp_p": 502,
                "func": func, "class": class,
            })),
        )
    }

    #[test]
    fn a_writer_is_judged_per_source_and_a_program_change_per_device() {
        let mut d = OtChange::new(Settings::default());
        let mut out = Vec::new();
        let late = T0 + 8.0 * 86_400.0;
        d.observe(
            &modbus(
                T0,
                "10.6.1.2",
                "10.6.1.50",
                "WRITE_SINGLE_REGISTER",
                "write",
            ),
            &mut out,
        );
        assert_eq!(out.len(), 1, "the master's first write (while learning)");
        // The master writes to another controller: routine, not news.
        d.observe(
            &modbus(
                late,
                "10.6.1.2",
                "10.6.1.51",
                "WRITE_SINGLE_REGISTER",
                "write",
            ),
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:#?}");
        // A host that never wrote: news, at the full score.
        d.observe(
            &modbus(
                late,
                "10.6.1.99",
                "10.6.1.50",
                "WRITE_SINGLE_REGISTER",
                "write",
            ),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!((out[1].kind, out[1].score), ("write", 45));
        assert!(
            out[1].message.contains("to any device"),
            "{}",
            out[1].message
        );
        // Program changes are news for each controller.
        for dst in ["10.6.1.50", "10.6.1.51", "10.6.1.51"] {
            d.observe(
                &modbus(late, "10.6.1.2", dst, "PROGRAM_DOWNLOAD", "program"),
                &mut out,
            );
        }
        assert_eq!(out.len(), 4, "{out:#?}");
        assert!(
            out[3].message.contains("to this device"),
            "{}",
            out[3].message
        );
    }
}
