//! Property: any IPv4 address in the internal networks, put in a conn
//! record and in an alert (fields and message), never appears in the
//! output text; external addresses always do.

mod common;
use common::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;

fn internal_v4() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        any::<u32>().prop_map(|x| Ipv4Addr::from(0x0a00_0000 | (x & 0x00ff_ffff))),
        any::<u32>().prop_map(|x| Ipv4Addr::from(0xac10_0000 | (x & 0x000f_ffff))),
        any::<u16>().prop_map(|x| Ipv4Addr::from(0xc0a8_0000 | u32::from(x))),
    ]
}

fn external_v4() -> impl Strategy<Value = Ipv4Addr> {
    (1u8..=9, any::<[u8; 3]>()).prop_map(|(a, b)| Ipv4Addr::new(a, b[0], b[1], b[2]))
}

proptest! {
    #[test]
    fn internal_ipv4_never_leaves(a in internal_v4(), b in internal_v4(), x in external_v4(), port in 1u16..) {
        let mut p = pseudo();
        let conn = event(
            "conn",
            &format!(
                r#"{},"proto":"tcp","conn_state":"SF","missed_bytes":0,"orig_pkts":1,"orig_ip_bytes":1,"resp_pkts":1,"resp_ip_bytes":1,"ip_proto":6,"community_id":"1:x","orig_link_bytes":1,"resp_link_bytes":1"#,
                conn_id(&a.to_string(), &x.to_string(), port)
            ),
        );
        let json = out(&mut p, conn);
        prop_assert!(!has_addr(&json, &a.to_string()), "{}", json);
        prop_assert!(has_addr(&json, &x.to_string()), "{}", json);

        let msg = format!("{a} connected to {b}:{port} and {x} (ip:{b}); {a}, [{b}]");
        let alert = event(
            "alert",
            &format!(
                r#""ts":1.0,"id":"s-1","detector":"lateral","kind":"k","severity":"low","score":1,"technique":"T1","src":"{a}","dst":"{b}","subject":"{b}:{port}","message":"{msg}","count":1,"first_seen":1.0,"last_seen":1.0"#
            ),
        );
        let json = out(&mut p, alert);
        prop_assert!(!has_addr(&json, &a.to_string()), "{}", json);
        prop_assert!(!has_addr(&json, &b.to_string()), "{}", json);
        prop_assert!(has_addr(&json, &x.to_string()), "{}", json);
    }
}

proptest! {
    /// Any text, ASCII or not, goes through every free-text path without
    /// a panic (no str slice may cut a character).
    #[test]
    fn any_text_is_handled_without_panic(text in "\\PC{0,80}", name in "[a-zæøå0-9.:-]{0,30}") {
        let mut p = pseudo();
        let msg = serde_json::to_string(&format!("{text} {name} 10.1.2.3 {name}.local")).unwrap();
        let alert = event(
            "alert",
            &format!(
                r#""ts":1.0,"id":"s-1","detector":"indicator","kind":"user_name","severity":"low","score":1,"technique":"T1","src":"10.1.2.3","subject":{},"message":{msg},"count":1,"first_seen":1.0,"last_seen":1.0"#,
                serde_json::to_string(&name).unwrap()
            ),
        );
        let json = out(&mut p, alert);
        prop_assert!(!has_addr(&json, "10.1.2.3"), "{}", json);
        let dns = event(
            "dns",
            &format!(
                r#"{},"proto":"udp","trans_id":7,"AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"rejected":false,"query":{},"answers":[{}]"#,
                conn_id(CLIENT, SERVER, 53),
                serde_json::to_string(&name).unwrap(),
                serde_json::to_string(&text).unwrap()
            ),
        );
        out(&mut p, dns);
        let http = event(
            "http",
            &format!(
                r#"{},"trans_depth":1,"host":{},"uri":{},"referrer":{},"request_body_len":0,"response_body_len":0,"tags":[]"#,
                conn_id(CLIENT, EXTERNAL, 80),
                serde_json::to_string(&name).unwrap(),
                serde_json::to_string(&text).unwrap(),
                serde_json::to_string(&format!("http://{name}/{text}")).unwrap()
            ),
        );
        out(&mut p, http);
        let smb = event(
            "smb_files",
            &format!(r#"{},"path":{},"name":{},"size":0"#, conn_id(CLIENT, SERVER, 445),
                serde_json::to_string(&format!("\\\\{name}\\{text}")).unwrap(), serde_json::to_string(&text).unwrap()),
        );
        out(&mut p, smb);
    }
}
