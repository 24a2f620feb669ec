//! Timer lists of the connection table: which timer class a connection
//! is in and its deadline, moving connections between class lists, finding
//! what is due, and choosing the connection to evict when the table is full.
//!
//! Each class list is intrusive (the links live in the connections) and
//! ordered by the deadline a connection had when it was listed; a packet
//! only pushes a deadline later, so a list head whose deadline moved is
//! rotated to the back when expiry meets it, and the common packet costs no
//! list surgery.

use super::{ConnTable, NONE, SECOND};
use crate::flow::conn::{Conn, ConnKind, EndReason, TcpState};
use crate::flow::emit::Finished;
use crate::flow::tcp;

/// Timer classes; see [`ConnTable::schedule`]. Within a class every
/// deadline is an anchor time plus the same timeout, so while packet time
/// moves forward each class's list stays in deadline order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(super) enum Class {
    /// No packets for a while: deadline = last packet + inactivity timeout,
    /// one class per timeout.
    TcpInactive = 0,
    TcpHandshakeInactive = 1,
    UdpInactive = 2,
    IcmpInactive = 3,
    OtherInactive = 4,
    /// A SYN nobody answered (deadline = SYN + attempt timeout).
    Attempt = 5,
    /// Closed or reset, lingering for stray packets (close time + delay).
    Closing = 6,
    /// Nothing valid was ever seen (Zeek's expire timer removes these).
    Void = 7,
    /// UDP DNS whose packets all came within a second of the first: gone
    /// at the DNS analyzer's first check (deadline = first packet + DNS
    /// session timeout, exactly).
    DnsSession = 8,
    /// Longer UDP DNS conversations, gone at a later check; listed by an
    /// upper bound of that deadline, as the checks keep the first
    /// packet's phase and such deadlines do not come in listing order.
    DnsSessionLong = 9,
}
pub(super) const CLASSES: usize = 10;
/// Class value of a connection on no list yet.
pub(super) const UNLISTED: u8 = u8::MAX;

#[derive(Clone, Copy, Debug)]
pub(super) struct List {
    pub(super) head: u32,
    pub(super) tail: u32,
}

impl ConnTable {
    pub(super) fn head(&self, class: usize) -> Option<u32> {
        let h = self.lists[class].head;
        (h != NONE).then_some(h)
    }

    /// The timer class a connection belongs in now, and its deadline.
    pub(super) fn timer(&self, c: &Conn) -> (Class, i64) {
        let t = &self.cfg.timeouts;
        match c.kind {
            ConnKind::Tcp => {
                let o = c.orig().tcp().state;
                let r = c.resp().tcp().state;
                if c.close_complete() {
                    (
                        Class::Closing,
                        c.anchor_ts().saturating_add(t.tcp_close_delay),
                    )
                } else if matches!(o, TcpState::SynSent | TcpState::SynAckSent)
                    && r == TcpState::Inactive
                {
                    (Class::Attempt, c.anchor_ts().saturating_add(t.tcp_attempt))
                } else if o == TcpState::Inactive && r == TcpState::Inactive {
                    // Zeek checks such connections every 6 s and removes one
                    // at the first check more than 5 s after its last packet.
                    (Class::Void, c.last_ts.saturating_add(11 * SECOND))
                } else if c.tcp_flags & tcp::LEFT_HANDSHAKE != 0 {
                    (
                        Class::TcpInactive,
                        c.last_ts.saturating_add(t.tcp_inactivity),
                    )
                } else {
                    (
                        Class::TcpHandshakeInactive,
                        c.last_ts.saturating_add(t.tcp_handshake_inactivity),
                    )
                }
            }
            ConnKind::Udp => udp_timer(t, c),
            ConnKind::Icmp => (
                Class::IcmpInactive,
                c.last_ts.saturating_add(t.icmp_inactivity),
            ),
            ConnKind::Other => (
                Class::OtherInactive,
                c.last_ts.saturating_add(t.other_inactivity),
            ),
        }
    }

