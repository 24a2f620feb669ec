//! OT records on the corpus captures: the industrial parsers (Modbus,
//! DNP3, BACnet, S7comm, EtherNet/IP) attach to the captures in `ot/`,
//! decode what Wireshark decodes in them (counts checked by hand with
//! tshark, noted at each test), and the labelled OT attacks in `attacks/`
//! yield requests classed as changing the device where the label says the
//! attack changes something.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use vagt_schema::{Event, EventBody, OtClass};
use vagt_sensor::applayer::ot_tally::OtRecords;
use vagt_sensor::config::Config;

/// Replays with a record per OT message, as Wireshark lists them.
fn run(path: PathBuf) -> Vec<Event> {
    run_with(path, OtRecords::Every)
}

fn run_with(path: PathBuf, records: OtRecords) -> Vec<Event> {
    let mut cfg = Config::default();
    cfg.pipeline.workers = 1;
    cfg.app.ot.records = records;
    replay(&cfg, &[path]).0
}

/// Messages per (protocol, direction, class, failed or not): from the
/// records of single messages, and from `ot_summary` counts.
fn message_counts(events: &[Event]) -> BTreeMap<(String, bool, Option<OtClass>), u64> {
    let mut out = BTreeMap::new();
    for e in events {
        let (proto, is_orig, class, n) = match &e.body {
            EventBody::Modbus(r) => ("modbus", r.pdu_type.as_deref() == Some("REQ"), r.class, 1),
            EventBody::Dnp3(r) => ("dnp3", r.fc_request.is_some(), r.class, 1),
            EventBody::Bacnet(r) => ("bacnet", r.is_orig, r.class, 1),
            EventBody::S7comm(r) => ("s7comm", r.is_orig, r.class, 1),
            EventBody::Enip(r) => ("enip", r.is_orig, r.class, 1),
            EventBody::OtSummary(r) => (r.protocol.as_str(), r.is_orig, r.class, r.count),
            _ => continue,
        };
        *out.entry((proto.to_string(), is_orig, class)).or_default() += n;
    }
    out
}

fn ot(folder: &str) -> PathBuf {
    let dir = corpus().join("ot").join(folder);
    trace_in(&dir).unwrap_or_else(|| panic!("{}: no trace", dir.display()))
}

/// The event type and OT class of every OT request record.
fn requests(events: &[Event]) -> Vec<(&'static str, OtClass)> {
    events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Modbus(r) => r.class.map(|c| ("modbus", c)),
            EventBody::Dnp3(r) => r.class.map(|c| ("dnp3", c)),
            EventBody::Bacnet(r) => r.class.map(|c| ("bacnet", c)),
            EventBody::S7comm(r) => r.class.map(|c| ("s7comm", c)),
            EventBody::Enip(r) => r.class.map(|c| ("enip", c)),
            _ => None,
        })
        .collect()
}

fn services(events: &[Event]) -> Vec<String> {
    conns(events)
        .into_iter()
        .filter_map(|c| c.service)
        .collect()
}

#[test]
fn parsers_attach_to_every_ot_capture_of_their_protocol() {
    let index = std::fs::read_to_string(corpus().join("ot/INDEX.tsv")).expect("ot/INDEX.tsv");
    let mut missing = Vec::new();
    for line in index.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(folder), Some(proto)) = (cols.first(), cols.get(1)) else {
            continue;
        };
        let (service, event) = match *proto {
            "modbus" | "modbus-umas" => ("modbus", "modbus"),
            "dnp3" => ("dnp3", "dnp3"),
            "bacnet" => ("bacnet", "bacnet"),
            "s7" => ("s7comm", "s7comm"),
            "enip" => ("enip", "enip"),
            _ => continue,
        };
        let events = run_with(ot(folder), OtRecords::Changes);
        let recognised = services(&events).iter().any(|s| s.contains(service));
        let records = events
            .iter()
            .filter(|e| {
                serde_json::to_value(e)
                    .ok()
                    .and_then(|v| {
                        v.get("event_type")
                            .and_then(|t| t.as_str().map(str::to_string))
                    })
                    .as_deref()
                    == Some(event)
                    || matches!(&e.body, EventBody::OtSummary(r) if r.protocol == event)
            })
            .count();
        if !recognised || records == 0 {
            missing.push(format!(
                "{folder}: service {recognised}, {records} {event} records"
            ));
        }
    }
    // enip-cip-eth-set-2 and enip-cip-multiple-2 hold one packet each, a
    // response from the server with no handshake: too little to tell the
    // protocol by, and the sensor does not guess from the port alone.
    let expected = ["enip-cip-eth-set-2", "enip-cip-multiple-2"];
    let unexpected: Vec<&String> = missing
        .iter()
        .filter(|m| !expected.iter().any(|e| m.starts_with(e)))
        .collect();
    assert!(unexpected.is_empty(), "not parsed: {unexpected:#?}");
}

