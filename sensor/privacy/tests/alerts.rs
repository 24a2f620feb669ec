//! Alerts: one test per message shape the detectors in
//! `sensor/detect/src/detectors/` (and the risk stage) write. Addresses,
//! MACs and identities in `src`, `dst`, `subject` and `message` are
//! replaced; domains, ports, tools and indicators stay.

mod common;
use common::*;

fn alert(
    detector: &str,
    kind: &str,
    src: &str,
    dst: Option<&str>,
    subject: Option<&str>,
    message: &str,
) -> vagt_schema::Event {
    let dst = dst.map(|d| format!(r#","dst":"{d}""#)).unwrap_or_default();
    let subject = subject
        .map(|s| format!(r#","subject":{}"#, serde_json::to_string(s).unwrap()))
        .unwrap_or_default();
    event(
        "alert",
        &format!(
            r#""ts":1.0,"id":"raadhus-1-7","detector":"{detector}","kind":"{kind}","severity":"medium","score":50,"technique":"T1046","src":"{src}"{dst}{subject},"message":{},"count":1,"first_seen":1.0,"last_seen":1.0,"uids":["C4GXVTnJA242"],"community_ids":["1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk="]"#,
            serde_json::to_string(message).unwrap()
        ),
    )
}

fn run(ev: vagt_schema::Event, internal: &[&str], external: &[&str]) -> String {
    let json = out(&mut pseudo(), ev);
    let mut all = internal.to_vec();
    all.push("d3DF8LTisRjDq9Q7F3Ct3sc");
    check(&json, &all, external);
    json
}

#[test]
fn bruteforce() {
    run(
        alert("bruteforce", "ssh", CLIENT, Some(SERVER), Some("ssh/22"),
            "10.20.3.48 failed 21 ssh logins on 10.0.0.60 port 22 in 8 sessions within 47 s; brute force is 20 or more failures within 600 s"),
        &[CLIENT, SERVER],
        &["ssh/22", "failed 21 ssh logins on fd", "C4GXVTnJA242"],
    );
}

#[test]
fn scan_and_scanner_tool() {
    run(
        alert("scan", "port_scan", CLIENT, Some(SERVER), Some("tcp"),
            "10.20.3.48 tried 120 ports of 10.0.0.60 within 30 s (118 unanswered, 2 refused or reset before data); a port scan is 100 or more within 60 s"),
        &[CLIENT, SERVER],
        &["tried 120 ports"],
    );
    run(
        alert("scan", "scanner_tool", CLIENT, Some(SERVER), Some("Nmap Scripting Engine"),
            "10.20.3.48 sent an HTTP request to 10.0.0.60 with the user agent of a scanning tool (\"Mozilla/5.0 (compatible; Nmap Scripting Engine)\", matching \"Nmap Scripting Engine\" in [scan] tool_user_agents)"),
        &[CLIENT, SERVER],
        &["Nmap Scripting Engine"],
    );
}

#[test]
fn dns_tunnel_keeps_the_domain() {
    run(
        alert("dns_tunnel", "encoded_names", CLIENT, None, Some("t.evil.example.com"),
            "10.20.3.48 sent 300 queries under t.evil.example.com within 60 s, 280 of them with an encoded-looking name (up to 63 characters below the domain; 300 TXT); a tunnel is 100 or more queries"),
        &[CLIENT],
        &["t.evil.example.com"],
    );
    run(
        alert("dns_tunnel", "nxdomain_burst", CLIENT, None, None,
            "10.20.3.48 got NXDOMAIN for 250 different domains within 60 s; a domain-generation burst is 200 or more within 60 s"),
        &[CLIENT],
        &["NXDOMAIN for 250"],
    );
}

#[test]
fn beacon_with_address_and_port() {
    run(
        alert("beacon", "beacon", CLIENT, Some(EXTERNAL), Some("443"),
            "48 connections from 10.20.3.48 to 93.184.216.34:443 (ssl) over 4.0 h, every 300 s (median; MAD 2 s), 512 bytes out each (MAD 3); beacon score 0.95 (timing 0.97; threshold 0.80); 93.184.216.34 is contacted by 1 internal host(s) (common from 5)"),
        &[CLIENT],
        &["93.184.216.34:443", EXTERNAL],
    );
    // IPv6 internal source, bracketed with a port.
    run(
        alert(
            "beacon",
            "beacon",
            "fd12::48",
            Some("2001:db8::1"),
            Some("443"),
            "48 connections from fd12::48 to [2001:db8::1]:443 over 4.0 h",
        ),
        &["fd12::48"],
        &["[2001:db8::1]:443"],
    );
}

#[test]
fn lateral() {
    run(
        alert("lateral", "new_admin_edge", CLIENT, Some(SERVER), Some("smb"),
            "10.20.3.48 connected to 10.0.0.60 over smb (445/tcp) for the first time; the detector learned for 9.0 days (7.0 required)"),
        &[CLIENT, SERVER],
        &["over smb (445/tcp)"],
    );
    run(
        alert("lateral", "fan_out", CLIENT, None, Some("smb"),
            "10.20.3.48 (segment care, client) reached admin services of 12 internal hosts within 300 s (smb 12; 3 answered, 9 failed)"),
        &[CLIENT],
        &["(segment care, client)"],
    );
}

#[test]
fn new_rare_device_service_peer_and_fingerprint() {
    let json = run(
        alert("new_rare", "new_device", CLIENT, None, Some("mac:02:00:0a:14:03:30"),
            "a new device (mac:02:00:0a:14:03:30, Raspberry Pi Trading Ltd, iot_gateway) appeared in segment care with address 10.20.3.48; the segment had been learned for 9.0 days (7.0 days required) without it"),
        &[CLIENT, CLIENT_MAC],
        &["\"subject\":\"mac:~m_", "Raspberry Pi Trading Ltd"],
    );
    // The subject's token is the asset record's key token.
    let tok = &json[json.find("mac:~m_").unwrap() + 4..][..23];
    let asset = event(
        "asset",
        &format!(r#""key":"mac:{CLIENT_MAC}","first_seen":1.0,"last_seen":2.0,"change":["new"]"#),
    );
    assert!(out(&mut pseudo(), asset).contains(tok));
    run(
        alert("new_rare", "new_service", CLIENT, None, Some("tcp/8443"),
            "10.20.3.48 (ip:10.20.3.48) offers tcp/8443, a service no host of segment care offered in the 9.0 days since its first event (40 services known in all segments)"),
        &[CLIENT],
        &["tcp/8443", "(ip:fd"],
    );
    run(
        alert("new_rare", "new_external_peer", CLIENT, Some(EXTERNAL), Some("502/tcp"),
            "93.184.216.34 (external) connected to 10.20.3.48 on port 502 (tcp, established); OT segment ot had no connection with 93.184.216.34 in the 9.0 days"),
        &[CLIENT],
        &[EXTERNAL],
    );
    run(
        alert("new_rare", "rare_fingerprint", CLIENT, Some(EXTERNAL), Some("ja3:e7d705a3286e19ea42f587b344ee6865"),
            "10.20.3.48 used ja3 \"e7d705a3286e19ea42f587b344ee6865\" (to 93.184.216.34 port 443), never seen in segment care"),
        &[CLIENT],
        &["ja3:e7d705a3286e19ea42f587b344ee6865"],
    );
}

#[test]
fn ot_change() {
    run(
        alert("ot_change", "write", CLIENT, None, Some("modbus"),
            "10.20.3.48 sent a write request (modbus WRITE_SINGLE_REGISTER) to 10.0.0.60 port 502; no write request from 10.20.3.48 to this device had been seen in 9.0 days"),
        &[CLIENT, SERVER],
        &["WRITE_SINGLE_REGISTER"],
    );
}

#[test]
fn spoofing_arp_shapes_with_macs_and_clock_times() {
    let json = run(
        alert("spoofing", "takeover", "10.20.3.1", None, Some("02:00:0a:14:03:30"),
            "10.20.3.1 moved from 02:00:0a:00:00:3c to 02:00:0a:14:03:30 at 12:00:01, the 2nd move in 10 min; 02:00:0a:14:03:30 now answers for 3 addresses; 02:00:0a:00:00:3c still answered for it 5 s before"),
        &["10.20.3.1", CLIENT_MAC, SERVER_MAC],
        &["at 12:00:01", "\"subject\":\"~m_"],
    );
    assert!(!json.contains("02:00:0a"), "{json}");
    run(
        alert("spoofing", "poisoning", "10.20.3.1", None, Some("02:00:0a:14:03:30"),
            "02:00:0a:14:03:30 took over 5 addresses bound to other MACs within 30 s (10.20.3.1, 10.20.3.2, 10.20.3.3; the latest, 10.20.3.5, from 02:00:0a:00:00:3c at 12:00:05); it now answers for 6 addresses"),
        &["10.20.3.1", "10.20.3.2", "10.20.3.3", "10.20.3.5", CLIENT_MAC, SERVER_MAC],
        &["took over 5 addresses"],
    );
    run(
        alert("spoofing", "arp_sweep", CLIENT, None, Some("02:00:0a:14:03:30"),
            "10.20.3.48 (02:00:0a:14:03:30) asked ARP for 200 distinct addresses within 3.0 s; a sweep is 50 or more"),
        &[CLIENT, CLIENT_MAC],
        &["asked ARP for 200"],
    );
}

#[test]
fn spoofing_dhcp() {
    run(
        alert("spoofing", "rogue_dhcp", "10.20.3.99", Some(CLIENT), Some("dhcp"),
            "10.20.3.99 answered DHCP (OFFER/ACK) to 02:00:0a:14:03:30, offering 10.20.3.48 at 12:00:01, a server not seen in the segment's first 7.0 days and not allow-listed; the usual are 10.0.0.1 (last 11:59:00)"),
        &["10.20.3.99", CLIENT, CLIENT_MAC, "10.0.0.1"],
        &["answered DHCP (OFFER/ACK)"],
    );
}

#[test]
fn spray_volume_and_risk() {
    run(
        alert("spray", "accounts", CLIENT, None, Some("kerberos,ldap"),
            "10.20.3.48 failed logins for 12 different accounts (40 failures, kerberos, ldap) within 1.0 h"),
        &[CLIENT],
        &["kerberos,ldap"],
    );
    run(
        alert("volume", "host_out", CLIENT, Some(EXTERNAL), None,
            "10.20.3.48 sent 2.1 GB to external addresses between 2026-12-06 10:00 and 11:00, 1.9 GB of it to 93.184.216.34; the host's busiest hour was 200 MB"),
        &[CLIENT],
        &[EXTERNAL],
    );
    run(
        alert(
            "volume",
            "segment_out",
            "0.0.0.0",
            None,
            Some("segment care"),
            "segment care sent 20 GB to external addresses on 2026-12-06 10:00 (Sunday 10-11)",
        ),
        &[],
        &["0.0.0.0", "segment care"],
    );
    run(
        alert("risk", "host", CLIENT, None, None,
            "10.20.3.48 has a risk of 160 (alert at 150, halving every 24 h) from 3 detectors: scan 50, bruteforce 60, beacon 50"),
        &[CLIENT],
        &["has a risk of 160"],
    );
}

#[test]
fn indicator_user_name_and_mail_are_tokenised_others_stay() {
    let json = run(
        alert("indicator", "user_name", CLIENT, None, Some("jensen"),
            "10.20.3.48 logged in as jensen over NTLM (server 10.0.0.60 port 445); it is listed as user_name indicator jensen in rules/indicators.txt"),
        &[CLIENT, SERVER, "jensen"],
        &["\"subject\":\"~u_", "logged in as ~u_"],
    );
    // The same user's token as in the NTLM record.
    let tok = &json[json.find("\"subject\":\"").unwrap() + 11..][..23];
    let ntlm = event(
        "ntlm",
        &format!(r#"{},"username":"jensen""#, conn_id(CLIENT, SERVER, 445)),
    );
    assert!(out(&mut pseudo(), ntlm).contains(tok));
    run(
        alert("indicator", "email", CLIENT, None, Some("anne.jensen@kommune.dk"),
            "10.20.3.48 sent mail naming anne.jensen@kommune.dk (server 93.184.216.34 port 25); it is listed as email indicator anne.jensen@kommune.dk in intel.txt"),
        &[CLIENT, "anne.jensen"],
        &["\"subject\":\"~e_", EXTERNAL],
    );
    run(
        alert("indicator", "domain", CLIENT, None, Some("evil.example.com"),
            "10.20.3.48 looked up evil.example.com in DNS (server 10.0.0.53 port 53); it is listed as domain indicator evil.example.com in intel.txt (source abuse.ch)"),
        &[CLIENT, "10.0.0.53"],
        &["evil.example.com", "abuse.ch"],
    );
    run(
        alert("indicator", "ip", CLIENT, Some("198.51.100.7"), Some("198.51.100.7"),
            "10.20.3.48 connected to 198.51.100.7 port 443; it is listed as ip indicator 198.51.100.7 in intel.txt"),
        &[CLIENT],
        &["198.51.100.7"],
    );
    run(
        alert("indicator", "sni", CLIENT, None, Some("c2.example.net"),
            "10.20.3.48 asked for TLS server name c2.example.net (server 93.184.216.34 port 443); it is listed as sni indicator c2.example.net"),
        &[CLIENT],
        &["c2.example.net"],
    );
}

#[test]
fn internal_names_in_messages_are_tokenised() {
    run(
        alert(
            "indicator",
            "domain",
            CLIENT,
            None,
            Some("anne-pc.kommune.local"),
            "10.20.3.48 looked up anne-pc.kommune.local in DNS",
        ),
        &[CLIENT, "anne-pc"],
        &["~h_"],
    );
}

#[test]
fn addresses_glued_to_other_text_are_found() {
    run(
        alert(
            "scan",
            "address_scan",
            CLIENT,
            None,
            None,
            "10.20.3.48s probed 10.20.3.1-10.20.3.254 (first 10.20.3.1_x, MAC 02:00:0a:14:03:30x)",
        ),
        &[CLIENT, "10.20.3.1", "10.20.3.254", CLIENT_MAC],
        &["probed"],
    );
}
