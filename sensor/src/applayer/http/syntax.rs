//! Request and status lines, versions and URIs read exactly as Zeek's HTTP
//! analyzer reads them (`HTTP_RequestLine`, `ParseRequest`,
//! `HTTP_ReplyLine`, `unescape_URI`), weirds included: which lines count as
//! requests decides which rows exist, so the lenient corners (a URI with
//! spaces, HTTP/0.9 requests, a missing URI) follow Zeek, not the RFC.

/// An HTTP version; `None` of [`Version::parse`] is Zeek's unset version.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl Version {
    pub const UNSET: Version = Version { major: 0, minor: 0 };
    pub const V09: Version = Version { major: 0, minor: 9 };
    pub const V11: Version = Version { major: 1, minor: 1 };

    /// Zeek's `HTTP_Version`: "d.d" at the start, anything after it.
    fn parse(d: &[u8]) -> Option<Version> {
        match d {
            [a, b'.', b, ..] if a.is_ascii_digit() && b.is_ascii_digit() => Some(Version {
                major: a - b'0',
                minor: b - b'0',
            }),
            _ => None,
        }
    }

    /// As the log writes it ("%.1f" of major + minor / 10).
    pub fn text(self) -> String {
        format!("{}.{}", self.major, self.minor)
    }

    /// Versions above 1.0 keep connections open by default.
    pub fn keeps_alive(self) -> bool {
        self.major > 1 || (self.major == 1 && self.minor > 0)
    }
}

/// A request line Zeek accepts.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestLine {
    pub method: Vec<u8>,
    /// The URI with %-escapes decoded.
    pub uri: Vec<u8>,
    /// `None`: the line named no (readable) version.
    pub version: Option<Version>,
}

fn is_token(c: u8) -> bool {
    c > 31 && c < 127 && !b" \t()<>@,;:\\\"/[]?={}".contains(&c)
}

fn is_uri_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b":/?#[]@!$&'()*+,;=-_.~%".contains(&c)
}

