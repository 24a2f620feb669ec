//! A seeded generator of a municipal network, at the level of the events
//! the sensor writes (conn records and application records), not packets:
//! the analysis stage reads events, so that is what an evaluation of the
//! detectors needs, and it lets two weeks of a 2,000-host municipality be
//! replayed in minutes. Issue 13's "honest evaluation" runs on it
//! (`vagt-bench detect`).
//!
//! The network (`net`): 11 segments of the kinds admin, care, school, ot,
//! guest, server and dmz, hosts with roles (desktops, care tablets,
//! Chromebooks, library PCs, visitors' phones, PLCs and SCADA masters,
//! servers). Its traffic (`traffic`, `infra`) follows Europe/Copenhagen
//! time (`clock`): office hours, school days, care shifts, nights and
//! weekends. Noise that looks like attacks but is not (`noise`): nightly
//! backups, patch Tuesday, the IT team's vulnerability scanner, update
//! beacons, DHCP renewals, mistyped passwords, antivirus lookups in DNS.
//! Attacks (`attacks`) are injected after the learning days, each with a
//! [`Label`]. Events are built by `emit` and `records`.
//!
//! Chatty traffic is aggregated as the sensor or an honest model would:
//! one conn record per browsing session to a site (not per object), OT
//! polling summarised per 5 minutes, DNS answered from cache half the
//! time. The generator draws one local day at a time (`Generator::next_day`)
//! and hands out events in packet-time order, carrying events that end
//! after the day's end over to the next day's batch.

mod attacks;
pub mod clock;
mod emit;
mod infra;
pub mod net;
mod noise;
mod play;
pub mod rand;
mod records;
#[cfg(test)]
mod tests;
mod traffic;

use clock::Calendar;
use emit::Sink;
use net::Network;
use std::net::IpAddr;
use vagt_schema::Event;

/// What to generate.
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub days: u32,
    pub hosts: usize,
    /// Days before the first attack (the detectors' learning period).
    pub learning_days: u32,
}

/// One injected attack: what should find it, who did it, when.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The detector expected to find it (`scan`, `bruteforce`, `beacon`...).
    pub detector: &'static str,
    /// The kind within the detector, where it is known (`port_scan`, `ssh`).
    pub kind: Option<&'static str>,
    /// The host that acts (the scanner, the guesser, the beaconing host).
    pub src: IpAddr,
    /// The other side, when there is one (the server, the C2 address).
    pub dst: Option<IpAddr>,
    pub segment: String,
    /// Unix times of the first and last event of the attack.
    pub start: f64,
    pub end: f64,
    /// In words.
    pub what: String,
}

/// The state carried from one day to the next.
pub struct Generator {
    pub config: Config,
    pub net: Network,
    pub cal: Calendar,
    pub labels: Vec<Label>,
    day: u32,
    /// Events of earlier days that end after those days did.
    pending: Vec<Event>,
    /// Hosts already announced (asset and ARP records) by the sensor.
    announced: Vec<bool>,
    /// The guest Wi-Fi's ARP bindings: address -> MAC.
    guest_arp: std::collections::HashMap<std::net::Ipv4Addr, String>,
}

/// The first day of the run: Monday 2 November 2026 (CET). The second
/// Tuesday of the month, patch Tuesday, is then day 8, in the second week.
pub const START: (i64, i64, i64) = (2026, 11, 2);

/// The per-day context the traffic modules draw into.
pub struct Day<'a> {
    pub net: &'a Network,
    pub cal: &'a Calendar,
    pub d: u32,
    pub seed: u64,
    pub weekday: u32,
    pub out: Sink,
}

impl Day<'_> {
    /// Unix time of local hour `h` today (hours past 24 run into tomorrow).
    pub fn t(&self, h: f64) -> f64 {
        self.cal.at(self.d, h)
    }

    /// The random stream for `purpose` and `k` today.
    pub fn rng(&self, purpose: u64, k: u64) -> rand::Rng {
        rand::stream(self.seed, u64::from(self.d), purpose, k)
    }
}

impl Generator {
    pub fn new(config: Config) -> Result<Generator, String> {
        if config.hosts < 150 {
            return Err(format!(
                "--hosts {}: the municipal network needs at least 150 hosts (its servers, OT and every segment)",
                config.hosts
            ));
        }
        if config.days == 0 || config.days > 366 {
            return Err(format!("--days {}: give 1 to 366 days", config.days));
        }
        if config.learning_days >= config.days {
            return Err(format!(
                "--learning-days {} must be fewer than --days {}: attacks are injected after the learning days",
                config.learning_days, config.days
            ));
        }
        let mut rng = rand::stream(config.seed, u64::MAX, 0, 0);
        let net = Network::new(&mut rng, config.hosts);
        let cal = Calendar::new(START.0, START.1, START.2);
        let labels = attacks::plan(&net, &cal, &config);
        let n = net.hosts.len();
        Ok(Generator {
            config,
            net,
            cal,
            labels,
            day: 0,
            pending: Vec::new(),
            announced: vec![false; n],
            guest_arp: Default::default(),
        })
    }

    /// Segment names and kinds, as `Rules::segment_kinds` takes them.
    pub fn segment_kinds(&self) -> std::collections::BTreeMap<String, String> {
        self.net
            .segments
            .iter()
            .map(|s| (s.name.to_string(), s.kind.to_string()))
            .collect()
    }

    /// Unix time at which the evaluation (the first day after learning) starts.
    pub fn evaluation_start(&self) -> f64 {
        self.cal.midnight(self.config.learning_days)
    }

    /// The next day's events in packet-time order, or `None` after the last
    /// day. Events that end after the day's midnight wait for the next
    /// batch; the last batch holds everything left.
    pub fn next_day(&mut self) -> Option<Vec<Event>> {
        if self.day >= self.config.days {
            return None;
        }
        let d = self.day;
        self.day += 1;
        let names = self
            .net
            .segments
            .iter()
            .map(|s| s.name.to_string())
            .collect();
        let mut day = Day {
            net: &self.net,
            cal: &self.cal,
            d,
            seed: self.config.seed,
            weekday: self.cal.weekday(d),
            out: Sink::new(names, u64::from(d) << 40),
        };
        traffic::announce(&mut day, &mut self.announced);
        traffic::clients(&mut day, &mut self.guest_arp);
        infra::servers(&mut day);
        infra::ot(&mut day);
        noise::all(&mut day);
        attacks::inject(&mut day, &self.labels, &self.config);
        let mut events = std::mem::take(&mut day.out.events);
        events.append(&mut self.pending);
        sort(&mut events);
        if self.day < self.config.days {
            let cut = self.cal.midnight(self.day);
            let at = events.partition_point(|e| time(e) < cut);
            self.pending = events.split_off(at);
        }
        Some(events)
    }

    /// A suggested allow-list for the IT team's own tools, as the
    /// municipality would write it in its rules folder.
    pub fn allow_toml(&self) -> String {
        noise::allow_toml(&self.net)
    }
}

/// The packet time an event is ordered by: the analysis stage's own
/// (a conn record's end), or the record's time for the kinds it reads no
/// time from (SMB tree connects).
pub fn time(e: &Event) -> f64 {
    match &e.body {
        vagt_schema::EventBody::SmbMapping(r) => r.ts,
        b => vagt_detect::event_time(b).unwrap_or(0.0),
    }
}

/// Stable sort by packet time: records of one connection written together
/// keep their order (the app records before the conn record ending later).
fn sort(events: &mut [Event]) {
    events.sort_by(|a, b| time(a).total_cmp(&time(b)));
}