#[test]
fn bacnet_example_decodes_as_wireshark_does() {
    // tshark on icsnpp-bacnet_example: 1,400 readProperty requests and as
    // many Complex-ACKs, 210 I-Am, 7 Who-Is, 120 reinitializeDevice
    // requests answered by 90 Error-PDUs (password failure) and 30
    // Simple-ACKs: 3,257 messages in all.
    let events = run(ot("icsnpp-bacnet_example"));
    let mut count: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for e in &events {
        if let EventBody::Bacnet(r) = &e.body {
            let key = (
                r.pdu_type.clone().unwrap_or_default(),
                r.pdu_service.clone().unwrap_or_default(),
                r.result_code.clone().unwrap_or_default(),
            );
            *count.entry(key).or_default() += 1;
        }
    }
    let get = |t: &str, s: &str, r: &str| count.get(&(t.into(), s.into(), r.into())).copied();
    assert_eq!(count.values().sum::<usize>(), 3257);
    assert_eq!(get("CONFIRMED_REQUEST", "read_property", ""), Some(1400));
    assert_eq!(get("COMPLEX_ACK", "read_property", ""), Some(1400));
    assert_eq!(get("UNCONFIRMED_REQUEST", "i_am", ""), Some(210));
    assert_eq!(get("UNCONFIRMED_REQUEST", "who_is", ""), Some(7));
    assert_eq!(
        get("CONFIRMED_REQUEST", "reinitialized_device", ""),
        Some(120)
    );
    assert_eq!(
        get("ERROR_PDU", "reinitialized_device", "password-failure"),
        Some(90)
    );
    assert_eq!(get("SIMPLE_ACK", "reinitialized_device", ""), Some(30));
    let control = requests(&events)
        .iter()
        .filter(|(_, c)| *c == OtClass::Control)
        .count();
    assert_eq!(control, 120, "reinitializeDevice is control");
}

#[test]
fn s7_captures_decode_as_wireshark_does() {
    // snap7_s300_stop: one Job "PLC Stop" (function 0x29) and its ACK-Data.
    let events = run(ot("s7-snap7_s300_stop"));
    assert_eq!(requests(&events), vec![("s7comm", OtClass::Control)]);
    // wincc_s400_production: tshark counts 84 Read Variable and 27 Write
    // Variable Job requests.
    let events = run(ot("s7-wincc_s400_production"));
    let jobs = |name: &str| {
        events
            .iter()
            .filter(|e| match &e.body {
                EventBody::S7comm(r) => {
                    r.rosctr_code == Some(1) && r.function_name.as_deref() == Some(name)
                }
                _ => false,
            })
            .count()
    };
    assert_eq!(jobs("Read Variable"), 84);
    assert_eq!(jobs("Write Variable"), 27);
    // step7_s300_download: a block download (Request Download, Download
    // Block, Download Ended, PLC Control _INSE) is program.
    let events = run(ot("s7-step7_s300_download"));
    let program = requests(&events)
        .iter()
        .filter(|(_, c)| *c == OtClass::Program)
        .count();
    assert!(program >= 4, "{program} program requests");
}

#[test]
fn modbus_and_dnp3_programming_is_classed() {
    // modicon_test: 55 UMAS requests are download functions (0x5A with
    // UMAS codes 0x33, 0x34, 0x35), by tshark.
    let events = run(ot("modbus-umas-modicon_test"));
    let program = requests(&events)
        .iter()
        .filter(|r| **r == ("modbus", OtClass::Program))
        .count();
    assert_eq!(program, 55);
    // dnp3 file_write: OPEN_FILE in write mode and the file data WRITE.
    let events = run(ot("dnp3-file_write"));
    let classes: Vec<OtClass> = requests(&events).into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        classes,
        vec![OtClass::Program, OtClass::Program, OtClass::Other]
    );
    // dnp3 file_read: OPEN_FILE in read mode.
    let events = run(ot("dnp3-file_read"));
    assert_eq!(requests(&events).first(), Some(&("dnp3", OtClass::Read)));
}

/// What a labelled OT attack is expected to do, from the words of its
/// label: setting a clock or date writes; switching mode, locking,
/// starting or stopping controls; firmware, upload and download change
/// (or take) the program.
fn expected_class(contents: &str) -> Option<OtClass> {
    let text = contents.to_ascii_lowercase();
    let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    let has = |w: &[&str]| words.iter().any(|x| w.contains(x));
    if has(&["firmware", "upload", "uploaded", "download", "downloaded"]) {
        Some(OtClass::Program)
    } else if has(&["mode", "lock", "unlock", "stop", "start", "restart"]) {
        Some(OtClass::Control)
    } else if has(&["set", "write", "writes"]) {
        Some(OtClass::Write)
    } else {
        None
    }
}

