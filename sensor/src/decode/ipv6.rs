//! IPv6 headers and the extension-header chain.
//!
//! The fixed header is read with etherparse. The extension chain is walked
//! here because a fragment after the first carries data, not headers, after
//! its fragment header, and the walk must stop there.

use super::packet::{Addr, Fragment, IpLayer};
use super::{be16, be32, ip, Ctx, DecodeError, Decoded};
use etherparse::Ipv6HeaderSlice;

const HOP_BY_HOP: u8 = 0;
const ROUTING: u8 = 43;
const FRAGMENT: u8 = 44;
const AUTH: u8 = 51;
const DEST_OPTS: u8 = 60;
const MOBILITY: u8 = 135;
const HIP: u8 = 139;
const SHIM6: u8 = 140;

/// Chains longer than this are hostile; real stacks use a handful.
const MAX_EXTENSIONS: usize = 16;

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    let hdr = Ipv6HeaderSlice::from_slice(data).map_err(|_| DecodeError::TruncatedIp)?;
    ctx.counters.count(Decoded::Ipv6);
    // A zero payload length (jumbogram or offload) is taken literally, as
    // Zeek does; only IPv4's zero total length means "use what was captured".
    let total_len = 40 + u32::from(hdr.payload_length());
    if total_len > data.len() as u32 + ctx.missing {
        return Err(DecodeError::TruncatedIp);
    }
    let end = (total_len as usize).min(data.len());
    let captured = &data[..end];

    let mut proto = hdr.next_header().0;
    let mut at = 40usize;
    let mut frag = Fragment::default();
    for _ in 0..MAX_EXTENSIONS {
        let len = match proto {
            HOP_BY_HOP | ROUTING | DEST_OPTS | MOBILITY | HIP | SHIM6 => {
                if captured.len() < at + 8 {
                    return Err(DecodeError::Ipv6BadExtensionHeader);
                }
                (usize::from(captured[at + 1]) + 1) * 8
            }
            AUTH => {
                if captured.len() < at + 8 {
                    return Err(DecodeError::Ipv6BadExtensionHeader);
                }
                (usize::from(captured[at + 1]) + 2) * 4
            }
            FRAGMENT => {
                if captured.len() < at + 8 {
                    return Err(DecodeError::Ipv6BadExtensionHeader);
                }
                let off_flags = be16(captured, at + 2);
                frag = Fragment {
                    offset: u32::from(off_flags >> 3) * 8,
                    more: off_flags & 1 != 0,
                    id: be32(captured, at + 4),
                };
                8
            }
            _ => break,
        };
        if captured.len() < at + len {
            return Err(DecodeError::Ipv6BadExtensionHeader);
        }
        proto = captured[at];
        at += len;
        if frag.offset != 0 {
            // What follows is fragment data, not another header.
            break;
        }
    }
    let mut src = [0u8; 16];
    src.copy_from_slice(hdr.source().as_slice());
    let mut dst = [0u8; 16];
    dst.copy_from_slice(hdr.destination().as_slice());
    let layer = IpLayer {
        version: 6,
        src: Addr::from_v6(src),
        dst: Addr::from_v6(dst),
        proto,
        total_len,
        header_len: at as u32,
        ttl: hdr.hop_limit(),
        flow_label: hdr.flow_label().value(),
        frag,
        header: &captured[..40],
        payload: &captured[at..],
        ..IpLayer::default()
    };
    ip::push_and_descend(ctx, layer)
}
