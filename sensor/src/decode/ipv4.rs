//! IPv4 headers, read with etherparse and checked the way Zeek checks them:
//! a packet whose total length exceeds what was on the wire, or whose header
//! checksum is wrong, is not trusted and goes no further.

use super::packet::{Addr, Fragment, IpLayer};
use super::{checksum, ip, Ctx, DecodeError, Decoded};
use etherparse::err::ipv4::HeaderSliceError;
use etherparse::Ipv4HeaderSlice;

pub(crate) fn decode<'a>(ctx: &mut Ctx<'_, 'a>, data: &'a [u8]) -> Result<(), DecodeError> {
    let hdr = Ipv4HeaderSlice::from_slice(data).map_err(|e| match e {
        HeaderSliceError::Len(_) => DecodeError::TruncatedIp,
        HeaderSliceError::Content(etherparse::err::ipv4::HeaderError::UnexpectedVersion {
            ..
        }) => DecodeError::UnknownIpVersion,
        HeaderSliceError::Content(_) => DecodeError::Ipv4BadHeaderLength,
    })?;
    ctx.counters.count(Decoded::Ipv4);
    let header_len = hdr.slice().len() as u32;
    let mut total_len = u32::from(hdr.total_len());
    if total_len == 0 {
        // Segmentation offload on the capturing host zeroes the length.
        total_len = data.len() as u32;
    }
    if total_len > data.len() as u32 + ctx.missing {
        return Err(DecodeError::TruncatedIp);
    }
    if header_len > total_len {
        return Err(DecodeError::IpHeaderLargerThanPacket);
    }
    if ctx.opts.validate_checksums && !checksum::verifies(hdr.slice(), 0) {
        return Err(DecodeError::BadIpChecksum);
    }
    let end = (total_len as usize).min(data.len());
    let layer = IpLayer {
        version: 4,
        src: Addr::from_v4(hdr.source()),
        dst: Addr::from_v4(hdr.destination()),
        proto: hdr.protocol().0,
        total_len,
        header_len,
        ttl: hdr.ttl(),
        flow_label: 0,
        frag: Fragment {
            offset: u32::from(hdr.fragments_offset().value()) * 8,
            more: hdr.more_fragments(),
            id: u32::from(hdr.identification()),
        },
        header: hdr.slice(),
        payload: &data[header_len as usize..end],
        ..IpLayer::default()
    };
    ip::push_and_descend(ctx, layer)
}
