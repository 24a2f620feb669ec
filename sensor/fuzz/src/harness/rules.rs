//! The rules files: any text given to the rules reader is either read or
//! refused with a `file:line: message` error, never a panic; rules that
//! read are then used by the analysis stage on a few events.

use std::path::Path;
use vagt_detect::{Analysis, Rules};
use vagt_schema::Event;

pub fn rules(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut rules = Rules::default();
    match rules.add_file(Path::new("fuzz.toml"), &text) {
        Err(e) => {
            // The error says where; its line is inside the text.
            let lines = text.lines().count().max(1);
            assert!(e.line.is_none_or(|l| l >= 1 && l <= lines + 1), "{e}");
        }
        Ok(()) => {
            let mut a = Analysis::new(rules, "fuzz");
            let mut out = Vec::new();
            for port in 0..40u16 {
                // A port scan's unanswered attempts, one per port.
                let json = format!(
                    r#"{{"schema_version":1,"municipality":"0000","sensor":"s","segment":"x","event_type":"conn","ts":{port}.0,"uid":"C{port}","id.orig_h":"10.0.0.1","id.orig_p":40000,"id.resp_h":"10.0.0.2","id.resp_p":{port},"proto":"tcp","conn_state":"S0","missed_bytes":0,"history":"S","orig_pkts":1,"orig_ip_bytes":40,"resp_pkts":0,"resp_ip_bytes":0,"ip_proto":6,"community_id":"1:x","orig_link_bytes":60,"resp_link_bytes":0,"end_reason":"shutdown"}}"#
                );
                let ev: Event = serde_json::from_str(&json).expect("a conn event");
                a.observe(&ev, &mut out);
            }
            a.finish(&mut out);
        }
    }
}
