//! One TLS handshake's ssl.log record as Zeek's `ssl/main.zeek` builds it
//! from the analyzer's events, and the x509.log records of the
//! certificates it carried. [`SslSession`] is fed handshake messages and
//! record starts by whoever reads the bytes: the TCP parser
//! ([`super::parser`]) or the QUIC parser, which hands over the hellos of
//! the Initial CRYPTO stream the way Zeek's QUIC analyzer does.

use super::certificate::{certificate_chain, fingerprint_sha256, parse_certificate, CertInfo};
use super::client_hello::{parse_client_hello, ClientHello};
use super::fingerprint::{ja3, ja3s, ja4, ja4s, Carrier};
use super::names::{alert_name, curve_name};
use super::server_hello::{
    parse_server_hello, parse_server_key_exchange_curve, resumed_by_ticket, ServerHello,
};
use crate::applayer::{ConnIdent, Session};
use vagt_schema::{EventBody, SslRecord, X509Record};

/// Zeek's `SSL::max_ssl_history_length`.
const MAX_HISTORY: usize = 100;
/// Certificates kept per chain: real chains have 2 to 4; the cap bounds
/// what a hostile peer can make the record hold.
pub const MAX_CHAIN: usize = 10;

/// Zeek's ssl_history letter of a handshake message type.
fn letter(msg_type: u8, hrr: bool) -> char {
    match msg_type {
        0 => 'h',
        1 => 'c',
        2 if hrr => 'j',
        2 => 's',
        3 => 'v',
        4 => 't',
        5 => 'e',
        6 => 'j',
        8 => 'o',
        11 => 'x',
        12 => 'k',
        13 => 'r',
        14 => 'n',
        15 => 'y',
        16 => 'g',
        20 => 'f',
        21 => 'w',
        22 => 'u',
        23 => 'a',
        24 => 'p',
        254 => 'm',
        _ => 'z',
    }
}

/// The state of one handshake's record.
pub struct SslSession {
    carrier: Carrier,
    rec: Option<SslRecord>,
    client: Option<ClientHello>,
    cipher: Option<u16>,
    client_kx_seen: bool,
    /// Which side has sent ChangeCipherSpec: [client, server].
    ccs: [bool; 2],
    established: bool,
    logged: bool,
    /// Fingerprints already written to x509 in this connection.
    seen_certs: Vec<(String, bool, bool)>,
}

impl SslSession {
    pub fn new(carrier: Carrier) -> SslSession {
        SslSession {
            carrier,
            rec: None,
            client: None,
            cipher: None,
            client_kx_seen: false,
            ccs: [false; 2],
            established: false,
            logged: false,
            seen_certs: Vec::new(),
        }
    }

