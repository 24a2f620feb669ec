//! RDP as Zeek's `rdp.log`: the clear-text start of a connection (TPKT,
//! X.224 connection request and confirm, the MCS connect-initial and
//! connect-response with their GCC data blocks), read until TLS, CredSSP
//! or RDP's own encryption takes over. One record per connection, written
//! once encryption begins (nothing after it is readable), after 20 seconds
//! (Zeek writes its record between 10 and 20 seconds in, so that long
//! sessions do not hold it), or when the connection ends.

mod keyboards;
mod mcs;

use super::{ConnIdent, Dir, Parser, Session, Verdict};
use vagt_schema::{EventBody, RdpRecord};

/// Zeek writes a session's record once `rdp_check_interval` (10 s) has
/// passed at its second check.
const WRITE_AFTER_NS: i64 = 20_000_000_000;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Rdp::default())
}

#[derive(Default)]
struct Rdp {
    rec: Option<RdpRecord>,
    start: i64,
    written: bool,
    /// Encryption began: nothing more is readable.
    encrypted: bool,
    buf: [Vec<u8>; 2],
}

/// Zeek's `RDP::security_protocols`.
fn security_protocol(p: u32) -> String {
    match p {
        0 => "RDP".into(),
        1 => "SSL".into(),
        2 => "HYBRID".into(),
        8 => "HYBRID_EX".into(),
        n => format!("security_protocol-{n}"),
    }
}

/// Zeek's `RDP::failure_codes`.
fn failure(code: u32) -> String {
    match code {
        1 => "SSL_REQUIRED_BY_SERVER".into(),
        2 => "SSL_NOT_ALLOWED_BY_SERVER".into(),
        3 => "SSL_CERT_NOT_ON_SERVER".into(),
        4 => "INCONSISTENT_FLAGS".into(),
        5 => "HYBRID_REQUIRED_BY_SERVER".into(),
        6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER".into(),
        n => format!("failure_code-{n}"),
    }
}

