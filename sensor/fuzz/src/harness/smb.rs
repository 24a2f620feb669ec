//! The application-layer targets of SMB, DCE/RPC and NTLM. Their input is
//! a script of steps (see `vagt_sensor::applayer::smb::script`): header
//! byte (bit 7: to the client, bit 6: a gap), two-byte little-endian
//! length, data. Each checks that the parser does not panic and that its
//! records stay bounded by its input.

use vagt_sensor::applayer::smb::script::{run, step};
use vagt_sensor::applayer::{dce_rpc, smb};

/// Records a script of `len` bytes may yield: every record needs a message
/// of at least 16 bytes, and a connection's end may write one per pipe
/// (64 at most) plus its NTLM record.
fn bound(len: usize) -> usize {
    2 * (len / 16) + 66
}

/// `smb`: a script for an SMB connection to port 445.
pub fn smb(data: &[u8]) {
    let (out, _) = run(smb::make, 445, data);
    assert!(out.len() <= bound(data.len()), "{} records", out.len());
}

/// `dce_rpc`: a script for DCE/RPC over TCP to port 135.
pub fn dce_rpc(data: &[u8]) {
    let (out, _) = run(dce_rpc::make, 135, data);
    assert!(out.len() <= bound(data.len()), "{} records", out.len());
}

/// `ntlm`: direction byte (bit 0: from the server), then a GSSAPI token or
/// NTLMSSP message, carried in an SMB2 SESSION_SETUP; repeated blobs are
/// separated by the script's steps, so the input is cut into blobs at
/// every `0xff 0xfe` pair.
pub fn ntlm(data: &[u8]) {
    let Some((&d, rest)) = data.split_first() else {
        return;
    };
    let mut script = Vec::new();
    for (i, blob) in rest.split(|&b| b == 0xff).enumerate() {
        let server = (d >> (i % 8)) & 1 != 0;
        let fixed = if server { 8 } else { 24 };
        let mut m = vec![0u8; 64 + fixed];
        m[0..4].copy_from_slice(b"\xfeSMB");
        m[12] = 1;
        let off = (64 + fixed) as u16;
        let (o, l) = if server { (68, 70) } else { (76, 78) };
        m[o..o + 2].copy_from_slice(&off.to_le_bytes());
        m[l..l + 2].copy_from_slice(&(blob.len().min(0xffff) as u16).to_le_bytes());
        m.extend_from_slice(blob);
        let mut frame = (m.len() as u32).to_be_bytes().to_vec();
        frame[0] = 0;
        frame.extend(m);
        if frame.len() <= 0xffff {
            script.extend(step(server, &frame));
        }
    }
    let (out, _) = run(smb::make, 445, &script);
    assert!(
        out.len() <= 1,
        "{} NTLM records on one connection",
        out.len()
    );
}
