//! The DHCP wire format (RFC 2131, options of RFC 2132 and later): one
//! message read into the fields Zeek's `dhcp.log` and Vagt's fingerprint
//! fields use. Options are type-length-value triples read with checked
//! slices; like Zeek's binpac grammar, a message whose options do not end
//! with the End option (255) inside the datagram is refused.

use crate::applayer::text::escape;
use std::net::Ipv4Addr;

/// Why a message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// Shorter than the fixed header and the magic cookie.
    Short,
    /// The magic cookie is not 0x63825363 (plain BOOTP or not DHCP).
    BadCookie,
    /// An option ran past the datagram, or the End option never came.
    Truncated,
}

impl Malformed {
    pub fn reason(self) -> &'static str {
        match self {
            Malformed::Short => "dhcp_short_message",
            Malformed::BadCookie => "dhcp_bad_cookie",
            Malformed::Truncated => "dhcp_truncated_options",
        }
    }
}

/// A DHCP message, as far as the log needs it. Strings are as Zeek's log
/// prints them: bytes outside printable ASCII escaped as `\xNN`.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub xid: u32,
    /// Option 53; 0 when absent.
    pub msg_type: u8,
    pub yiaddr: Ipv4Addr,
    /// `chaddr` as Zeek formats it (six or eight bytes).
    pub chaddr: String,
    /// Option 61 with hardware type 1 (Ethernet): the address it names.
    pub client_id_mac: Option<String>,
    pub host_name: Option<String>,
    pub client_fqdn: Option<String>,
    pub domain: Option<String>,
    pub requested_addr: Option<Ipv4Addr>,
    pub lease: Option<u32>,
    pub message: Option<String>,
    pub vendor_class: Option<String>,
    pub param_list: Option<Vec<u8>>,
}

/// Offset of the options' magic cookie.
const COOKIE_AT: usize = 236;
const COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];

/// Reads one message.
pub fn parse(d: &[u8]) -> Result<Message, Malformed> {
    let (Some(head), Some(cookie)) = (d.get(..COOKIE_AT), d.get(COOKIE_AT..COOKIE_AT + 4)) else {
        return Err(Malformed::Short);
    };
    if cookie != COOKIE {
        return Err(Malformed::BadCookie);
    }
    let mut m = Message {
        xid: u32::from_be_bytes([head[4], head[5], head[6], head[7]]),
        yiaddr: Ipv4Addr::new(head[16], head[17], head[18], head[19]),
        chaddr: fmt_mac(&head[28..44]),
        msg_type: 0,
        client_id_mac: None,
        host_name: None,
        client_fqdn: None,
        domain: None,
        requested_addr: None,
        lease: None,
        message: None,
        vendor_class: None,
        param_list: None,
    };
    let mut at = COOKIE_AT + 4;
    loop {
        let Some(&code) = d.get(at) else {
            return Err(Malformed::Truncated);
        };
        at += 1;
        match code {
            0 => continue,
            255 => break,
            _ => {}
        }
        let Some(&len) = d.get(at) else {
            return Err(Malformed::Truncated);
        };
        let len = usize::from(len);
        let Some(v) = d.get(at + 1..at + 1 + len) else {
            return Err(Malformed::Truncated);
        };
        at += 1 + len;
        option(&mut m, code, v);
    }
    Ok(m)
}

/// Takes one option's value into the message; a value of the wrong size
/// for its option is left out.
fn option(m: &mut Message, code: u8, v: &[u8]) {
    let addr = |v: &[u8]| -> Option<Ipv4Addr> {
        let b: [u8; 4] = v.get(..4)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    };
    match code {
        12 => m.host_name = Some(escape(v)),
        15 => {
            // Zeek cuts the name after its last non-NUL byte (and to
            // nothing when only the first byte is one).
            let end = v.iter().rposition(|&b| b != 0).unwrap_or(0);
            m.domain = Some(escape(if end == 0 { &[] } else { &v[..=end] }));
        }
        50 => m.requested_addr = addr(v).or(m.requested_addr),
        51 => {
            if let Some(b) = v.get(..4) {
                m.lease = Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            }
        }
        53 => {
            if let Some(&t) = v.first() {
                // The first message-type option counts (Zeek stops there).
                if m.msg_type == 0 {
                    m.msg_type = t;
                }
            }
        }
        55 => m.param_list = Some(v.to_vec()),
        56 => m.message = Some(escape(v)),
        60 => m.vendor_class = Some(escape(v)),
        61 => {
            if let Some((&hwtype, hw)) = v.split_first() {
                m.client_id_mac = (hwtype == 1).then(|| fmt_mac(hw));
            }
        }
        81 => {
            if let Some(name) = v.get(3..) {
                m.client_fqdn = Some(escape(name));
            }
        }
        _ => {}
    }
}

