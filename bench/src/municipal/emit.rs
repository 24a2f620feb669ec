//! Building the events: what the sensor would write for a connection and
//! its application records, filled in consistently (uid and Community ID
//! shared by a connection's records; packets, IP and link bytes, state and
//! history that agree with the payload sizes; `local_orig`/`local_resp`
//! from the municipality's 10.0.0.0/8). Every builder appends to one
//! day's buffer; `mod.rs` orders the buffer by packet time.

use sha1::{Digest, Sha1};
use std::net::{IpAddr, Ipv4Addr};
use vagt_schema::*;

/// The envelope's municipality and sensor (a made-up kommunekode).
const MUNICIPALITY: &str = "0999";
const SENSOR: &str = "vagt-gen";

/// A connection to write.
#[derive(Clone, Debug)]
pub struct Conn {
    pub ts: f64,
    pub dur: f64,
    pub orig: Ipv4Addr,
    pub oport: u16,
    pub resp: Ipv4Addr,
    pub rport: u16,
    pub proto: Proto,
    pub service: Option<&'static str>,
    pub ob: u64,
    pub rb: u64,
    pub state: ConnState,
}

impl Conn {
    /// A completed TCP connection.
    pub fn tcp(ts: f64, orig: Ipv4Addr, oport: u16, resp: Ipv4Addr, rport: u16) -> Conn {
        Conn {
            ts,
            dur: 0.5,
            orig,
            oport,
            resp,
            rport,
            proto: Proto::Tcp,
            service: None,
            ob: 500,
            rb: 2000,
            state: ConnState::Sf,
        }
    }

    pub fn udp(ts: f64, orig: Ipv4Addr, oport: u16, resp: Ipv4Addr, rport: u16) -> Conn {
        Conn {
            proto: Proto::Udp,
            dur: 0.01,
            ob: 48,
            rb: 48,
            ..Conn::tcp(ts, orig, oport, resp, rport)
        }
    }

    pub fn service(mut self, s: &'static str) -> Conn {
        self.service = Some(s);
        self
    }

    pub fn bytes(mut self, ob: u64, rb: u64) -> Conn {
        self.ob = ob;
        self.rb = rb;
        self
    }

    pub fn dur(mut self, d: f64) -> Conn {
        self.dur = d;
        self
    }

    pub fn state(mut self, s: ConnState) -> Conn {
        self.state = s;
        self
    }

    pub fn id(&self) -> ConnId {
        ConnId {
            orig_h: IpAddr::V4(self.orig),
            orig_p: self.oport,
            resp_h: IpAddr::V4(self.resp),
            resp_p: self.rport,
        }
    }
}

/// Whether an address is the municipality's own.
pub fn local(ip: Ipv4Addr) -> bool {
    ip.octets()[0] == 10
}