#[test]
fn ot_attacks_yield_requests_that_change_the_device() {
    let dir = corpus().join("attacks");
    let labels = std::fs::read_to_string(dir.join("LABELS.tsv")).expect("attacks/LABELS.tsv");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(file), Some(contents), Some(label)) = (cols.first(), cols.get(3), cols.get(4))
        else {
            continue;
        };
        if !label.starts_with("ot-") {
            continue;
        }
        let Some(want) = expected_class(contents) else {
            continue;
        };
        checked += 1;
        let reqs = requests(&run_with(dir.join(file), OtRecords::Changes));
        let changing: Vec<_> = reqs.iter().filter(|(_, c)| c.changes_device()).collect();
        if !reqs.iter().any(|(_, c)| *c == want) {
            failures.push(format!(
                "{file}: no {want} request among {} ({} changing the device)",
                reqs.len(),
                changing.len()
            ));
        }
    }
    assert!(checked >= 6, "only {checked} OT attack captures found");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn read_only_traffic_has_no_changing_requests() {
    // The BACnet test trace reads properties and broadcast tables and
    // registers a foreign device; s7comm_reading_plc_status reads SZLs
    // and the clock.
    for folder in ["bacnet-bacnet_test", "s7-s7comm_reading_plc_status"] {
        let reqs = requests(&run(ot(folder)));
        assert!(!reqs.is_empty(), "{folder}: no requests");
        let changing: Vec<_> = reqs.iter().filter(|(_, c)| c.changes_device()).collect();
        assert!(changing.is_empty(), "{folder}: {changing:?}");
    }
}

#[test]
fn summaries_count_every_message_the_default_does_not_write() {
    // With the default `records = "changes"`, every OT message is in
    // exactly one record: its own, or an `ot_summary` count. So the
    // messages per protocol, direction and class are those of `every`,
    // capture by capture; and far fewer records are written.
    let index = std::fs::read_to_string(corpus().join("ot/INDEX.tsv")).expect("ot/INDEX.tsv");
    let (mut every_records, mut default_records) = (0, 0);
    for line in index.lines().skip(1) {
        let Some(folder) = line.split('\t').next() else {
            continue;
        };
        let every = run_with(ot(folder), OtRecords::Every);
        let changes = run_with(ot(folder), OtRecords::Changes);
        assert_eq!(message_counts(&every), message_counts(&changes), "{folder}");
        every_records += every.len();
        default_records += changes.len();
        // What changes a device is still written one by one: each kind of
        // write, program or control request of `every` has a record.
        let kinds = |events: &[Event]| -> std::collections::BTreeSet<(&'static str, OtClass)> {
            requests(events)
                .into_iter()
                .filter(|(_, c)| c.changes_device())
                .collect()
        };
        assert_eq!(kinds(&every), kinds(&changes), "{folder}");
    }
    assert!(
        default_records * 2 < every_records,
        "{default_records} records by default, {every_records} with every message"
    );
}

/// An encapsulation header: command, length of `body`, session 0,
/// status 0, a sender context, options 0.
fn enip_message(command: u16, body: &[u8]) -> Vec<u8> {
    let mut m = command.to_le_bytes().to_vec();
    m.extend_from_slice(&(body.len() as u16).to_le_bytes());
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(b"vagt\0\0\0\0");
    m.extend_from_slice(&[0; 4]);
    m.extend_from_slice(body);
    m
}

