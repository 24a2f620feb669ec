//! SSH as Zeek's `ssh.log` (plus HASSH): the version lines, the clear-text
//! key exchange (negotiated algorithms, server host key), and Zeek's
//! inference of the authentication outcome from the sizes of the first
//! encrypted packets.
//!
//! The size inference (Zeek's `SSH_Analyzer::ProcessEncrypted`) needs the
//! size of each encrypted TCP segment, not just the stream's bytes. It
//! relies on the framework handing in-order segments to `parse` one call
//! per segment (a segment held behind a hole is also delivered on its own,
//! and retransmitted bytes are trimmed): so one call is one segment, as one
//! `DeliverStream` is in Zeek. In the segment that carries NEWKEYS, only
//! the bytes after it count, as in Zeek.
//!
//! One record per connection: written as soon as a successful login is
//! inferred (Zeek then stops reading the connection, and so does this
//! parser), else when the connection ends. `direction` needs the site's
//! local networks, which the writer knows: [`set_direction`] fills it in
//! there.

mod kex;

use super::{ConnIdent, Dir, Parser, Session, Verdict};
use crate::decode::Addr;
use crate::site::Site;
use kex::{KexInit, KexMode};
use vagt_schema::{EventBody, SshRecord};

/// Longest version line (or line before it) kept; RFC 4253 allows 255.
const MAX_LINE: usize = 4096;
/// Lines a server may send before its version line (RFC 4253 4.2) that
/// are skipped before the direction is given up.
const MAX_PRE_BANNER_LINES: u32 = 1024;
/// Largest clear-text binary packet read (RFC 4253 asks for 35,000).
const MAX_PACKET: usize = 64 * 1024;

pub fn make(_conn: &ConnIdent) -> Box<dyn Parser> {
    Box::new(Ssh::default())
}

/// Where one direction is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Phase {
    /// Before the version line.
    #[default]
    Version,
    /// Binary packets in clear text (key exchange).
    Kex,
    /// After NEWKEYS: only segment sizes count.
    Encrypted,
    /// Nothing more is read.
    Off,
}

/// A version string's protocol as Zeek's parser classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proto {
    V1,
    V199,
    V2,
}

#[derive(Default)]
struct Side {
    phase: Phase,
    buf: Vec<u8>,
    /// Lines skipped before the version line.
    skipped: u32,
    /// A CR ended the last line; a LF right after it belongs to it.
    after_cr: bool,
    proto: Option<Proto>,
    kexinit: Option<KexInit>,
}

#[derive(Default)]
struct Ssh {
    sides: [Side; 2],
    rec: Option<SshRecord>,
    /// The protocol the connection speaks (Zeek's binpac `version_`).
    version: Option<Proto>,
    mode: Option<KexMode>,
    /// Both directions are finished (gap, or the login was decided).
    stopped: bool,
    // Zeek's size inference.
    saw_encrypted_client_data: bool,
    service_accept_size: i64,
    userauth_failure_size: i64,
    skipped_banner: bool,
}

impl Ssh {
    fn record(&mut self, s: &Session<'_>) -> &mut SshRecord {
        self.rec.get_or_insert_with(|| SshRecord {
            ts: ConnIdent::time(s.ts),
            uid: s.conn.uid.clone(),
            id: s.conn.id,
            version: None,
            auth_success: None,
            auth_attempts: 0,
            direction: None,
            client: None,
            server: None,
            cipher_alg: None,
            mac_alg: None,
            compression_alg: None,
            kex_alg: None,
            host_key_alg: None,
            host_key_fingerprint: None,
            hassh: None,
            hassh_server: None,
        })
    }

