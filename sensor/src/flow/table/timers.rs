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
}
pub(super) const CLASSES: usize = 8;
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
            ConnKind::Udp => (
                Class::UdpInactive,
                c.last_ts.saturating_add(t.udp_inactivity),
            ),
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
        self.slab[idx as usize].listed = deadline;
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
            self.slab[idx as usize].listed = actual;
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
            tcp_active: 3600 * SECOND,
            udp_active: 3600 * SECOND,
            icmp_active: 3600 * SECOND,
            other_active: 3600 * SECOND,
        }
    }
}