    /// Moves connection `idx` to the list of the timer class it now belongs
    /// in. Within its class it stays where it is: a packet only pushes the
    /// deadline later, and expiry rotates such connections lazily, so the
    /// common packet costs no list surgery.
    pub(super) fn schedule(&mut self, idx: u32) {
        let (class, deadline) = self.timer(&self.slab[idx as usize]);
        let class = class as usize;
        let old_class = usize::from(self.slab[idx as usize].class);
        if class == old_class {
            return;
        }
        self.unlink(idx, old_class);
        let last = c_last(self, idx);
        self.slab[idx as usize].listed = listed(&self.cfg.timeouts, class, deadline, last);
        self.link(idx, class);
    }

    /// The head of a class list whose deadline has really passed at `now`,
    /// rotating heads that were active since they were listed. `None` when
    /// nothing in the class is due.
    pub(super) fn due(&mut self, class: usize, now: i64) -> Option<u32> {
        while let Some(idx) = self.head(class) {
            // The listed deadline is a lower bound for everyone behind.
            if self.slab[idx as usize].listed > now {
                return None;
            }
            let (_, actual) = self.timer(&self.slab[idx as usize]);
            if actual <= now {
                return Some(idx);
            }
            self.unlink(idx, class);
            self.slab[idx as usize].listed =
                listed(&self.cfg.timeouts, class, actual, c_last(self, idx));
            self.link(idx, class);
        }
        None
    }

    pub(super) fn evict_one(&mut self, out: &mut impl Finished) {
        let mut victim: Option<u32> = None;
        for class in 0..CLASSES {
            // Heads active since they were listed go to the back first, so
            // the victim really is the one idle the longest (a few rotations
            // bound the work on this path).
            for _ in 0..8 {
                let Some(h) = self.head(class) else { break };
                let (_, actual) = self.timer(&self.slab[h as usize]);
                let actual = listed(&self.cfg.timeouts, class, actual, c_last(self, h));
                if actual == self.slab[h as usize].listed {
                    break;
                }
                self.unlink(h, class);
                self.slab[h as usize].listed = actual;
                self.link(h, class);
            }
            if let Some(h) = self.head(class) {
                let better = match victim {
                    None => true,
                    Some(v) => self.slab[h as usize].last_ts < self.slab[v as usize].last_ts,
                };
                if better {
                    victim = Some(h);
                }
            }
        }
        if let Some(v) = victim {
            self.stats.evicted += 1;
            let hash = self.hasher.hash(&self.full_key(v));
            self.finish(v, hash, EndReason::Evicted, out);
        }
    }

    pub(super) fn link(&mut self, idx: u32, class: usize) {
        let tail = self.lists[class].tail;
        {
            let c = &mut self.slab[idx as usize];
            c.class = class as u8;
            c.prev = tail;
            c.next = NONE;
        }
        if tail == NONE {
            self.lists[class].head = idx;
        } else {
            self.slab[tail as usize].next = idx;
        }
        self.lists[class].tail = idx;
    }

    pub(super) fn unlink(&mut self, idx: u32, class: usize) {
        if class >= CLASSES {
            return;
        }
        let (prev, next) = {
            let c = &self.slab[idx as usize];
            (c.prev, c.next)
        };
        if prev == NONE {
            self.lists[class].head = next;
        } else {
            self.slab[prev as usize].next = next;
        }
        if next == NONE {
            self.lists[class].tail = prev;
        } else {
            self.slab[next as usize].prev = prev;
        }
        let c = &mut self.slab[idx as usize];
        c.prev = NONE;
        c.next = NONE;
    }
}

/// The timer of a UDP connection. Out of line: inlined, the DNS rule made
/// `timer` save registers for every packet of every transport.
#[inline(never)]
fn udp_timer(t: &Timeouts, c: &Conn) -> (Class, i64) {
    dns_session(t, c).unwrap_or((
        Class::UdpInactive,
        c.last_ts.saturating_add(t.udp_inactivity),
    ))
}

fn c_last(t: &ConnTable, idx: u32) -> i64 {
    t.slab[idx as usize].last_ts
}

/// Responder ports Zeek's DNS analyzer is attached to (UDP).
const DNS_PORTS: [u16; 4] = [53, 137, 5353, 5355];

