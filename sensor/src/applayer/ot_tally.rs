//! OT polling, counted: which industrial messages are written one by one
//! and which are summed into `ot_summary` records (`[app.ot]`).
//!
//! A SCADA master or an HMI polls its controllers several times a second
//! around the clock; a record per poll is millions of records a day per
//! controller, and writing them cost the sensor more than everything else
//! it does (bench/RESULTS.md). Reads, discovery and their responses are
//! counted per connection, direction, unit and function, and written as
//! one [`OtSummaryRecord`] per kind and interval. Of the messages that
//! change something (class `write`, `program`, `control`) and of failures,
//! the first of each kind per interval is written in full, because the OT
//! detectors and an analyst need it, and the repeats are counted (they
//! carry nothing the first did not: records hold no values).
//! `records = "every"` writes every message, as Zeek's `modbus.log` does;
//! the parity tests run that way.

use super::{ConnIdent, Session};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use vagt_schema::{EventBody, OtClass, OtSummaryRecord};

/// Which OT messages get a record of their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtRecords {
    /// Messages that change the device, and exceptions; the rest are
    /// counted into `ot_summary` records.
    #[default]
    Changes,
    /// Every message (Zeek's and ICSNPP's logs, one line per message).
    Every,
}

/// The `[app.ot]` section of the configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub records: OtRecords,
    /// Seconds of packet time one `ot_summary` record covers at most; a
    /// connection's counts are also written when it ends.
    pub summary_interval: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            records: OtRecords::Changes,
            summary_interval: 300,
        }
    }
}

/// What identifies one counted kind of message within a connection.
#[derive(Clone, Copy, Debug, Eq)]
pub struct Key {
    pub is_orig: bool,
    pub unit: Option<u32>,
    /// The protocol's own code for the function (any packing of its
    /// function, service and object numbers that tells them apart).
    pub code: u64,
    pub class: Option<OtClass>,
}

/// The code first: it tells a connection's kinds apart, so a search over
/// its rows fails on the first comparison instead of the third (the
/// derived order), once per OT message.
impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.code == other.code
            && self.is_orig == other.is_orig
            && self.class == other.class
            && self.unit == other.unit
    }
}

struct Row {
    key: Key,
    /// Changes the device or failed: the first was written in full.
    notable: bool,
    function: Cow<'static, str>,
    count: u64,
    first: i64,
    last: i64,
}

/// How far the industrial parsers read a TCP stream (`Parser::depth`): to
/// its end, whatever `[app] depth` says. A master polls its controllers
/// over one connection for days, which passes any inspection depth within
/// hours, and the OT policy needs every write, program change and control
/// command on it, late ones included (Zeek reads these streams whole). The parsers hold
/// at most one message, so reading on costs time, not memory; on the
/// corpus mix, reading every stream whole measured the same wall time as
/// the 1 MiB default (bench/RESULTS.md).
pub const WHOLE_STREAM: u64 = u64::MAX;

/// Rows one connection holds before it writes them: a connection uses a
/// handful of functions, so this bounds memory without ever binding.
const MAX_ROWS: usize = 32;

/// One connection's counts.
pub struct Tally {
    protocol: &'static str,
    since: i64,
    rows: Vec<Row>,
    /// The row last counted. A master polls the same kinds in the same
    /// order, so the next message is nearly always of that row's kind (a
    /// packet of like requests: EtherNet/IP packs dozens of tag reads in
    /// one) or of the row after it, and looking at those two first spares
    /// a search of all rows.
    last: usize,
}

impl Tally {
    pub fn new(protocol: &'static str) -> Tally {
        Tally {
            protocol,
            since: 0,
            rows: Vec::new(),
            last: 0,
        }
    }

    /// Whether a message gets its own record; if not, it is counted here.
    /// Messages that change the device and failures (`exception`: an
    /// error or exception response) are written when they are the first
    /// of their kind on the connection in the interval, the rest are
    /// counted: repeats carry nothing the first did not (the records hold
    /// no values), and a master that rewrites a setpoint every second
    /// would otherwise write a record a second. `function` names the kind
    /// and is called once per kind and interval.
    pub fn write_each(
        &mut self,
        s: &mut Session<'_>,
        key: Key,
        exception: bool,
        function: impl FnOnce() -> Cow<'static, str>,
    ) -> bool {
        !self.begin(s) || self.count(s, key, exception, function)
    }

    /// The part of [`Tally::write_each`] that depends on the packet, not
    /// the message, for a packet that carries many (EtherNet/IP packs
    /// dozens): false when every message is written (`records =
    /// "every"`); otherwise an interval that ran out is written first and
    /// the packet's messages go to [`Tally::count`].
    pub fn begin(&mut self, s: &mut Session<'_>) -> bool {
        let settings = s.shared.ot;
        if settings.records == OtRecords::Every {
            return false;
        }
        let interval = i64::try_from(settings.summary_interval)
            .unwrap_or(i64::MAX / 1_000_000_000)
            .saturating_mul(1_000_000_000);
        if !self.rows.is_empty() && s.ts.saturating_sub(self.since) >= interval {
            self.flush(s);
        }
        true
    }

