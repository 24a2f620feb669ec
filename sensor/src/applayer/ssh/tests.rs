use super::*;
use crate::applayer::drive::Driver;
use crate::applayer::Dir::{ToClient, ToServer};
use vagt_schema::Proto as P;

fn string(s: &[u8]) -> Vec<u8> {
    let mut v = (s.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(s);
    v
}

/// A clear-text binary packet of `msg_type` with `payload` and 4 bytes of
/// padding.
fn packet(msg_type: u8, payload: &[u8]) -> Vec<u8> {
    let len = 1 + 1 + payload.len() + 4;
    let mut v = (len as u32).to_be_bytes().to_vec();
    v.push(4);
    v.push(msg_type);
    v.extend_from_slice(payload);
    v.extend([0; 4]);
    v
}

fn kexinit(kex: &str, comp: &str) -> Vec<u8> {
    let mut p = vec![1u8; 16];
    for l in [
        kex,
        "ssh-ed25519",
        "aes128-ctr",
        "aes128-ctr",
        "hmac-sha2-256",
        "hmac-sha2-256",
        comp,
        comp,
        "",
        "",
    ] {
        p.extend(string(l.as_bytes()));
    }
    p.extend([0, 0, 0, 0, 0]);
    packet(20, &p)
}

/// Versions, both KEXINITs, the ECDH reply (with NEWKEYS in the same
/// segment) and the client's NEWKEYS.
fn handshake(d: &mut Driver, comp: &str) {
    d.parse(ToClient, b"SSH-2.0-OpenSSH_9.2\r\n");
    d.parse(ToServer, b"SSH-2.0-OpenSSH_9.7\r\n");
    d.parse(
        ToServer,
        &kexinit("curve25519-sha256,ecdh-sha2-nistp256", comp),
    );
    d.parse(ToClient, &kexinit("curve25519-sha256", comp));
    d.parse(ToServer, &packet(30, &string(b"client-q")));
    let mut reply = string(b"host-key-blob");
    reply.extend(string(b"server-q"));
    reply.extend(string(b"signature"));
    let mut seg = packet(31, &reply);
    seg.extend(packet(21, &[]));
    d.parse(ToClient, &seg);
    d.parse(ToServer, &packet(21, &[]));
}

fn ssh(d: &Driver) -> Vec<SshRecord> {
    d.records()
        .into_iter()
        .filter_map(|b| match b {
            EventBody::Ssh(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn failed_then_successful_login() {
    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    handshake(&mut d, "none");
    // Service request / accept, then two password tries: failure (same
    // size as the first failure), then success (16 below the accept).
    for (c, s) in [(44, 44), (68, 60), (268, 60), (372, 28)] {
        d.parse(ToServer, &vec![0u8; c]);
        assert!(ssh(&d).is_empty());
        d.parse(ToClient, &vec![0u8; s]);
    }
    let r = ssh(&d);
    assert_eq!(r.len(), 1, "written on success");
    let r = &r[0];
    assert_eq!(r.version, Some(2));
    assert_eq!(r.auth_success, Some(true));
    assert_eq!(r.auth_attempts, 2);
    assert_eq!(r.client.as_deref(), Some("SSH-2.0-OpenSSH_9.7"));
    assert_eq!(r.server.as_deref(), Some("SSH-2.0-OpenSSH_9.2"));
    assert_eq!(r.kex_alg.as_deref(), Some("curve25519-sha256"));
    assert_eq!(r.cipher_alg.as_deref(), Some("aes128-ctr"));
    assert_eq!(r.host_key_alg.as_deref(), Some("ssh-ed25519"));
    assert_eq!(
        r.host_key_fingerprint.as_deref(),
        Some(kex::fingerprint(b"host-key-blob").as_str())
    );
    assert!(r.hassh.is_some() && r.hassh_server.is_some());
    // The parser stops reading after the decision.
    assert_eq!(d.parse(ToServer, &[0; 10]), Verdict::Done);
    d.close();
    assert_eq!(ssh(&d).len(), 1);
}

#[test]
fn failure_is_written_at_close() {
    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    handshake(&mut d, "none");
    for (c, s) in [(44, 44), (68, 60), (268, 60)] {
        d.parse(ToServer, &vec![0u8; c]);
        d.parse(ToClient, &vec![0u8; s]);
    }
    d.close();
    let r = ssh(&d);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].auth_success, Some(false));
    assert_eq!(r[0].auth_attempts, 1);
}

#[test]
fn compression_hides_the_outcome() {
    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    handshake(&mut d, "zlib@openssh.com");
    for (c, s) in [(44, 44), (68, 28)] {
        d.parse(ToServer, &vec![0u8; c]);
        d.parse(ToClient, &vec![0u8; s]);
    }
    d.close();
    let r = ssh(&d);
    assert_eq!(r[0].auth_success, None);
    assert_eq!(r[0].auth_attempts, 0);
    assert_eq!(r[0].compression_alg.as_deref(), Some("zlib@openssh.com"));
}

#[test]
fn lines_before_the_server_version_are_skipped() {
    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    d.parse(ToServer, b"SSH-2.0-client\r\n");
    d.parse(ToClient, b"hello\nthere\r\nSSH-2.0-se");
    d.parse(ToClient, b"rver\r\n");
    d.close();
    let r = ssh(&d);
    assert_eq!(r[0].server.as_deref(), Some("SSH-2.0-server"));
    assert_eq!(r[0].version, Some(2));
}

#[test]
fn one_side_only_and_gaps() {
    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    d.parse(ToServer, b"SSH-1.5-OpenSSH_6.2\n");
    assert_eq!(d.parse(ToServer, &kexinit("x", "none")), Verdict::Done);
    d.close();
    let r = ssh(&d);
    assert_eq!(r[0].version, None);
    assert_eq!(r[0].server, None);

    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    d.parse(ToServer, b"SSH-2.0-a\n");
    assert_eq!(d.gap(ToClient, 10), Verdict::Done);
    assert_eq!(d.parse(ToServer, b"more"), Verdict::Done);
}

#[test]
fn versions_as_zeek_logs_them() {
    assert_eq!(log_version(Some("SSH-1.99-a"), Some("SSH-2.0-b")), Some(2));
    assert_eq!(log_version(Some("SSH-1.5-a"), Some("SSH-2.0-b")), Some(0));
    assert_eq!(log_version(Some("SSH-1.5-a"), Some("SSH-1.99-b")), Some(1));
    assert_eq!(log_version(Some("SSH-1.99-a"), Some("SSH-1.99-b")), Some(2));
    assert_eq!(log_version(Some("SSH-2.0-a"), None), None);
}

#[test]
fn private_space_as_zeek_lists_it() {
    for a in [
        "10.1.2.3",
        "192.168.1.1",
        "172.31.0.1",
        "100.64.0.1",
        "fe80::1",
        "fd00::1",
    ] {
        assert!(private(&a.parse().unwrap()), "{a}");
    }
    for a in ["131.159.21.1", "8.8.8.8", "172.32.0.1", "2a00::1"] {
        assert!(!private(&a.parse().unwrap()), "{a}");
    }
}

#[test]
fn hostile_input_is_bounded() {
    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    d.parse(ToServer, b"SSH-2.0-a\n");
    d.parse(ToClient, b"SSH-2.0-b\n");
    assert_eq!(
        d.parse(ToServer, &[0xff, 0xff, 0xff, 0xff, 0]),
        Verdict::Done
    );
    assert_eq!(d.weird.get("ssh_packet_too_long"), 1);
    let mut d = Driver::new(make, P::Tcp, 40000, 22);
    assert_eq!(d.parse(ToServer, &vec![b'x'; MAX_LINE + 10]), Verdict::Done);
}