/// Zeek's DNS analyzer on UDP ends its connection itself: it checks every
/// `dns_session_timeout` (10 s) from the first packet and removes the
/// connection at the first check that finds it idle for at least that
/// long less a second. A later packet of the same address pair opens a
/// new connection, where the UDP timeout (60 s) would have kept one.
fn dns_session(t: &Timeouts, c: &Conn) -> Option<(Class, i64)> {
    let s = t.dns_session;
    if s <= 0 || s >= t.udp_inactivity || !DNS_PORTS.contains(&c.ports().1) {
        return None;
    }
    let grace = (s - SECOND).max(0);
    let since = c.last_ts.saturating_sub(c.start_ts).max(0);
    // The first check k (from 1) with start + k * s - last >= grace.
    let checks = (since.saturating_add(grace).saturating_add(s - 1) / s).max(1);
    let deadline = c.start_ts.saturating_add(s.saturating_mul(checks));
    let class = if checks == 1 {
        Class::DnsSession
    } else {
        Class::DnsSessionLong
    };
    Some((class, deadline))
}

/// Where a connection is listed in its class: its deadline, except for
/// [`Class::DnsSessionLong`], listed by a bound (last packet + one
/// period + the idle time a check wants) that grows in listing order like every
/// other class's deadline. Expiry there may come up to one period after
/// the deadline; a packet that arrives meanwhile still finds the
/// connection over (`ConnTable::process` checks the exact deadline).
fn listed(t: &Timeouts, class: usize, deadline: i64, last_ts: i64) -> i64 {
    if class == Class::DnsSessionLong as usize {
        let s = t.dns_session;
        let grace = (s - SECOND).max(0);
        last_ts.saturating_add(grace).saturating_add(s)
    } else {
        deadline
    }
}

/// Whether connection `c`'s timer may have run out at `now`: false when
/// its listed deadline, a lower bound of the real one in every class but
/// [`Class::DnsSessionLong`], is still ahead. (A packet only moves a
/// deadline later within a class, and a connection's `listed` is set when
/// it enters a class.)
#[inline]
pub(super) fn may_be_due(c: &Conn, now: i64) -> bool {
    c.listed <= now || c.class == Class::DnsSessionLong as u8 || c.class == UNLISTED
}

/// Why an expired connection ended: closed TCP connections linger in the
/// closing class; everything else timed out.
pub(super) fn expiry_reason(c: &Conn) -> EndReason {
    if c.class == Class::Closing as u8 {
        EndReason::Closed
    } else {
        EndReason::Timeout
    }
}

/// Timeouts in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub tcp_inactivity: i64,
    /// Inactivity before any endpoint finished the handshake.
    pub tcp_handshake_inactivity: i64,
    pub tcp_attempt: i64,
    pub tcp_close_delay: i64,
    pub udp_inactivity: i64,
    pub icmp_inactivity: i64,
    pub other_inactivity: i64,
    /// How often Zeek's DNS analyzer checks a UDP DNS connection for
    /// idleness (`dns_session_timeout`); 0 = never (no DNS analysis).
    pub dns_session: i64,
    /// Long connections write an interim record this often (0 = never),
    /// per transport.
    pub tcp_active: i64,
    pub udp_active: i64,
    pub icmp_active: i64,
    pub other_active: i64,
}

impl Timeouts {
    /// The active timeout of a connection kind.
    pub fn active(&self, kind: ConnKind) -> i64 {
        match kind {
            ConnKind::Tcp => self.tcp_active,
            ConnKind::Udp => self.udp_active,
            ConnKind::Icmp => self.icmp_active,
            ConnKind::Other => self.other_active,
        }
    }
}

impl Default for Timeouts {
    /// Zeek's defaults, so that connection boundaries match conn.log.
    fn default() -> Self {
        Timeouts {
            tcp_inactivity: 300 * SECOND,
            tcp_handshake_inactivity: 60 * SECOND,
            tcp_attempt: 5 * SECOND,
            tcp_close_delay: 5 * SECOND,
            udp_inactivity: 60 * SECOND,
            icmp_inactivity: 60 * SECOND,
            other_inactivity: 60 * SECOND,
            dns_session: 10 * SECOND,
            tcp_active: 3600 * SECOND,
            udp_active: 3600 * SECOND,
            icmp_active: 3600 * SECOND,
            other_active: 3600 * SECOND,
        }
    }
}
