use super::script::{run, step};
use super::wire::*;
use super::*;
use crate::applayer::ntlm::tests::{authenticate, challenge, neg_token_resp, utf16le};
use vagt_schema::EventBody;

fn header(command: u16, mid: u64, tid: u32, status: u32) -> Vec<u8> {
    let mut h = vec![0u8; HEADER_LEN];
    h[0..4].copy_from_slice(b"\xfeSMB");
    h[4..6].copy_from_slice(&64u16.to_le_bytes());
    h[8..12].copy_from_slice(&status.to_le_bytes());
    h[12..14].copy_from_slice(&command.to_le_bytes());
    h[24..32].copy_from_slice(&mid.to_le_bytes());
    h[36..40].copy_from_slice(&tid.to_le_bytes());
    h
}

/// A NetBIOS frame holding `msgs` compounded (NextCommand, 8-aligned).
fn frame(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let mut m = m.clone();
        if i + 1 < msgs.len() {
            while !m.len().is_multiple_of(8) {
                m.push(0);
            }
            let n = m.len() as u32;
            m[20..24].copy_from_slice(&n.to_le_bytes());
        }
        body.extend(m);
    }
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f[0] = 0;
    f.extend(body);
    f
}

fn with_body(mut h: Vec<u8>, body: &[u8]) -> Vec<u8> {
    h.extend_from_slice(body);
    h
}

fn tree_connect(mid: u64, path: &str) -> Vec<u8> {
    let p = utf16le(path);
    let mut b = vec![9, 0, 0, 0];
    b.extend_from_slice(&72u16.to_le_bytes());
    b.extend_from_slice(&(p.len() as u16).to_le_bytes());
    b.extend(p);
    with_body(header(TREE_CONNECT, mid, 0, 0), &b)
}

fn tree_connected(mid: u64, tid: u32, share: u8) -> Vec<u8> {
    with_body(
        header(TREE_CONNECT, mid, tid, 0),
        &[16, 0, share, 0, 0, 0, 0, 0],
    )
}

fn create(mid: u64, tid: u32, name: &str) -> Vec<u8> {
    let n = utf16le(name);
    let mut b = vec![0u8; 56];
    b[0] = 57;
    b[44..46].copy_from_slice(&120u16.to_le_bytes());
    b[46..48].copy_from_slice(&(n.len() as u16).to_le_bytes());
    b.extend(n);
    with_body(header(CREATE, mid, tid, 0), &b)
}

/// A FILETIME for Unix time `t`.
fn ft(t: u64) -> u64 {
    (t + 11_644_473_600) * 10_000_000
}

fn created(mid: u64, tid: u32, fid: u64, size: u64, t: u64) -> Vec<u8> {
    let mut b = vec![0u8; 88];
    b[0] = 89;
    for at in [8, 16, 24, 32] {
        b[at..at + 8].copy_from_slice(&ft(t).to_le_bytes());
    }
    b[48..56].copy_from_slice(&size.to_le_bytes());
    b[64..72].copy_from_slice(&fid.to_le_bytes());
    with_body(header(CREATE, mid, tid, 0), &b)
}

fn set_info(mid: u64, tid: u32, fid: u64, level: u8, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 32];
    b[0] = 33;
    b[2] = 1;
    b[3] = level;
    b[4..8].copy_from_slice(&(data.len() as u32).to_le_bytes());
    b[8..10].copy_from_slice(&96u16.to_le_bytes());
    b[16..24].copy_from_slice(&fid.to_le_bytes());
    b.extend_from_slice(data);
    with_body(header(SET_INFO, mid, tid, 0), &b)
}

fn rename(mid: u64, tid: u32, fid: u64, to: &str) -> Vec<u8> {
    let n = utf16le(to);
    let mut d = vec![0u8; 20];
    d[16..20].copy_from_slice(&(n.len() as u32).to_le_bytes());
    d.extend(n);
    set_info(mid, tid, fid, 0x0a, &d)
}

fn close(mid: u64, tid: u32, fid: u64) -> Vec<u8> {
    let mut b = vec![0u8; 24];
    b[0] = 24;
    b[8..16].copy_from_slice(&fid.to_le_bytes());
    with_body(header(CLOSE, mid, tid, 0), &b)
}

fn session_setup(mid: u64, is_orig: bool, status: u32, blob: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; if is_orig { 24 } else { 8 }];
    let off = (HEADER_LEN + b.len()) as u16;
    let (o, l) = if is_orig { (12, 14) } else { (4, 6) };
    b[o..o + 2].copy_from_slice(&off.to_le_bytes());
    b[l..l + 2].copy_from_slice(&(blob.len() as u16).to_le_bytes());
    b.extend_from_slice(blob);
    with_body(header(SESSION_SETUP, mid, 0, status), &b)
}

