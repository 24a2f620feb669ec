//! `vagt-bench detect`: the honest evaluation of the detectors (issue 13).
//! Generates the municipal network's events (`crate::municipal`) one day
//! at a time into memory, replays each day through the analysis stage
//! (`vagt_detect::Analysis`, built-in rules plus the generator's segment
//! kinds) timing only the `observe` loop (and `finish` apart), and scores the alerts
//! against the generator's labels (`score`). Two stages run side by side
//! on the same events: the built-in rules alone, and with an allow-list
//! for the IT team's own tools (the generator's suggestion, or `--allow`).

mod external;
pub(crate) mod score;

use crate::cli::DetectArgs;
use crate::municipal::{Config, Generator};
use score::Seen;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use vagt_detect::{Analysis, Rules};
use vagt_schema::{Event, EventBody};

/// One analysis stage being evaluated.
struct Pass {
    name: String,
    analysis: Analysis,
    alerts: Vec<Seen>,
    /// Wall time of the observe loop, and of `finish` apart.
    wall: Duration,
    finish: Duration,
    out: Vec<Event>,
}

impl Pass {
    fn new(name: &str, rules: Rules) -> Pass {
        Pass {
            name: name.to_string(),
            analysis: Analysis::new(rules, "gen"),
            alerts: Vec::new(),
            wall: Duration::ZERO,
            finish: Duration::ZERO,
            out: Vec::new(),
        }
    }

    fn run(&mut self, events: &[Event]) {
        let t = Instant::now();
        for e in events {
            self.analysis.observe(e, &mut self.out);
        }
        self.wall += t.elapsed();
        self.collect();
    }

    fn finish(&mut self) {
        let t = Instant::now();
        self.analysis.finish(&mut self.out);
        self.finish = t.elapsed();
        self.collect();
    }

    fn collect(&mut self) {
        self.alerts.extend(self.out.drain(..).filter_map(Seen::of));
    }
}

fn rules(
    kinds: &std::collections::BTreeMap<String, String>,
    allow: Option<(&Path, &str)>,
) -> Result<Rules, String> {
    let mut r = vagt_sensor::analysis::built_in().map_err(|e| format!("built-in rules: {e}"))?;
    if let Some((path, text)) = allow {
        r.add_file(path, text).map_err(|e| e.to_string())?;
    }
    r.segment_kinds = kinds.clone();
    Ok(r)
}

pub fn run(a: &DetectArgs) -> Result<(), String> {
    for (p, opt) in [
        (&a.json, "--json"),
        (&a.write_events, "--write-events"),
        (&a.write_allow, "--write-allow"),
        (&a.write_config, "--write-config"),
    ] {
        if let Some(p) = p {
            crate::check_output_path(p, opt)?;
        }
    }
    let cfg = Config {
        seed: a.seed,
        days: a.days,
        hosts: a.hosts,
        learning_days: a.learning_days,
    };
    let mut gen = Generator::new(cfg.clone())?;
    let kinds = gen.segment_kinds();
    let suggested = gen.allow_toml();
    if let Some(p) = &a.write_allow {
        crate::write_output(p, &suggested)?;
    }
    if let Some(p) = &a.write_config {
        crate::write_output(p, &external::config_toml(&gen))?;
    }
    if let Some(p) = &a.score {
        return score_file(a, &gen, p);
    }
    let allow_text = match &a.allow {
        Some(p) => Some((
            p.clone(),
            std::fs::read_to_string(p).map_err(|e| format!("--allow {}: {e}", p.display()))?,
        )),
        None => Some((Path::new("generated-allow.toml").to_path_buf(), suggested)),
    };
    let mut passes = vec![Pass::new("built-in rules", rules(&kinds, None)?)];
    if !a.no_allow {
        if let Some((path, text)) = &allow_text {
            let name = format!("built-in rules + allow-list {}", path.display());
            passes.push(Pass::new(&name, rules(&kinds, Some((path, text)))?));
        }
    }
    let mut writer = match &a.write_events {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| format!("--write-events {}: {e}", p.display()))?,
        )),
        None => None,
    };
    let mut events = 0u64;
    let mut by_type: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let gen_start = Instant::now();
    let mut gen_wall = Duration::ZERO;
    while let Some(day) = {
        let t = Instant::now();
        let d = gen.next_day();
        gen_wall += t.elapsed();
        d
    } {
        events += day.len() as u64;
        for e in &day {
            *by_type.entry(event_type(&e.body)).or_default() += 1;
        }
        if let Some(w) = writer.as_mut() {
            external::write_events(w, &day).map_err(|e| format!("--write-events: {e}"))?;
        }
        for p in &mut passes {
            p.run(&day);
        }
        if !a.quiet {
            eprint!("\rvagt-bench: {events} events generated and analysed");
        }
    }
    if let Some(mut w) = writer {
        w.flush().map_err(|e| format!("--write-events: {e}"))?;
    }
    if !a.quiet {
        eprintln!();
    }
    for p in &mut passes {
        p.finish();
    }
    let total = gen_start.elapsed();
    let eval_start = gen.evaluation_start();
    let eval_days = f64::from(a.days - a.learning_days);
    let segments = segment_names(&gen);
    let mut text = format!(
        "Municipal generator: seed {}, {} hosts in {} segments, {} days ({} learning, {} evaluated), {} labelled attacks\n\
         Events: {} ({})\n\
         Generation: {:.1} s; whole run {:.1} s\n\n",
        a.seed,
        gen.net.hosts.len(),
        segments.len(),
        a.days,
        a.learning_days,
        a.days - a.learning_days,
        gen.labels.len(),
        events,
        by_type.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "),
        gen_wall.as_secs_f64(),
        total.as_secs_f64(),
    );
    let mut json_passes = Vec::new();
    for p in &passes {
        let s = score::score(&p.alerts, &gen.labels, eval_start, eval_days, &segments);
        let secs = p.wall.as_secs_f64();
        let title = format!(
            "== {}: analysis stage {:.2} s for {} events, {:.0} events/s (finish {:.3} s more) ==",
            p.name,
            secs,
            events,
            events as f64 / secs.max(1e-9),
            p.finish.as_secs_f64()
        );
        text.push_str(&s.table(&title, &gen.labels));
        text.push('\n');
        let mut j = s.json(&gen.labels);
        j["name"] = p.name.clone().into();
        j["analysis_seconds"] = secs.into();
        j["finish_seconds"] = p.finish.as_secs_f64().into();
        j["events_per_second"] = (events as f64 / secs.max(1e-9)).into();
        j["alerts_written"] = p.alerts.len().into();
        json_passes.push(j);
    }
    let j = serde_json::json!({
        "seed": a.seed, "hosts": gen.net.hosts.len(), "days": a.days, "learning_days": a.learning_days,
        "events": events, "events_by_type": by_type, "generation_seconds": gen_wall.as_secs_f64(),
        "slack_before": score::SLACK_BEFORE, "slack_after": score::SLACK_AFTER,
        "passes": json_passes,
    });
    print_results(a, &text, &j)
}

