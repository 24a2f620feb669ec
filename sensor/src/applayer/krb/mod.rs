//! Kerberos (port 88, UDP and TCP) as Zeek's `kerberos.log`: one record
//! per connection, built from its first AS or TGS exchange the way Zeek's
//! `base/protocols/krb` script builds it, and written when the reply (or
//! error) comes, else when the connection ends. Over TCP each message
//! follows a four-byte length (RFC 4120 7.2.2).

mod msg;

pub use msg::looks_like;

use super::{ConnIdent, Dir, Parser, Session, Verdict};
use msg::Msg;
use vagt_schema::{EventBody, KerberosRecord, Proto};

/// Largest TCP message read; tickets with large PACs stay well below.
const MAX_TCP_MESSAGE: usize = 128 * 1024;

/// Errors Zeek leaves out of the log (`KRB::ignored_errors`): the normal
/// "use pre-authentication" answer, which would double the log.
const IGNORED_ERRORS: &[&str] = &[
    "NEEDED_PREAUTH",
    "Need to use PA-ENC-TIMESTAMP/PA-PK-AS-REQ",
];

pub fn make(conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Krb {
        tcp: conn.proto == Proto::Tcp,
        rec: None,
        logged: false,
        buf: [Vec::new(), Vec::new()],
    })
}

/// Whether a first payload on port 88 is Kerberos: over UDP the whole
/// datagram must decode; over TCP (where a message may span segments) the
/// length prefix and the message's header must fit.
pub fn probe(p: &[u8], tcp: bool) -> bool {
    if !tcp {
        return looks_like(p, true) && msg::parse(p).is_ok();
    }
    let Some(len) = p.get(..4) else {
        return false;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let body = &p[4..];
    (1..=MAX_TCP_MESSAGE).contains(&len)
        && looks_like(body, false)
        && body.get(..len).is_none_or(|m| msg::parse(m).is_ok())
}

struct Krb {
    tcp: bool,
    rec: Option<KerberosRecord>,
    /// The connection's record was written; Zeek logs one per connection.
    logged: bool,
    buf: [Vec<u8>; 2],
}

impl Krb {
    fn record(&mut self, s: &Session<'_>) -> &mut KerberosRecord {
        self.rec.get_or_insert_with(|| KerberosRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            request_type: None,
            client: None,
            service: None,
            success: None,
            error_code: None,
            error_msg: None,
            from: None,
            till: None,
            cipher: None,
            forwardable: None,
            renewable: None,
        })
    }

    fn write(&mut self, s: &mut Session<'_>) {
        if let Some(r) = self.rec.take() {
            self.logged = true;
            s.emit(EventBody::Kerberos(r));
        }
    }

    fn message(&mut self, s: &mut Session<'_>, bytes: &[u8]) {
        let m = match msg::parse(bytes) {
            Ok(m) => m,
            Err(reason) => {
                s.weird(reason);
                return;
            }
        };
        if self.logged {
            return;
        }
        match m {
            Msg::Req {
                tgs,
                client_name,
                realm,
                service_name,
                from,
                till,
                forwardable,
                renewable,
            } => {
                let r = self.record(s);
                r.request_type = Some(if tgs { "TGS" } else { "AS" }.into());
                if !tgs {
                    r.client = Some(format!("{}/{realm}", client_name.unwrap_or_default()));
                }
                if service_name.is_some() {
                    r.service = service_name;
                }
                r.from = from.or(r.from);
                r.till = till.or(r.till);
                r.forwardable = Some(forwardable);
                r.renewable = Some(renewable);
            }
            Msg::Rep {
                client_name,
                client_realm,
                service_name,
                cipher,
            } => {
                let r = self.record(s);
                if r.client.is_none() {
                    r.client = Some(format!("{client_name}/{client_realm}"));
                }
                r.service = Some(service_name);
                r.cipher = Some(cipher_name(cipher));
                r.success = Some(true);
                self.write(s);
            }
            Msg::Error {
                client_name,
                client_realm,
                service_name,
                code,
                text,
            } => {
                if text.as_deref().is_some_and(|t| IGNORED_ERRORS.contains(&t)) {
                    self.rec = None;
                    return;
                }
                let r = self.record(s);
                if r.client.is_none() && (client_name.is_some() || client_realm.is_some()) {
                    r.client = Some(format!(
                        "{}{}",
                        client_name.map(|n| n + "/").unwrap_or_default(),
                        client_realm.unwrap_or_default()
                    ));
                }
                if service_name.is_some() {
                    r.service = service_name;
                }
                r.success = Some(false);
                r.error_code = Some(code);
                r.error_msg = Some(text.unwrap_or_else(|| error_name(code)));
                self.write(s);
            }
            Msg::ApReq => {
                self.record(s);
            }
            Msg::Other => {}
        }
    }

    /// TCP: messages behind a four-byte length, split anywhere.
    fn stream(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        let mut buf = std::mem::take(&mut self.buf[dir.index()]);
        buf.extend_from_slice(data);
        let mut at = 0;
        while let Some(len) = buf.get(at..at + 4) {
            // The top bit is reserved (RFC 4120 7.2.2): a length over the
            // cap means this is not a Kerberos stream.
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            if len > MAX_TCP_MESSAGE {
                s.weird("krb_tcp_message_too_long");
                return Verdict::Done;
            }
            let Some(m) = buf.get(at + 4..at + 4 + len) else {
                break;
            };
            self.message(s, m);
            at += 4 + len;
        }
        buf.drain(..at);
        self.buf[dir.index()] = buf;
        Verdict::More
    }
}