    /// Zeek's `set_session`: the record exists from the first event on.
    fn rec(&mut self, s: &Session<'_>) -> &mut SslRecord {
        self.rec.get_or_insert_with(|| SslRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            version: None,
            cipher: None,
            curve: None,
            server_name: None,
            resumed: false,
            last_alert: None,
            next_protocol: None,
            established: false,
            ssl_history: String::new(),
            cert_chain_fps: None,
            client_cert_chain_fps: None,
            subject: None,
            issuer: None,
            client_subject: None,
            client_issuer: None,
            sni_matches_cert: None,
            ja3: None,
            ja3s: None,
            ja4: None,
            ja4s: None,
        })
    }

    fn history(&mut self, s: &mut Session<'_>, is_client: bool, c: char) {
        let h = &mut self.rec(s).ssl_history;
        if h.len() >= MAX_HISTORY {
            return;
        }
        h.push(if is_client { c.to_ascii_uppercase() } else { c });
        if h.len() == MAX_HISTORY {
            s.weird("SSL_max_ssl_history_length_reached");
        }
    }

    /// The handshake was seen from the other side first: Zeek's `^`.
    pub fn flipped(&mut self, s: &Session<'_>) {
        self.rec(s).ssl_history.push('^');
    }

    /// Whether the record has been written (established, or ended).
    pub fn logged(&self) -> bool {
        self.logged
    }

    pub fn established(&self) -> bool {
        self.established
    }

    /// A whole plaintext handshake message.
    pub fn handshake(&mut self, s: &mut Session<'_>, is_client: bool, msg_type: u8, body: &[u8]) {
        if self.logged {
            return;
        }
        let mut hrr = false;
        match msg_type {
            1 if is_client => self.client_hello(s, body),
            2 if !is_client => hrr = self.server_hello(s, body),
            11 => self.certificates(s, is_client, body),
            12 if !is_client => {
                if let Some(c) = self
                    .cipher
                    .and_then(|cipher| parse_server_key_exchange_curve(body, cipher))
                {
                    self.rec(s).curve = Some(curve_name(c).into_owned());
                }
            }
            16 if is_client => self.client_kx_seen = true,
            _ => {}
        }
        self.history(s, is_client, letter(msg_type, hrr));
    }

    /// A handshake message too large to read: only its letter is known.
    pub fn skipped(&mut self, s: &mut Session<'_>, is_client: bool, msg_type: u8) {
        if !self.logged {
            self.history(s, is_client, letter(msg_type, false));
        }
    }

    fn client_hello(&mut self, s: &mut Session<'_>, body: &[u8]) {
        let ch = match parse_client_hello(body) {
            Ok(ch) => ch,
            Err(_) => {
                s.weird("SSL_malformed_client_hello");
                return;
            }
        };
        let carrier = self.carrier;
        let r = self.rec(s);
        if let Some(name) = ch.server_name() {
            r.server_name = Some(name.to_string());
        }
        if ch.server_names.len() > 1 {
            s.weird("SSL_many_server_names");
        }
        r.ja3 = Some(ja3(&ch));
        r.ja4 = Some(ja4(&ch, carrier));
        // A second ClientHello (after a HelloRetryRequest) replaces the
        // first, as Zeek's session id and ticket flags are reset by it.
        self.client = Some(ch);
    }

    /// Returns whether the hello is a HelloRetryRequest.
    fn server_hello(&mut self, s: &mut Session<'_>, body: &[u8]) -> bool {
        let sh: ServerHello = match parse_server_hello(body) {
            Ok(sh) => sh,
            Err(_) => {
                s.weird("SSL_malformed_server_hello");
                return false;
            }
        };
        let carrier = self.carrier;
        let resumed = self.client.as_ref().is_some_and(|ch| sh.resumed(ch));
        self.cipher = Some(sh.cipher);
        let r = self.rec(s);
        r.version = Some(sh.version_name().into_owned());
        r.cipher = Some(sh.cipher_name().into_owned());
        if let Some(c) = sh.curve_name() {
            r.curve = Some(c.into_owned());
        }
        if let Some(p) = sh.next_protocol() {
            r.next_protocol = Some(p);
        }
        r.resumed |= resumed;
        r.ja3s = Some(ja3s(&sh));
        r.ja4s = Some(ja4s(&sh, carrier));
        sh.hello_retry_request
    }

    fn certificates(&mut self, s: &mut Session<'_>, is_client: bool, body: &[u8]) {
        let Ok(chain) = certificate_chain(body) else {
            s.weird("SSL_malformed_certificate");
            return;
        };
        let mut fps = Vec::with_capacity(chain.len().min(MAX_CHAIN));
        for (i, der) in chain.iter().take(MAX_CHAIN).enumerate() {
            let fp = fingerprint_sha256(der);
            let info = parse_certificate(der).ok();
            if i == 0 {
                if let Some(info) = &info {
                    let r = self.rec(s);
                    if is_client {
                        r.client_subject = Some(info.subject.clone());
                        r.client_issuer = Some(info.issuer.clone());
                    } else {
                        r.subject = Some(info.subject.clone());
                        r.issuer = Some(info.issuer.clone());
                        r.sni_matches_cert =
                            r.server_name.as_deref().map(|n| hostname_matches(info, n));
                    }
                }
            }
            if let Some(info) = info {
                let host = i == 0 && !is_client;
                let key = (fp.clone(), host, is_client);
                if !self.seen_certs.contains(&key) && self.seen_certs.len() < 2 * MAX_CHAIN {
                    self.seen_certs.push(key);
                    s.emit(EventBody::X509(x509_record(s, &fp, info, host, is_client)));
                }
            } else {
                s.weird("x509_certificate_parse_error");
            }
            fps.push(fp);
        }
        let r = self.rec(s);
        if is_client {
            r.client_cert_chain_fps = Some(fps);
        } else {
            r.cert_chain_fps = Some(fps);
        }
    }

    /// A ChangeCipherSpec record.
    pub fn change_cipher_spec(&mut self, s: &mut Session<'_>, is_client: bool) {
        if self.logged {
            return;
        }
        self.history(s, is_client, 'i');
        self.ccs[usize::from(!is_client)] = true;
        if is_client {
            if let Some(ch) = &self.client {
                if resumed_by_ticket(ch, self.client_kx_seen) {
                    self.rec(s).resumed = true;
                }
            }
        }
    }

    /// A plaintext alert.
    pub fn alert(&mut self, s: &mut Session<'_>, is_client: bool, description: u8) {
        if self.logged {
            return;
        }
        self.history(s, is_client, 'l');
        self.rec(s).last_alert = Some(alert_name(description).into_owned());
    }

    /// A plaintext heartbeat record.
    pub fn heartbeat(&mut self, s: &mut Session<'_>, is_client: bool) {
        if !self.logged {
            self.history(s, is_client, 'b');
        }
    }

    /// A record sent after its sender's ChangeCipherSpec: once both sides
    /// have switched, the first one establishes the session and Zeek
    /// writes the record (and stops reading the connection).
    pub fn ciphertext(&mut self, s: &mut Session<'_>) {
        if self.ccs == [true, true] && !self.established && !self.logged {
            self.established = true;
            self.rec(s).established = true;
            self.finish(s);
        }
    }

    /// Writes the record if there is one and it was not written yet.
    pub fn finish(&mut self, s: &mut Session<'_>) {
        if self.logged {
            return;
        }
        if let Some(r) = self.rec.take() {
            self.logged = true;
            self.client = None;
            s.emit(EventBody::Ssl(r));
        }
    }
}

