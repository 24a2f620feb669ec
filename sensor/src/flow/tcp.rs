//! TCP connection semantics, following Zeek so that `conn_state`, history
//! and byte counts mean what analysts already know from conn.log.
//!
//! Each endpoint runs Zeek's endpoint state machine (INACTIVE, SYN_SENT,
//! SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET) and tracks its
//! sequence space; payload sizes come from sequence numbers, not from
//! counting, which is what makes them robust to capture loss. Bytes that
//! were acknowledged but never captured (history 'G', `missed_bytes`) are
//! `gaps`'s.

use super::conn::{tcp_flags, Conn, TcpEndpoint, TcpState};
use super::gaps::{ack_received, data_sent, reset_contiguity};
use super::history::{bit, scaled};
use crate::decode::{Checksum, TcpFlags, TcpSegment};

/// Sequence jumps larger than this in a SYN or RST are not believed.
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// Connection flag: some endpoint has left the handshake states, so the
/// long TCP inactivity timeout applies.
pub const LEFT_HANDSHAKE: u8 = 0x10;

#[inline]
pub(super) fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// What the caller must do after a segment was processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Count the packet toward the connection's totals.
    Counted,
    /// A bad checksum: recorded in the history, otherwise ignored.
    Ignored,
}

/// Processes one segment sent from endpoint slot `me`.
pub fn process(conn: &mut Conn, me: usize, seg: &TcpSegment, ts: i64) -> Outcome {
    let peer = 1 - me;
    let is_orig = conn.is_orig(me);
    let flags = seg.flags;

    if seg.checksum == Checksum::Bad {
        if scaled(&mut conn.eps[me].checksum_errors) {
            conn.history.add(is_orig, b'C');
        }
        return Outcome::Ignored;
    }

    set_partial_status(conn, is_orig, flags);

    let len = seg.payload_len;
    let base_seq = seg.seq;
    let ack_seq = seg.ack;
    let seg_len = segment_len(len, flags);
    let seq_one_past = base_seq.wrapping_add(seg_len);

    init_endpoint(conn.eps[me].tcp_mut(), flags, base_seq, seq_one_past);
    let ep = *conn.eps[me].tcp();
    let (rel_seq, seq_underflow) = relative_seq(&ep, base_seq, ep.last_seq, ep.seq_wraps);

    update_history(conn, me, flags, rel_seq as u32, len);

    if seg.window == 0
        && !flags.rst()
        && conn.eps[peer].tcp().state != TcpState::Closed
        && conn.eps[me].tcp().state != TcpState::Reset
        && scaled(&mut conn.eps[me].tcp_mut().zero_windows)
    {
        let o = conn.is_orig(me);
        conn.history.add(o, b'W');
    }

    if !(conn.eps[0].tcp().did_close && conn.eps[1].tcp().did_close) {
        conn.last_ts = conn.last_ts.max(ts);
    }

    if flags.fin() {
        let ep = conn.eps[me].tcp_mut();
        ep.bits |= TcpEndpoint::FIN_SEEN;
    }

    if flags.ack() {
        let p = conn.eps[peer].tcp_mut();
        if p.state == TcpState::Inactive {
            init_peer(p, ack_seq);
        } else {
            let (_, ack_underflow) = relative_seq(p, ack_seq, p.ack_seq, p.ack_wraps);
            if !ack_underflow && !flags.rst() {
                update_ack_seq(p, ack_seq);
            }
        }
    }

    let delta_last = update_last_seq(conn, me, seq_one_past, flags, len);

    let (do_close, _gen_event) =
        update_state_machine(conn, me, base_seq, len, delta_last, is_orig, flags, ts);

    if flags.ack() {
        ack_received(conn, peer, ack_seq);
    }

    let start = if flags.syn() {
        base_seq.wrapping_add(1)
    } else {
        base_seq
    };
    // Zeek's reassembler only receives payload that was captured whole: a
    // segment cut short by the snap length is data it never saw.
    let whole = seg.payload.len() as u64 >= u64::from(len);
    if len > 0 && !flags.rst() && !seq_underflow && whole {
        data_sent(conn.eps[me].tcp_mut(), start, len);
    }
    if flags.fin() && !seq_underflow {
        // Zeek stops an acknowledgement at the FIN (`FIN_seq - 1`), so
        // the FIN's own octet is never missing data: count it as seen.
        data_sent(conn.eps[me].tcp_mut(), start.wrapping_add(len), 1);
    }

    if do_close {
        connection_closed(conn, me);
    }

    if !conn.eps[me].tcp().state.in_handshake() || !conn.eps[peer].tcp().state.in_handshake() {
        conn.tcp_flags |= LEFT_HANDSHAKE;
    }
    conn.tcp_flags |= if is_orig {
        tcp_flags::FIRST_ORIG_SEEN
    } else {
        tcp_flags::FIRST_RESP_SEEN
    };
    Outcome::Counted
}

