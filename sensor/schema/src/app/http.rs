//! `http` events: one per HTTP/1.x request/response pair, as Zeek's
//! `http.log`.

use super::ConnId;
use serde::{Deserialize, Serialize};

/// One request and its response (or a request that got none, or a
/// response whose request was not seen). Text fields are the bytes on the
/// wire with anything outside printable ASCII written as `\xNN`, as Zeek
/// writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HttpRecord {
    /// Time of the first message of the pair.
    pub ts: f64,
    pub uid: String,
    #[serde(flatten)]
    pub id: ConnId,
    /// Position of the pair in the connection (pipelining), from 1.
    pub trans_depth: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The Host header, port included when given. A server name, not a
    /// person's; but an internal host name can name one (a user's PC), so
    /// it is PERSONAL like DNS queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The request URI, %-escapes decoded. PERSONAL (paths and query
    /// strings carry names, mail addresses, search terms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The Referer header. PERSONAL (a URI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// HTTP version of the response ("1.1", "0.9" for a bare HTTP/0.9
    /// reply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The User-Agent header. PERSONAL (rare agents fingerprint a person's
    /// device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The Origin header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Body bytes from the client, after removing chunked transfer coding
    /// and gzip/deflate content coding.
    pub request_body_len: u64,
    /// Body bytes from the server, likewise.
    pub response_body_len: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_msg: Option<String>,
    /// The last 1xx informational reply before the final one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info_msg: Option<String>,
    /// Zeek's tags; always empty (Zeek's base scripts set none).
    pub tags: Vec<String>,
    /// User name of HTTP basic authentication. PERSONAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password of HTTP basic authentication; only written when
    /// `app.http_capture_password` is on (off by default, as Zeek's
    /// `HTTP::default_capture_password`). PERSONAL (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Headers that show a proxy, as "NAME -> value".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proxied: Vec<String>,
    /// What the request's body is by its first bytes (content sniffing,
    /// not the Content-Type header), e.g. `application/x-dosexec`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orig_mime_types: Vec<String>,
    /// What the response's body is by its first bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resp_mime_types: Vec<String>,
    /// MD5, SHA-1 and SHA-256 of the request's body (after transfer and
    /// content decoding), as Zeek's files.log has them; only for a body
    /// read whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orig_sha256: Option<String>,
    /// The same of the response's body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_md5: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resp_sha256: Option<String>,
}

impl HttpRecord {
    /// A transaction's record with nothing seen yet but its connection
    /// and place in it.
    pub fn new(ts: f64, uid: String, id: ConnId, trans_depth: u64) -> HttpRecord {
        HttpRecord {
            ts,
            uid,
            id,
            trans_depth,
            method: None,
            host: None,
            uri: None,
            referrer: None,
            version: None,
            user_agent: None,
            origin: None,
            request_body_len: 0,
            response_body_len: 0,
            status_code: None,
            status_msg: None,
            info_code: None,
            info_msg: None,
            tags: Vec::new(),
            username: None,
            password: None,
            proxied: Vec::new(),
            orig_mime_types: Vec::new(),
            resp_mime_types: Vec::new(),
            orig_md5: None,
            orig_sha1: None,
            orig_sha256: None,
            resp_md5: None,
            resp_sha1: None,
            resp_sha256: None,
        }
    }
}
