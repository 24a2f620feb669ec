//! `dce_rpc` events: DCE/RPC calls, as Zeek's `dce_rpc.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// One DCE/RPC call (request and response), over TCP or an SMB named pipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DceRpcRecord {
    /// Time of the request.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// Seconds from request to response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt: Option<f64>,
    /// The server's secondary address from the bind ack: a pipe name
    /// (`\PIPE\lsass`) or a TCP port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named_pipe: Option<String>,
    /// Interface name looked up from the bound UUID (`netlogon`, `samr`,
    /// or `unknown-<uuid>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Operation name looked up from the interface and opnum (or
    /// `unknown-<opnum>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}
