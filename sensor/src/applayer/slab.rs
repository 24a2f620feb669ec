//! A worker's application layer: the parser state of every connection that
//! has a parser, in a slab beside the connection table (indexed by the
//! connection's slot), the reassembly of its TCP streams, and the counters.
//! A connection's entry is made when its service is recognised and freed
//! when the connection is written out.

use super::registry::Registry;
use super::shared::Shared;
use super::stream::{Budget, Chunk, Stream, StreamStats};
use super::{ConnIdent, Dir, Parser, Session, Verdict, Weirds};
use crate::flow::conn::Conn;
use crate::flow::key::FlowKey;
use crate::flow::service::Service;
use crate::flow::Emitted;

/// One packet's payload as the parsers take it.
#[derive(Clone, Copy, Debug)]
pub enum Payload<'a> {
    /// A TCP segment: its sequence and acknowledgement numbers (`ack` when
    /// the ACK flag is set), whether it carries SYN or FIN, its payload.
    Tcp {
        seq: u32,
        ack: Option<u32>,
        syn: bool,
        fin: bool,
        data: &'a [u8],
    },
    /// A UDP datagram's payload.
    Udp(&'a [u8]),
}

/// Application-layer counters of a worker.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppStats {
    /// Connections a parser was attached to.
    pub attached: u64,
    /// Parser entries held at most at once.
    pub peak_entries: u64,
    pub stream: StreamStats,
    /// Reassembly memory: peak bytes held, segments dropped at a cap.
    pub held_peak: usize,
    pub dropped_segments: u64,
    /// Announced connections (FTP data channels): registered, matched,
    /// evicted at the cap.
    pub expected: super::expect::ExpectStats,
}

/// What a connection with a parser keeps.
struct Entry {
    ident: ConnIdent,
    streams: [Stream; 2],
    /// The parser wants no more of a direction.
    done: [bool; 2],
    parser: Box<dyn Parser>,
    /// The parser reads TLS (from the start, or since a switch to it).
    tls: bool,
}

/// The application layer of one worker.
pub struct AppLayer {
    registry: Registry,
    salt: u64,
    /// Per connection slot of the table: its entry's index plus one, or 0.
    of_conn: Vec<u32>,
    entries: Vec<Option<Entry>>,
    free: Vec<u32>,
    live: usize,
    budget: Budget,
    pub stats: AppStats,
    pub weird: Weirds,
    /// Per-worker protocol state (DHCP exchanges).
    pub shared: Shared,
}

impl AppLayer {
    pub fn new(registry: Registry, salt: u64) -> AppLayer {
        let budget = Budget {
            cap: registry.memory,
            ..Budget::default()
        };
        AppLayer {
            shared: Shared::new(&registry),
            registry,
            salt,
            of_conn: Vec::new(),
            entries: Vec::new(),
            free: Vec::new(),
            live: 0,
            budget,
            stats: AppStats::default(),
            weird: Weirds::default(),
        }
    }

    /// Services that have a running parser (bits of `Conn::services`).
    pub fn mask(&self) -> u32 {
        self.registry.mask
    }

    /// Parser entries held now.
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Bytes held by out-of-order segments now.
    pub fn held_bytes(&self) -> usize {
        self.budget.used
    }

