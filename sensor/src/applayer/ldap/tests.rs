use super::*;
use crate::applayer::drive::Driver;
use crate::applayer::Dir::{ToClient, ToServer};
use vagt_schema::Proto as P;

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    if body.len() < 0x80 {
        v.push(body.len() as u8);
    } else {
        v.push(0x82);
        v.extend((body.len() as u16).to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

fn msg(id: u8, op: Vec<u8>) -> Vec<u8> {
    tlv(0x30, &[tlv(0x02, &[id]), op].concat())
}

fn result(tag: u8, code: u8, diag: &str) -> Vec<u8> {
    tlv(
        tag,
        &[
            tlv(0x0a, &[code]),
            tlv(0x04, b""),
            tlv(0x04, diag.as_bytes()),
        ]
        .concat(),
    )
}

fn bind_simple(id: u8, name: &str, pw: &str) -> Vec<u8> {
    msg(
        id,
        tlv(
            0x60,
            &[
                tlv(0x02, &[3]),
                tlv(0x04, name.as_bytes()),
                tlv(0x80, pw.as_bytes()),
            ]
            .concat(),
        ),
    )
}

fn search(id: u8, base: &str) -> Vec<u8> {
    let filter = tlv(
        0xa0,
        &[
            tlv(0x87, b"objectclass"),
            tlv(
                0xa3,
                &[tlv(0x04, b"sAMAccountName"), tlv(0x04, b"bob")].concat(),
            ),
        ]
        .concat(),
    );
    msg(
        id,
        tlv(
            0x63,
            &[
                tlv(0x04, base.as_bytes()),
                tlv(0x0a, &[2]),
                tlv(0x0a, &[3]),
                tlv(0x02, &[0]),
                tlv(0x02, &[0]),
                tlv(0x01, &[0]),
                filter,
                tlv(0x30, &tlv(0x04, b"cn")),
            ]
            .concat(),
        ),
    )
}

fn ldap(d: &Driver) -> (Vec<LdapRecord>, Vec<LdapSearchRecord>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for r in d.records() {
        match r {
            EventBody::Ldap(r) => a.push(r),
            EventBody::LdapSearch(r) => b.push(r),
            _ => {}
        }
    }
    (a, b)
}

#[test]
fn bind_search_unbind() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    let mut client = bind_simple(1, "cn=admin,dc=example,dc=com", "secret");
    client.extend(search(2, "DC=example,DC=com"));
    // Split inside a message: the stream is reassembled.
    d.parse(ToServer, &client[..10]);
    d.parse(ToServer, &client[10..]);
    d.parse(ToClient, &msg(1, result(0x61, 0, "")));
    let mut reply = msg(
        2,
        tlv(0x64, &[tlv(0x04, b"CN=bob"), tlv(0x30, b"")].concat()),
    );
    reply.extend(msg(2, result(0x65, 0, "")));
    d.parse(ToClient, &reply);
    d.parse(ToServer, &msg(3, tlv(0x42, b"")));
    let (m, q) = ldap(&d);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].opcode.as_deref(), Some("bind simple"));
    assert_eq!(m[0].version, Some(3));
    assert_eq!(m[0].result.as_deref(), Some("success"));
    assert_eq!(m[0].object.as_deref(), Some("cn=admin,dc=example,dc=com"));
    assert_eq!(m[0].argument.as_deref(), Some("REDACTED"));
    assert_eq!(m[1].opcode.as_deref(), Some("unbind"));
    assert_eq!(q.len(), 1);
    let q = &q[0];
    assert_eq!(q.scope.as_deref(), Some("tree"));
    assert_eq!(q.deref_aliases.as_deref(), Some("always"));
    assert_eq!(q.result_count, 1);
    assert_eq!(
        q.filter.as_deref(),
        Some("(&(objectclass=*)(sAMAccountName=bob))")
    );
    assert_eq!(q.attributes, None);
}

#[test]
fn unanswered_operations_are_written_at_close() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    d.parse(ToServer, &msg(5, tlv(0x4a, b"CN=x")));
    d.parse(ToServer, &msg(0, tlv(0x4a, b"CN=y")));
    assert!(ldap(&d).0.is_empty());
    d.close();
    let (m, _) = ldap(&d);
    assert_eq!(m.len(), 1, "message id 0 is not written, as in Zeek");
    assert_eq!(m[0].opcode.as_deref(), Some("delete"));
    assert_eq!(m[0].object.as_deref(), Some("CN=x"));
}

