//! The connection record: Vagt's first-class unit of network state, kept
//! per worker and updated by every packet of the connection.
//!
//! A [`Conn`] holds its two endpoints in key order (slot 0 is the key's
//! `a` side, slot 1 its `b` side) and remembers which slot is the
//! originator. Flipping the originator, as Zeek's heuristics sometimes do
//! mid-connection, is then one assignment and never moves data. The struct
//! is `Copy` and heap-free, so finished connections travel to the output
//! stage by value.

use super::history::History;
use super::key::{FlowKey, StoredKey};
use crate::decode::Addr;

/// Zeek's TCP endpoint states, in Zeek's order.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, PartialOrd, Ord)]
#[repr(u8)]
pub enum TcpState {
    #[default]
    Inactive = 0,
    SynSent = 1,
    SynAckSent = 2,
    Partial = 3,
    Established = 4,
    Closed = 5,
    Reset = 6,
}

impl TcpState {
    /// States before the handshake completed.
    pub fn in_handshake(self) -> bool {
        matches!(
            self,
            TcpState::Inactive | TcpState::SynSent | TcpState::SynAckSent
        )
    }
}

/// The transport a connection runs over.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(u8)]
pub enum ConnKind {
    #[default]
    Tcp,
    Udp,
    Icmp,
    /// Any other IP protocol, tracked by address pair (Zeek's
    /// "unknown_transport").
    Other,
}

/// TCP sequence-space state of one endpoint (Zeek's `TCP_Endpoint`).
#[derive(Clone, Copy, Debug, Default)]
pub struct TcpEndpoint {
    pub state: TcpState,
    pub prev_state: TcpState,
    pub did_close: bool,
    /// `FIN_SEEN` and `HAS_CONTIGUOUS`.
    pub bits: u8,
    pub seq_wraps: u16,
    pub ack_wraps: u16,
    pub start_seq: u32,
    pub last_seq: u32,
    pub ack_seq: u32,
    /// Low 16 bits of the relative sequence numbers of the last SYN, FIN
    /// and RST: a repeated flag is only a new history letter when its
    /// number changed, and a change that leaves the low bits equal is a
    /// 1-in-65536 coincidence not worth 6 more bytes per endpoint.
    pub hist_last_syn: u16,
    pub hist_last_fin: u16,
    pub hist_last_rst: u16,
    /// Counters behind the log-scaled history letters T, W and G.
    pub retransmits: u16,
    pub zero_windows: u16,
    pub gaps: u16,
    /// Stream bytes seen contiguously up to this absolute sequence number;
    /// used to notice data that was acknowledged but never captured.
    pub contiguous: u32,
    /// One block of data seen ahead of a hole (start, length).
    pub block_start: u32,
    pub block_len: u32,
}

impl TcpEndpoint {
    /// The endpoint sent a FIN.
    pub const FIN_SEEN: u8 = 0x1;
    /// `contiguous` is meaningful.
    pub const HAS_CONTIGUOUS: u8 = 0x2;

    #[inline]
    pub fn fin_seen(&self) -> bool {
        self.bits & Self::FIN_SEEN != 0
    }

    #[inline]
    pub fn has_contiguous(&self) -> bool {
        self.bits & Self::HAS_CONTIGUOUS != 0
    }

    #[inline]
    pub fn set_state(&mut self, s: TcpState) {
        if s != self.state {
            self.prev_state = self.state;
            self.state = s;
        }
    }

    pub fn init_start_seq(&mut self, seq: u32) {
        self.start_seq = seq;
    }

    pub fn init_ack_seq(&mut self, seq: u32) {
        self.ack_seq = seq;
    }

    pub fn init_last_seq(&mut self, seq: u32) {
        self.last_seq = seq;
    }

    pub fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps = self.seq_wraps.saturating_add(1);
        }
        self.last_seq = seq;
    }

    pub fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps = self.ack_wraps.saturating_add(1);
        }
        self.ack_seq = seq;
    }

    fn full(seq: u32, wraps: u16) -> u64 {
        (u64::from(wraps) << 32) | u64::from(seq)
    }

    pub fn to_relative(&self, seq: u32, wraps: u16) -> u64 {
        Self::full(seq, wraps).wrapping_sub(u64::from(self.start_seq))
    }

    pub fn no_data_acked(&self) -> bool {
        let ack = Self::full(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq);
        ack == start || ack == start + 1
    }

    /// Active means: has sent something and not closed.
    pub fn is_active(&self) -> bool {
        self.state != TcpState::Inactive && !self.did_close
    }
}