    fn version_line(&mut self, s: &Session<'_>, dir: Dir, line: &[u8]) {
        let text = String::from_utf8_lossy(line).into_owned();
        let side = &mut self.sides[dir.index()];
        side.phase = Phase::Kex;
        side.proto = match line.get(4) {
            Some(b'2') => Some(Proto::V2),
            Some(b'1') if line.get(6) == Some(&b'9') && line.get(7) == Some(&b'9') => {
                Some(Proto::V199)
            }
            Some(b'1') => Some(Proto::V1),
            _ => side.proto,
        };
        let (c, sv) = (self.sides[0].proto, self.sides[1].proto);
        // Zeek's `update_version`: what a pair of versions speaks.
        self.version = match (c, sv) {
            (Some(Proto::V199), Some(Proto::V199)) => Some(Proto::V2),
            (a, b) if a == b => a,
            (Some(Proto::V199), Some(Proto::V2)) | (Some(Proto::V2), Some(Proto::V199)) => {
                Some(Proto::V2)
            }
            (Some(Proto::V1), Some(Proto::V199)) | (Some(Proto::V199), Some(Proto::V1)) => {
                Some(Proto::V1)
            }
            (Some(Proto::V1), Some(Proto::V2)) | (Some(Proto::V2), Some(Proto::V1)) => None,
            _ => self.version,
        };
        let r = self.record(s);
        if dir.is_orig() {
            r.client = Some(text);
        } else {
            r.server = Some(text);
        }
        r.version = log_version(r.client.as_deref(), r.server.as_deref()).or(r.version);
    }

    /// Reads lines until the version line; true when it was found.
    fn lines(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> usize {
        let mut at = 0;
        while at < data.len() && self.sides[dir.index()].phase == Phase::Version {
            let side = &mut self.sides[dir.index()];
            if side.after_cr {
                side.after_cr = false;
                if data[at] == b'\n' {
                    at += 1;
                    continue;
                }
            }
            let rest = &data[at..];
            let Some(end) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                side.buf.extend_from_slice(rest);
                if side.buf.len() > MAX_LINE {
                    s.weird("ssh_version_line_too_long");
                    side.phase = Phase::Off;
                    side.buf = Vec::new();
                }
                return data.len();
            };
            side.after_cr = rest[end] == b'\r';
            at += end + 1;
            let line = if side.buf.is_empty() {
                rest[..end].to_vec()
            } else {
                let mut l = std::mem::take(&mut side.buf);
                l.extend_from_slice(&rest[..end]);
                l
            };
            if line.starts_with(b"SSH-") {
                self.version_line(s, dir, &line);
            } else {
                // Servers may send other lines first (RFC 4253 4.2).
                side.skipped += 1;
                if side.skipped > MAX_PRE_BANNER_LINES {
                    s.weird("ssh_too_many_lines_before_version");
                    side.phase = Phase::Off;
                }
            }
        }
        at
    }

