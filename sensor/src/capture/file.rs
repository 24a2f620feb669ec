//! Capture files (pcap and pcapng, including multi-interface pcapng)
//! read through libpcap.
//!
//! Opening checks the file before any packet is read, so a file that is not
//! a capture, is of an unsupported version or has an unsupported link type
//! fails with one message naming the file and the problem. A file that ends
//! in the middle of a packet yields the packets before the damage and then
//! the error, so nothing readable is lost.

use super::{timeval_ns, CaptureError, Next, RawPacket, Source};
use crate::decode::LinkType;
use std::path::Path;

pub struct FileSource {
    path: String,
    cap: pcap::Capture<pcap::Offline>,
    link: LinkType,
    size: Option<u64>,
    nanos: bool,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<FileSource, CaptureError> {
        let name = path.display().to_string();
        let err = |problem: String| CaptureError::File {
            path: name.clone(),
            problem,
        };
        let meta = std::fs::metadata(path).map_err(|e| err(format!("cannot open: {e}")))?;
        if meta.is_dir() {
            return Err(err("is a directory, not a capture file".into()));
        }
        let cap = pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano)
            .map_err(|e| err(describe_open_error(&e.to_string())))?;
        let link = LinkType(cap.get_datalink().0);
        if !link.is_supported() {
            return Err(err(format!(
                "link type {} ({}) is not supported; supported are Ethernet, Linux cooked \
                 capture v1/v2, raw IPv4/IPv6, BSD loopback, PPP, Cisco HDLC and 802.11",
                link.0,
                cap.get_datalink()
                    .get_name()
                    .unwrap_or_else(|_| "unknown".into())
            )));
        }
        Ok(FileSource {
            path: name,
            cap,
            link,
            size: Some(meta.len()),
            nanos: true,
        })
    }
}

/// Turns libpcap's wording into a message that says what is wrong.
fn describe_open_error(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    if lower.contains("unknown file format") {
        "not a pcap or pcapng capture file (unknown file format)".into()
    } else if lower.contains("truncated") || lower.contains("end of file") {
        format!("the file is truncated: {raw}")
    } else if lower.contains("version") || lower.contains("archaic") {
        format!("unsupported capture file version: {raw}")
    } else if lower.contains("block") || lower.contains("length") {
        format!("damaged capture file ({raw})")
    } else {
        format!("cannot read capture: {raw}")
    }
}

impl Source for FileSource {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        match self.cap.next_packet() {
            Ok(p) => {
                let ts = timeval_ns(p.header.ts.tv_sec, p.header.ts.tv_usec, self.nanos);
                Ok(Next::Packet(RawPacket {
                    ts,
                    data: p.data,
                    wire_len: p.header.len.max(p.header.caplen),
                    link: self.link,
                    backing: None,
                }))
            }
            Err(pcap::Error::NoMorePackets) => Ok(Next::End),
            Err(e) => Err(CaptureError::File {
                path: self.path.clone(),
                problem: {
                    let raw = e.to_string();
                    if raw.to_ascii_lowercase().contains("truncated") {
                        format!("the file is truncated ({raw}); packets before the damage were processed")
                    } else {
                        format!("damaged capture ({raw}); packets before the damage were processed")
                    }
                },
            }),
        }
    }

    fn name(&self) -> &str {
        &self.path
    }

    fn size_hint(&self) -> Option<u64> {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_file_is_refused_with_a_clear_message() {
        let dir = std::env::temp_dir().join(format!("vagt-file-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("notes.txt");
        std::fs::write(&p, b"this is not a capture file at all\n").unwrap();
        let e = FileSource::open(&p).err().expect("must fail");
        let msg = e.to_string();
        assert!(msg.contains("notes.txt"), "{msg}");
        assert!(msg.contains("not a pcap or pcapng"), "{msg}");
        let e = FileSource::open(&dir.join("missing.pcap"))
            .err()
            .expect("must fail");
        assert!(e.to_string().contains("cannot open"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
