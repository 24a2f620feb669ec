//! Content gaps: a small contiguity tracker per TCP endpoint that stands in
//! for Zeek's reassembler to notice bytes that were acknowledged but never
//! captured (history 'G', `missed_bytes`). It keeps the stream position
//! and at most one block of data held ahead of a hole.

use super::conn::{tcp_flags, Conn, TcpEndpoint, TcpState};
use super::history::scaled;
use super::tcp::seq_delta;

/// Starts the stream position just after the endpoint's initial sequence
/// number (the SYN's octet is not data).
pub(super) fn reset_contiguity(ep: &mut TcpEndpoint) {
    ep.contiguous = ep.start_seq.wrapping_add(1);
    ep.bits |= TcpEndpoint::HAS_CONTIGUOUS;
}

/// Stream data from `start` (absolute sequence number) of `len` bytes.
pub(super) fn data_sent(ep: &mut TcpEndpoint, start: u32, len: u32) {
    if !ep.has_contiguous() {
        return;
    }
    let end = start.wrapping_add(len);
    if seq_delta(start, ep.contiguous) <= 0 {
        if seq_delta(end, ep.contiguous) > 0 {
            ep.contiguous = end;
        }
    } else {
        // Ahead of the stream: data behind a hole. Keep the earliest block
        // so that filling the hole can join it.
        if ep.block_len == 0 || seq_delta(start, ep.block_start) < 0 {
            ep.block_start = start;
            ep.block_len = len;
        } else if seq_delta(start, ep.block_start.wrapping_add(ep.block_len)) <= 0 {
            let new_end = seq_delta(end, ep.block_start).max(ep.block_len as i32);
            ep.block_len = new_end as u32;
        }
    }
    if ep.block_len > 0 && seq_delta(ep.block_start, ep.contiguous) <= 0 {
        let block_end = ep.block_start.wrapping_add(ep.block_len);
        if seq_delta(block_end, ep.contiguous) > 0 {
            ep.contiguous = block_end;
        }
        ep.block_len = 0;
    }
}

/// Zeek's `is_clean`: established, or closed after being established.
fn is_clean(ep: &TcpEndpoint) -> bool {
    ep.state == TcpState::Established
        || (ep.state == TcpState::Closed && ep.prev_state == TcpState::Established)
}

/// The peer acknowledged `ack` for the stream of endpoint `slot`; bytes
/// acknowledged but never seen are content gaps (Zeek's
/// `TCP_Reassembler::AckReceived` and `Undelivered`).
///
/// As in Zeek, the stream position always moves up to the acknowledgement,
/// one hole at a time, so no gap is ever counted twice and a gap can be as
/// large as the acknowledgements are apart (a capture of a multi-gigabyte
/// transfer that kept only some packets misses gigabytes). Gaps count
/// (`missed_bytes`, history `G`) only while both endpoints are established
/// or cleanly closing: in other states they arise falsely from sequence
/// numbers in RSTs or packets missed before a partial connection began.
pub(super) fn ack_received(conn: &mut Conn, slot: usize, ack: u32) {
    let partial = conn.tcp_flags & tcp_flags::PARTIAL != 0;
    let clean = is_clean(conn.eps[0].tcp()) && is_clean(conn.eps[1].tcp());
    let is_orig = conn.is_orig(slot);
    let ep = conn.eps[slot].tcp_mut();
    if !ep.has_contiguous() || seq_delta(ack, ep.contiguous) <= 0 {
        return;
    }
    if partial && seq_delta(ack, ep.start_seq) <= 2 {
        // The first acknowledgement of a partial connection, whose
        // numbering was faked as though a SYN had been seen (Zeek ignores
        // it and leaves the stream position where it was).
        return;
    }
    let mut holes = [0u32; 2];
    let mut reached = ep.contiguous;
    if ep.block_len > 0 && seq_delta(ep.block_start, ack) < 0 {
        // The hole before the block held ahead, then the block itself.
        holes[0] = seq_delta(ep.block_start, reached).max(0) as u32;
        let block_end = ep.block_start.wrapping_add(ep.block_len);
        if seq_delta(block_end, reached) > 0 {
            reached = block_end;
        }
        ep.block_len = 0;
    }
    let rest = seq_delta(ack, reached);
    if rest > 0 {
        holes[1] = rest as u32;
        reached = ack;
    }
    ep.contiguous = reached;
    if !clean {
        return;
    }
    for hole in holes.into_iter().filter(|&h| h > 0) {
        conn.missed_bytes.add(u64::from(hole));
        if scaled(&mut conn.eps[slot].tcp_mut().gaps) {
            conn.history.add(is_orig, b'G');
        }
    }
}