/// Payload bytes an endpoint sent according to its sequence numbers
/// (Zeek's `TCP_Endpoint::Size`).
pub fn tcp_size(ep: &TcpEndpoint, peer: &TcpEndpoint) -> u64 {
    if ep.prev_state == TcpState::SynSent
        && ep.state == TcpState::Reset
        && peer.state == TcpState::Inactive
        && !ep.no_data_acked()
    {
        // A half-open connection that was discovered and aborted; its
        // sequence numbers say nothing about data sent.
        return 0;
    }
    let last = TcpEndpoint::full(ep.last_seq, ep.seq_wraps);
    let ack = TcpEndpoint::full(ep.ack_seq, ep.ack_wraps);
    let top = last.max(ack);
    let mut size = top.wrapping_sub(u64::from(ep.start_seq));
    // Sequence numbers can be untrustworthy (RST injection, garbage);
    // a wrapped-around difference is not a size.
    if size > (1u64 << 48) {
        size = 0;
    }
    // The SYN's sequence number is not data.
    size = size.saturating_sub(1);
    if ep.fin_seen() && size != 0 {
        size -= 1; // the FIN's
    }
    size
}

/// Why a connection record was written.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[repr(u8)]
pub enum EndReason {
    /// Still open (interim snapshot).
    #[default]
    Open,
    /// A TCP close or reset completed and its linger time passed.
    Closed,
    /// No packets for the inactivity timeout.
    Timeout,
    /// A new connection reused the same ports.
    Reused,
    /// The table was full and this connection was idle the longest.
    Evicted,
    /// End of input, or the sensor stopped.
    Shutdown,
}

impl EndReason {
    /// The schema's `end_reason`. The tracker keeps its own one-byte enum
    /// (it lives in every connection, and `Open` is the state of one not
    /// yet ended); a connection still open is written as an interim.
    pub fn wire(self) -> vagt_schema::EndReason {
        match self {
            EndReason::Open => vagt_schema::EndReason::Interim,
            EndReason::Closed => vagt_schema::EndReason::Closed,
            EndReason::Timeout => vagt_schema::EndReason::Timeout,
            EndReason::Reused => vagt_schema::EndReason::Reused,
            EndReason::Evicted => vagt_schema::EndReason::Evicted,
            EndReason::Shutdown => vagt_schema::EndReason::Shutdown,
        }
    }
}

/// A counter of 48 bits stored in 6 bytes: 281 trillion packets or 256
/// TiB is more than any one connection direction carries, and the two
/// bytes saved per counter keep a connection within its memory budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count48([u16; 3]);

impl Count48 {
    const MAX: u64 = (1 << 48) - 1;

    #[inline]
    pub fn get(self) -> u64 {
        let [a, b, c] = self.0;
        u64::from(a) | u64::from(b) << 16 | u64::from(c) << 32
    }

    #[inline]
    pub fn set(&mut self, v: u64) {
        let v = v.min(Self::MAX);
        self.0 = [v as u16, (v >> 16) as u16, (v >> 32) as u16];
    }

    /// Adds `n`, saturating.
    #[inline]
    pub fn add(&mut self, n: u64) {
        self.set(self.get().saturating_add(n));
    }
}

/// A saturating 40-bit counter in five bytes: a terabyte of missed data
/// is more than any connection reports, and the byte saved over a 64-bit
/// counter keeps a connection within its memory budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Count40([u8; 5]);

impl Count40 {
    const MAX: u64 = (1 << 40) - 1;

    #[inline]
    pub fn get(self) -> u64 {
        let mut b = [0u8; 8];
        b[..5].copy_from_slice(&self.0);
        u64::from_le_bytes(b)
    }

    /// Adds `n`, saturating.
    #[inline]
    pub fn add(&mut self, n: u64) {
        let v = self.get().saturating_add(n).min(Self::MAX);
        let b = v.to_le_bytes();
        self.0.copy_from_slice(&b[..5]);
    }
}

/// What an endpoint keeps beyond its counters: TCP's sequence state, or
/// for every other transport the payload bytes it sent.
#[derive(Clone, Copy, Debug)]
pub enum Transport4 {
    Tcp(TcpEndpoint),
    Plain { size: Count48 },
}

/// One direction of a connection.
#[derive(Clone, Copy, Debug)]
pub struct Endpoint {
    pub pkts: Count48,
    /// Sum of IP total lengths.
    pub ip_bytes: Count48,
    /// Sum of captured frame lengths beyond the IP bytes (the link layer).
    pub link_extra: Count48,
    pub mac: [u8; 6],
    pub has_mac: bool,
    /// UDP, ICMP, other: whether this side sent a valid packet.
    pub active: bool,
    /// Checksum errors, for the scaled 'C' history letter.
    pub checksum_errors: u16,
    pub l4: Transport4,
}