/// EtherNet/IP over UDP, as Suricata names it: a List Identity request
/// broadcast to port 44818 and a device's unicast reply are `enip`
/// connections with an `enip` record each; cyclic I/O between two ports
/// 2222 (a sequenced-address item and connected data, no encapsulation
/// header) is named nothing, as in Suricata, whose ENIP detection is
/// registered for port 44818 only.
#[test]
fn enip_over_udp_list_identity_and_cyclic_io() {
    use common::packets::*;
    let (scanner, device) = ("10.7.0.5", "10.7.0.9");
    // Reply: one CIP Identity item (type 0x0c) with a socket address.
    let mut identity = 1u16.to_le_bytes().to_vec(); // protocol version
    identity.extend_from_slice(&[0, 2, 0xaf, 0x12, 10, 7, 0, 9]);
    identity.extend_from_slice(&[0; 8]);
    identity.extend_from_slice(&[1, 0, 0x0c, 0, 0x36, 0, 20, 11, 0x60, 0]);
    identity.extend_from_slice(&0x00c0_ffeeu32.to_le_bytes());
    identity.push(9);
    identity.extend_from_slice(b"1756-L61/");
    identity.push(3);
    let mut reply = vec![1, 0, 0x0c, 0];
    reply.extend_from_slice(&(identity.len() as u16).to_le_bytes());
    reply.extend_from_slice(&identity);
    let mut cyclic = vec![2, 0, 0x02, 0x80, 8, 0];
    cyclic.extend_from_slice(&0x1122_3344u32.to_le_bytes());
    cyclic.extend_from_slice(&7u32.to_le_bytes());
    cyclic.extend_from_slice(&[0xb1, 0, 6, 0, 7, 0, 1, 0, 0, 0]);
    let datagram = |t, src, dst, sp, dp, payload: &[u8]| {
        (
            t,
            ether(&[], 0x0800, &ip(UDP, src, dst, &udp(sp, dp, payload))),
        )
    };
    let frames = vec![
        datagram(
            0,
            scanner,
            "255.255.255.255",
            50123,
            44818,
            &enip_message(0x63, &[]),
        ),
        datagram(
            3,
            device,
            scanner,
            44818,
            50123,
            &enip_message(0x63, &reply),
        ),
        datagram(10, device, scanner, 2222, 2222, &cyclic),
        datagram(20, scanner, device, 2222, 2222, &cyclic),
    ];
    let dir = temp_dir("enip-udp");
    let path = capture(dir.path(), "enip-udp.pcap", &frames);
    let events = run(path);
    let records = conns(&events);
    let service = |resp: &str, resp_p: u16| {
        records
            .iter()
            .find(|r| r.resp_h.to_string() == resp && r.resp_p == resp_p)
            .unwrap_or_else(|| panic!("no record to {resp}:{resp_p}: {records:#?}"))
            .service
            .clone()
    };
    assert_eq!(service("255.255.255.255", 44818).as_deref(), Some("enip"));
    assert_eq!(service(scanner, 50123).as_deref(), Some("enip"));
    let io = records
        .iter()
        .find(|r| r.resp_p == 2222)
        .expect("cyclic I/O");
    assert_eq!(
        (io.service.as_deref(), io.orig_pkts, io.resp_pkts),
        (None, 1, 1)
    );
    let enip: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.body {
            EventBody::Enip(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(enip.len(), 2, "{enip:#?}");
    assert!(enip.iter().all(|r| r.enip_command == "List Identity"));
    assert_eq!(enip.iter().filter(|r| r.is_orig).count(), 2);
}

/// A master polls its controllers over one connection for days, which
/// passes the default inspection depth (1 MiB) within hours: a write after
/// that must still be read, or the OT policy never sees it. Built here:
/// 1.1 MB of Modbus reads on one connection, then one register write.
#[test]
fn a_write_after_a_mebibyte_of_polling_is_read() {
    use common::packets::{conversation, host, Segment};
    use vagt_sensor::synth::frames::flags;
    let master = host(1, "10.60.1.5");
    let plc = host(2, "10.60.1.10");
    // 116 Read Holding Registers requests (function 3, 10 registers) per
    // segment, then a Write Single Register (function 6).
    let read = |tid: u16| {
        let t = tid.to_be_bytes();
        [t[0], t[1], 0, 0, 0, 6, 1, 3, 0, 0, 0, 10]
    };
    let segment: &'static [u8] = (0..116u16).flat_map(read).collect::<Vec<u8>>().leak();
    let write: &'static [u8] = &[0x7f, 0xff, 0, 0, 0, 6, 1, 6, 0, 1, 0, 3];
    const SEGMENTS: usize = 800;
    assert!(SEGMENTS * segment.len() > 1 << 20);
    let mut steps = vec![
        Segment::carrying(true, flags::SYN, b""),
        Segment::carrying(false, flags::SYN | flags::ACK, b""),
        Segment::carrying(true, flags::ACK, b""),
    ];
    steps.extend((0..SEGMENTS).map(|_| Segment::carrying(true, flags::ACK | flags::PSH, segment)));
    steps.push(Segment::carrying(true, flags::ACK | flags::PSH, write));
    steps.push(Segment::carrying(false, flags::ACK, b""));
    let pcap = conversation(
        &master,
        &plc,
        (50_000, 502),
        &steps,
        (1_700_000_000_000_000_000, 10_000_000),
        |_, _| {},
    );
    let dir = temp_dir("ot-depth");
    let capture = dir.join("polling.pcap");
    std::fs::write(&capture, pcap).expect("write capture");
    let events = run_with(capture, OtRecords::Changes);
    let writes: Vec<_> = requests(&events)
        .into_iter()
        .filter(|&(_, c)| c == OtClass::Write)
        .collect();
    assert_eq!(
        writes,
        [("modbus", OtClass::Write)],
        "the write after the polling"
    );
    let reads: u64 = message_counts(&events)
        .iter()
        .filter(|((p, orig, c), _)| p == "modbus" && *orig && *c == Some(OtClass::Read))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(reads, (SEGMENTS * 116) as u64, "every read counted");
}