/// Zeek's `fmt_mac`: six bytes, or eight when the seventh and eighth are
/// not both zero; nothing for other lengths below eight.
pub fn fmt_mac(m: &[u8]) -> String {
    use std::fmt::Write as _;
    if m.len() < 8 && m.len() != 6 {
        return String::new();
    }
    let n = if m.len() == 6 || (m[6] == 0 && m[7] == 0) {
        6
    } else {
        8
    };
    let mut out = String::with_capacity(3 * n);
    for (i, b) in m[..n].iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The name Zeek gives a message type.
pub fn type_name(t: u8) -> String {
    const NAMES: [&str; 18] = [
        "DISCOVER",
        "OFFER",
        "REQUEST",
        "DECLINE",
        "ACK",
        "NAK",
        "RELEASE",
        "INFORM",
        "FORCERENEW",
        "LEASEQUERY",
        "LEASEUNASSIGNED",
        "LEASEUNKNOWN",
        "LEASEACTIVE",
        "BULKLEASEQUERY",
        "LEASEQUERYDONE",
        "ACTIVELEASEQUERY",
        "LEASEQUERYSTATUS",
        "TLS",
    ];
    match usize::from(t).checked_sub(1).and_then(|i| NAMES.get(i)) {
        Some(n) => (*n).to_string(),
        None => format!("unknown-message-type-{t}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A message with the given fixed fields and raw options (End added).
    pub fn build(op: u8, xid: u32, yiaddr: [u8; 4], mac: [u8; 6], opts: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; 240];
        d[0] = op;
        d[1] = 1;
        d[2] = 6;
        d[4..8].copy_from_slice(&xid.to_be_bytes());
        d[16..20].copy_from_slice(&yiaddr);
        d[28..34].copy_from_slice(&mac);
        d[236..240].copy_from_slice(&COOKIE);
        d.extend_from_slice(opts);
        d.push(255);
        d
    }

    #[test]
    fn reads_the_options_zeek_logs() {
        let opts = [
            53, 1, 3, // REQUEST
            12, 4, b'h', b'o', b's', b't', // host name
            50, 4, 10, 0, 0, 7, // requested address
            61, 7, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, // client id
            60, 8, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', // vendor class
            55, 3, 1, 3, 6, // parameter list
            81, 6, 0, 0, 0, b'a', b'.', b'b', // fqdn
            0, 0, // padding
        ];
        let m = parse(&build(1, 0x1234, [0; 4], [1, 2, 3, 4, 5, 6], &opts)).expect("parse");
        assert_eq!(m.xid, 0x1234);
        assert_eq!(m.msg_type, 3);
        assert_eq!(type_name(m.msg_type), "REQUEST");
        assert_eq!(m.chaddr, "01:02:03:04:05:06");
        assert_eq!(m.client_id_mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        assert_eq!(m.host_name.as_deref(), Some("host"));
        assert_eq!(m.requested_addr, Some(Ipv4Addr::new(10, 0, 0, 7)));
        assert_eq!(m.vendor_class.as_deref(), Some("MSFT 5.0"));
        assert_eq!(m.param_list.as_deref(), Some(&[1u8, 3, 6][..]));
        assert_eq!(m.client_fqdn.as_deref(), Some("a.b"));
    }

    #[test]
    fn refuses_what_zeek_refuses() {
        assert_eq!(parse(&[0; 100]), Err(Malformed::Short));
        let mut d = build(1, 1, [0; 4], [0; 6], &[53, 1, 1]);
        d[236] = 0;
        assert_eq!(parse(&d), Err(Malformed::BadCookie));
        let mut d = build(1, 1, [0; 4], [0; 6], &[53, 1, 1]);
        d.pop(); // no End option
        assert_eq!(parse(&d), Err(Malformed::Truncated));
        let d = build(1, 1, [0; 4], [0; 6], &[12, 200, b'x']);
        assert_eq!(parse(&d), Err(Malformed::Truncated));
    }

    #[test]
    fn formats_like_zeek() {
        assert_eq!(fmt_mac(&[1, 2, 3]), "");
        let mut long = [0u8; 16];
        long[6] = 9;
        assert_eq!(fmt_mac(&long), "00:00:00:00:00:00:09:00");
        assert_eq!(escape(b"a\x00\tb"), "a\\x00\\x09b");
        assert_eq!(type_name(0), "unknown-message-type-0");
        assert_eq!(type_name(18), "TLS");
        assert_eq!(type_name(19), "unknown-message-type-19");
    }
}
