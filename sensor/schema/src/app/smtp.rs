//! `smtp` events: one per mail transaction of an SMTP session, as Zeek's
//! `smtp.log` (envelope, the message's top-level headers, the last reply).

use super::ConnId;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One mail transaction (or the session's activity when no message was
/// completed). Text fields carry the bytes on the wire, anything outside
/// printable ASCII written as `\xNN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmtpRecord {
    /// When the transaction's record was opened (the session start or the
    /// previous message's end).
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// Number of the message in the session, from 1.
    pub trans_depth: u64,
    /// The client's HELO/EHLO name. PERSONAL (often a PC's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helo: Option<String>,
    /// Envelope sender (MAIL FROM). PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailfrom: Option<String>,
    /// Envelope recipients (RCPT TO). PERSONAL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rcptto: Vec<String>,
    /// The Date header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// The From header. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The To header's addresses. PERSONAL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// The Cc header's addresses. PERSONAL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cc: Vec<String>,
    /// The Reply-To header. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The Message-ID header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// The In-Reply-To header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The Subject header. PERSONAL (subjects name people and matters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The X-Originating-IP header's address. PERSONAL (a sender's IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_originating_ip: Option<IpAddr>,
    /// The first and second Received headers (the last two hops). PERSONAL
    /// (host names, addresses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_received: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_received: Option<String>,
    /// The server's last reply ("250 2.0.0 Ok ...").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reply: Option<String>,
    /// The hops the message took: the server, the client, then the
    /// addresses of the Received headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<IpAddr>,
    /// The X-Mailer / User-Agent header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The session switched to TLS (STARTTLS).
    pub tls: bool,
}
