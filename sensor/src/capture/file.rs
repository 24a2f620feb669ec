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

use super::pcap_reader;
use super::{timeval_ns, Backing, CaptureError, Located, Locating, Next, RawPacket, Source};
use crate::decode::LinkType;
use std::path::Path;
use std::sync::Arc;

pub struct FileSource {
    path: String,
    inner: Inner,
    size: Option<u64>,
}

// One per open file: the window inline spares the hot path a pointer.
#[allow(clippy::large_enum_variant)]
enum Inner {
    /// The file mapped into memory and parsed in place; packets reach the
    /// workers without a copy.
    Mapped {
        map: Backing,
        reader: pcap_reader::Reader,
        window: Option<Window>,
    },
    /// libpcap, for formats the in-place reader does not know.
    Libpcap {
        cap: pcap::Capture<pcap::Offline>,
        link: LinkType,
    },
}

/// The records just ahead of the reader, kept once the first look ahead
/// asks for them: the packet `next` returns next and the
/// [`LOOKAHEAD`](super::LOOKAHEAD) after it, each parsed once.
struct Window {
    ring: [Option<pcap_reader::Record>; RING],
    head: usize,
    len: usize,
    /// How reading ended, once it has: the end of the file, or damage (to
    /// be reported when the packets before it have been handed out).
    end: Option<Result<(), String>>,
}

const WINDOW: usize = super::LOOKAHEAD + 1;
/// Ring slots: a power of two, so positions wrap with a mask.
const RING: usize = WINDOW.next_power_of_two();

impl Window {
    fn new() -> Window {
        Window {
            ring: [None; RING],
            head: 0,
            len: 0,
            end: None,
        }
    }

    fn fill(&mut self, reader: &mut pcap_reader::Reader, data: &[u8]) {
        while self.len < WINDOW && self.end.is_none() {
            match reader.next(data) {
                Ok(Some(r)) => {
                    self.ring[(self.head + self.len) % RING] = Some(r);
                    self.len += 1;
                }
                Ok(None) => self.end = Some(Ok(())),
                Err(e) => self.end = Some(Err(e)),
            }
        }
    }

    fn pop(&mut self) -> Result<Option<pcap_reader::Record>, String> {
        if self.len == 0 {
            return match self.end.replace(Ok(())) {
                Some(Err(e)) => Err(e),
                _ => Ok(None),
            };
        }
        let r = self.ring[self.head].take();
        self.head = (self.head + 1) % RING;
        self.len -= 1;
        Ok(r)
    }