/// Zeek's `SetPartialStatus`: a connection is partial when its first
/// packet from the originator is not a plain SYN, or its first from the
/// responder carries no SYN.
fn set_partial_status(conn: &mut Conn, is_orig: bool, flags: TcpFlags) {
    let f = conn.tcp_flags;
    let partial = if is_orig {
        if f & tcp_flags::FIRST_ORIG_SEEN != 0 {
            return;
        }
        !flags.syn() || flags.ack()
    } else {
        if f & (tcp_flags::FIRST_RESP_SEEN | tcp_flags::PARTIAL) != 0 {
            return;
        }
        !flags.syn()
    };
    if partial {
        conn.tcp_flags |= tcp_flags::PARTIAL;
    } else {
        conn.tcp_flags &= !tcp_flags::PARTIAL;
    }
}

/// Whether a SYN for an existing connection starts a new one (Zeek's
/// `IsReuse`): a different initial sequence number, or any SYN once the
/// old connection has begun to close.
pub fn is_reuse(conn: &Conn, seg: &TcpSegment) -> bool {
    let flags = seg.flags;
    if !flags.syn() {
        return false;
    }
    let orig = conn.orig().tcp();
    let resp = conn.resp().tcp();
    let mut conn_orig = orig;
    if flags.ack() {
        if orig.state != TcpState::Inactive {
            return false;
        }
        conn_orig = resp;
    }
    if !(orig.did_close || resp.did_close) {
        if seg.seq == conn_orig.start_seq {
            return false;
        }
        if !flags.ack()
            && conn_orig.state == TcpState::SynAckSent
            && resp.state == TcpState::Inactive
            && seg.seq == resp.start_seq
        {
            // SYN and SYN-ACK arrived swapped; the state machine flips.
            return false;
        }
    }
    true
}

fn segment_len(payload_len: u32, flags: TcpFlags) -> u32 {
    let mut n = payload_len;
    if flags.syn() {
        n = n.wrapping_add(1);
    }
    if flags.fin() {
        n = n.wrapping_add(1);
    }
    if flags.rst() {
        // Data in a RST is not part of the stream.
        n = n.wrapping_sub(payload_len);
    }
    n
}

fn init_endpoint(ep: &mut TcpEndpoint, flags: TcpFlags, first_seq: u32, last_seq: u32) {
    // Tests in the order of how often they decide: an endpoint seen before
    // only renumbers on a SYN, so most packets leave after two predictable
    // branches (a `match` on the state compiled to a jump table that
    // mispredicted once a packet; bench/RESULTS.md, issue 11).
    if ep.state == TcpState::Inactive {
        if flags.syn() {
            ep.init_ack_seq(first_seq);
            ep.init_start_seq(first_seq);
            ep.init_last_seq(last_seq);
        } else {
            // A partial connection: number as though a SYN was seen,
            // and do not take the first packet for a retransmission.
            ep.init_ack_seq(first_seq.wrapping_sub(1));
            ep.init_start_seq(first_seq.wrapping_sub(1));
            ep.init_last_seq(first_seq);
        }
        reset_contiguity(ep);
        return;
    }
    if !flags.syn() {
        return;
    }
    let renumber = match ep.state {
        TcpState::SynSent | TcpState::SynAckSent => first_seq != ep.start_seq,
        // Guess that the connection did not get established and this SYN
        // is the one that really sets it up.
        TcpState::Established | TcpState::Partial => true,
        // Numbers came from a RST, perhaps injected; trust the SYN.
        TcpState::Reset => ep.prev_state == TcpState::Inactive,
        TcpState::Inactive | TcpState::Closed => false,
    };
    if renumber {
        reinit(ep, first_seq, last_seq);
    }
}

fn reinit(ep: &mut TcpEndpoint, first_seq: u32, last_seq: u32) {
    ep.init_start_seq(first_seq);
    ep.init_ack_seq(first_seq);
    ep.init_last_seq(last_seq);
    reset_contiguity(ep);
}