    /// What the parsers could not read, for the health event: malformed
    /// input by reason (Zeek's weird names), holes in reassembled streams
    /// (`stream_gap`) and segments dropped at the reassembly memory cap
    /// (`stream_segment_dropped`). The vector is reused, so the periodic
    /// publication allocates nothing once it has room.
    pub fn errors_into(&self, into: &mut Vec<(&'static str, u64)>) {
        into.clear();
        into.extend(self.weird.iter());
        for (reason, n) in [
            ("stream_gap", self.stats.stream.gaps),
            ("stream_segment_dropped", self.budget.dropped_segments),
        ] {
            if n > 0 {
                into.push((reason, n));
            }
        }
    }

    /// Changes whenever a count of [`AppLayer::errors_into`] does.
    pub fn errors_total(&self) -> u64 {
        self.weird.total() + self.stats.stream.gaps + self.budget.dropped_segments
    }

    /// Counters, with the memory figures brought up to date.
    pub fn stats(&self) -> AppStats {
        AppStats {
            held_peak: self.budget.peak,
            dropped_segments: self.budget.dropped_segments,
            expected: self.shared.expected.stats,
            ..self.stats
        }
    }

    /// Takes a packet of connection `idx` (its slot in the table). Attaches
    /// a parser when the connection's service has one and none is attached
    /// yet; `ATTACHED` in `conn.services` marks that it was.
    #[allow(clippy::too_many_arguments)]
    pub fn packet(
        &mut self,
        out: &mut Vec<Emitted>,
        conn: &mut Conn,
        idx: u32,
        key: &FlowKey,
        is_orig: bool,
        ts: i64,
        payload: Payload<'_>,
    ) {
        use crate::flow::service::ATTACHED;
        let ssl = Service::Ssl.bit();
        let e = if conn.services & ATTACHED == 0 {
            let Some(make) = self.registry.parser_for(conn.services) else {
                return;
            };
            conn.services |= ATTACHED;
            let tls = (conn.services & self.registry.mask).trailing_zeros() == Service::Ssl as u32;
            self.attach(idx, key, conn, make, tls)
        } else {
            match self.of_conn.get(idx as usize) {
                Some(&e) if e != 0 => e - 1,
                _ => return,
            }
        };
        let dir = if is_orig {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let tls_make = self.registry.parser_for(ssl);
        let Some(Some(entry)) = self.entries.get_mut(e as usize) else {
            return;
        };
        let mut session = Session {
            ts,
            conn: &entry.ident,
            out,
            weird: &mut self.weird,
            shared: &mut self.shared,
        };
        if let (Some(make), false, true) = (tls_make, entry.tls, conn.services & ssl != 0) {
            // The protocol switched to TLS (STARTTLS, RDP's TLS security:
            // service probing saw a ClientHello): its parser writes what it
            // has, and a TLS parser reads the stream from here on.
            entry.parser.close(&mut session);
            entry.parser = make(session.conn);
            entry.tls = true;
            entry.done = [false; 2];
            // A direction the first parser had given up on starts again at
            // its next segment.
            for st in &mut entry.streams {
                if st.closed {
                    st.release(&mut self.budget);
                    *st = Stream::default();
                }
            }
        }
        match payload {
            Payload::Udp(data) => {
                if !entry.done[dir.index()] && !data.is_empty() {
                    let v = entry.parser.parse(&mut session, dir, data);
                    entry.done[dir.index()] = v == Verdict::Done;
                }
            }
            Payload::Tcp {
                seq,
                ack,
                syn,
                fin,
                data,
            } => {
                let mut limits = self.registry.limits;
                limits.depth = entry.parser.depth(limits.depth);
                let (parser, done) = (&mut entry.parser, &mut entry.done);
                let [to_server, to_client] = &mut entry.streams;
                let (own, peer) = if is_orig {
                    (to_server, to_client)
                } else {
                    (to_client, to_server)
                };
                let mut feed = |d: Dir, c: Chunk<'_>| -> bool {
                    let v = match c {
                        Chunk::Data(b) => parser.parse(&mut session, d, b),
                        Chunk::Gap(n) => parser.gap(&mut session, d, n),
                    };
                    if v == Verdict::Done {
                        done[d.index()] = true;
                    }
                    v == Verdict::More
                };
                let other = if is_orig {
                    Dir::ToClient
                } else {
                    Dir::ToServer
                };
                if let Some(ack) = ack {
                    peer.ack(
                        ack,
                        &limits,
                        &mut self.budget,
                        &mut self.stats.stream,
                        &mut |c| feed(other, c),
                    );
                }
                own.segment(
                    seq,
                    syn,
                    data,
                    &limits,
                    &mut self.budget,
                    &mut self.stats.stream,
                    &mut |c| feed(dir, c),
                );
                // The sender closed and nothing of it is missing: the
                // parser hears of the end of this direction.
                if fin && own.held_bytes() == 0 && !own.closed && !done[dir.index()] {
                    parser.eof(&mut session, dir);
                }
            }
        }
    }

    fn attach(
        &mut self,
        idx: u32,
        key: &FlowKey,
        conn: &Conn,
        make: super::registry::MakeParser,
        tls: bool,
    ) -> u32 {
        let ident = ConnIdent::new(self.salt, key, conn);
        let entry = Entry {
            parser: make(&ident),
            ident,
            streams: [Stream::default(), Stream::default()],
            done: [false; 2],
            tls,
        };
        let e = match self.free.pop() {
            Some(e) => {
                self.entries[e as usize] = Some(entry);
                e
            }
            None => {
                self.entries.push(Some(entry));
                (self.entries.len() - 1) as u32
            }
        };
        let i = idx as usize;
        if self.of_conn.len() <= i {
            self.of_conn.resize(i + 1, 0);
        }
        self.of_conn[i] = e + 1;
        self.live += 1;
        self.stats.attached += 1;
        self.stats.peak_entries = self.stats.peak_entries.max(self.live as u64);
        e
    }

    /// Packet time reached `now` (a timer sweep): per-worker state writes
    /// what has expired.
    pub fn tick(&mut self, now: i64, out: &mut Vec<Emitted>) {
        self.shared.tick(now, out);
    }

    /// Numbers the worker (`Shared::worker`).
    pub fn set_worker(&mut self, id: usize) {
        self.shared.worker = u16::try_from(id).unwrap_or(u16::MAX);
    }

    /// Every connection has been written out: per-worker state lets go of
    /// what it holds.
    pub fn flush_shared(&mut self) {
        self.shared.flush();
    }

    /// Connection `idx` was written out: its parser writes what is pending
    /// and its entry is freed.
    pub fn conn_ended(&mut self, idx: u32, ts: i64, out: &mut Vec<Emitted>) {
        let Some(slot) = self.of_conn.get_mut(idx as usize) else {
            return;
        };
        if *slot == 0 {
            return;
        }
        let e = *slot - 1;
        *slot = 0;
        let Some(mut entry) = self.entries.get_mut(e as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(e);
        self.live -= 1;
        let mut limits = self.registry.limits;
        limits.depth = entry.parser.depth(limits.depth);
        let mut session = Session {
            ts,
            conn: &entry.ident,
            out,
            weird: &mut self.weird,
            shared: &mut self.shared,
        };
        for d in [Dir::ToServer, Dir::ToClient] {
            let parser = &mut entry.parser;
            let done = entry.done[d.index()];
            let stream = &mut entry.streams[d.index()];
            if done {
                stream.release(&mut self.budget);
                continue;
            }
            stream.finish(
                &limits,
                &mut self.budget,
                &mut self.stats.stream,
                &mut |c| {
                    let v = match c {
                        Chunk::Data(b) => parser.parse(&mut session, d, b),
                        Chunk::Gap(n) => parser.gap(&mut session, d, n),
                    };
                    v == Verdict::More
                },
            );
        }
        entry.parser.close(&mut session);
    }
}