/// TCP state of an endpoint that is not TCP: never written, only read by
/// code that asks every connection about TCP state.
static NO_TCP: TcpEndpoint = TcpEndpoint {
    state: TcpState::Inactive,
    prev_state: TcpState::Inactive,
    did_close: false,
    bits: 0,
    seq_wraps: 0,
    ack_wraps: 0,
    start_seq: 0,
    last_seq: 0,
    ack_seq: 0,
    hist_last_syn: 0,
    hist_last_fin: 0,
    hist_last_rst: 0,
    retransmits: 0,
    zero_windows: 0,
    gaps: 0,
    contiguous: 0,
    block_start: 0,
    block_len: 0,
};

impl Endpoint {
    pub fn new(kind: ConnKind) -> Endpoint {
        Endpoint {
            pkts: Count48::default(),
            ip_bytes: Count48::default(),
            link_extra: Count48::default(),
            mac: [0; 6],
            has_mac: false,
            active: false,
            checksum_errors: 0,
            l4: match kind {
                ConnKind::Tcp => Transport4::Tcp(TcpEndpoint::default()),
                _ => Transport4::Plain {
                    size: Count48::default(),
                },
            },
        }
    }

    /// TCP state (all inactive for other transports).
    #[inline]
    pub fn tcp(&self) -> &TcpEndpoint {
        match &self.l4 {
            Transport4::Tcp(t) => t,
            Transport4::Plain { .. } => &NO_TCP,
        }
    }

    /// TCP state for updating; only TCP connections are updated as TCP,
    /// and any other endpoint would become one rather than fail.
    #[inline]
    pub fn tcp_mut(&mut self) -> &mut TcpEndpoint {
        if !matches!(self.l4, Transport4::Tcp(_)) {
            self.l4 = Transport4::Tcp(TcpEndpoint::default());
        }
        match &mut self.l4 {
            Transport4::Tcp(t) => t,
            Transport4::Plain { .. } => unreachable!("just made TCP"),
        }
    }

    /// Payload bytes sent, for transports other than TCP.
    pub fn plain_size(&self) -> u64 {
        match self.l4 {
            Transport4::Plain { size } => size.get(),
            Transport4::Tcp(_) => 0,
        }
    }

    pub fn add_plain_size(&mut self, n: u64) {
        if let Transport4::Plain { size } = &mut self.l4 {
            size.add(n);
        }
    }

    /// Sum of captured frame lengths, link layer included.
    pub fn link_bytes(&self) -> u64 {
        self.ip_bytes.get() + self.link_extra.get()
    }

    /// Counts a packet of `ip_len` IP bytes in a frame of `link_len`.
    #[inline]
    pub fn count(&mut self, ip_len: u32, link_len: u32) {
        self.pkts.add(1);
        self.ip_bytes.add(u64::from(ip_len));
        self.link_extra
            .add(u64::from(link_len.saturating_sub(ip_len)));
    }
}

/// TCP connection flags (Zeek's `TCPSessionAdapter` bits).
pub mod tcp_flags {
    pub const PARTIAL: u8 = 0x01;
    pub const FIRST_ORIG_SEEN: u8 = 0x02;
    pub const FIRST_RESP_SEEN: u8 = 0x04;
    pub const SEEN_FIRST_ACK: u8 = 0x08;
    /// Both sides have closed (or one reset): the close timer runs.
    pub const CLOSE_COMPLETE: u8 = 0x20;
}

/// A tracked connection, as its worker's table holds it. Every byte here
/// is paid once per tracked connection, so fields are as narrow as their
/// meaning allows: the budget is 256 bytes per connection, index included.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    /// Ports, protocol, layer and VLANs, and IPv4 addresses; IPv6
    /// addresses live in the table's side slab.
    pub key: StoredKey,
    pub kind: ConnKind,
    /// Which endpoint slot (0 = key side a, 1 = side b) originated.
    pub orig_slot: u8,
    pub tcp_flags: u8,
    /// Number of tunnel layers around this connection.
    pub tunnel_depth: u8,
    /// Why the record was written (set when it is).
    pub end: EndReason,
    /// Per-direction state of application protocol detection, a nibble
    /// per endpoint slot (see `service`).
    pub probe: u8,
    /// Interim records written so far (active timeout).
    pub interims: u16,
    /// Application protocols recognised (bit set of `service::Service`).
    pub services: u32,
    pub eps: [Endpoint; 2],
    pub history: History,
    pub start_ts: i64,
    pub last_ts: i64,
    /// When the handshake attempt began, or when the close completed, in
    /// milliseconds after `start_ts` (see [`Conn::anchor_ts`]).
    anchor_ms: i32,
    /// Stream bytes acknowledged but never captured: wider than 32 bits,
    /// as captures of long transfers can miss more than 4 GiB.
    pub missed_bytes: Count40,
    // Bookkeeping of the connection table.
    /// Side-slab entry (IPv6 addresses, tunnel parent), or `u32::MAX`.
    pub(crate) ext: u32,
    /// The deadline the connection was listed with: a lower bound of its
    /// real deadline, which packets only push later.
    pub(crate) listed: i64,
    pub(crate) prev: u32,
    pub(crate) next: u32,
    pub(crate) class: u8,
}