/// Sequence number relative to the endpoint's start; also reports
/// "underflow" (a number before the start).
fn relative_seq(ep: &TcpEndpoint, cur: u32, last: u32, mut wraps: u16) -> (u64, bool) {
    let delta = seq_delta(cur, last);
    if delta < 0 {
        if wraps > 0 && cur > last {
            wraps -= 1;
        }
    } else if delta > 0 && cur < last {
        wraps = wraps.saturating_add(1);
    }
    if wraps == 0 {
        let d = seq_delta(cur, ep.start_seq);
        return (d as i64 as u64, d < 0);
    }
    (ep.to_relative(cur, wraps), false)
}

fn update_history(conn: &mut Conn, me: usize, flags: TcpFlags, rel_seq: u32, len: u32) {
    let is_orig = conn.is_orig(me);
    let h = &mut conn.history;
    let ep = conn.eps[me].tcp_mut();
    let bits = u8::from(flags.syn()) + u8::from(flags.fin()) + u8::from(flags.rst());
    if bits > 1 {
        if flags.fin() && flags.rst() {
            h.check(is_orig, bit::FIN_RST, b'I');
        } else {
            h.check(is_orig, bit::MULTI_FLAG, b'Q');
        }
    } else if bits == 1 {
        if flags.syn() {
            let code = if flags.ack() { b'H' } else { b'S' };
            if h.check(is_orig, bit::SYN, code) && rel_seq as u16 != ep.hist_last_syn {
                h.add(is_orig, code);
            }
            ep.hist_last_syn = rel_seq as u16;
        }
        if flags.fin() {
            // A FIN's number comes after its data.
            let fin = rel_seq.wrapping_add(len);
            if h.check(is_orig, bit::FIN, b'F') && fin as u16 != ep.hist_last_fin {
                h.add(is_orig, b'F');
            }
            ep.hist_last_fin = fin as u16;
        }
        if flags.rst() {
            if h.check(is_orig, bit::RST, b'R') && rel_seq as u16 != ep.hist_last_rst {
                h.add(is_orig, b'R');
            }
            ep.hist_last_rst = rel_seq as u16;
        }
    } else if len > 0 {
        h.check(is_orig, bit::DATA, b'D');
    } else if flags.ack() {
        h.check(is_orig, bit::ACK, b'A');
    }
}

fn init_peer(peer: &mut TcpEndpoint, ack_seq: u32) {
    // Number the peer's stream as though its SYN had been seen.
    let s = ack_seq.wrapping_sub(1);
    peer.init_start_seq(s);
    peer.init_ack_seq(s);
    peer.init_last_seq(s);
    reset_contiguity(peer);
}

fn update_ack_seq(ep: &mut TcpEndpoint, ack_seq: u32) {
    let delta = seq_delta(ack_seq, ep.ack_seq);
    if ack_seq == 0 && delta > TOO_LARGE_SEQ_DELTA {
        // More likely a broken ACK than a connection landing on zero.
        return;
    }
    if delta > 0 {
        ep.update_ack_seq(ack_seq);
    }
}

fn update_last_seq(conn: &mut Conn, me: usize, last_seq: u32, flags: TcpFlags, len: u32) -> i32 {
    let is_orig = conn.is_orig(me);
    let ep = conn.eps[me].tcp_mut();
    let delta = seq_delta(last_seq, ep.last_seq);
    if (flags.syn() || flags.rst())
        && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta)
    {
        // Not believed.
    } else if flags.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
        // Large connections where only SYN and FIN were seen.
        ep.update_last_seq(last_seq);
    } else if ep.state == TcpState::Reset {
        // Numbers after a RST are not trusted.
    } else if delta > 0 {
        ep.update_last_seq(last_seq);
    } else if len > 0 && scaled(&mut ep.retransmits) {
        conn.history.add(is_orig, b'T');
    }
    delta
}

