//! The helpers Zeek's FTP scripts lean on, with Zeek's exact rules:
//! `build_path_compressed` (the working directory joined with a file name,
//! then `normalize_path`), the PORT/PASV and EPRT/EPSV address parsers of
//! `functions.bif`, `extract_path` for PWD replies and `extract_count` for
//! file sizes. The log shows their quirks (a leading "./" kept, "/.."
//! kept at the root), so they are reproduced rather than improved.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Zeek's `build_path`: `file` as it is when absolute (or `dir` is empty),
/// otherwise under `dir`.
pub fn build_path(dir: &str, file: &str) -> String {
    let b = file.as_bytes();
    let absolute = b.first() == Some(&b'/')
        || (b.len() >= 3
            && b[0].is_ascii_alphabetic()
            && b[1] == b':'
            && matches!(b[2], b'/' | b'\\'));
    if absolute || dir.is_empty() {
        return file.to_string();
    }
    let mut path = String::with_capacity(dir.len() + 1 + file.len());
    path.push_str(dir);
    if !dir.ends_with('/') {
        path.push('/');
    }
    path.push_str(file);
    path
}

/// Zeek's `normalize_path` (`compress_path`).
pub fn normalize_path(path: &str) -> String {
    if !path.contains("/.") && !path.contains("//") {
        if path.len() > 1 && path.ends_with('/') {
            return path[..path.len() - 1].to_string();
        }
        return path.to_string();
    }
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push('/');
    }
    let mut fin: Vec<&str> = Vec::new();
    for (i, c) in path.split('/').enumerate() {
        if c.is_empty() || (c == "." && i != 0) {
            continue;
        }
        fin.push(c);
        if c == ".." && fin.len() > 1 {
            let last = fin.len() - 2;
            match fin[last] {
                "/" | "~" | ".." => {}
                "." => {
                    fin[last] = "..";
                    fin.pop();
                }
                _ => {
                    fin.pop();
                    fin.pop();
                }
            }
        }
    }
    for c in fin {
        out.push_str(c);
        out.push('/');
    }
    if out.len() > 1 && out.ends_with('/') {
        out.pop();
    }
    out
}

pub fn build_path_compressed(dir: &str, file: &str) -> String {
    normalize_path(&build_path(dir, file))
}

/// An address as a URL host: IPv6 in brackets.
pub fn addr_to_uri(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v) => v.to_string(),
        IpAddr::V6(v) => format!("[{v}]"),
    }
}

/// sscanf's "%d": blanks, an optional sign, digits.
fn scan_int(s: &[u8], i: &mut usize) -> Option<i64> {
    while *i < s.len() && s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    let neg = match s.get(*i) {
        Some(b'-') => {
            *i += 1;
            true
        }
        Some(b'+') => {
            *i += 1;
            false
        }
        _ => false,
    };
    let start = *i;
    let mut n: i64 = 0;
    while *i < s.len() && s[*i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add(i64::from(s[*i] - b'0'));
        *i += 1;
    }
    (*i > start).then_some(if neg { -n } else { n })
}

/// Zeek's `parse_port`: "h1,h2,h3,h4,p1,p2" at the start of `s`.
pub fn parse_port(s: &[u8]) -> Option<(IpAddr, u16)> {
    if s.len() < 11 {
        return None;
    }
    let mut i = 0;
    let mut v = [0i64; 6];
    for (k, slot) in v.iter_mut().enumerate() {
        if k > 0 {
            if s.get(i) != Some(&b',') {
                return None;
            }
            i += 1;
        }
        *slot = scan_int(s, &mut i)?;
    }
    if v.iter().any(|b| !(0..=255).contains(b)) {
        return None;
    }
    let ip = Ipv4Addr::new(v[0] as u8, v[1] as u8, v[2] as u8, v[3] as u8);
    Some((IpAddr::V4(ip), ((v[4] as u16) << 8) | v[5] as u16))
}

/// Zeek's `parse_ftp_pasv`: the numbers after "(", after "PORT", or
/// around the first comma.
pub fn parse_pasv(s: &[u8]) -> Option<(IpAddr, u16)> {
    if let Some(p) = s.iter().position(|&c| c == b'(') {
        return parse_port(&s[p + 1..]);
    }
    if let Some(p) = s.windows(4).position(|w| w == b"PORT") {
        return parse_port(s.get(p + 5..)?);
    }
    let comma = s.iter().position(|&c| c == b',')?;
    let mut start = comma;
    while start > 0 && s[start - 1].is_ascii_digit() {
        start -= 1;
    }
    parse_port(&s[start..])
}

/// strtol over base 10: the value and where it stopped.
fn strtol(s: &[u8], mut i: usize) -> (i64, usize) {
    let begin = i;
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = i;
    let mut n: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        n = n.saturating_mul(10).saturating_add(i64::from(s[i] - b'0'));
        i += 1;
    }
    if i == digits {
        return (0, begin);
    }
    (if neg { -n } else { n }, i)
}