impl Rdp {
    fn record(&mut self, s: &Session<'_>) -> &mut RdpRecord {
        if self.rec.is_none() {
            self.start = s.ts;
        }
        self.rec.get_or_insert_with(|| RdpRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            cookie: None,
            result: None,
            security_protocol: None,
            client_channels: None,
            keyboard_layout: None,
            client_build: None,
            client_name: None,
            client_dig_product_id: None,
            desktop_width: None,
            desktop_height: None,
            requested_color_depth: None,
            cert_type: None,
            cert_count: 0,
            cert_permanent: None,
            encryption_level: None,
            encryption_method: None,
        })
    }

    /// Zeek's `write_log`: once, and only a record that shows RDP.
    fn write(&mut self, s: &mut Session<'_>) {
        if self.written {
            return;
        }
        let Some(r) = self.rec.take() else {
            return;
        };
        self.written = true;
        if r.cookie.is_some() || r.keyboard_layout.is_some() || r.result.is_some() {
            s.emit(EventBody::Rdp(r));
        }
    }

    /// Zeek's `rdp_begin_encryption`.
    fn begin_encryption(&mut self, s: &Session<'_>, protocol: u32) {
        self.encrypted = true;
        let r = self.record(s);
        r.result.get_or_insert_with(|| "encrypted".into());
        r.security_protocol = Some(security_protocol(protocol));
    }

    /// One TPKT payload: the X.224 (COTP) header and what it carries.
    fn tpdu(&mut self, s: &mut Session<'_>, p: &[u8]) {
        let (Some(&li), Some(&code)) = (p.first(), p.get(1)) else {
            s.weird("rdp_short_cotp");
            return;
        };
        let header_end = (usize::from(li) + 1).min(p.len());
        match code & 0xf0 {
            0xe0 => self.connect_request(s, p.get(7..header_end).unwrap_or_default()),
            0xd0 => self.connect_confirm(s, p.get(7..header_end).unwrap_or_default()),
            0xf0 => {
                let data = p.get(header_end..).unwrap_or_default();
                match (data.first(), data.get(1)) {
                    (Some(0x7f), Some(0x65)) => {
                        if let Some(c) = mcs::client(data) {
                            self.client_data(s, c);
                        }
                    }
                    (Some(0x7f), Some(0x66)) => {
                        if let Some(sv) = mcs::server(data) {
                            self.server_data(s, sv);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// The variable part of a connection request: the `mstshash` cookie
    /// line and the negotiation request.
    fn connect_request(&mut self, s: &Session<'_>, v: &[u8]) {
        const COOKIE: &[u8] = b"Cookie: mstshash=";
        let cookie = v
            .strip_prefix(COOKIE)
            .map(|rest| {
                let end = rest
                    .windows(2)
                    .position(|w| w == b"\r\n")
                    .unwrap_or(rest.len());
                String::from_utf8_lossy(&rest[..end]).into_owned()
            })
            .unwrap_or_default();
        self.record(s).cookie = Some(cookie);
    }

    /// The variable part of a connection confirm: negotiation response
    /// (type 2) or failure (type 3).
    fn connect_confirm(&mut self, s: &Session<'_>, v: &[u8]) {
        let (Some(&kind), Some(value)) = (v.first(), v.get(4..8)) else {
            return;
        };
        let value = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
        match kind {
            2 => {
                self.record(s).security_protocol = Some(security_protocol(value));
                // TLS (or CredSSP over TLS) follows a non-zero choice.
                if value > 0 {
                    self.begin_encryption(s, value);
                }
            }
            3 => self.record(s).result = Some(failure(value)),
            _ => {}
        }
    }

    fn client_data(&mut self, s: &mut Session<'_>, c: mcs::Client) {
        if c.channels_over_max {
            s.weird("RDP_channels_requested_exceeds_max");
        }
        let r = self.record(s);
        if let Some(core) = c.core {
            r.keyboard_layout = Some(keyboards::name(core.keyboard_layout));
            r.client_build = Some(mcs::build_name(core.client_build));
            r.client_name = Some(core.client_name);
            r.client_dig_product_id = Some(core.dig_product_id);
            r.desktop_width = Some(core.desktop_width);
            r.desktop_height = Some(core.desktop_height);
            r.requested_color_depth = Some(core.color_depth);
        }
        if let Some(ch) = c.channels {
            r.client_channels = Some(ch);
        }
    }

    fn server_data(&mut self, s: &mut Session<'_>, sv: mcs::Server) {
        let r = self.record(s);
        if let Some(result) = sv.result {
            r.result = Some(mcs::result_name(result));
        }
        let Some(sec) = sv.security else {
            return;
        };
        r.encryption_method = Some(mcs::method_name(sec.method));
        r.encryption_level = Some(mcs::level_name(sec.level));
        if let Some((cert_type, permanent, certs)) = sec.cert {
            r.cert_type = Some(match cert_type {
                1 => "RSA".into(),
                2 => "X.509".into(),
                n => format!("cert_type-{n}"),
            });
            r.cert_count = r.cert_count.saturating_add(certs);
            r.cert_permanent = Some(permanent);
        }
        if sec.method > 0 && sec.level > 0 {
            self.begin_encryption(s, 0);
        }
    }
}

impl Parser for Rdp {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.rec.is_some() && s.ts - self.start > WRITE_AFTER_NS {
            self.write(s);
        }
        if self.encrypted || self.written {
            self.write(s);
            return Verdict::Done;
        }
        let mut buf = std::mem::take(&mut self.buf[dir.index()]);
        buf.extend_from_slice(data);
        let mut at = 0;
        while let Some(h) = buf.get(at..at + 4) {
            if h[0] != 3 {
                // Not TPKT (fast-path or TLS): nothing more to read here.
                s.weird("rdp_not_tpkt");
                return Verdict::Done;
            }
            let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
            if len < 4 {
                s.weird("rdp_bad_tpkt_length");
                return Verdict::Done;
            }
            let Some(pdu) = buf.get(at + 4..at + len) else {
                break;
            };
            self.tpdu(s, pdu);
            at += len;
            if self.encrypted {
                self.write(s);
                return Verdict::Done;
            }
        }
        buf.drain(..at);
        self.buf[dir.index()] = buf;
        Verdict::More
    }

    fn gap(&mut self, _s: &mut Session<'_>, dir: Dir, _len: u64) -> Verdict {
        self.buf[dir.index()] = Vec::new();
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.write(s);
    }
}

#[cfg(test)]
mod tests;