#[test]
fn start_tls_ends_reading() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    d.parse(
        ToServer,
        &msg(1, tlv(0x77, &tlv(0x80, b"1.3.6.1.4.1.1466.20037"))),
    );
    d.parse(ToClient, &msg(1, result(0x78, 0, "")));
    let (m, _) = ldap(&d);
    assert_eq!(
        m[0].object.as_deref(),
        Some("1.3.6.1.4.1.1466.20037 (StartTLS)")
    );
    assert_eq!(d.parse(ToServer, &[0x16, 3, 1, 0, 5]), Verdict::Done);
}

#[test]
fn sasl_wrapped_messages_are_skipped() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    let sasl = tlv(0xa3, &tlv(0x04, b"SRP"));
    d.parse(
        ToServer,
        &msg(
            1,
            tlv(0x60, &[tlv(0x02, &[3]), tlv(0x04, b""), sasl].concat()),
        ),
    );
    d.parse(ToClient, &msg(1, result(0x61, 0, "")));
    // An opaque SASL buffer, then nothing readable.
    let mut wrapped = 8u32.to_be_bytes().to_vec();
    wrapped.extend([9; 8]);
    assert_eq!(d.parse(ToServer, &wrapped), Verdict::More);
    assert_eq!(d.weird.get("ldap_bad_message"), 0);
    let (m, _) = ldap(&d);
    assert_eq!(m[0].opcode.as_deref(), Some("bind SASL"));
    assert_eq!(m[0].argument.as_deref(), Some("SRP"));
}

#[test]
fn hostile_input_is_bounded() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    // A message claiming 16 MiB is skipped, not buffered.
    d.parse(ToServer, &[0x30, 0x84, 0x01, 0, 0, 0, 1, 2, 3]);
    assert_eq!(d.weird.get("ldap_message_too_long"), 1);
    d.parse(ToServer, &vec![0u8; 4096]);
    d.parse(ToServer, b"garbage");
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    // One-byte INTEGERs stop at 127.
    for id in 1..=127u8 {
        for _ in 0..5 {
            d.parse(ToServer, &msg(id, tlv(0x4a, b"CN=x")));
        }
    }
    d.close();
    assert_eq!(ldap(&d).0.len(), 127);
}

#[test]
fn pending_operations_are_capped() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    for id in 0..300u16 {
        let id = 0x0100 + id;
        let m = tlv(
            0x30,
            &[tlv(0x02, &id.to_be_bytes()), tlv(0x4a, b"CN=x")].concat(),
        );
        d.parse(ToServer, &m);
    }
    assert_eq!(d.weird.get("LDAP_max_pending_messages_exceeded"), 1);
    assert_eq!(
        ldap(&d).0.len(),
        MAX_PENDING,
        "the first ones were written out"
    );
    d.close();
    assert_eq!(ldap(&d).0.len(), 300);
}

// NTLM in SASL binds (applayer::ntlm reads it, as Zeek's LDAP analyzer
// hands the credentials to its GSSAPI and NTLM analyzers).

use crate::applayer::ntlm::tests::{authenticate, challenge, neg_token_resp};
use crate::applayer::tls::testutil::{read_flows, unhex, zeek_app, zeek_column};
use vagt_schema::NtlmRecord;

fn ntlm(d: &Driver) -> Vec<NtlmRecord> {
    d.records()
        .into_iter()
        .filter_map(|r| match r {
            EventBody::Ntlm(r) => Some(r),
            _ => None,
        })
        .collect()
}

fn bind_sasl(id: u8, mechanism: &str, creds: &[u8]) -> Vec<u8> {
    let sasl = tlv(
        0xa3,
        &[tlv(0x04, mechanism.as_bytes()), tlv(0x04, creds)].concat(),
    );
    msg(
        id,
        tlv(0x60, &[tlv(0x02, &[3]), tlv(0x04, b""), sasl].concat()),
    )
}

fn bind_response(id: u8, code: u8, server_creds: &[u8]) -> Vec<u8> {
    let body = [
        tlv(0x0a, &[code]),
        tlv(0x04, b""),
        tlv(0x04, b""),
        tlv(0x87, server_creds),
    ]
    .concat();
    msg(id, tlv(0x61, &body))
}

