//! The MCS connect-initial (client) and connect-response (server) of RDP
//! ([MS-RDPBCGR] 2.2.1.3 and 2.2.1.4): the GCC conference data behind the
//! "Duca" / "McDn" keys and the data blocks it carries, and Zeek's names
//! for their values. Offsets are checked; a block too short for what Zeek
//! reads is left out, as Zeek's parser drops it.

/// What the client core data block says.
#[derive(Clone, Debug, PartialEq)]
pub struct Core {
    pub desktop_width: u16,
    pub desktop_height: u16,
    pub keyboard_layout: u32,
    pub client_build: u32,
    pub client_name: String,
    pub dig_product_id: String,
    /// Zeek's `requested_color_depth`.
    pub color_depth: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Client {
    pub core: Option<Core>,
    pub channels: Option<Vec<String>>,
    /// More channels than RDP allows (31) were asked for.
    pub channels_over_max: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Security {
    pub method: u32,
    pub level: u32,
    /// Certificate type, whether permanently issued, certificates sent.
    pub cert: Option<(u32, bool, u32)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Server {
    /// The GCC conference-create result.
    pub result: Option<u8>,
    pub security: Option<Security>,
}

/// Channels kept; the protocol allows 31.
const MAX_CHANNELS: usize = 64;
/// The client core data block up to `clientDigProductId`, which Zeek's
/// parser needs whole.
const CORE_LEN: usize = 206;

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    let x = b.get(at..at + 2)?;
    Some(u16::from_le_bytes([x[0], x[1]]))
}

fn u32le(b: &[u8], at: usize) -> Option<u32> {
    let x = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

/// UTF-16LE text up to its first NUL.
fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// The data blocks behind the GCC key `key` ("Duca" or "McDn"), after
/// its PER-encoded length.
fn blocks<'a>(
    data: &'a [u8],
    key: &[u8],
) -> Option<(usize, impl Iterator<Item = (u16, &'a [u8])>)> {
    let pos = data.windows(key.len()).position(|w| w == key)?;
    let at = pos + key.len();
    let first = *data.get(at)?;
    let (len, skip) = if first & 0x80 != 0 {
        (
            usize::from(first & 0x7f) << 8 | usize::from(*data.get(at + 1)?),
            2,
        )
    } else {
        (usize::from(first), 1)
    };
    let start = at + skip;
    let end = start.saturating_add(len).min(data.len());
    let mut rest = data.get(start..end)?;
    let iter = std::iter::from_fn(move || {
        let kind = u16le(rest, 0)?;
        let len = usize::from(u16le(rest, 2)?);
        if len < 4 {
            return None;
        }
        let body = rest.get(4..len)?;
        rest = rest.get(len..).unwrap_or_default();
        Some((kind, body))
    });
    Some((pos, iter))
}

/// The client's connect-initial (starting at its 0x7f 0x65 tag).
pub fn client(data: &[u8]) -> Option<Client> {
    let (_, iter) = blocks(data, b"Duca")?;
    let mut c = Client::default();
    for (kind, b) in iter {
        match kind {
            0xc001 if b.len() >= CORE_LEN => c.core = core(b),
            0xc003 => {
                let count = u32le(b, 0)? as usize;
                c.channels_over_max = count > 31;
                let names = b
                    .get(4..)
                    .unwrap_or_default()
                    .chunks_exact(12)
                    .take(count.min(MAX_CHANNELS))
                    .map(|d| {
                        let name = &d[..8];
                        let end = name.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1);
                        String::from_utf8_lossy(&name[..end]).into_owned()
                    })
                    .collect();
                c.channels = Some(names);
            }
            _ => {}
        }
    }
    Some(c)
}

fn core(b: &[u8]) -> Option<Core> {
    let high_color_depth = u16le(b, 136)?;
    let early_flags = u16le(b, 140)?;
    Some(Core {
        desktop_width: u16le(b, 4)?,
        desktop_height: u16le(b, 6)?,
        keyboard_layout: u32le(b, 12)?,
        client_build: u32le(b, 16)?,
        client_name: utf16(b.get(20..52)?),
        dig_product_id: utf16(b.get(142..206)?),
        color_depth: if early_flags & 0x02 != 0 {
            // RNS_UD_CS_WANT_32BPP_SESSION
            "32bit".into()
        } else {
            high_color_depth_name(high_color_depth)
        },
    })
}

/// The server's connect-response (starting at its 0x7f 0x66 tag).
pub fn server(data: &[u8]) -> Option<Server> {
    let (pos, iter) = blocks(data, b"McDn")?;
    // The conference-create result sits four bytes before the key (after
    // it: the user-data set count, a presence bit, the key's length).
    let mut sv = Server {
        result: pos.checked_sub(4).and_then(|i| data.get(i)).copied(),
        security: None,
    };
    for (kind, b) in iter {
        if kind == 0x0c02 {
            sv.security = security(b);
        }
    }
    Some(sv)
}

fn security(b: &[u8]) -> Option<Security> {
    let method = u32le(b, 0)?;
    let level = u32le(b, 4)?;
    let random_len = u32le(b, 8)? as usize;
    let cert_len = u32le(b, 12)? as usize;
    let cert = 16usize
        .checked_add(random_len)
        .and_then(|at| b.get(at..at.checked_add(cert_len)?))
        .filter(|c| !c.is_empty())
        .and_then(|c| {
            let version = u32le(c, 0)?;
            let kind = version & 0x7fff_ffff;
            // X.509 chains say how many certificates they hold.
            let count = match kind {
                1 => 1,
                2 => u32le(c, 4).unwrap_or(0),
                _ => 0,
            };
            Some((kind, version & 0x8000_0000 == 0, count))
        });
    Some(Security {
        method,
        level,
        cert,
    })
}

/// Zeek's `RDP::builds`.
pub fn build_name(b: u32) -> String {
    let n = match b {
        419 => "RDP 4.0",
        2195 | 2221 => "RDP 5.0",
        2600 => "RDP 5.1",
        3790 => "RDP 5.2",
        6000 => "RDP 6.0",
        6001 => "RDP 6.1",
        6002 => "RDP 6.2",
        7600 => "RDP 7.0",
        7601 => "RDP 7.1",
        9200 => "RDP 8.0",
        9600 => "RDP 8.1",
        25189 | 25282 => "RDP 8.0 (Mac)",
        _ => return format!("client_build-{b}"),
    };
    n.into()
}

fn high_color_depth_name(d: u16) -> String {
    match d {
        0x04 => "4bit".into(),
        0x08 => "8bit".into(),
        0x0f => "15bit".into(),
        0x10 => "16bit".into(),
        0x18 => "24bit".into(),
        n => format!("high_color_depth-{n}"),
    }
}

/// Zeek's `RDP::results`.
pub fn result_name(r: u8) -> String {
    match r {
        0 => "Success".into(),
        1 => "User rejected".into(),
        2 => "Resources not available".into(),
        3 => "Rejected for symmetry breaking".into(),
        4 => "Locked conference".into(),
        n => format!("result-{n}"),
    }
}

/// Zeek's `RDP::encryption_methods`.
pub fn method_name(m: u32) -> String {
    match m {
        0 => "None".into(),
        1 => "40bit".into(),
        2 => "128bit".into(),
        8 => "56bit".into(),
        10 => "FIPS".into(),
        n => format!("encryption_method-{n}"),
    }
}

/// Zeek's `RDP::encryption_levels`.
pub fn level_name(l: u32) -> String {
    match l {
        0 => "None".into(),
        1 => "Low".into(),
        2 => "Client compatible".into(),
        3 => "High".into(),
        4 => "FIPS".into(),
        n => format!("encryption_level-{n}"),
    }
}