    /// Reads clear-text binary packets; returns the bytes of this segment
    /// that follow NEWKEYS (encrypted), if it came.
    fn packets(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> usize {
        if self.version != Some(Proto::V2) {
            // Zeek cannot frame packets before both versions are known (or
            // for SSH-1, whose size inference it does not run either).
            if self.version.is_none() {
                s.weird("ssh_packet_before_versions");
                // Zeek's parser fails here and the analyzer is removed.
                self.stopped = true;
            }
            self.sides[dir.index()].phase = Phase::Off;
            return 0;
        }
        let mut buf = std::mem::take(&mut self.sides[dir.index()].buf);
        let held = buf.len();
        buf.extend_from_slice(data);
        let mut at = 0;
        let mut encrypted = 0;
        while let Some(len) = buf.get(at..at + 4) {
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            if len > MAX_PACKET {
                s.weird("ssh_packet_too_long");
                self.sides[dir.index()].phase = Phase::Off;
                return 0;
            }
            let Some(packet) = buf.get(at + 4..at + 4 + len) else {
                break;
            };
            at += 4 + len;
            if self.message(s, dir, packet) {
                // The rest of this segment is encrypted.
                encrypted = (buf.len() - at).min(buf.len() - held);
                at = buf.len();
                break;
            }
            if self.sides[dir.index()].phase == Phase::Off {
                return 0;
            }
        }
        buf.drain(..at);
        self.sides[dir.index()].buf = buf;
        encrypted
    }

    /// One binary packet (padding length, type, payload, padding); true on
    /// NEWKEYS.
    fn message(&mut self, s: &mut Session<'_>, dir: Dir, packet: &[u8]) -> bool {
        let (Some(&pad), Some(&msg_type)) = (packet.first(), packet.get(1)) else {
            s.weird("ssh_short_packet");
            return false;
        };
        let Some(payload) = packet.get(2..packet.len().saturating_sub(usize::from(pad))) else {
            s.weird("ssh_bad_padding");
            return false;
        };
        match msg_type {
            kex::MSG_NEWKEYS => {
                self.sides[dir.index()].phase = Phase::Encrypted;
                return true;
            }
            kex::MSG_KEXINIT if self.sides[dir.index()].kexinit.is_none() => {
                match kex::kexinit(payload) {
                    Some(k) => self.got_kexinit(s, dir, k),
                    None => s.weird("ssh_bad_kexinit"),
                }
            }
            t => {
                let key = self.mode.and_then(|m| kex::host_key(m, t, payload));
                if let Some(key) = key {
                    let fp = kex::fingerprint(key);
                    self.record(s).host_key_fingerprint = Some(fp);
                }
            }
        }
        false
    }

    fn got_kexinit(&mut self, s: &Session<'_>, dir: Dir, k: KexInit) {
        let h = kex::hassh(&k, dir.is_orig());
        self.sides[dir.index()].kexinit = Some(k);
        let [c, sv] = &self.sides;
        let algs = match (&c.kexinit, &sv.kexinit) {
            (Some(c), Some(sv)) => Some((
                kex::find_bidirectional(&c.enc_c2s, &c.enc_s2c, &sv.enc_c2s, &sv.enc_s2c),
                kex::find_bidirectional(&c.mac_c2s, &c.mac_s2c, &sv.mac_c2s, &sv.mac_s2c),
                kex::find_bidirectional(&c.comp_c2s, &c.comp_s2c, &sv.comp_c2s, &sv.comp_s2c),
                kex::find_alg(&c.kex, &sv.kex),
                kex::find_alg(&c.host_key, &sv.host_key),
            )),
            _ => None,
        };
        if let Some((_, _, _, kex_alg, _)) = &algs {
            self.mode = Some(kex::kex_mode(kex_alg));
        }
        let r = self.record(s);
        if dir.is_orig() {
            r.hassh = Some(h);
        } else {
            r.hassh_server = Some(h);
        }
        if let Some((cipher, mac, comp, kex_alg, host_key)) = algs {
            r.cipher_alg = Some(cipher);
            r.mac_alg = Some(mac);
            r.compression_alg = Some(comp);
            r.kex_alg = Some(kex_alg);
            r.host_key_alg = Some(host_key);
        }
    }

    /// Zeek's `ProcessEncrypted`: one encrypted segment of `len` bytes.
    /// True once a successful login was seen.
    fn encrypted(&mut self, s: &mut Session<'_>, dir: Dir, len: usize) -> bool {
        if self.version != Some(Proto::V2) {
            return false;
        }
        let len = len as i64;
        if dir.is_orig() {
            self.saw_encrypted_client_data = true;
            return false;
        }
        if !self.saw_encrypted_client_data {
            return false;
        }
        // The first server packet is SERVICE_ACCEPT; USERAUTH_SUCCESS is 16
        // bytes shorter; USERAUTH_FAILURE repeats its size (unless it was
        // a login banner, over 256 bytes longer).
        if self.service_accept_size == 0 {
            self.service_accept_size = len;
            return false;
        }
        if self.userauth_failure_size == 0 && len + 16 == self.service_accept_size {
            return self.attempt(s, true);
        }
        if self.userauth_failure_size == 0 {
            if !self.skipped_banner && len - self.service_accept_size > 256 {
                self.skipped_banner = true;
                return false;
            }
            self.userauth_failure_size = len;
            return false;
        }
        if len == self.userauth_failure_size {
            return self.attempt(s, false);
        }
        if len - self.service_accept_size == -16 {
            return self.attempt(s, true);
        }
        false
    }

    /// Zeek's `ssh_auth_attempted` handler; true on success.
    fn attempt(&mut self, s: &mut Session<'_>, success: bool) -> bool {
        let r = self.record(s);
        if r.auth_success == Some(true) {
            return true;
        }
        // Compression changes the sizes: Zeek does not guess then.
        if matches!(
            r.compression_alg.as_deref(),
            Some("zlib" | "zlib@openssh.com")
        ) {
            return success;
        }
        r.auth_success = Some(success);
        r.auth_attempts += 1;
        if success {
            self.write(s);
        }
        success
    }

    fn write(&mut self, s: &mut Session<'_>) {
        if let Some(r) = self.rec.take() {
            s.emit(EventBody::Ssh(r));
        }
    }
}

/// Zeek's script-level `set_version`: the version logged once both
/// version strings are known.
fn log_version(client: Option<&str>, server: Option<&str>) -> Option<u8> {
    let (c, s) = (client?.as_bytes(), server?.as_bytes());
    if c.len() <= 4 || s.len() <= 4 {
        return None;
    }
    let is_199 = |v: &[u8]| v.len() > 7 && v[6] == b'9' && v[7] == b'9';
    match (c[4], s[4]) {
        (b'1', b'2') => Some(if is_199(c) { 2 } else { 0 }),
        (b'2', b'1') => Some(if is_199(s) { 2 } else { 0 }),
        (b'1', b'1') => Some(if is_199(s) && is_199(c) { 2 } else { 1 }),
        (b'2', b'2') => Some(2),
        _ => None,
    }
}

impl Parser for Ssh {
    fn parse(&mut self, s: &mut Session<'_>, dir: Dir, data: &[u8]) -> Verdict {
        if self.stopped {
            return Verdict::Done;
        }
        let mut data = data;
        loop {
            match self.sides[dir.index()].phase {
                Phase::Version => {
                    let used = self.lines(s, dir, data);
                    data = data.get(used..).unwrap_or_default();
                    if data.is_empty() {
                        break;
                    }
                }
                Phase::Kex => {
                    // The LF of a version line that ended in CR LF.
                    let side = &mut self.sides[dir.index()];
                    if std::mem::take(&mut side.after_cr) && data.first() == Some(&b'\n') {
                        data = &data[1..];
                        if data.is_empty() {
                            break;
                        }
                    }
                    let encrypted = self.packets(s, dir, data);
                    if encrypted > 0 && self.encrypted(s, dir, encrypted) {
                        self.stopped = true;
                    }
                    break;
                }
                Phase::Encrypted => {
                    if self.encrypted(s, dir, data.len()) {
                        self.stopped = true;
                    }
                    break;
                }
                Phase::Off => break,
            }
        }
        if self.stopped || self.sides[dir.index()].phase == Phase::Off {
            return Verdict::Done;
        }
        Verdict::More
    }

