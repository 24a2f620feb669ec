//! Zeek's tab-separated conn.log format, for tools that read Zeek logs
//! (zeek-cut, RITA, SIEM parsers). Only final connection records are
//! written; interim and stats events have no place in conn.log.

use super::lines::Lines;
use super::Sink;
use std::io::{self, Write};
use vagt_schema::{Event, EventBody};

const FIELDS: &str = "ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\tcommunity_id";
const TYPES: &str = "time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\tstring";

pub struct ZeekSink {
    w: Lines,
    header_written: bool,
}

impl ZeekSink {
    pub fn new(w: Lines) -> Self {
        ZeekSink {
            w,
            header_written: false,
        }
    }

    fn header(&mut self) -> io::Result<()> {
        writeln!(self.w, "#separator \\x09")?;
        writeln!(self.w, "#set_separator\t,")?;
        writeln!(self.w, "#empty_field\t(empty)")?;
        writeln!(self.w, "#unset_field\t-")?;
        writeln!(self.w, "#path\tconn")?;
        writeln!(self.w, "#fields\t{FIELDS}")?;
        writeln!(self.w, "#types\t{TYPES}")
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

impl Sink for ZeekSink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        let EventBody::Conn(c) = &event.body else {
            return Ok(());
        };
        if c.interim {
            return Ok(());
        }
        if !self.header_written {
            self.header()?;
            self.header_written = true;
        }
        let parents = if c.tunnel_parents.is_empty() {
            "-".to_string()
        } else {
            c.tunnel_parents.join(",")
        };
        writeln!(
            self.w,
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
        )
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.header_written {
            self.header()?;
        }
        writeln!(self.w, "#close")?;
        self.w.flush()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// Closes the log as Zeek closes a rotated one; the next record opens
    /// the new file with a header of its own.
    fn reopen(&mut self) -> io::Result<Option<String>> {
        if !self.w.is_file() {
            return Ok(None);
        }
        if self.header_written {
            writeln!(self.w, "#close")?;
        }
        // Whichever file the next record goes to (the old one, if the
        // reopening failed), it starts after a #close: a new header.
        self.header_written = false;
        self.w.reopen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::lines::Existing;

    /// Rotation closes the old log as Zeek does, and the new file gets a
    /// header of its own before its first record.
    #[test]
    fn reopening_closes_the_old_log_and_heads_the_new_one() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("vagt-zeek-{}.log", std::process::id()));
        let moved = dir.join(format!("vagt-zeek-{}.log.1", std::process::id()));
        let name = path.to_str().expect("utf-8");
        let (lines, _) = Lines::file(name, Existing::Truncate).expect("open");
        let mut sink = ZeekSink::new(lines);
        sink.header().expect("header");
        sink.header_written = true;
        std::fs::rename(&path, &moved).expect("rotate");
        assert!(sink.reopen().expect("reopen").is_some());
        sink.finish().expect("finish");
        let old = std::fs::read_to_string(&moved).expect("old");
        let new = std::fs::read_to_string(&path).expect("new");
        assert!(
            old.starts_with("#separator") && old.ends_with("#close\n"),
            "{old}"
        );
        assert!(
            new.starts_with("#separator") && new.ends_with("#close\n"),
            "{new}"
        );
        std::fs::remove_file(&path).ok();
        std::fs::remove_file(&moved).ok();
    }
}
