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
use super::key::FlowKey;
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
    /// FINs sent (saturating); only "any" matters for sizes.
    pub fin_count: u8,
    pub seq_wraps: u16,
    pub ack_wraps: u16,
    pub start_seq: u32,
    pub last_seq: u32,
    pub ack_seq: u32,
    /// Relative sequence numbers of the last SYN/FIN/RST, for history.
    pub hist_last_syn: u32,
    pub hist_last_fin: u32,
    pub hist_last_rst: u32,
    /// Absolute sequence number one past the FIN, when a FIN was seen.
    pub fin_seq: u32,
    /// Counters behind the log-scaled history letters C, T, W and G.
    pub checksum_errors: u16,
    pub retransmits: u16,
    pub zero_windows: u16,
    pub gaps: u16,
    /// Stream bytes seen contiguously up to this absolute sequence number;
    /// used to notice data that was acknowledged but never captured.
    pub contiguous: u32,
    pub has_contiguous: bool,
    /// One block of data seen ahead of a hole (start, length).
    pub block_start: u32,
    pub block_len: u32,
}

impl TcpEndpoint {
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
    if ep.fin_count > 0 && size != 0 {
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
    pub fn name(self) -> &'static str {
        match self {
            EndReason::Open => "interim",
            EndReason::Closed => "closed",
            EndReason::Timeout => "timeout",
            EndReason::Reused => "reused",
            EndReason::Evicted => "evicted",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// One direction of a connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct Endpoint {
    pub pkts: u64,
    /// Sum of IP total lengths.
    pub ip_bytes: u64,
    /// Sum of captured frame lengths, link layer included.
    pub link_bytes: u64,
    /// UDP, ICMP, other: payload bytes sent.
    pub size: u64,
    /// UDP, ICMP, other: whether this side sent a valid packet.
    pub active: bool,
    pub has_mac: bool,
    pub mac: [u8; 6],
    /// UDP: checksum errors, for the scaled 'C' history letter.
    pub checksum_errors: u16,
    pub tcp: TcpEndpoint,
}

/// TCP connection flags (Zeek's `TCPSessionAdapter` bits).
pub mod tcp_flags {
    pub const PARTIAL: u8 = 0x01;
    pub const FIRST_ORIG_SEEN: u8 = 0x02;
    pub const FIRST_RESP_SEEN: u8 = 0x04;
    pub const SEEN_FIRST_ACK: u8 = 0x08;
}

/// A tracked connection.
#[derive(Clone, Copy, Debug)]
pub struct Conn {
    pub key: FlowKey,
    pub kind: ConnKind,
    /// Which endpoint slot (0 = key side a, 1 = side b) originated.
    pub orig_slot: u8,
    /// ICMP: the message was one-way (affects Community ID).
    pub one_way: bool,
    pub tcp_flags: u8,
    /// Number of tunnel layers around this connection.
    pub tunnel_depth: u8,
    pub eps: [Endpoint; 2],
    pub history: History,
    pub start_ts: i64,
    pub last_ts: i64,
    /// When the handshake attempt began, or when the close completed.
    pub anchor_ts: i64,
    pub close_complete: bool,
    pub missed_bytes: u64,
    /// uid of the tunnel that carried this connection (0 = none).
    pub parent_uid: u64,
    /// VLAN tags the connection was seen on.
    pub vlan: [u16; 2],
    /// Application protocols recognised (bit set of `detect::Service`).
    pub services: u32,
    /// Per-direction state of application protocol detection.
    pub detect: [u8; 2],
    /// Interim records written so far (active timeout).
    pub interims: u16,
    /// Set on copies written as interim records of open connections.
    pub interim: bool,
    /// Why the record was written (set when it is).
    pub end: EndReason,
    // Bookkeeping of the connection table.
    pub(crate) deadline: i64,
    pub(crate) prev: u32,
    pub(crate) next: u32,
    pub(crate) class: u8,
}

impl Conn {
    pub fn new(key: FlowKey, kind: ConnKind, ts: i64) -> Conn {
        Conn {
            key,
            kind,
            orig_slot: 0,
            one_way: false,
            tcp_flags: 0,
            tunnel_depth: 0,
            eps: [Endpoint::default(); 2],
            history: History::default(),
            start_ts: ts,
            last_ts: ts,
            anchor_ts: ts,
            close_complete: false,
            missed_bytes: 0,
            parent_uid: 0,
            vlan: [0, 0],
            services: 0,
            detect: [0, 0],
            interims: 0,
            interim: false,
            end: EndReason::Open,
            deadline: i64::MAX,
            prev: u32::MAX,
            next: u32::MAX,
            class: 0,
        }
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

    /// Originator address and port.
    pub fn orig_addr(&self) -> (Addr, u16) {
        if self.orig_slot == 0 {
            (self.key.a, self.key.a_port)
        } else {
            (self.key.b, self.key.b_port)
        }
    }

    /// Responder address and port.
    pub fn resp_addr(&self) -> (Addr, u16) {
        if self.orig_slot == 0 {
            (self.key.b, self.key.b_port)
        } else {
            (self.key.a, self.key.a_port)
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
            ConnKind::Tcp => (tcp_size(&o.tcp, &r.tcp), tcp_size(&r.tcp, &o.tcp)),
            _ => (o.size, r.size),
        }
    }
}