/// The tables on standard output, and the JSON where --json says.
fn print_results(a: &DetectArgs, text: &str, j: &serde_json::Value) -> Result<(), String> {
    match &a.json {
        Some(p) => {
            let out = serde_json::to_string_pretty(j).map_err(|e| e.to_string())? + "\n";
            crate::write_output(p, &out)?;
            if p.as_os_str() != "-" {
                print!("{text}");
            }
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn segment_names(gen: &Generator) -> Vec<String> {
    gen.net
        .segments
        .iter()
        .map(|s| s.name.to_string())
        .collect()
}

/// `--score FILE`: the alerts someone else raised on the generator's
/// events (the sensor's `analyze`), scored as a pass of our own would be.
fn score_file(a: &DetectArgs, gen: &Generator, path: &Path) -> Result<(), String> {
    let alerts = external::read_alerts(path)?;
    let eval_days = f64::from(a.days - a.learning_days);
    let s = score::score(
        &alerts,
        &gen.labels,
        gen.evaluation_start(),
        eval_days,
        &segment_names(gen),
    );
    let mut text = format!(
        "Municipal generator: seed {}, {} hosts, {} days ({} learning), {} labelled attacks\n\n",
        a.seed,
        gen.net.hosts.len(),
        a.days,
        a.learning_days,
        gen.labels.len(),
    );
    let title = format!("== {} alerts read from {} ==", alerts.len(), path.display());
    text.push_str(&s.table(&title, &gen.labels));
    let mut j = s.json(&gen.labels);
    j["name"] = path.display().to_string().into();
    j["alerts_written"] = alerts.len().into();
    let j = serde_json::json!({
        "seed": a.seed, "hosts": gen.net.hosts.len(), "days": a.days, "learning_days": a.learning_days,
        "slack_before": score::SLACK_BEFORE, "slack_after": score::SLACK_AFTER,
        "passes": [j],
    });
    print_results(a, &text, &j)
}

fn event_type(b: &EventBody) -> &'static str {
    match b {
        EventBody::Conn(_) => "conn",
        EventBody::Dns(_) => "dns",
        EventBody::Ssl(_) => "ssl",
        EventBody::Http(_) => "http",
        EventBody::Ssh(_) => "ssh",
        EventBody::Kerberos(_) => "kerberos",
        EventBody::Ldap(_) => "ldap",
        EventBody::Ntlm(_) => "ntlm",
        EventBody::SmbMapping(_) => "smb_mapping",
        EventBody::Rdp(_) => "rdp",
        EventBody::Dhcp(_) => "dhcp",
        EventBody::Arp(_) => "arp",
        EventBody::Modbus(_) => "modbus",
        EventBody::Dnp3(_) => "dnp3",
        EventBody::OtSummary(_) => "ot_summary",
        EventBody::Asset(_) => "asset",
        _ => "other",
    }
}