/// Community ID v1, seed 0, for an IPv4 TCP or UDP flow.
pub fn community_id(c: &Conn) -> String {
    let proto = if c.proto == Proto::Tcp { 6u8 } else { 17 };
    let (mut sa, mut sp, mut da, mut dp) = (c.orig, c.oport, c.resp, c.rport);
    if (da.octets(), dp) < (sa.octets(), sp) {
        std::mem::swap(&mut sa, &mut da);
        std::mem::swap(&mut sp, &mut dp);
    }
    let mut h = Sha1::new();
    h.update(0u16.to_be_bytes());
    h.update(sa.octets());
    h.update(da.octets());
    h.update([proto, 0]);
    h.update(sp.to_be_bytes());
    h.update(dp.to_be_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(30);
    out.push_str("1:");
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in digest.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// One day's events, and the counter that makes uids unique.
pub struct Sink {
    pub events: Vec<Event>,
    /// Segment names, by index (the envelope's segment).
    names: Vec<String>,
    next: u64,
}

impl Sink {
    /// A buffer whose uids start from `first` (each day gets its own range,
    /// so days can be drawn independently and still never share a uid).
    pub fn new(names: Vec<String>, first: u64) -> Sink {
        Sink {
            events: Vec::new(),
            names,
            next: first,
        }
    }

    /// A fresh uid: "C" and 11 base62 digits of a scrambled counter.
    pub fn uid(&mut self) -> String {
        self.next += 1;
        let mut v = super::rand::mix(self.next);
        const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut s = String::with_capacity(12);
        s.push('C');
        for _ in 0..11 {
            s.push(DIGITS[(v % 62) as usize] as char);
            v /= 62;
        }
        s
    }

    pub fn push(&mut self, seg: usize, body: EventBody) {
        let origin = Origin {
            municipality: MUNICIPALITY.to_string(),
            sensor: SENSOR.to_string(),
            segment: self.names.get(seg).cloned().unwrap_or_default(),
        };
        self.events.push(Event::new(origin, body));
    }

    /// Writes a conn record; returns its uid and Community ID for the
    /// application records of the same connection.
    pub fn conn(&mut self, seg: usize, c: &Conn) -> String {
        let uid = self.uid();
        self.conn_with(seg, c, uid.clone());
        uid
    }

    fn conn_with(&mut self, seg: usize, c: &Conn, uid: String) {
        let tcp = c.proto == Proto::Tcp;
        let mss = 1400;
        let (opk, rpk, history) = match (tcp, c.state) {
            (true, ConnState::Sf) => (
                3 + c.ob.div_ceil(mss) + c.rb / (2 * mss),
                2 + c.rb.div_ceil(mss) + c.ob / (2 * mss),
                "ShADadFf",
            ),
            (true, ConnState::S0) => (1 + u64::from(c.dur > 0.9) * 2, 0, "S"),
            (true, ConnState::Rej) => (1, 1, "Sr"),
            (true, ConnState::Rsto) => (3 + c.ob.div_ceil(mss), 2 + c.rb.div_ceil(mss), "ShADadR"),
            (true, ConnState::Rstr) => (3 + c.ob.div_ceil(mss), 2 + c.rb.div_ceil(mss), "ShADadr"),
            (true, ConnState::S1) => (3 + c.ob.div_ceil(mss), 2 + c.rb.div_ceil(mss), "ShADad"),
            (true, _) => (2, 1, "ShR"),
            (false, ConnState::S0) => (1 + c.ob / 512, 0, "D"),
            (false, _) => (1 + c.ob / 512, 1 + c.rb / 512, "Dd"),
        };
        let hdr = if tcp { 52 } else { 28 };
        let (ob, rb) = match c.state {
            ConnState::S0 | ConnState::Rej => (0, 0),
            _ => (c.ob, c.rb),
        };
        let oip = ob + opk * hdr;
        let rip = rb + rpk * hdr;
        let cid = community_id(c);
        let rec = ConnRecord {
            ts: c.ts,
            uid,
            orig_h: IpAddr::V4(c.orig),
            orig_p: c.oport,
            resp_h: IpAddr::V4(c.resp),
            resp_p: c.rport,
            proto: c.proto,
            service: c.service.map(str::to_string),
            duration: (c.dur > 0.0).then_some(c.dur),
            orig_bytes: Some(ob),
            resp_bytes: Some(rb),
            conn_state: c.state,
            local_orig: Some(local(c.orig)),
            local_resp: Some(local(c.resp)),
            missed_bytes: 0,
            history: Some(history.to_string()),
            orig_pkts: opk,
            orig_ip_bytes: oip,
            resp_pkts: rpk,
            resp_ip_bytes: rip,
            tunnel_parents: Vec::new(),
            ip_proto: if tcp { 6 } else { 17 },
            vlan: Some(100 + seg as u16),
            inner_vlan: None,
            third_vlan: None,
            orig_l2_addr: None,
            resp_l2_addr: None,
            community_id: cid,
            orig_link_bytes: oip + opk * 14,
            resp_link_bytes: rip + rpk * 14,
            tunnel_depth: 0,
            interim: false,
            end_reason: Some(if c.state == ConnState::S0 {
                EndReason::Timeout
            } else {
                EndReason::Closed
            }),
        };
        self.push(seg, EventBody::Conn(rec));
    }

    /// A DNS query over UDP to `server` and its answer.
    #[allow(clippy::too_many_arguments)]
    pub fn dns(
        &mut self,
        seg: usize,
        ts: f64,
        client: Ipv4Addr,
        server: Ipv4Addr,
        query: &str,
        qtype: u16,
        rcode: u16,
        answers: Vec<String>,
        trans_id: u16,
    ) {
        let c = Conn::udp(ts, client, 49152 + trans_id % 16000, server, 53)
            .service("dns")
            .bytes(
                30 + query.len() as u64,
                46 + query.len() as u64 + 16 * answers.len() as u64,
            )
            .dur(0.004);
        let uid = self.conn(seg, &c);
        let qtype_name = match qtype {
            1 => "A",
            10 => "NULL",
            16 => "TXT",
            28 => "AAAA",
            33 => "SRV",
            _ => "PTR",
        };
        let ttls = answers.iter().map(|_| 300.0).collect();
        self.push(
            seg,
            EventBody::Dns(DnsRecord {
                ts,
                uid,
                id: c.id(),
                proto: Proto::Udp,
                trans_id,
                rtt: Some(0.004),
                query: Some(query.to_string()),
                qclass: Some(1),
                qclass_name: Some("C_INTERNET".into()),
                qtype: Some(qtype),
                qtype_name: Some(qtype_name.into()),
                rcode: Some(rcode),
                rcode_name: Some(if rcode == 3 { "NXDOMAIN" } else { "NOERROR" }.into()),
                aa: false,
                tc: false,
                rd: true,
                ra: true,
                z: 0,
                answers,
                ttls,
                rejected: false,
                opcode: Some(0),
                opcode_name: Some("query".into()),
            }),
        );
    }

    /// A TLS handshake record for connection `c` (already written as `uid`).
    pub fn ssl(&mut self, seg: usize, c: &Conn, uid: String, sni: &str, ja: (&str, &str)) {
        self.push(
            seg,
            EventBody::Ssl(SslRecord {
                ts: c.ts,
                uid,
                id: c.id(),
                version: Some("TLSv13".into()),
                cipher: Some("TLS_AES_128_GCM_SHA256".into()),
                curve: Some("x25519".into()),
                server_name: Some(sni.to_string()),
                resumed: false,
                last_alert: None,
                next_protocol: Some("h2".into()),
                established: true,
                ssl_history: "CsiI".into(),
                cert_chain_fps: None,
                client_cert_chain_fps: None,
                subject: None,
                issuer: None,
                client_subject: None,
                client_issuer: None,
                sni_matches_cert: None,
                ja3: Some(ja.0.to_string()),
                ja3s: None,
                ja4: Some(ja.1.to_string()),
                ja4s: None,
            }),
        );
    }

    /// An HTTP request/response on connection `c`.
    #[allow(clippy::too_many_arguments)]
    pub fn http(
        &mut self,
        seg: usize,
        c: &Conn,
        uid: String,
        method: &str,
        host: &str,
        uri: &str,
        ua: &str,
        status: u16,
        username: Option<&str>,
    ) {
        self.push(
            seg,
            EventBody::Http(HttpRecord {
                method: Some(method.to_string()),
                host: Some(host.to_string()),
                uri: Some(uri.to_string()),
                version: Some("1.1".into()),
                user_agent: Some(ua.to_string()),
                response_body_len: c.rb.saturating_sub(300),
                status_code: Some(status),
                status_msg: Some(
                    match status {
                        200 => "OK",
                        401 => "Unauthorized",
                        404 => "Not Found",
                        _ => "Other",
                    }
                    .into(),
                ),
                username: username.map(str::to_string),
                ..HttpRecord::new(c.ts, uid, c.id(), 1)
            }),
        );
    }
}