fn is_ws(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn skip_ws(l: &[u8], mut i: usize) -> usize {
    while i < l.len() && is_ws(l[i]) {
        i += 1;
    }
    i
}

fn http_at(l: &[u8], i: usize, weird: &mut dyn FnMut(&'static str)) -> bool {
    let Some(w) = l.get(i..i + 5) else {
        return false;
    };
    if w == b"HTTP/" {
        return true;
    }
    if w.eq_ignore_ascii_case(b"HTTP/") {
        weird("lowercase_HTTP_keyword");
        return true;
    }
    false
}

/// Zeek's `HTTP_RequestLine`: `None` for a line that is no request (the
/// weird is reported through `weird`).
pub fn request_line(l: &[u8], weird: &mut dyn FnMut(&'static str)) -> Option<RequestLine> {
    let end_of_method = l.iter().position(|&c| !is_token(c)).unwrap_or(l.len());
    if end_of_method == 0 {
        let with_version =
            l.len() >= 9 && l[l.len() - 9..l.len() - 3].eq_ignore_ascii_case(b" HTTP/");
        weird(if with_version {
            "bad_HTTP_request_with_version"
        } else {
            "bad_HTTP_request"
        });
        return None;
    }
    let rest = skip_ws(l, end_of_method);
    if rest == end_of_method {
        weird("bad_HTTP_request");
        return None;
    }
    let (uri, version) = parse_request(&l[rest..], weird);
    if version == Some(Version::V09) && (end_of_method < 3 || uri.is_empty()) {
        weird("bad_HTTP_request");
        return None;
    }
    Some(RequestLine {
        method: l[..end_of_method].to_vec(),
        uri: unescape_uri(uri, weird),
        version,
    })
}

/// Zeek's `ParseRequest`: the URI runs to the last blank before "HTTP/";
/// without "HTTP/" the request is HTTP/0.9. The version is `None` when the
/// text after "HTTP/" is too short to read.
fn parse_request<'a>(
    l: &'a [u8],
    weird: &mut dyn FnMut(&'static str),
) -> (&'a [u8], Option<Version>) {
    let mut end_of_uri = l.iter().position(|&c| !is_uri_char(c)).unwrap_or(l.len());
    if end_of_uri >= l.len() && http_at(l, 0, weird) {
        weird("missing_HTTP_uri");
        end_of_uri = 0;
    }
    let mut vs = end_of_uri;
    while vs < l.len() {
        end_of_uri = vs;
        vs = skip_ws(l, vs);
        if http_at(l, vs, weird) {
            break;
        }
        vs += 1;
    }
    let version = if vs >= l.len() {
        Some(Version::V09)
    } else if vs + 8 <= l.len() {
        // An unreadable version leaves the request's version unset.
        Some(Version::parse(&l[vs + 5..]).unwrap_or(Version::UNSET))
    } else {
        None
    };
    (&l[..end_of_uri], version)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Zeek's `unescape_URI`: %XX and %uXXXX decoded, broken escapes kept as
/// they are (with Zeek's weirds).
pub fn unescape_uri(l: &[u8], weird: &mut dyn FnMut(&'static str)) -> Vec<u8> {
    let mut out = Vec::with_capacity(l.len());
    let mut i = 0;
    while i < l.len() {
        if l[i] != b'%' {
            out.push(l[i]);
            i += 1;
            continue;
        }
        i += 1;
        if i == l.len() {
            out.push(b'%');
            weird("illegal_%_at_end_of_URI");
            break;
        }
        if i + 1 == l.len() {
            out.extend_from_slice(&[b'%', l[i]]);
            weird("partial_escape_at_end_of_URI");
            break;
        }
        if l[i] == b'%' {
            // "%%": the first one is dropped and the second read as an
            // escape of its own.
            weird("double_%_in_URI");
            continue;
        }
        if let (Some(a), Some(b)) = (hex(l[i]), hex(l[i + 1])) {
            out.push((a << 4) | b);
            i += 2;
            continue;
        }
        if l.len() - i >= 5 && l[i] == b'u' {
            if let [Some(a), Some(b), Some(c), Some(d)] = [1, 2, 3, 4].map(|k| hex(l[i + k])) {
                if !(a == 0 && b == 0) {
                    out.push((a << 4) | b);
                }
                out.push((c << 4) | d);
                i += 5;
                continue;
            }
        }
        weird("unescaped_%_in_URI");
        out.extend_from_slice(&[b'%', l[i]]);
        i += 1;
    }
    out
}

/// A status line: version (unset when unreadable), code (0 when not three
/// digits), reason (`None` when missing).
#[derive(Debug, PartialEq, Eq)]
pub struct ReplyLine {
    pub version: Version,
    pub code: u16,
    pub reason: Option<Vec<u8>>,
}

/// Zeek's `HTTP_ReplyLine`.
pub fn reply_line(l: &[u8], weird: &mut dyn FnMut(&'static str)) -> Option<ReplyLine> {
    if !http_at(l, 0, weird) {
        return None;
    }
    let mut rest = 5;
    let version = Version::parse(&l[rest..]).unwrap_or(Version::UNSET);
    while rest < l.len() && !is_ws(l[rest]) {
        rest += 1;
    }
    if rest >= l.len() {
        return None;
    }
    rest = skip_ws(l, rest);
    let code_bytes = l.get(rest..rest + 3)?;
    let code = if code_bytes.iter().all(u8::is_ascii_digit) {
        code_bytes
            .iter()
            .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'))
    } else {
        0
    };
    rest += 3;
    while rest < l.len() && !is_ws(l[rest]) {
        rest += 1;
    }
    let reason = (rest < l.len()).then(|| l[skip_ws(l, rest)..].to_vec());
    Some(ReplyLine {
        version,
        code,
        reason,
    })
}

/// Bytes as Zeek's logs write them: printable ASCII as it is, any other
/// byte as `\xNN`.
pub fn text(b: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let printable = |c: &u8| (0x20..0x7f).contains(c);
    let mut s = String::with_capacity(b.len());
    let mut rest = b;
    // Runs of printable bytes (nearly all of a log's text) are copied
    // whole; the bytes between them are escaped one by one.
    while !rest.is_empty() {
        let run = rest
            .iter()
            .position(|c| !printable(c))
            .unwrap_or(rest.len());
        let (plain, tail) = rest.split_at(run);
        // Printable ASCII is UTF-8 as it is.
        s.push_str(std::str::from_utf8(plain).unwrap_or_default());
        let Some((&c, tail)) = tail.split_first() else {
            break;
        };
        s.push_str("\\x");
        s.push(char::from(HEX[usize::from(c >> 4)]));
        s.push(char::from(HEX[usize::from(c & 0xf)]));
        rest = tail;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(l: &str) -> (Option<RequestLine>, Vec<&'static str>) {
        let mut w = Vec::new();
        let r = request_line(l.as_bytes(), &mut |x| w.push(x));
        (r, w)
    }

    #[test]
    fn zeek_request_lines() {
        let (r, _) = req("GET / HTTP/1.1");
        let r = r.unwrap();
        assert_eq!(
            (r.method.as_slice(), r.uri.as_slice()),
            (&b"GET"[..], &b"/"[..])
        );
        assert_eq!(r.version, Some(Version::V11));
        let (r, w) = req("OPTIONS HTTP/1.1");
        assert_eq!(r.unwrap().uri, b"");
        assert_eq!(w, ["missing_HTTP_uri"]);
        assert_eq!(req("GET /HTTP/1.1").0.unwrap().version, Some(Version::V09));
        assert_eq!(req("GET/ HTTP/1.1").1, ["bad_HTTP_request"]);
        assert_eq!(req("OPTIONS").1, ["bad_HTTP_request"]);
        assert_eq!(
            req("\u{e9} / HTTP/1.1").1,
            ["bad_HTTP_request_with_version"]
        );
        assert_eq!(req("GET ").1, ["bad_HTTP_request"]);
        let r = req("CCM_POST / HTTP/1.").0.unwrap();
        assert_eq!((r.method.as_slice(), r.version), (&b"CCM_POST"[..], None));
        let r = req("GET /a b HTTP/1.0").0.unwrap();
        assert_eq!(r.uri, b"/a b");
    }

    #[test]
    fn unescaping() {
        let mut w = Vec::new();
        assert_eq!(unescape_uri(b"/a%20b%u0041", &mut |x| w.push(x)), b"/a bA");
        assert_eq!(unescape_uri(b"/%", &mut |x| w.push(x)), b"/%");
        assert_eq!(unescape_uri(b"/%5", &mut |x| w.push(x)), b"/%5");
        assert_eq!(
            w,
            ["illegal_%_at_end_of_URI", "partial_escape_at_end_of_URI"]
        );
    }

    #[test]
    fn reply_lines() {
        let mut w = |_| {};
        let r = reply_line(b"HTTP/1.1 200 OK", &mut w).unwrap();
        assert_eq!((r.version, r.code), (Version::V11, 200));
        assert_eq!(r.reason.as_deref(), Some(&b"OK"[..]));
        assert_eq!(reply_line(b"HTTP/1.1 200", &mut w).unwrap().reason, None);
        assert!(reply_line(b"<html>", &mut w).is_none());
        assert_eq!(text(b"a\xffb"), "a\\xffb");
    }
}