impl Parser for Krb {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.tcp {
            return self.stream(s, dir, data);
        }
        self.message(s, data);
        Verdict::More
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        // A length prefix lost in a gap cannot be found again.
        self.buf[dir.index()] = Vec::new();
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.write(s);
    }
}

/// Zeek's `KRB::cipher_name`.
fn cipher_name(etype: i32) -> String {
    let name = match etype {
        1 => "des-cbc-crc",
        2 => "des-cbc-md4",
        3 => "des-cbc-md5",
        5 => "des3-cbc-md5",
        7 => "des3-cbc-sha1",
        9 => "dsaWithSHA1-CmsOID",
        10 => "md5WithRSAEncryption-CmsOID",
        11 => "sha1WithRSAEncryption-CmsOID",
        12 => "rc2CBC-EnvOID",
        13 => "rsaEncryption-EnvOID",
        14 => "rsaES-OAEP-ENV-OID",
        15 => "des-ede3-cbc-Env-OID",
        16 => "des3-cbc-sha1-kd",
        17 => "aes128-cts-hmac-sha1-96",
        18 => "aes256-cts-hmac-sha1-96",
        23 => "rc4-hmac",
        24 => "rc4-hmac-exp",
        25 => "camellia128-cts-cmac",
        26 => "camellia256-cts-cmac",
        65 => "subkey-keymaterial",
        _ => return format!("unknown-{etype}"),
    };
    name.to_string()
}

/// Zeek's `KRB::error_msg`: the RFC 4120 names of the error codes.
fn error_name(code: u32) -> String {
    const NAMES: &[&str] = &[
        "KDC_ERR_NONE",
        "KDC_ERR_NAME_EXP",
        "KDC_ERR_SERVICE_EXP",
        "KDC_ERR_BAD_PVNO",
        "KDC_ERR_C_OLD_MAST_KVNO",
        "KDC_ERR_S_OLD_MAST_KVNO",
        "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        "KDC_ERR_NULL_KEY",
        "KDC_ERR_CANNOT_POSTDATE",
        "KDC_ERR_NEVER_VALID",
        "KDC_ERR_POLICY",
        "KDC_ERR_BADOPTION",
        "KDC_ERR_ETYPE_NOSUPP",
        "KDC_ERR_SUMTYPE_NOSUPP",
        "KDC_ERR_PADATA_TYPE_NOSUPP",
        "KDC_ERR_TRTYPE_NOSUPP",
        "KDC_ERR_CLIENT_REVOKED",
        "KDC_ERR_SERVICE_REVOKED",
        "KDC_ERR_TGT_REVOKED",
        "KDC_ERR_CLIENT_NOTYET",
        "KDC_ERR_SERVICE_NOTYET",
        "KDC_ERR_KEY_EXPIRED",
        "KDC_ERR_PREAUTH_FAILED",
        "KDC_ERR_PREAUTH_REQUIRED",
        "KDC_ERR_SERVER_NOMATCH",
        "KDC_ERR_MUST_USE_USER2USER",
        "KDC_ERR_PATH_NOT_ACCEPTED",
        "KDC_ERR_SVC_UNAVAILABLE",
        "",
        "KRB_AP_ERR_BAD_INTEGRITY",
        "KRB_AP_ERR_TKT_EXPIRED",
        "KRB_AP_ERR_TKT_NYV",
        "KRB_AP_ERR_REPEAT",
        "KRB_AP_ERR_NOT_US",
        "KRB_AP_ERR_BADMATCH",
        "KRB_AP_ERR_SKEW",
        "KRB_AP_ERR_BADADDR",
        "KRB_AP_ERR_BADVERSION",
        "KRB_AP_ERR_MSG_TYPE",
        "KRB_AP_ERR_MODIFIED",
        "KRB_AP_ERR_BADORDER",
        "",
        "KRB_AP_ERR_BADKEYVER",
        "KRB_AP_ERR_NOKEY",
        "KRB_AP_ERR_MUT_FAIL",
        "KRB_AP_ERR_BADDIRECTION",
        "KRB_AP_ERR_METHOD",
        "KRB_AP_ERR_BADSEQ",
        "KRB_AP_ERR_INAPP_CKSUM",
        "KRB_AP_PATH_NOT_ACCEPTED",
        "KRB_ERR_RESPONSE_TOO_BIG",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "KRB_ERR_GENERIC",
        "KRB_ERR_FIELD_TOOLONG",
        "KDC_ERROR_CLIENT_NOT_TRUSTED",
        "KDC_ERROR_KDC_NOT_TRUSTED",
        "KDC_ERROR_INVALID_SIG",
        "KDC_ERR_KEY_TOO_WEAK",
        "KDC_ERR_CERTIFICATE_MISMATCH",
        "KRB_AP_ERR_NO_TGT",
        "KDC_ERR_WRONG_REALM",
        "KRB_AP_ERR_USER_TO_USER_REQUIRED",
        "KDC_ERR_CANT_VERIFY_CERTIFICATE",
        "KDC_ERR_INVALID_CERTIFICATE",
        "KDC_ERR_REVOKED_CERTIFICATE",
        "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
        "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
        "KDC_ERR_CLIENT_NAME_MISMATCH",
        "KDC_ERR_KDC_NAME_MISMATCH",
    ];
    match NAMES.get(code as usize) {
        Some(n) if !n.is_empty() => n.to_string(),
        _ => format!("unknown-{code}"),
    }
}

#[cfg(test)]
mod tests;