    fn last(&self) -> Option<pcap_reader::Record> {
        (self.len == WINDOW)
            .then(|| self.ring[(self.head + WINDOW - 1) % RING])
            .flatten()
    }
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
        let inner = match pcap_reader::Reader::open(&map) {
            Ok(reader) => {
                if let Some(link) = reader.first_link() {
                    if !link.is_supported() {
                        return Err(err(unsupported(link, "unknown")));
                    }
                }
                Inner::Mapped {
                    map: Arc::new(map),
                    reader,
                    window: None,
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

    /// Reads a capture from standard input as it arrives (through libpcap,
    /// which streams pcap and pcapng), named "-" in messages.
    #[cfg(unix)]
    pub fn open_stdin() -> Result<FileSource, CaptureError> {
        let err = |problem: String| CaptureError::File {
            path: "- (standard input)".into(),
            problem,
        };
        // libpcap takes ownership of the descriptor it is given and closes
        // it: hand it a duplicate, so standard input itself stays open.
        // SAFETY: dup has no memory-safety preconditions.
        let fd = unsafe { libc::dup(0) };
        if fd < 0 {
            return Err(err(format!(
                "cannot read standard input: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: `fd` is a fresh duplicate that nothing else owns.
        let cap = unsafe { pcap::Capture::from_raw_fd_with_precision(fd, pcap::Precision::Nano) }
            .map_err(|e| err(format!("not a pcap or pcapng capture: {e}")))?;
        let link = LinkType(cap.get_datalink().0);
        if !link.is_supported() {
            return Err(err(unsupported(link, "unknown")));
        }
        Ok(FileSource {
            path: "-".into(),
            inner: Inner::Libpcap { cap, link },
            size: None,
        })
    }
}

/// Damage found in a file, after the packets before it were handed out.
fn damage(path: &str, problem: &str) -> CaptureError {
    CaptureError::File {
        path: path.to_string(),
        problem: format!("{problem}; packets before the damage were processed"),
    }
}

impl Source for FileSource {
    fn next(&mut self) -> Result<Next<'_>, CaptureError> {
        let path = &self.path;
        let damaged = |problem: String| damage(path, &problem);
        match &mut self.inner {
            Inner::Mapped {
                map,
                reader,
                window,
            } => {
                let data: &[u8] = (**map).as_ref();
                let next = match window {
                    None => reader.next(data),
                    Some(w) => {
                        w.fill(reader, data);
                        w.pop()
                    }
                };
                match next {
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

    fn peek_ahead(&mut self) -> Option<(LinkType, &[u8])> {
        let Inner::Mapped {
            map,
            reader,
            window,
        } = &mut self.inner
        else {
            return None;
        };
        let data: &[u8] = (**map).as_ref();
        let w = window.get_or_insert_with(Window::new);
        w.fill(reader, data);
        let r = w.last()?;
        Some((r.link, data.get(r.offset..r.offset + r.caplen as usize)?))
    }

    fn locate(&mut self, out: &mut Vec<Located>, max: usize) -> Locating {
        // A window of records read ahead is handed out first, by `next`.
        let Inner::Mapped {
            map,
            reader,
            window: None,
        } = &mut self.inner
        else {
            return super::locate_by_next(self, out, max);
        };
        let data: &[u8] = (**map).as_ref();
        for _ in 0..max {
            match reader.next(data) {
                Ok(Some(r)) => out.push(Located {
                    ts: r.ts_ns,
                    offset: r.offset,
                    len: r.caplen,
                    wire_len: r.wire_len,
                    link: r.link,
                }),
                Ok(None) => break,
                Err(problem) => return (Some(map.clone()), Some(damage(&self.path, &problem))),
            }
        }
        (Some(map.clone()), None)
    }

    fn lanes(&self, n: usize) -> Option<Vec<Box<dyn Source>>> {
        let Inner::Mapped { map, reader, .. } = &self.inner else {
            return None;
        };
        let lane = |_| -> Box<dyn Source> {
            Box::new(FileSource {
                path: self.path.clone(),
                inner: Inner::Mapped {
                    map: map.clone(),
                    reader: reader.clone(),
                    window: None,
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

    /// What a reader hands out, packet by packet, then how it ends.
    /// Packets read, packets seen ahead before each read, how it ended.
    type Reading = (Vec<Vec<u8>>, Vec<Option<Vec<u8>>>, String);

    fn read_all(src: &mut FileSource, peek: bool) -> Reading {
        let (mut got, mut peeked) = (Vec::new(), Vec::new());
        loop {
            if peek {
                peeked.push(src.peek_ahead().map(|(_, f)| f.to_vec()));
            }
            match src.next() {
                Ok(Next::Packet(p)) => got.push(p.data.to_vec()),
                Ok(Next::End) => return (got, peeked, "end".into()),
                Ok(Next::Timeout) => return (got, peeked, "timeout".into()),
                Err(e) => return (got, peeked, e.to_string()),
            }
        }
    }

    /// Looking ahead changes nothing that is read, sees exactly the packet
    /// `LOOKAHEAD` places on, and a damaged end is still reported after
    /// every packet before it.
    /// Seven frames written to `dir` as a pcap file, whole and cut 9 bytes
    /// short (damage in the last record), with their names.
    fn whole_and_cut(dir: &Path) -> [(&'static str, std::path::PathBuf); 2] {
        std::fs::create_dir_all(dir).unwrap();
        let mut w = crate::synth::pcap::PcapWriter::new(Vec::new(), 1, 65535).unwrap();
        for i in 0..7u8 {
            w.write(i64::from(i) * 1_000_000, &vec![i; 60 + usize::from(i)])
                .unwrap();
        }
        let whole = w.into_inner();
        [
            ("whole.pcap", whole.clone()),
            ("cut.pcap", whole[..whole.len() - 9].to_vec()),
        ]
        .map(|(name, bytes)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            (name, path)
        })
    }

    #[test]
    fn looking_ahead_reads_the_same_packets() {
        let dir = std::env::temp_dir().join(format!("vagt-peek-test-{}", std::process::id()));
        for (name, path) in whole_and_cut(&dir) {
            let plain = read_all(&mut FileSource::open(&path).unwrap(), false);
            let ahead = read_all(&mut FileSource::open(&path).unwrap(), true);
            assert_eq!(plain.0, ahead.0, "{name}");
            assert_eq!(plain.2, ahead.2, "{name}");
            let n = plain.0.len();
            assert_eq!(n, if name == "cut.pcap" { 6 } else { 7 });
            for (i, p) in ahead.1.iter().enumerate() {
                let want = plain.0.get(i + crate::capture::LOOKAHEAD);
                assert_eq!(p.as_ref(), want, "{name}: look ahead before packet {i}");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Reading where packets lie, in batches of any size, finds what `next`
    /// hands out, and a damaged end comes after every packet before it,
    /// with the same message.
    #[test]
    fn locating_in_batches_finds_what_next_reads() {
        let dir = std::env::temp_dir().join(format!("vagt-locate-test-{}", std::process::id()));
        for (name, path) in whole_and_cut(&dir) {
            let plain = read_all(&mut FileSource::open(&path).unwrap(), false);
            for batch in [1, 3, 7, 64] {
                let mut src = FileSource::open(&path).unwrap();
                let (mut got, mut ended) = (Vec::new(), "end".to_string());
                let mut memory = None;
                loop {
                    let mut out = Vec::new();
                    let (m, damage) = src.locate(&mut out, batch);
                    memory = m.or(memory);
                    let data: &[u8] = memory.as_deref().map_or(&[], |m| (*m).as_ref());
                    for l in &out {
                        got.push(l.frame(data).unwrap().to_vec());
                    }
                    if let Some(e) = damage {
                        ended = e.to_string();
                        break;
                    }
                    if out.len() < batch {
                        break;
                    }
                }
                assert_eq!(got, plain.0, "{name}, batches of {batch}");
                assert_eq!(ended, plain.2, "{name}, batches of {batch}");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
