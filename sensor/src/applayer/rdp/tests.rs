use super::*;
use crate::applayer::drive::Driver;
use crate::applayer::Dir::{ToClient, ToServer};
use vagt_schema::Proto as P;

fn tpkt(cotp: &[u8]) -> Vec<u8> {
    let mut v = vec![3, 0];
    v.extend(((cotp.len() + 4) as u16).to_be_bytes());
    v.extend_from_slice(cotp);
    v
}

fn connect_request(cookie: Option<&str>) -> Vec<u8> {
    let mut var = Vec::new();
    if let Some(c) = cookie {
        var.extend(format!("Cookie: mstshash={c}\r\n").bytes());
    }
    var.extend([1, 0, 8, 0, 3, 0, 0, 0]);
    let mut cotp = vec![(6 + var.len()) as u8, 0xe0, 0, 0, 0, 0, 0];
    cotp.extend(var);
    tpkt(&cotp)
}

fn connect_confirm(kind: u8, value: u32) -> Vec<u8> {
    let mut cotp = vec![14, 0xd0, 0, 0, 0x12, 0x34, 0, kind, 0, 8, 0];
    cotp.extend(value.to_le_bytes());
    tpkt(&cotp)
}

fn block(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut v = kind.to_le_bytes().to_vec();
    v.extend(((body.len() + 4) as u16).to_le_bytes());
    v.extend_from_slice(body);
    v
}

fn utf16(s: &str, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    v.resize(len, 0);
    v
}

fn mcs(tag: u8, key: &[u8], prefix: &[u8], blocks: &[u8]) -> Vec<u8> {
    let mut d = vec![0x7f, tag, 0x82, 0, 0];
    d.extend_from_slice(prefix);
    d.extend_from_slice(key);
    d.extend([0x80 | (blocks.len() >> 8) as u8, blocks.len() as u8]);
    d.extend_from_slice(blocks);
    let mut cotp = vec![2, 0xf0, 0x80];
    cotp.extend(d);
    tpkt(&cotp)
}

fn client_mcs() -> Vec<u8> {
    let mut core = vec![0u8; 206];
    core[4..6].copy_from_slice(&1920u16.to_le_bytes());
    core[6..8].copy_from_slice(&1080u16.to_le_bytes());
    core[12..16].copy_from_slice(&1030u32.to_le_bytes());
    core[16..20].copy_from_slice(&9600u32.to_le_bytes());
    core[20..52].copy_from_slice(&utf16("PC-ANNA", 32));
    core[136..138].copy_from_slice(&0x10u16.to_le_bytes());
    core[142..206].copy_from_slice(&utf16("1234-5678", 64));
    let mut net = 2u32.to_le_bytes().to_vec();
    for name in [b"rdpdr\0\0\0", b"cliprdr\0"] {
        net.extend_from_slice(name);
        net.extend([0; 4]);
    }
    let blocks = [block(0xc001, &core), block(0xc003, &net)].concat();
    mcs(0x65, b"Duca", &[0, 5, 0, 0x14, 0x7c, 0, 1], &blocks)
}

fn records(d: &Driver) -> Vec<RdpRecord> {
    d.records()
        .into_iter()
        .filter_map(|b| match b {
            EventBody::Rdp(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn native_rdp_security() {
    let mut d = Driver::new(make, P::Tcp, 40000, 3389);
    d.parse(ToServer, &connect_request(Some("anna")));
    d.parse(ToClient, &connect_confirm(2, 0));
    // Split the client's connect-initial across segments.
    let c = client_mcs();
    d.parse(ToServer, &c[..30]);
    d.parse(ToServer, &c[30..]);
    let mut sec = Vec::new();
    for v in [2u32, 3, 0, 8] {
        sec.extend(v.to_le_bytes());
    }
    sec.extend(1u32.to_le_bytes()); // proprietary certificate, permanent
    sec.extend([0; 4]);
    let server = mcs(
        0x66,
        b"McDn",
        &[0x14, 0x76, 0x0a, 1, 1, 0, 1, 0xc0, 0],
        &block(0x0c02, &sec),
    );
    d.parse(ToClient, &server);
    let r = records(&d);
    assert_eq!(r.len(), 1, "written once encryption begins");
    let r = &r[0];
    assert_eq!(r.cookie.as_deref(), Some("anna"));
    assert_eq!(r.result.as_deref(), Some("Success"));
    assert_eq!(r.security_protocol.as_deref(), Some("RDP"));
    assert_eq!(r.keyboard_layout.as_deref(), Some("Danish"));
    assert_eq!(r.client_build.as_deref(), Some("RDP 8.1"));
    assert_eq!(r.client_name.as_deref(), Some("PC-ANNA"));
    assert_eq!(r.client_dig_product_id.as_deref(), Some("1234-5678"));
    assert_eq!(
        (r.desktop_width, r.desktop_height),
        (Some(1920), Some(1080))
    );
    assert_eq!(r.requested_color_depth.as_deref(), Some("16bit"));
    assert_eq!(
        r.client_channels,
        Some(vec!["rdpdr".to_string(), "cliprdr".to_string()])
    );
    assert_eq!(r.cert_type.as_deref(), Some("RSA"));
    assert_eq!((r.cert_count, r.cert_permanent), (1, Some(true)));
    assert_eq!(r.encryption_method.as_deref(), Some("128bit"));
    assert_eq!(r.encryption_level.as_deref(), Some("High"));
    assert_eq!(d.parse(ToServer, &[3, 0, 0, 8, 0, 0, 0, 0]), Verdict::Done);
}

#[test]
fn tls_and_failures() {
    let mut d = Driver::new(make, P::Tcp, 40000, 3389);
    d.parse(ToServer, &connect_request(None));
    d.parse(ToClient, &connect_confirm(2, 8));
    let r = records(&d);
    assert_eq!(r[0].cookie.as_deref(), Some(""));
    assert_eq!(r[0].result.as_deref(), Some("encrypted"));
    assert_eq!(r[0].security_protocol.as_deref(), Some("HYBRID_EX"));

    let mut d = Driver::new(make, P::Tcp, 40000, 3389);
    d.parse(ToServer, &connect_request(Some("x")));
    d.parse(ToClient, &connect_confirm(3, 2));
    d.close();
    let r = records(&d);
    assert_eq!(r[0].result.as_deref(), Some("SSL_NOT_ALLOWED_BY_SERVER"));
    assert_eq!(r[0].security_protocol, None);
}

#[test]
fn hostile_input_is_bounded() {
    let mut d = Driver::new(make, P::Tcp, 40000, 3389);
    assert_eq!(d.parse(ToServer, &[3, 0, 0, 2]), Verdict::Done);
    let mut d = Driver::new(make, P::Tcp, 40000, 3389);
    let c = client_mcs();
    for n in 0..c.len() {
        let mut t = c[..n].to_vec();
        if t.len() >= 4 {
            let l = t.len() as u16;
            t[2..4].copy_from_slice(&l.to_be_bytes());
        }
        let _ = mcs::client(&t);
        d.parse(ToServer, &t);
    }
    d.close();
    assert!(records(&d).len() <= 1);
}