fn files(out: &[EventBody]) -> Vec<(String, String, Option<String>)> {
    out.iter()
        .filter_map(|e| match e {
            EventBody::SmbFiles(f) => Some((
                f.action.clone().unwrap_or_default(),
                f.name.clone().unwrap_or_default(),
                f.prev_name.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn conversation() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend(step(false, &frame(&[tree_connect(1, "\\\\srv\\docs")])));
    s.extend(step(true, &frame(&[tree_connected(1, 5, 1)])));
    s.extend(step(false, &frame(&[create(2, 5, "a.txt")])));
    s.extend(step(true, &frame(&[created(2, 5, 77, 12, 1_600_000_000)])));
    s.extend(step(false, &frame(&[rename(3, 5, 77, "b.txt")])));
    s.extend(step(false, &frame(&[set_info(4, 5, 77, 0x0d, &[1])])));
    // A compounded open and close of the share root.
    s.extend(step(false, &frame(&[create(5, 5, ""), close(6, 5, 0)])));
    s.extend(step(
        true,
        &frame(&[created(5, 5, 78, 0, 1_600_000_001), header(CLOSE, 6, 5, 0)]),
    ));
    s
}

#[test]
fn tree_connects_and_file_actions_are_logged_as_zeek_does() {
    let (out, weird) = run(make, 445, &conversation());
    let maps: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            EventBody::SmbMapping(m) => Some((m.path.clone(), m.share_type.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(maps, vec![(Some("\\\\srv\\docs".into()), "DISK".into())]);
    let open = |n: &str| ("SMB::FILE_OPEN".to_string(), n.to_string(), None);
    assert_eq!(
        files(&out),
        vec![
            open("a.txt"),
            (
                "SMB::FILE_RENAME".into(),
                "b.txt".into(),
                Some("a.txt".into())
            ),
            (
                "SMB::FILE_DELETE".into(),
                "b.txt".into(),
                Some("a.txt".into())
            ),
            open("<share_root>"),
        ]
    );
    let EventBody::SmbFiles(f) = out
        .iter()
        .find(|e| matches!(e, EventBody::SmbFiles(_)))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(f.path.as_deref(), Some("\\\\srv\\docs"));
    assert_eq!((f.size, f.times_modified), (12, Some(1_600_000_000.0)));
    assert_eq!(weird.iter().count(), 0);
}

#[test]
fn frames_split_anywhere_give_the_same_records() {
    let whole = run(make, 445, &conversation()).0;
    // Re-cut every step into one-byte pieces.
    let mut cut = Vec::new();
    let mut rest = &conversation()[..];
    while let [h, a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_le_bytes([*a, *b]));
        for byte in &tail[..len] {
            cut.extend(step(h & 0x80 != 0, &[*byte]));
        }
        rest = &tail[len..];
    }
    // Times differ (each step is a packet); nothing else may.
    let untimed = |out: Vec<EventBody>| -> Vec<String> {
        out.iter()
            .map(|e| {
                let mut v = serde_json::to_value(e).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    m.remove("ts");
                }
                v.to_string()
            })
            .collect()
    };
    assert_eq!(untimed(run(make, 445, &cut).0), untimed(whole));
}

#[test]
fn failed_creates_and_smb1_write_nothing() {
    let mut s = Vec::new();
    s.extend(step(false, &frame(&[create(2, 5, "x.txt")])));
    let mut err = header(CREATE, 2, 5, 0xC000_0034);
    err.extend_from_slice(&[9, 0, 0, 0, 0, 0, 0, 0, 0]);
    s.extend(step(true, &frame(&[err])));
    let mut smb1 = vec![0, 0, 0, 8];
    smb1.extend_from_slice(b"\xffSMBr\0\0\0");
    s.extend(step(false, &smb1));
    let (out, weird) = run(make, 445, &s);
    assert!(files(&out).is_empty());
    assert_eq!(weird.iter().count(), 0);
}

#[test]
fn ntlm_in_session_setup_is_logged_once_with_the_result() {
    let chal = challenge("SRV", "srv.corp.example", "corp.example");
    let auth = authenticate("CORP", "alice", "PC1");
    let mut s = Vec::new();
    s.extend(step(
        true,
        &frame(&[session_setup(
            1,
            false,
            0xC000_0016,
            &neg_token_resp(Some(1), Some(&chal)),
        )]),
    ));
    s.extend(step(
        false,
        &frame(&[session_setup(
            2,
            true,
            0,
            &neg_token_resp(None, Some(&auth)),
        )]),
    ));
    s.extend(step(
        true,
        &frame(&[session_setup(2, false, 0, &neg_token_resp(Some(0), None))]),
    ));
    let (out, _) = run(make, 445, &s);
    let ntlm: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            EventBody::Ntlm(n) => Some(n.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ntlm.len(), 1);
    let n = &ntlm[0];
    assert_eq!(n.username.as_deref(), Some("alice"));
    assert_eq!(n.hostname.as_deref(), Some("PC1"));
    assert_eq!(n.domainname.as_deref(), Some("CORP"));
    assert_eq!(n.server_nb_computer_name.as_deref(), Some("SRV"));
    assert_eq!(
        n.server_dns_computer_name.as_deref(),
        Some("srv.corp.example")
    );
    assert_eq!(n.server_tree_name.as_deref(), Some("corp.example"));
    assert_eq!(n.success, Some(true));
}

#[test]
fn hostile_frames_are_bounded_and_never_panic() {
    // A frame claiming 16 MiB is read up to the cap and the rest skipped.
    let mut s = step(false, &[0, 0xff, 0xff, 0xff]);
    for _ in 0..300 {
        s.extend(step(false, &[0xfe; 1000]));
    }
    s.extend(step(false, &frame(&[create(9, 1, "late.txt")])));
    let (out, _) = run(make, 445, &s);
    assert!(files(&out).is_empty());
    // Every prefix of a real conversation.
    let conv = conversation();
    for n in (0..conv.len()).step_by(7) {
        let _ = run(make, 445, &conv[..n]);
    }
    // A NextCommand loop is cut off.
    let mut m = create(1, 1, "a");
    m[20..24].copy_from_slice(&0u32.to_le_bytes());
    let _ = run(make, 445, &step(false, &frame(&[m.clone(), m])));
}

fn body_at(command: u16, mid: u64, tid: u32, mut b: Vec<u8>, data: &[u8]) -> Vec<u8> {
    b.extend_from_slice(data);
    with_body(header(command, mid, tid, 0), &b)
}

fn write(mid: u64, tid: u32, fid: u64, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = 49;
    b[2..4].copy_from_slice(&112u16.to_le_bytes());
    b[4..8].copy_from_slice(&(data.len() as u32).to_le_bytes());
    b[16..24].copy_from_slice(&fid.to_le_bytes());
    body_at(WRITE, mid, tid, b, data)
}

fn read(mid: u64, tid: u32, fid: u64) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[0] = 49;
    b[4..8].copy_from_slice(&1024u32.to_le_bytes());
    b[16..24].copy_from_slice(&fid.to_le_bytes());
    body_at(READ, mid, tid, b, &[])
}

fn read_data(mid: u64, tid: u32, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; 16];
    b[0] = 17;
    b[2] = 80;
    b[4..8].copy_from_slice(&(data.len() as u32).to_le_bytes());
    body_at(READ, mid, tid, b, data)
}

fn transceive(mid: u64, tid: u32, fid: u64, is_orig: bool, data: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; if is_orig { 56 } else { 48 }];
    b[0] = b.len() as u8 + 1;
    b[4..8].copy_from_slice(&0x0011_c017u32.to_le_bytes());
    b[8..16].copy_from_slice(&fid.to_le_bytes());
    let off = (HEADER_LEN + b.len()) as u32;
    let at = if is_orig { 24 } else { 32 };
    b[at..at + 4].copy_from_slice(&off.to_le_bytes());
    b[at + 4..at + 8].copy_from_slice(&(data.len() as u32).to_le_bytes());
    body_at(IOCTL, mid, tid, b, data)
}

#[test]
fn dce_rpc_over_a_named_pipe_is_logged_per_pipe() {
    use crate::applayer::dce_rpc::tests::{bind, bind_ack, request, response};
    let mut s = Vec::new();
    s.extend(step(false, &frame(&[tree_connect(1, "\\\\srv\\IPC$")])));
    s.extend(step(true, &frame(&[tree_connected(1, 7, 2)])));
    s.extend(step(false, &frame(&[create(2, 7, "srvsvc")])));
    s.extend(step(true, &frame(&[created(2, 7, 9, 0, 0)])));
    s.extend(step(false, &frame(&[write(3, 7, 9, &bind(None))])));
    s.extend(step(false, &frame(&[read(4, 7, 9)])));
    s.extend(step(
        true,
        &frame(&[read_data(4, 7, &bind_ack(b"\\PIPE\\srvsvc\0", None))]),
    ));
    s.extend(step(
        false,
        &frame(&[transceive(5, 7, 9, true, &request(2, 3))]),
    ));
    s.extend(step(
        true,
        &frame(&[transceive(5, 7, 9, false, &response(2))]),
    ));
    s.extend(step(false, &frame(&[close(6, 7, 9)])));
    let (out, weird) = run(make, 445, &s);
    let calls: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            EventBody::DceRpc(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].named_pipe.as_deref(), Some("\\PIPE\\srvsvc"));
    assert_eq!(calls[0].endpoint.as_deref(), Some("epmapper"));
    assert_eq!(calls[0].operation.as_deref(), Some("ept_map"));
    // Pipes are no files: no smb_files rows (PIPE_* actions are not logged).
    assert!(files(&out).is_empty());
    assert_eq!(weird.iter().count(), 0);
}