impl Conn {
    pub fn new(key: StoredKey, kind: ConnKind, ts: i64) -> Conn {
        Conn {
            key,
            kind,
            orig_slot: 0,
            tcp_flags: 0,
            tunnel_depth: 0,
            end: EndReason::Open,
            probe: 0,
            interims: 0,
            services: 0,
            eps: [Endpoint::new(kind); 2],
            history: History::default(),
            start_ts: ts,
            last_ts: ts,
            anchor_ms: 0,
            missed_bytes: Count40::default(),
            ext: u32::MAX,
            listed: i64::MIN,
            prev: u32::MAX,
            next: u32::MAX,
            class: 0,
        }
    }

    /// Whether both sides have closed (or one reset), so the close timer
    /// runs.
    #[inline]
    pub fn close_complete(&self) -> bool {
        self.tcp_flags & tcp_flags::CLOSE_COMPLETE != 0
    }

    /// ICMP: the message was one-way (affects Community ID).
    #[inline]
    pub fn one_way(&self) -> bool {
        self.key.one_way()
    }

    /// When the handshake attempt began or the close completed, to the
    /// millisecond (timers need no finer grain).
    #[inline]
    pub fn anchor_ts(&self) -> i64 {
        self.start_ts
            .saturating_add(i64::from(self.anchor_ms) * 1_000_000)
    }

    pub fn set_anchor_ts(&mut self, ts: i64) {
        let ms = ts.saturating_sub(self.start_ts).div_euclid(1_000_000);
        self.anchor_ms = ms.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
    }

    #[inline]
    pub fn resp_slot(&self) -> usize {
        1 - usize::from(self.orig_slot)
    }

    #[inline]
    pub fn orig(&self) -> &Endpoint {
        &self.eps[usize::from(self.orig_slot)]
    }

    #[inline]
    pub fn resp(&self) -> &Endpoint {
        &self.eps[self.resp_slot()]
    }

    #[inline]
    pub fn is_orig(&self, slot: usize) -> bool {
        slot == usize::from(self.orig_slot)
    }

    /// Originator and responder ports.
    pub fn ports(&self) -> (u16, u16) {
        if self.orig_slot == 0 {
            (self.key.a_port, self.key.b_port)
        } else {
            (self.key.b_port, self.key.a_port)
        }
    }

    /// Swaps originator and responder, recording '^' as Zeek does.
    pub fn flip_roles(&mut self) {
        self.orig_slot ^= 1;
        let f = self.tcp_flags;
        let mut swapped = f & !(tcp_flags::FIRST_ORIG_SEEN | tcp_flags::FIRST_RESP_SEEN);
        if f & tcp_flags::FIRST_ORIG_SEEN != 0 {
            swapped |= tcp_flags::FIRST_RESP_SEEN;
        }
        if f & tcp_flags::FIRST_RESP_SEEN != 0 {
            swapped |= tcp_flags::FIRST_ORIG_SEEN;
        }
        self.tcp_flags = swapped & !tcp_flags::PARTIAL;
        self.history.push(b'^');
    }

    /// Payload bytes sent by the originator and the responder.
    pub fn sizes(&self) -> (u64, u64) {
        let (o, r) = (self.orig(), self.resp());
        match self.kind {
            ConnKind::Tcp => (tcp_size(o.tcp(), r.tcp()), tcp_size(r.tcp(), o.tcp())),
            _ => (o.plain_size(), r.plain_size()),
        }
    }
}

/// A connection as it leaves the table, finished or as an interim copy:
/// its state plus everything the table kept beside it.
#[derive(Clone, Copy, Debug)]
pub struct Snapshot {
    pub key: FlowKey,
    /// uid of the tunnel that carried this connection (0 = none).
    pub parent_uid: u64,
    /// A copy of a connection still open (active timeout), not its end.
    pub interim: bool,
    pub conn: Conn,
}

impl Snapshot {
    /// Originator address and port.
    pub fn orig_addr(&self) -> (Addr, u16) {
        if self.conn.orig_slot == 0 {
            (self.key.a, self.key.a_port)
        } else {
            (self.key.b, self.key.b_port)
        }
    }

    /// Responder address and port.
    pub fn resp_addr(&self) -> (Addr, u16) {
        if self.conn.orig_slot == 0 {
            (self.key.b, self.key.b_port)
        } else {
            (self.key.a, self.key.a_port)
        }
    }
}

impl std::ops::Deref for Snapshot {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}
