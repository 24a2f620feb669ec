//! Capture files (pcap and pcapng, including multi-interface pcapng with
//! different link types). Files are mapped into memory and read in place by
//! `format`, so packets reach the workers without a copy; libpcap reads
//! format variants that parser does not know.
//!
//! Opening checks the file before any packet is read, so a file that is not
//! a capture, is of an unsupported version or has an unsupported link type
//! fails with one message naming the file and the problem. A file that ends
//! in the middle of a packet yields the packets before the damage and then
//! the error, so nothing readable is lost.

use super::format;
use super::{timeval_ns, Backing, CaptureError, Next, RawPacket, Source};
use crate::decode::LinkType;
use std::path::Path;
use std::sync::Arc;

pub struct FileSource {
    path: String,
    inner: Inner,
    size: Option<u64>,
}

enum Inner {
    /// The file mapped into memory and parsed in place; packets reach the
    /// workers without a copy.
    Mapped {
        map: Backing,
        reader: format::Reader,
    },
    /// libpcap, for formats the in-place reader does not know.
    Libpcap {
        cap: pcap::Capture<pcap::Offline>,
        link: LinkType,
    },
}

fn unsupported(link: LinkType, name: &str) -> String {
    format!(
        "link type {} ({name}) is not supported; supported are Ethernet, Linux cooked \
         capture v1/v2, raw IPv4/IPv6, BSD loopback, PPP, Cisco HDLC and 802.11",
        link.0
    )
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
        if meta.len() == 0 {
            return Err(err("not a pcap or pcapng capture file (it is empty)".into()));
        }
        let file = std::fs::File::open(path).map_err(|e| err(format!("cannot open: {e}")))?;
        // SAFETY: the mapping is read-only; a capture file changed by another
        // program while it is replayed is not supported (as with any reader).
        let map =
            unsafe { memmap2::Mmap::map(&file) }.map_err(|e| err(format!("cannot map: {e}")))?;
        let inner = match format::Reader::open(&map) {
            Ok(reader) => {
                if let Some(link) = reader.first_link() {
                    if !link.is_supported() {
                        return Err(err(unsupported(link, "unknown")));
                    }
                }
                Inner::Mapped {
                    map: Arc::new(map),
                    reader,
                }
            }
            Err(problem) => {
                // A format variant libpcap knows and we do not? Otherwise
                // our description of the problem is the clearer one.
                match pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano) {
                    Ok(cap) => {
                        let link = LinkType(cap.get_datalink().0);
                        if !link.is_supported() {
                            let dl = cap.get_datalink();
                            return Err(err(unsupported(
                                link,
                                &dl.get_name().unwrap_or_else(|_| "unknown".into()),
                            )));
                        }
                        Inner::Libpcap { cap, link }
                    }
                    Err(_) => return Err(err(problem)),
                }
            }
        };
        Ok(FileSource {
            path: name,
            inner,
            size: Some(meta.len()),
        })
    }
}

impl FileSource {
    /// Opens a file through libpcap only (to compare the in-place reader
    /// with libpcap in tests).
    pub fn open_with_libpcap(path: &Path) -> Result<FileSource, CaptureError> {
        let name = path.display().to_string();
        let cap =
            pcap::Capture::from_file_with_precision(path, pcap::Precision::Nano).map_err(|e| {
                CaptureError::File {
                    path: name.clone(),
                    problem: e.to_string(),
                }
            })?;
        let link = LinkType(cap.get_datalink().0);
        Ok(FileSource {
            path: name,
            inner: Inner::Libpcap { cap, link },
            size: None,
        })
    }
}

impl Source for FileSource {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        let path = &self.path;
        let damaged = |problem: String| CaptureError::File {
            path: path.clone(),
            problem: format!("{problem}; packets before the damage were processed"),
        };
        match &mut self.inner {
            Inner::Mapped { map, reader } => {
                let data: &[u8] = (**map).as_ref();
                match reader.next(data) {
                    Ok(Some(r)) => Ok(Next::Packet(RawPacket {
                        ts: r.ts_ns,
                        data: &data[r.offset..r.offset + r.caplen as usize],
                        wire_len: r.wire_len,
                        link: r.link,
                        backing: Some((map, r.offset)),
                        arrival_ns: 0,
                    })),
                    Ok(None) => Ok(Next::End),
                    Err(problem) => Err(damaged(problem)),
                }
            }
            Inner::Libpcap { cap, link } => match cap.next_packet() {
                Ok(p) => Ok(Next::Packet(RawPacket {
                    ts: timeval_ns(p.header.ts.tv_sec, p.header.ts.tv_usec, true),
                    data: p.data,
                    wire_len: p.header.len.max(p.header.caplen),
                    link: *link,
                    backing: None,
                    arrival_ns: 0,
                })),
                Err(pcap::Error::NoMorePackets) => Ok(Next::End),
                Err(e) => Err(damaged(format!("damaged capture ({e})"))),
            },
        }
    }

    fn name(&self) -> &str {
        &self.path
    }

    fn size_hint(&self) -> Option<u64> {
        self.size
    }

    fn lanes(&self, n: usize) -> Option<Vec<Box<dyn Source>>> {
        let Inner::Mapped { map, reader } = &self.inner else {
            return None;
        };
        let lane = |_| -> Box<dyn Source> {
            Box::new(FileSource {
                path: self.path.clone(),
                inner: Inner::Mapped {
                    map: map.clone(),
                    reader: reader.clone(),
                },
                size: self.size,
            })
        };
        Some((0..n).map(lane).collect())
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
