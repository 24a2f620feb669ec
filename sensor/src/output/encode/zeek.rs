//! Zeek's tab-separated conn.log format, for tools that read Zeek logs
//! (zeek-cut, RITA, SIEM parsers). Only final connection records are
//! written; interim and stats events have no place in conn.log.

use super::Encoder;
use std::io::Write;
use vagt_schema::{Event, EventBody};

const FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\tcommunity_id";
const TYPES: &str = "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\tstring";

/// Zeek's conn.log: a header before the first record of each file, and
/// `#close` when the file ends or is rotated.
#[derive(Default)]
pub struct ZeekEncoder {
    header_written: bool,
}

impl ZeekEncoder {
    fn header(out: &mut Vec<u8>) {
        // Writing to a vector cannot fail.
        let _ = writeln!(out, "#separator \\x09");
        let _ = writeln!(out, "#set_separator\t,");
        let _ = writeln!(out, "#empty_field\t(empty)");
        let _ = writeln!(out, "#unset_field\t-");
        let _ = writeln!(out, "#path\tconn");
        let _ = writeln!(out, "#fields\t{FIELDS}");
        let _ = writeln!(out, "#types\t{TYPES}");
    }
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref()
        .map_or_else(|| "-".to_string(), |x| x.to_string())
}

fn opt_bool(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "T",
        Some(false) => "F",
        None => "-",
    }
}

impl Encoder for ZeekEncoder {
    fn encode(&mut self, event: &Event, out: &mut Vec<u8>) {
        let EventBody::Conn(c) = &event.body else {
            return;
        };
        if c.interim {
            return;
        }
        if !self.header_written {
            Self::header(out);
            self.header_written = true;
        }
        let parents = if c.tunnel_parents.is_empty() {
            "-".to_string()
        } else {
            c.tunnel_parents.join(",")
        };
        let _ = writeln!(
            out,
            "{:.6}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            c.ts,
            c.uid,
            c.orig_h,
            c.orig_p,
            c.resp_h,
            c.resp_p,
            c.proto.as_str(),
            opt(&c.service),
            c.duration.map_or_else(|| "-".to_string(), |d| format!("{d:.6}")),
            opt(&c.orig_bytes),
            opt(&c.resp_bytes),
            c.conn_state.as_str(),
            opt_bool(c.local_orig),
            opt_bool(c.local_resp),
            c.missed_bytes,
            opt(&c.history),
            c.orig_pkts,
            c.orig_ip_bytes,
            c.resp_pkts,
            c.resp_ip_bytes,
            parents,
            c.ip_proto,
            c.community_id,
        );
    }

    /// Closes the log as Zeek closes one; a log that never had a record
    /// still gets its header.
    fn close(&mut self, out: &mut Vec<u8>) {
        if !self.header_written {
            Self::header(out);
        }
        out.extend_from_slice(b"#close\n");
        self.header_written = false;
    }

    /// Closes the rotated log; the next record, in whichever file (the old
    /// one, if reopening failed), opens with a header of its own.
    fn rotate(&mut self, out: &mut Vec<u8>) {
        if self.header_written {
            out.extend_from_slice(b"#close\n");
            self.header_written = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_is_headed_and_closed() {
        let mut z = ZeekEncoder::default();
        let mut out = Vec::new();
        z.close(&mut out);
        let text = String::from_utf8(out).expect("utf-8");
        assert!(
            text.starts_with("#separator") && text.ends_with("#close\n"),
            "{text}"
        );
        // After a close the next file starts with its header again.
        assert!(!z.header_written);
    }
}