    /// The rest of [`Tally::write_each`], after [`Tally::begin`] said true.
    pub fn count(
        &mut self,
        s: &mut Session<'_>,
        key: Key,
        exception: bool,
        function: impl FnOnce() -> Cow<'static, str>,
    ) -> bool {
        let notable = exception || key.class.is_some_and(OtClass::changes_device);
        if self.rows.is_empty() {
            self.since = s.ts;
        }
        let same = |r: &Row| r.key == key && r.notable == notable;
        let found = [self.last, self.last + 1]
            .into_iter()
            .find(|&i| self.rows.get(i).is_some_and(same))
            .or_else(|| self.rows.iter().position(same));
        if let Some(row) = found.and_then(|i| {
            self.last = i;
            self.rows.get_mut(i)
        }) {
            if row.count == 0 {
                row.first = s.ts;
            }
            row.count += 1;
            row.last = s.ts;
            return false;
        }
        if self.rows.len() >= MAX_ROWS {
            self.flush(s);
            self.since = s.ts;
        }
        // A notable kind's first message is written, and its row counts
        // the repeats from zero.
        let count = u64::from(!notable);
        self.rows.push(Row {
            key,
            notable,
            function: function(),
            count,
            first: s.ts,
            last: s.ts,
        });
        notable
    }

    /// Writes the counts held (the parser's `close`, or an interval full).
    pub fn flush(&mut self, s: &mut Session<'_>) {
        for row in self.rows.drain(..).filter(|r| r.count > 0) {
            s.emit(EventBody::OtSummary(OtSummaryRecord {
                ts: ConnIdent::time(row.first),
                uid: s.conn.uid.clone(),
                id: s.conn.id,
                protocol: self.protocol.to_string(),
                is_orig: row.key.is_orig,
                unit: row.key.unit,
                function: row.function.into_owned(),
                class: row.key.class,
                count: row.count,
                last_ts: ConnIdent::time(row.last),
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::testing::{ident, run_with};
    use crate::applayer::{AppSettings, Dir};
    use vagt_schema::Proto;

    const READ: &[u8] = &[0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 10];
    const WRITE: &[u8] = &[0, 2, 0, 0, 0, 6, 1, 6, 0, 1, 0, 3];

    fn settings(records: OtRecords, summary_interval: u64) -> AppSettings {
        AppSettings {
            ot: Settings {
                records,
                summary_interval,
            },
            ..AppSettings::default()
        }
    }

    /// (event type, function, class, count) of what a Modbus parser wrote.
    fn written(steps: &[(Dir, &[u8])], s: &AppSettings) -> Vec<(String, Option<OtClass>, u64)> {
        let conn = ident(Proto::Tcp, 502);
        let mut p = crate::applayer::modbus::make(&conn);
        run_with(p.as_mut(), &conn, steps, s)
            .0
            .into_iter()
            .map(|b| match b {
                EventBody::Modbus(r) => (r.func.unwrap_or_default(), r.class, 1),
                EventBody::OtSummary(r) => (format!("summary {}", r.function), r.class, r.count),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn reads_are_counted_and_the_first_write_of_a_kind_is_written() {
        let steps = [
            (Dir::ToServer, READ),
            (Dir::ToServer, WRITE),
            (Dir::ToServer, READ),
            (Dir::ToServer, WRITE),
            (Dir::ToServer, WRITE),
        ];
        let got = written(&steps, &settings(OtRecords::Changes, 300));
        let write = Some(OtClass::Write);
        let read = Some(OtClass::Read);
        assert_eq!(
            got,
            vec![
                ("WRITE_SINGLE_REGISTER".into(), write, 1),
                ("summary READ_HOLDING_REGISTERS".into(), read, 2),
                ("summary WRITE_SINGLE_REGISTER".into(), write, 2),
            ]
        );
        // `every` writes each message, as Zeek does.
        assert_eq!(written(&steps, &settings(OtRecords::Every, 300)).len(), 5);
    }

    #[test]
    fn an_interval_full_writes_the_counts_and_starts_again() {
        // Steps are a second apart: with a 2-second interval the counts of
        // steps 1-2 are written at step 3, whose write is then the first
        // of its kind again.
        let steps = [
            (Dir::ToServer, WRITE),
            (Dir::ToServer, WRITE),
            (Dir::ToServer, WRITE),
        ];
        let got = written(&steps, &settings(OtRecords::Changes, 2));
        let write = Some(OtClass::Write);
        assert_eq!(
            got,
            vec![
                ("WRITE_SINGLE_REGISTER".into(), write, 1),
                ("summary WRITE_SINGLE_REGISTER".into(), write, 1),
                ("WRITE_SINGLE_REGISTER".into(), write, 1),
            ]
        );
    }
}
