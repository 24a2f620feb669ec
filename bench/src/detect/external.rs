//! The generator's events through the sensor itself: the configuration
//! that tells `vagt-sensor analyze` the generator's segments
//! (`--write-config`), and reading back the alerts it wrote, to be scored
//! against the generator's labels (`--score`).

use super::score::Seen;
use crate::municipal::Generator;
use std::io::{BufRead, Write};
use std::path::Path;
use vagt_schema::Event;

/// Events as JSON Lines, as the sensor writes them (`--write-events`).
pub fn write_events(w: &mut impl Write, events: &[Event]) -> std::io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut *w, e)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// A sensor configuration naming the generator's segments, their kinds and
/// networks, as a sensor at that municipality would be configured.
pub fn config_toml(gen: &Generator) -> String {
    let mut s = String::from(
        "# The segments of vagt-bench's municipal generator, for\n\
         # `vagt-sensor -c THIS analyze EVENTS`: the analysis stage judges\n\
         # each segment by its kind (care and OT rank higher).\n\n\
         [site]\nlocal_networks = [\"10.0.0.0/8\"]\n",
    );
    for seg in &gen.net.segments {
        s.push_str(&format!(
            "\n[[segments]]\nname = \"{}\"\nkind = \"{}\"\nnetworks = [\"10.{}.0.0/16\"]\n",
            seg.name, seg.kind, seg.net
        ));
    }
    s
}

/// The alerts of a JSON Lines file, as first written (updates of an alert
/// are the same alert). Lines that are not events are an error: a score
/// over part of a file would mislead.
pub fn read_alerts(path: &Path) -> Result<Vec<Seen>, String> {
    let name = path.display();
    let f = std::fs::File::open(path).map_err(|e| format!("--score {name}: {e}"))?;
    let mut alerts = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| format!("--score {name}: line {}: {e}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let e: Event = serde_json::from_str(&line)
            .map_err(|e| format!("--score {name}: line {} is not an event: {e}", i + 1))?;
        alerts.extend(Seen::of(e));
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::super::{rules, Pass};
    use super::*;
    use crate::municipal::Config;

    /// What identifies an alert for the comparison.
    fn keys(p: &Pass) -> Vec<String> {
        let mut k: Vec<String> = p
            .alerts
            .iter()
            .map(|a| format!("{} {} {} {} {}", a.ts, a.detector, a.kind, a.src, a.segment))
            .collect();
        k.sort();
        k
    }

    /// The generator's events written as `--write-events` writes them and
    /// read back as `vagt-sensor analyze` reads them raise the alerts the
    /// events raised in memory: nothing a detector needs is lost in the
    /// file. (tests/analyze.rs holds `analyze` itself to the replay's
    /// stage on real captures.)
    #[test]
    fn generated_events_read_back_from_json_raise_the_same_alerts() {
        let mut gen = Generator::new(Config {
            seed: 3,
            days: 9,
            hosts: 150,
            learning_days: 7,
        })
        .expect("generator");
        let kinds = gen.segment_kinds();
        let mut direct = Pass::new("direct", rules(&kinds, None).expect("rules"));
        let mut read_back = Pass::new("read back", rules(&kinds, None).expect("rules"));
        let mut buf = Vec::new();
        while let Some(day) = gen.next_day() {
            direct.run(&day);
            buf.clear();
            write_events(&mut buf, &day).expect("write");
            let parsed: Vec<Event> = buf
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| serde_json::from_slice(l).expect("an event"))
                .collect();
            assert_eq!(parsed.len(), day.len());
            read_back.run(&parsed);
        }
        direct.finish();
        read_back.finish();
        assert!(
            direct.alerts.len() >= 5,
            "the attacks raise alerts: {:?}",
            keys(&direct)
        );
        assert_eq!(keys(&read_back), keys(&direct));
    }

    /// The configuration `--write-config` writes is one the sensor takes,
    /// with the generator's segment kinds.
    #[test]
    fn the_written_configuration_names_the_generators_segments() {
        let gen = Generator::new(Config {
            seed: 3,
            days: 9,
            hosts: 150,
            learning_days: 7,
        })
        .expect("generator");
        let cfg = vagt_sensor::config::Config::parse(&config_toml(&gen), "gen.toml")
            .expect("a sensor configuration");
        cfg.site().expect("valid segments");
        assert_eq!(cfg.segment_kinds(), gen.segment_kinds());
    }
}
