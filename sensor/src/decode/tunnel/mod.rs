//! Tunnels: the decoder opens them so that the carried packet is decoded
//! (and later tracked) as well as the carrier.
//!
//! IP-borne tunnels (GRE with ERSPAN, IP-in-IP) are recognised by protocol
//! number in `ip`; UDP-borne ones (VXLAN, Geneve, Teredo, AYIYA, GTP-U,
//! GRE-in-UDP) by
//! their configured ports here, and Teredo on other ports by its content. Each tunnel validates its header before it
//! enters, so a datagram that only happens to use a tunnel port stays a
//! plain datagram.

pub(crate) mod ayiya;
pub(crate) mod erspan;
pub(crate) mod geneve;
pub(crate) mod gre;
pub(crate) mod gtp;
pub(crate) mod teredo;
pub(crate) mod vxlan;

use super::packet::Encap;
use super::{Ctx, DecodeError, DecodeOptions};

/// Marks the start of a tunnel's inner packet: its frame is no longer the
/// outermost one, and it brings its own VLAN tags.
pub(crate) fn enter(ctx: &mut Ctx<'_, '_>, encap: Encap) {
    ctx.outermost = false;
    ctx.vlan = [0; 3];
    ctx.encap = encap;
}

fn port_in(ports: &[u16], a: u16, b: u16) -> bool {
    ports.contains(&a) || ports.contains(&b)
}

/// Every port configured for any UDP tunnel, as a bit set, so that the
/// common datagram (no tunnel) costs two lookups to rule out.
#[derive(Clone, Debug)]
pub(crate) struct TunnelPorts(Box<[u64; 1024]>);

impl TunnelPorts {
    pub fn new(opts: &DecodeOptions) -> TunnelPorts {
        let mut bits = Box::new([0u64; 1024]);
        let all = [
            &opts.vxlan_ports,
            &opts.geneve_ports,
            &opts.teredo_ports,
            &opts.ayiya_ports,
            &opts.gtp_ports,
            &opts.gre_udp_ports,
        ];
        for p in all.into_iter().flatten() {
            bits[usize::from(*p / 64)] |= 1 << (*p % 64);
        }
        TunnelPorts(bits)
    }

    #[inline]
    fn has(&self, port: u16) -> bool {
        self.0[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }
}

/// True when either port is configured for a UDP tunnel.
#[inline]
pub(crate) fn is_udp_tunnel_port(ports: &TunnelPorts, src: u16, dst: u16) -> bool {
    ports.has(src) || ports.has(dst)
}

/// Opens a UDP-borne tunnel chosen by port.
pub(crate) fn udp<'a>(
    ctx: &mut Ctx<'_, 'a>,
    src: u16,
    dst: u16,
    payload: &'a [u8],
) -> Result<(), DecodeError> {
    let opts = ctx.opts;
    if opts.vxlan_ports.contains(&dst) {
        vxlan::decode(ctx, payload)
    } else if port_in(&opts.geneve_ports, src, dst) {
        geneve::decode(ctx, payload)
    } else if port_in(&opts.gtp_ports, src, dst) {
        gtp::decode(ctx, payload)
    } else if port_in(&opts.teredo_ports, src, dst) {
        teredo::decode(ctx, payload)
    } else if port_in(&opts.ayiya_ports, src, dst) {
        ayiya::decode(ctx, payload)
    } else if port_in(&opts.gre_udp_ports, src, dst) {
        gre::decode(ctx, payload)
    } else if teredo_detected(opts, payload) {
        teredo::decode(ctx, payload)
    } else {
        Ok(())
    }
}

/// Whether a datagram that no port sent to a tunnel is Teredo by its
/// content (Zeek's protocol detection). Configuring no Teredo port turns
/// Teredo off, detection included. Out of line, so that inlined into the
/// transport decoder it does not cost TCP packets register saves.
#[inline(never)]
pub(crate) fn teredo_detected(opts: &DecodeOptions, payload: &[u8]) -> bool {
    teredo::detect(payload) && !opts.teredo_ports.is_empty()
}