    fn gap(&mut self, _s: &mut Session<'_>, _dir: Dir, _len: u64) -> Verdict {
        // Zeek stops reading both directions after a gap in either.
        self.stopped = true;
        Verdict::Done
    }

    fn close(&mut self, s: &mut Session<'_>) {
        self.write(s);
    }
}

/// Fills in `direction` of an SSH record, which needs the site: OUTBOUND
/// when only the client is local, INBOUND when only the server is. Like
/// Zeek's default (`Site::private_address_space_is_local`), private and
/// other non-routed address space counts as local besides the site's own
/// networks.
pub fn set_direction(body: &mut EventBody, site: &Site, orig: &Addr, resp: &Addr) {
    if let EventBody::Ssh(r) = body {
        let local = |a: &Addr| site.is_local(a) || private(&a.to_ip());
        let (o, p) = (local(orig), local(resp));
        if o != p {
            r.direction = Some(if o { "OUTBOUND" } else { "INBOUND" }.to_string());
        }
    }
}

/// Zeek's `Site::private_address_space`.
fn private(ip: &std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(a) => {
            let [a0, a1, a2, _] = a.octets();
            a0 == 0
                || a0 == 10
                || (a0 == 100 && (64..128).contains(&a1))
                || a0 == 127
                || (a0 == 169 && a1 == 254)
                || (a0 == 172 && (16..32).contains(&a1))
                || (a0 == 192 && a1 == 0 && (a2 == 0 || a2 == 2))
                || (a0 == 192 && a1 == 168)
                || (a0 == 198 && (18..20).contains(&a1))
                || (a0 == 198 && a1 == 51 && a2 == 100)
                || (a0 == 203 && a1 == 0 && a2 == 113)
                || a0 >= 240
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            // 6to4 addresses of the IPv4 ranges above.
            if s[0] == 0x2002 {
                let v4 = std::net::Ipv4Addr::new(
                    (s[1] >> 8) as u8,
                    s[1] as u8,
                    (s[2] >> 8) as u8,
                    s[2] as u8,
                );
                return private(&IpAddr::V4(v4));
            }
            a.is_unspecified()
                || a.is_loopback()
                || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
                || (s[0] == 0x100 && s[1] == 0 && s[2] == 0 && s[3] == 0)
                || (s[0] == 0x2001 && s[1] < 0x200)
                || (s[0] == 0x2001 && s[1] == 0xdb8)
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests;
