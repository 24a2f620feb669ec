//! The decoder settings (`[decode]`): checksums, tunnels and their ports.
//! Turned into the decoder's own [`super::DecodeOptions`] by the
//! configuration.

use super::offload::ChecksumMode;
use super::DecodeOptions;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeSection {
    /// `auto`, `strict` or `off`; see [`ChecksumMode`].
    pub checksums: ChecksumMode,
    pub decapsulate: bool,
    pub vxlan_ports: Vec<u16>,
    pub geneve_ports: Vec<u16>,
    pub teredo_ports: Vec<u16>,
    pub ayiya_ports: Vec<u16>,
    pub gtp_ports: Vec<u16>,
    pub gre_udp_ports: Vec<u16>,
}

impl Default for DecodeSection {
    fn default() -> Self {
        let d = DecodeOptions::default();
        DecodeSection {
            checksums: ChecksumMode::default(),
            decapsulate: d.decapsulate,
            vxlan_ports: d.vxlan_ports,
            geneve_ports: d.geneve_ports,
            teredo_ports: d.teredo_ports,
            ayiya_ports: d.ayiya_ports,
            gtp_ports: d.gtp_ports,
            gre_udp_ports: d.gre_udp_ports,
        }
    }
}
