//! Targets of the application layer: TCP stream reassembly and the
//! protocol parsers that have no capture-level target of their own.

use vagt_sensor::applayer::dns::message;
use vagt_sensor::applayer::stream::{Budget, Chunk, Limits, Stream, StreamStats};

/// Bytes of one reassembly step: offset (2), length (1), flags (1).
pub const STREAM_STEP: usize = 4;

/// Feeds a stream segments cut from a known byte pattern, in the order,
/// overlap and repetition the input says, with acknowledgements and caps
/// chosen by the input. Checks what reassembly promises: every byte
/// delivered is the pattern's byte at that offset, data and gaps together
/// advance exactly to the delivered position, held memory stays under its
/// caps, and ending the stream gives every byte of memory back.
///
/// Layout: a config byte (bits 0-3: per-stream cap in 64-byte units, plus
/// one; bits 4-7: depth in 256-byte units, 0 = none), a 4-byte initial
/// sequence number, then steps of [`STREAM_STEP`] bytes: offset (u16,
/// little-endian), length, flags (bit 0: SYN, bit 1: instead of data,
/// acknowledge up to offset + length).
pub fn reassembly(data: &[u8]) {
    let Some((&cfg, rest)) = data.split_first() else {
        return;
    };
    let Some((isn, steps)) = rest.split_first_chunk::<4>() else {
        return;
    };
    let isn = u32::from_le_bytes(*isn);
    let limits = Limits {
        max_held: 64 * (usize::from(cfg & 0xf) + 1),
        depth: match cfg >> 4 {
            0 => u64::MAX,
            d => 256 * u64::from(d),
        },
    };
    let pattern = |at: u64| (at.wrapping_mul(31) >> 3) as u8;
    let mut budget = Budget {
        cap: 4096,
        ..Budget::default()
    };
    let mut stats = StreamStats::default();
    let mut stream = Stream::default();
    let mut pos = 0u64;
    let mut check = |c: Chunk<'_>| {
        match c {
            Chunk::Data(d) => {
                for (i, b) in d.iter().enumerate() {
                    assert_eq!(*b, pattern(pos + i as u64), "byte at {}", pos + i as u64);
                }
                pos += d.len() as u64;
            }
            Chunk::Gap(n) => {
                assert!(n > 0, "an empty gap");
                pos += n;
            }
        }
        true
    };
    let mut buf = [0u8; 256];
    // The stream starts at the first segment seen, as live: offsets are
    // relative to the initial sequence number plus one.
    stream.segment(isn, true, &[], &limits, &mut budget, &mut stats, &mut check);
    for step in steps.chunks_exact(STREAM_STEP) {
        let off = u64::from(u16::from_le_bytes([step[0], step[1]]));
        let len = usize::from(step[2]);
        let flags = step[3];
        let seq = isn.wrapping_add(1).wrapping_add(off as u32);
        if flags & 2 != 0 {
            stream.ack(
                seq.wrapping_add(len as u32),
                &limits,
                &mut budget,
                &mut stats,
                &mut check,
            );
        } else {
            for (i, b) in buf[..len].iter_mut().enumerate() {
                *b = pattern(off + i as u64);
            }
            stream.segment(
                seq,
                false,
                &buf[..len],
                &limits,
                &mut budget,
                &mut stats,
                &mut check,
            );
        }
        assert!(
            stream.held_bytes() <= limits.max_held,
            "held over the stream cap"
        );
        assert!(budget.used <= budget.cap, "held over the worker cap");
        assert_eq!(
            budget.used,
            stream.held_bytes(),
            "budget and stream disagree"
        );
    }
    stream.finish(&limits, &mut budget, &mut stats, &mut check);
    assert_eq!(budget.used, 0, "memory not given back");
    assert!(
        pos <= stream.delivered(),
        "delivered {pos} of {}",
        stream.delivered()
    );
}

/// Reads one DNS message; names must stay bounded.
pub fn dns(data: &[u8]) {
    if let Ok(m) = message::parse(data) {
        if let Some((name, _, _)) = &m.question {
            assert!(name.len() <= 4096, "name of {} bytes", name.len());
        }
        assert!(m.answers.len() <= usize::from(m.ancount));
    }
}

/// The SSH parser on scripted segments (layout in
/// `vagt_sensor::applayer::drive`): no panic, records bounded by the input.
pub fn app_ssh(data: &[u8]) {
    use vagt_sensor::applayer::{drive, ssh};
    drive::fuzz(ssh::make, vagt_schema::Proto::Tcp, 22, data);
}

/// The Kerberos parser: a first byte with its low bit set makes the
/// connection UDP (each step one datagram), else TCP; the rest as for
/// [`app_ssh`].
pub fn app_krb(data: &[u8]) {
    use vagt_sensor::applayer::{drive, krb};
    let Some((first, data)) = data.split_first() else {
        return;
    };
    let proto = if first & 1 == 1 {
        vagt_schema::Proto::Udp
    } else {
        vagt_schema::Proto::Tcp
    };
    drive::fuzz(krb::make, proto, 88, data);
}

/// The LDAP parser, as [`app_ssh`].
pub fn app_ldap(data: &[u8]) {
    use vagt_sensor::applayer::{drive, ldap};
    drive::fuzz(ldap::make, vagt_schema::Proto::Tcp, 389, data);
}

/// The RDP parser, as [`app_ssh`].
pub fn app_rdp(data: &[u8]) {
    use vagt_sensor::applayer::{drive, rdp};
    drive::fuzz(rdp::make, vagt_schema::Proto::Tcp, 3389, data);
}
