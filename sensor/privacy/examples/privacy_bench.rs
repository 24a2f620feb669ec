//! What pseudonymising costs per event, over a mix like a sensor's output
//! (conn-heavy, with DNS, HTTP and alerts), for many distinct hosts so the
//! caches see misses as well as hits.
//!
//! cargo run -p vagt-privacy --release --example privacy_bench [events]

use std::hint::black_box;
use std::time::Instant;
use vagt_privacy::{Key, Pseudonymiser, Revealer, Settings, Tokeniser};
use vagt_schema::Event;

fn event(kind: &str, body: &str) -> Event {
    let line = format!(
        r#"{{"schema_version":1,"municipality":"0751","sensor":"raadhus-1","segment":"care","event_type":"{kind}",{body}}}"#
    );
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{kind}: {e}"))
}

fn id(i: u32, resp: &str, port: u16) -> String {
    format!(
        r#""ts":1.5,"uid":"C{i}","id.orig_h":"10.20.{}.{}","id.orig_p":40000,"id.resp_h":"{resp}","id.resp_p":{port}"#,
        (i >> 8) & 0xff,
        i & 0xff
    )
}

fn mix(n: u32) -> Vec<Event> {
    let mut v = Vec::with_capacity(n as usize);
    for i in 0..n {
        let h = i % 4000; // 4,000 hosts
        let ev = match i % 10 {
            0..=5 => event(
                "conn",
                &format!(
                    r#"{},"proto":"tcp","service":"ssl","conn_state":"SF","missed_bytes":0,"orig_pkts":18,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":6,"orig_l2_addr":"02:00:0a:14:{:02x}:{:02x}","resp_l2_addr":"02:00:0a:00:00:01","community_id":"1:{i}abcdefghijklmnopqrstuvw=","orig_link_bytes":961,"resp_link_bytes":36471"#,
                    id(h, "93.184.216.34", 443),
                    (h >> 8) & 0xff,
                    h & 0xff
                ),
            ),
            6 | 7 => event(
                "dns",
                &format!(
                    r#"{},"proto":"udp","trans_id":7,"AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"rejected":false,"query":"{}","answers":["10.0.0.{}","www.example.com.cdn.net"]"#,
                    id(h, "10.0.0.53", 53),
                    if i % 3 == 0 {
                        format!("pc{h}.kommune.local")
                    } else {
                        format!("www{}.example.com", i % 50)
                    },
                    h % 250
                ),
            ),
            8 => event(
                "http",
                &format!(
                    r#"{},"trans_depth":1,"method":"GET","host":"intranet.kommune.local","uri":"/sager/{}","referrer":"http://intranet.kommune.local/","user_agent":"Mozilla/5.0","request_body_len":0,"response_body_len":10,"status_code":200,"tags":[],"username":"user{}""#,
                    id(h, "10.0.0.80", 80),
                    i % 1000,
                    h
                ),
            ),
            _ => event(
                "alert",
                &format!(
                    r#""ts":1.0,"id":"s-{i}","detector":"bruteforce","kind":"ssh","severity":"medium","score":50,"technique":"T1110","src":"10.20.{}.{}","dst":"10.0.0.22","subject":"ssh/22","message":"10.20.{}.{} failed 21 ssh logins on 10.0.0.22 port 22 in 8 sessions within 47 s; brute force is 20 or more failures within 600 s","count":21,"first_seen":1.0,"last_seen":2.0,"uids":["C1"],"community_ids":["1:abc{i}="]"#,
                    (h >> 8) & 0xff,
                    h & 0xff,
                    (h >> 8) & 0xff,
                    h & 0xff
                ),
            ),
        };
        v.push(ev);
    }
    v
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let events = mix(n);
    let settings = Settings {
        internal_domains: vec!["kommune.local".into()],
        ..Settings::default()
    };
    let mut p = match Pseudonymiser::new(&Key::from_bytes([9; 32]), &settings) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    // The clone of each event is measured apart and subtracted: the
    // sensor pseudonymises the event it owns, without a copy.
    let t = Instant::now();
    for e in &events {
        black_box(e.clone());
    }
    let clone_ns = t.elapsed().as_nanos() as f64;
    for round in 0..3 {
        let t = Instant::now();
        for e in &events {
            let mut e = e.clone();
            p.apply(&mut e);
            black_box(&e);
        }
        let ns = (t.elapsed().as_nanos() as f64 - clone_ns) / f64::from(n);
        println!(
            "round {round}: {n} events (60% conn, 20% dns, 10% http, 10% alert): {ns:.0} ns/event"
        );
    }
    let kinds = [("conn", 0u32), ("dns", 6), ("http", 8), ("alert", 9)];
    for (name, slot) in kinds {
        let subset: Vec<&Event> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i as u32) % 10 == slot)
            .map(|(_, e)| e)
            .collect();
        let t = Instant::now();
        for e in &subset {
            black_box((*e).clone());
        }
        let c = t.elapsed().as_nanos() as f64;
        let t = Instant::now();
        for e in &subset {
            let mut e = (*e).clone();
            p.apply(&mut e);
            black_box(&e);
        }
        let ns = (t.elapsed().as_nanos() as f64 - c) / subset.len() as f64;
        println!("  {name}: {ns:.0} ns/event");
    }
    // Reveal: the last address of a /16, so the whole network is tried.
    let key = Key::from_bytes([9; 32]);
    let net = Settings {
        internal: vec!["10.20.0.0/16".parse().expect("a network")],
        ..Settings::default()
    };
    let token = Tokeniser::new(&key).ip("10.20.255.255".parse().expect("an address"));
    match Revealer::new(&key, &net) {
        Ok(r) => {
            let t = Instant::now();
            let found = r.reveal(&token.to_string());
            println!(
                "reveal of an address token over a /16: {:.1} ms ({found:?}); a /8 is 256 times that",
                t.elapsed().as_secs_f64() * 1e3
            );
        }
        Err(e) => eprintln!("{e}"),
    }
}