/// The first connection of Zeek's `ldap.sasl-gss-spnego-ntlm` trace
/// (192.168.1.107:60387): a `GSS-SPNEGO` bind whose credentials are a bare
/// NTLMSSP NEGOTIATE, the server's CHALLENGE in `serverSaslCreds`, then
/// an unbind. Zeek's ntlm.log row: the server's three names, no client
/// names, no `success` (no SPNEGO result came).
#[test]
fn sasl_ntlm_bind_from_the_trace() {
    let request = unhex(concat!(
        "30840000004b020200976084000000410201030400a38400000036040a4753532d",
        "53504e45474f04284e544c4d5353500001000000978208e20000000000000000",
        "00000000000000000601b11d0000000f",
    ));
    let response = unhex(concat!(
        "3084000001150202009761840000010b0a010e04000400878201004e544c4d53",
        "535000020000001200120038000000158289e2f2fd7e3d7bf640ba0000000000",
        "000000b600b6004a000000060380250000000f530054005200410054004f004c",
        "004100420002001200530054005200410054004f004c00410042000100180053",
        "0054005200410054004f004c00410042002d004400430004001a005300740072",
        "00610074006f004c00610062002e006f00720067000300340053007400720061",
        "0074006f006c00610062002d00440043002e00530074007200610074006f004c",
        "00610062002e006f007200670005001a00530074007200610074006f004c0061",
        "0062002e006f0072006700070008009f7e67303946d90100000000",
    ));
    let mut d = Driver::new(make, P::Tcp, 60387, 389);
    d.parse(ToServer, &request);
    d.parse(ToClient, &response);
    d.parse(ToServer, &unhex("308400000006020200984200"));
    assert!(ntlm(&d).is_empty(), "no SPNEGO result: written at the end");
    d.close();
    let n = ntlm(&d);
    assert_eq!(n.len(), 1);
    let n = &n[0];
    assert_eq!(n.server_nb_computer_name.as_deref(), Some("STRATOLAB-DC"));
    assert_eq!(
        n.server_dns_computer_name.as_deref(),
        Some("Stratolab-DC.StratoLab.org")
    );
    assert_eq!(n.server_tree_name.as_deref(), Some("StratoLab.org"));
    assert_eq!(
        (&n.username, &n.hostname, &n.domainname),
        (&None, &None, &None)
    );
    assert_eq!(n.success, None);
    // ldap.log is unchanged: the bind, then the unbind.
    let (m, _) = ldap(&d);
    assert_eq!(m[0].opcode.as_deref(), Some("bind SASL"));
    assert_eq!(m[0].argument.as_deref(), Some("GSS-SPNEGO"));
    assert_eq!(m[0].result.as_deref(), Some("SASL bind in progress"));
    assert_eq!(m[1].opcode.as_deref(), Some("unbind"));
    assert_eq!(d.weird.get("ldap_bad_message"), 0);
}

/// Every connection of the trace against Zeek's ntlm.log, column by
/// column.
#[test]
fn sasl_ntlm_matches_zeeks_ntlm_log() {
    let Some(trace) = zeek_app("scripts.base.protocols.ldap.sasl-gss-spnego-ntlm") else {
        return;
    };
    let flows = read_flows(&trace);
    let ports = zeek_column(&trace, "ntlm.log", "id.orig_p");
    assert!(!ports.is_empty());
    let columns = [
        "username",
        "hostname",
        "domainname",
        "server_nb_computer_name",
        "server_dns_computer_name",
        "server_tree_name",
        "success",
    ];
    let zeek: Vec<Vec<String>> = columns
        .iter()
        .map(|c| zeek_column(&trace, "ntlm.log", c))
        .collect();
    for (row, port) in ports.iter().enumerate() {
        let port: u16 = port.parse().unwrap();
        let stream = |to_server: bool| {
            flows
                .tcp
                .iter()
                .find(|((_, sp, _, dp), _)| {
                    if to_server {
                        *sp == port && *dp == 389
                    } else {
                        *sp == 389 && *dp == port
                    }
                })
                .map(|(_, s)| s.clone())
                .unwrap()
        };
        let mut d = Driver::new(make, P::Tcp, port, 389);
        d.parse(ToServer, &stream(true));
        d.parse(ToClient, &stream(false));
        d.close();
        let n = ntlm(&d);
        assert_eq!(n.len(), 1, "one record per connection");
        let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let ours = [
            text(&n[0].username),
            text(&n[0].hostname),
            text(&n[0].domainname),
            text(&n[0].server_nb_computer_name),
            text(&n[0].server_dns_computer_name),
            text(&n[0].server_tree_name),
            n[0].success
                .map_or("-".into(), |b| if b { "T" } else { "F" }.into()),
        ];
        for (i, c) in columns.iter().enumerate() {
            assert_eq!(ours[i], zeek[i][row], "port {port}, {c}");
        }
    }
}

