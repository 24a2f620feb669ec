//! Pseudonymises JSON Lines events from standard input to standard
//! output, as the sensor will before shipping: for trying settings on a
//! real capture's output, and for the leak check in the docs.
//!
//! vagt-sensor replay x.pcap -o x.json
//! cargo run -p vagt-privacy --release --example pseudonymise_jsonl -- [settings.toml] < x.json
//!
//! The key is a fixed test key: the output is for inspection, not for
//! shipping.

use std::io::{BufRead, BufWriter, Write};
use vagt_privacy::{Key, Pseudonymiser, Settings};
use vagt_schema::Event;

fn main() {
    let settings = match std::env::args().nth(1) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                eprintln!("cannot read {path}: {e}");
                std::process::exit(2)
            });
            toml::from_str::<Settings>(&text).unwrap_or_else(|e| {
                eprintln!("{path}: {e}");
                std::process::exit(2)
            })
        }
        None => Settings::default(),
    };
    let mut p = Pseudonymiser::new(&Key::from_bytes([42; 32]), &settings).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let stdin = std::io::stdin();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (mut n, mut bad) = (0u64, 0u64);
    for (i, line) in stdin.lock().lines().enumerate() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Event>(&line) {
            Ok(mut ev) => {
                p.apply(&mut ev);
                n += 1;
                if let Ok(s) = serde_json::to_string(&ev) {
                    let _ = writeln!(out, "{s}");
                }
            }
            Err(e) => {
                bad += 1;
                eprintln!("line {}: not an event: {e}", i + 1);
                // Keep line numbers aligned for comparison.
                let _ = writeln!(out);
            }
        }
    }
    let _ = out.flush();
    eprintln!("{n} events pseudonymised, {bad} lines not events");
}