#[allow(clippy::too_many_arguments)]
fn update_state_machine(
    conn: &mut Conn,
    me: usize,
    base_seq: u32,
    len: u32,
    delta_last: i32,
    is_orig: bool,
    flags: TcpFlags,
    ts: i64,
) -> (bool, bool) {
    let peer = 1 - me;
    let mut do_close = false;
    let mut gen_event = false;
    match conn.eps[me].tcp().state {
        TcpState::Inactive => inactive_state(
            conn,
            me,
            base_seq,
            len,
            is_orig,
            flags,
            ts,
            &mut do_close,
            &mut gen_event,
        ),
        TcpState::SynSent | TcpState::SynAckSent => {
            let ep = conn.eps[me].tcp_mut();
            if flags.fin() {
                ep.set_state(TcpState::Closed);
                do_close = true;
                gen_event = true;
            }
            if flags.rst() {
                ep.set_state(TcpState::Reset);
                do_close = true;
            }
        }
        TcpState::Established | TcpState::Partial => {
            let peer_state = conn.eps[peer].tcp().state;
            let peer_prev = conn.eps[peer].tcp().prev_state;
            let ep = conn.eps[me].tcp_mut();
            if flags.syn()
                && ep.state == TcpState::Partial
                && peer_state == TcpState::Inactive
                && !flags.ack()
            {
                ep.set_state(TcpState::SynSent);
            }
            if flags.fin() && !flags.rst() {
                ep.set_state(TcpState::Closed);
                if peer_state == TcpState::Reset && peer_prev == TcpState::Closed {
                    // FIN then RST from the peer was a normal close.
                    conn.eps[peer].tcp_mut().set_state(TcpState::Closed);
                }
                do_close = true;
                gen_event = true;
            }
            if flags.rst() {
                conn.eps[me].tcp_mut().set_state(TcpState::Reset);
                do_close = true;
            }
        }
        TcpState::Closed => {
            let _ = delta_last;
            if flags.rst() && conn.eps[peer].tcp().state != TcpState::Closed {
                let ep = conn.eps[me].tcp_mut();
                ep.set_state(TcpState::Reset);
                if !ep.did_close {
                    do_close = true;
                }
            }
        }
        TcpState::Reset => {}
    }
    (do_close, gen_event)
}

#[allow(clippy::too_many_arguments)]
fn inactive_state(
    conn: &mut Conn,
    me: usize,
    base_seq: u32,
    len: u32,
    is_orig: bool,
    flags: TcpFlags,
    ts: i64,
    do_close: &mut bool,
    gen_event: &mut bool,
) {
    let peer = 1 - me;
    if flags.syn() {
        if is_orig {
            let state = if flags.ack() {
                TcpState::SynAckSent
            } else {
                TcpState::SynSent
            };
            conn.eps[me].tcp_mut().set_state(state);
            // The attempt timer starts with the originator's SYN.
            conn.set_anchor_ts(ts);
        } else {
            if !flags.ack()
                && conn.eps[peer].tcp().state == TcpState::SynAckSent
                && base_seq == conn.eps[me].tcp().start_seq
            {
                // SYN and SYN-ACK were seen in reverse order: swap roles.
                conn.flip_roles();
                conn.eps[peer].tcp_mut().set_state(TcpState::Established);
            }
            if conn.eps[peer].tcp().state == TcpState::SynSent {
                conn.eps[peer].tcp_mut().set_state(TcpState::Established);
            }
            conn.eps[me].tcp_mut().set_state(TcpState::Established);
        }
    }
    if flags.fin() {
        conn.eps[me].tcp_mut().set_state(TcpState::Closed);
        *do_close = true;
        *gen_event = true;
    }
    if flags.rst() {
        conn.eps[me].tcp_mut().set_state(TcpState::Reset);
        let peer_state = conn.eps[peer].tcp().state;
        let is_reject = if is_orig {
            // SYN-ACK seen but no SYN: a reverse scan, treated as reject.
            peer_state == TcpState::Established
        } else {
            matches!(peer_state, TcpState::SynSent | TcpState::SynAckSent)
        };
        *do_close = true;
        *gen_event = !is_reject;
    }
    if conn.eps[me].tcp().state == TcpState::Inactive {
        let orig_state = conn.orig().tcp().state;
        if !is_orig && len == 0 && orig_state == TcpState::SynSent {
            // Some stacks ACK a SYN before answering it; not partial.
        } else if flags.ack() && conn.eps[peer].tcp().state == TcpState::Established {
            // Missed the initial SYN but saw SYN-ACK and now an ACK.
            conn.eps[me].tcp_mut().set_state(TcpState::Established);
        } else {
            conn.eps[me].tcp_mut().set_state(TcpState::Partial);
        }
    }
}

fn connection_closed(conn: &mut Conn, me: usize) {
    let peer = 1 - me;
    if conn.eps[me].tcp().did_close {
        return;
    }
    conn.eps[me].tcp_mut().did_close = true;
    let ep = *conn.eps[me].tcp();
    let p = *conn.eps[peer].tcp();
    let complete = ep.state == TcpState::Reset || p.did_close || p.state == TcpState::Inactive;
    if complete && !conn.close_complete() {
        conn.tcp_flags |= tcp_flags::CLOSE_COMPLETE;
        // Zeek deletes the connection a close delay after its last time.
        conn.set_anchor_ts(conn.last_ts);
    }
}