fn spnego_init(ntlm: &[u8]) -> Vec<u8> {
    let init = tlv(0xa0, &tlv(0x30, &tlv(0xa2, &tlv(0x04, ntlm))));
    let mut inner = tlv(0x06, &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02]);
    inner.extend(init);
    tlv(0x60, &inner)
}

fn negotiate() -> Vec<u8> {
    let mut m = b"NTLMSSP\0".to_vec();
    m.extend(1u32.to_le_bytes());
    m.extend(0xe208_8297u32.to_le_bytes());
    m.extend([0; 16]);
    m
}

/// A full SPNEGO exchange: NegTokenInit with NEGOTIATE, accept-incomplete
/// with CHALLENGE, AUTHENTICATE, then accept-completed, which writes the
/// record at once with `success`.
#[test]
fn spnego_ntlm_bind_reports_success() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    d.parse(
        ToServer,
        &bind_sasl(1, "GSS-SPNEGO", &spnego_init(&negotiate())),
    );
    let chal = challenge("DC01", "dc01.corp.example", "corp.example");
    d.parse(
        ToClient,
        &bind_response(1, 14, &neg_token_resp(Some(1), Some(&chal))),
    );
    let auth = authenticate("CORP", "alice", "PC1");
    d.parse(
        ToServer,
        &bind_sasl(2, "GSS-SPNEGO", &neg_token_resp(None, Some(&auth))),
    );
    assert!(ntlm(&d).is_empty(), "accept-incomplete writes nothing");
    d.parse(
        ToClient,
        &bind_response(2, 0, &neg_token_resp(Some(0), None)),
    );
    let n = ntlm(&d);
    assert_eq!(n.len(), 1, "written when SPNEGO completes");
    let n = &n[0];
    assert_eq!(n.username.as_deref(), Some("alice"));
    assert_eq!(n.hostname.as_deref(), Some("PC1"));
    assert_eq!(n.domainname.as_deref(), Some("CORP"));
    assert_eq!(n.server_nb_computer_name.as_deref(), Some("DC01"));
    assert_eq!(n.server_tree_name.as_deref(), Some("corp.example"));
    assert_eq!(n.success, Some(true));
    d.close();
    assert_eq!(ntlm(&d).len(), 1, "not written again at the end");
    let (m, _) = ldap(&d);
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|m| m.opcode.as_deref() == Some("bind SASL")));
}

/// A rejected SPNEGO exchange sets `success` false; binds with other
/// mechanisms (their credentials not GSSAPI) make no record.
#[test]
fn spnego_reject_and_other_mechanisms() {
    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    d.parse(ToServer, &bind_sasl(1, "GSS-SPNEGO", &negotiate()));
    d.parse(
        ToClient,
        &bind_response(
            1,
            14,
            &challenge("DC01", "dc01.corp.example", "corp.example"),
        ),
    );
    d.parse(
        ToServer,
        &bind_sasl(2, "GSS-SPNEGO", &authenticate("CORP", "bob", "PC2")),
    );
    d.parse(
        ToClient,
        &bind_response(2, 49, &neg_token_resp(Some(2), None)),
    );
    let n = ntlm(&d);
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].username.as_deref(), Some("bob"));
    assert_eq!(n[0].success, Some(false));

    let mut d = Driver::new(make, P::Tcp, 40000, 389);
    d.parse(ToServer, &bind_sasl(1, "DIGEST-MD5", b""));
    d.parse(ToClient, &bind_response(1, 14, b"realm=\"x\",nonce=\"y\""));
    d.parse(ToServer, &bind_sasl(2, "PLAIN", b"\0alice\0secret"));
    d.close();
    assert!(ntlm(&d).is_empty());
    assert_eq!(d.weird.get("ntlm_bad_signature"), 0);
}
