//! `rdp` events: one per RDP connection, as Zeek's `rdp.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// What the clear-text start of an RDP connection showed: the client's
/// cookie and settings, the negotiated security, the server's encryption
/// and certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdpRecord {
    /// Time of the connection request.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// The `mstshash` cookie of the connection request: usually the user
    /// name, cut to 9 characters by the client; empty when none was sent.
    /// PERSONAL (a user name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<String>,
    /// A negotiation failure ("SSL_NOT_ALLOWED_BY_SERVER", ...), the
    /// conference result ("Success", ...), or "encrypted" once TLS or
    /// CredSSP takes over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// "RDP", "SSL", "HYBRID" or "HYBRID_EX".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_protocol: Option<String>,
    /// Virtual channels the client asked for ("rdpdr", "cliprdr", ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_channels: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyboard_layout: Option<String>,
    /// Client version, e.g. "RDP 8.1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_build: Option<String>,
    /// The client computer's name. PERSONAL (computer names often name
    /// their user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// The client's product id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_dig_product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop_width: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop_height: Option<u16>,
    /// e.g. "32bit".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_color_depth: Option<String>,
    /// Server certificate type under RDP's own encryption: "RSA" or "X.509".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_type: Option<String>,
    /// Certificates the server sent under RDP's own encryption.
    pub cert_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_permanent: Option<bool>,
    /// RDP encryption level: "None", "Low", "Client compatible", "High",
    /// "FIPS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_level: Option<String>,
    /// RDP encryption method: "None", "40bit", "56bit", "128bit", "FIPS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_method: Option<String>,
}