fn x509_record(
    s: &Session<'_>,
    fp: &str,
    c: CertInfo,
    host_cert: bool,
    client_cert: bool,
) -> X509Record {
    X509Record {
        ts: ConnIdent::time(s.ts),
        uid: s.conn.uid.clone(),
        id: s.conn.id,
        fingerprint: fp.to_string(),
        version: c.version,
        serial: c.serial,
        subject: c.subject,
        issuer: c.issuer,
        not_valid_before: c.not_valid_before as f64,
        not_valid_after: c.not_valid_after as f64,
        key_alg: c.key_alg,
        sig_alg: c.sig_alg,
        key_type: c.key_type.map(str::to_string),
        key_length: c.key_length,
        exponent: c.exponent,
        curve: c.curve.map(str::to_string),
        san_dns: c.san_dns,
        san_uri: c.san_uri,
        san_email: c.san_email,
        san_ip: c.san_ip,
        basic_constraints_ca: c.basic_constraints_ca,
        basic_constraints_path_len: c.basic_constraints_path_len,
        host_cert,
        client_cert,
    }
}

/// Zeek's `x509_check_cert_hostname`: the SNI against the certificate's
/// DNS names, or its common name when it has none; a leading `*.`
/// stands for exactly one label.
pub fn hostname_matches(c: &CertInfo, host: &str) -> bool {
    let cn;
    let names: Vec<&str> = if c.san_dns.is_empty() {
        cn = c
            .subject
            .split(',')
            .find_map(|p| p.strip_prefix("CN="))
            .unwrap_or("")
            .to_string();
        vec![cn.as_str()]
    } else {
        c.san_dns.iter().map(String::as_str).collect()
    };
    let host = host.trim_end_matches('.');
    names.iter().any(|n| {
        if n.eq_ignore_ascii_case(host) {
            return true;
        }
        match (n.strip_prefix("*."), host.split_once('.')) {
            (Some(suffix), Some((label, rest))) => {
                !label.is_empty() && rest.eq_ignore_ascii_case(suffix)
            }
            _ => false,
        }
    })
}