/// Zeek's `parse_eftp` (EPRT arguments, EPSV replies after "("):
/// `<d><proto><d><addr><d><port><d>`; the address is unspecified (::)
/// when left out.
pub fn parse_eftp(s: &[u8]) -> Option<(IpAddr, u16)> {
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_whitespace() {
        i += 1;
    }
    let delim = *s.get(i)?;
    i += 1;
    let mut good = true;
    let (_proto, next) = strtol(s, i);
    if s.get(next) != Some(&delim) {
        good = false;
    }
    i = next;
    if i < s.len() {
        i += 1;
    }
    let mut addr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    if i < s.len() && s[i] != delim {
        let end = s[i..]
            .iter()
            .position(|&c| c == delim)
            .map_or(s.len(), |p| i + p);
        match std::str::from_utf8(&s[i..end])
            .ok()
            .and_then(|t| t.parse::<IpAddr>().ok())
        {
            Some(a) => {
                addr = a;
                good = true;
            }
            None => good = false,
        }
    }
    let mut port = 0;
    if let Some(p) = s[i.min(s.len())..].iter().position(|&c| c == delim) {
        let at = i + p + 1;
        let (n, next) = strtol(s, at);
        if s.get(next) != Some(&delim) {
            good = false;
        }
        if (0..=65535).contains(&n) {
            port = n as u16;
        } else {
            good = false;
        }
    }
    good.then_some((addr, port))
}

/// Zeek's `extract_count(s, F)`: the last number in `s` (0 if none).
pub fn extract_last_count(s: &[u8]) -> u64 {
    let mut last = None;
    let mut i = 0;
    while i < s.len() {
        if s[i].is_ascii_digit() {
            let start = i;
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
            last = Some(&s[start..i]);
        } else {
            i += 1;
        }
    }
    last.map_or(0, |d| {
        d.iter().fold(0u64, |n, c| {
            n.wrapping_mul(10).wrapping_add(u64::from(c - b'0'))
        })
    })
}

fn path_start(s: &[u8], i: usize) -> bool {
    s[i] == b'/'
        || (s[i].is_ascii_alphabetic()
            && s.get(i + 1) == Some(&b':')
            && matches!(s.get(i + 2), Some(b'/' | b'\\')))
}

/// Zeek's `extract_path`: a quoted absolute path, else the first absolute
/// path, else "".
pub fn extract_path(s: &[u8]) -> Vec<u8> {
    for i in 0..s.len() {
        if s[i] == b'"' && i + 1 < s.len() && path_start(s, i + 1) {
            if let Some(len) = s[i + 1..].iter().position(|&c| c == b'"') {
                return s[i + 1..i + 1 + len].to_vec();
            }
        }
    }
    for i in 0..s.len() {
        if path_start(s, i) {
            let mut j = i + if s[i] == b'/' { 1 } else { 3 };
            while j < s.len() {
                if s[j] == b'\\' && s.get(j + 1) == Some(&b' ') {
                    j += 2;
                } else if s[j] == b'"' || s[j] == b' ' {
                    break;
                } else {
                    j += 1;
                }
            }
            return s[i..j].to_vec();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeek_paths() {
        assert_eq!(build_path_compressed(".", "pub/a.gz"), "./pub/a.gz");
        assert_eq!(normalize_path("./zeek/.."), ".");
        assert_eq!(normalize_path("./zeek/../.."), "..");
        assert_eq!(normalize_path("/.."), "/..");
        assert_eq!(normalize_path("zeek/../.."), "..");
        assert_eq!(normalize_path("../zeek/testing/.."), "../zeek");
        assert_eq!(normalize_path("/a//b/./c/"), "/a/b/c");
        assert_eq!(build_path_compressed("/pub", "/x"), "/x");
        assert_eq!(build_path_compressed("/pub/", "x"), "/pub/x");
    }

    #[test]
    fn ports() {
        let p = parse_pasv(b"Entering Passive Mode (205,167,25,101,243,251).").unwrap();
        assert_eq!(p, ("205.167.25.101".parse().unwrap(), 62459));
        assert_eq!(parse_port(b"141,142,220,235,131,46").unwrap().1, 33582);
        assert!(parse_port(b"1,2,3,4,5,256").is_none());
        let e = parse_eftp(b"|||57086|)").unwrap();
        assert_eq!(e, ("::".parse().unwrap(), 57086));
        let e = parse_eftp(b"|2|2001:470:1f11:81f:c999:d94:aa7c:2e3e|49189|").unwrap();
        assert_eq!(e.1, 49189);
    }

    #[test]
    fn counts_and_paths() {
        assert_eq!(
            extract_last_count(b"Opening BINARY mode for a1.txt (154427 bytes)"),
            154427
        );
        assert_eq!(
            extract_path(b"\"/pub/data\" is current directory."),
            b"/pub/data"
        );
        assert_eq!(extract_path(b"current dir /home/x ok"), b"/home/x");
    }
}
