//! The passive asset inventory as a user meets it: `vagt-sensor assets`
//! on a real Modbus capture, `asset` events in a replay's output, the
//! state file kept across runs and a corrupt one moved aside.
//!
//! The capture (`ot/modbus-modbus_test_data_part1`, ITI ICS-Security-Tools)
//! was read by hand with tshark: 10.0.0.3 (MAC 00:02:b3:ce:70:51, an
//! Intel prefix in the IEEE registry) answers Modbus/TCP connections on
//! port 502 from 10.0.0.57 and 10.0.0.9; 10.0.0.8 and 10.0.0.9 share the
//! MAC 00:50:04:93:70:67 (3Com), and 10.0.0.8 answers 10.0.0.57 on 502;
//! 10.0.0.57 (00:20:78:00:62:0d, Runtop) opens Modbus connections to both.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vagt-sensor"))
}

fn trace() -> PathBuf {
    common::corpus().join("ot/modbus-modbus_test_data_part1/trace.pcap")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run vagt-sensor");
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status.code(),
        text(&out.stderr)
    );
    out
}

/// The table row of the device with this MAC.
fn row<'a>(table: &'a str, mac: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.contains(mac))
        .unwrap_or_else(|| panic!("no row for {mac} in\n{table}"))
}

#[test]
fn the_modbus_controller_and_its_workstation_are_found() {
    let out = run(bin().args(["-q", "assets", "-w", "2"]).arg(trace()));
    let table = text(&out.stdout);
    let plc = row(&table, "00:02:b3:ce:70:51");
    for want in [
        "Intel Corporation",
        "10.0.0.3 ",
        "ot_controller",
        "modbus/502",
    ] {
        assert!(plc.contains(want), "{want} missing: {plc}");
    }
    let second = row(&table, "00:50:04:93:70:67");
    for want in ["3COM", "10.0.0.8 +1", "ot_controller"] {
        assert!(second.contains(want), "{want} missing: {second}");
    }
    let hmi = row(&table, "00:20:78:00:62:0d");
    for want in ["RUNTOP", "10.0.0.57", "engineering_workstation"] {
        assert!(hmi.contains(want), "{want} missing: {hmi}");
    }
    for why in [
        "10.0.0.3 (ot_controller): offers modbus (502/tcp) to 2 clients",
        "10.0.0.57 (engineering_workstation): uses modbus (502/tcp) on 2 servers",
    ] {
        assert!(table.contains(why), "{why} missing:\n{table}");
    }
    assert!(table.ends_with("\n3 devices\n"), "{table}");
    assert!(
        row(&table, "2004-08-26").contains("2004-08-26"),
        "packet time, not the clock"
    );
}

#[test]
fn replays_write_asset_events_and_the_state_is_kept() {
    let dir = common::temp_dir("assets");
    let state = dir.join("assets.json");
    let cfg = dir.join("vagt.toml");
    std::fs::write(
        &cfg,
        format!(
            "[assets]\nstate = \"{}\"\n\n[[segments]]\nname = \"plant\"\nnetworks = [\"10.0.0.0/24\"]\n",
            state.display()
        ),
    )
    .expect("config");
    let events = dir.join("out.json");
    run(bin()
        .arg("-q")
        .arg("-c")
        .arg(&cfg)
        .args(["replay", "-w", "1", "-o"])
        .arg(&events)
        .arg(trace()));
    let all: Vec<serde_json::Value> = std::fs::read_to_string(&events)
        .expect("output")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .collect();
    let assets: Vec<serde_json::Value> = all
        .iter()
        .filter(|e| e["event_type"] == "asset")
        .cloned()
        .collect();
    // Each asset event cites the connection whose record showed the change,
    // a record of the same output.
    let uids: std::collections::BTreeSet<&str> = all
        .iter()
        .filter(|e| e["event_type"] != "asset")
        .filter_map(|e| e["uid"].as_str())
        .collect();
    for a in &assets {
        let cited = a["uids"].as_array().map_or(0, Vec::len);
        assert_eq!(cited, 1, "{a}");
        let uid = a["uids"][0].as_str().unwrap_or_default();
        assert!(uids.contains(uid), "{uid} is no record's: {a}");
    }
    let plc: Vec<&serde_json::Value> = assets
        .iter()
        .filter(|e| e["key"] == "mac:00:02:b3:ce:70:51")
        .collect();
    assert_eq!(plc[0]["change"], serde_json::json!(["new"]));
    assert_eq!(plc[0]["segment"], "plant");
    let last = plc.last().expect("an event");
    assert_eq!(last["role"], "ot_controller");
    assert_eq!(last["vendor"], "Intel Corporation");
    assert_eq!(last["services_offered"], serde_json::json!(["modbus/502"]));
    assert_eq!(last["ips"][0]["ip"], "10.0.0.3");
    // Three devices, each reported new once.
    let new = assets
        .iter()
        .filter(|e| e["change"] == serde_json::json!(["new"]))
        .count();
    assert_eq!(new, 3, "{assets:?}");

    // The state file holds the inventory; `assets --state` prints it.
    assert!(state.exists());
    let kept = run(bin().arg("-q").arg("assets").arg("--state").arg(&state));
    let table = text(&kept.stdout);
    assert!(
        row(&table, "00:02:b3:ce:70:51").starts_with("plant "),
        "{table}"
    );
    assert!(table.ends_with("\n3 devices\n"), "{table}");
    // A second replay into it finds nothing new.
    run(bin()
        .arg("-q")
        .arg("-c")
        .arg(&cfg)
        .args(["replay", "-w", "1", "-o"])
        .arg(&events)
        .arg(trace()));
    let again = std::fs::read_to_string(&events).expect("output");
    assert!(
        !again.contains("\"event_type\":\"asset\""),
        "nothing changed"
    );
}

#[test]
fn a_corrupt_state_file_is_moved_aside_and_the_inventory_starts_afresh() {
    let dir = common::temp_dir("assets");
    let state = dir.join("assets.json");
    std::fs::write(&state, "{\"version\":1,\"assets\":[{\"segm").expect("write");
    let out = run(bin()
        .args(["-q", "assets", "-w", "1", "--state"])
        .arg(&state)
        .arg(trace()));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning") && err.contains("assets.json.corrupt"),
        "{err}"
    );
    assert!(dir.join("assets.json.corrupt").exists());
    assert!(text(&out.stdout).ends_with("\n3 devices\n"));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("saved")).expect("json");
    assert_eq!(saved["assets"].as_array().map(Vec::len), Some(3));
}

#[test]
fn without_files_or_state_it_says_what_to_give() {
    let out = bin().arg("assets").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--state"), "{err}");
    let out = bin().args(["assets", "--help"]).output().expect("run");
    let help = text(&out.stdout);
    assert!(
        help.contains("ot_controller") && help.contains("--state"),
        "{help}"
    );
}
