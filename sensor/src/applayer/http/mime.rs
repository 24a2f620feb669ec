//! Content sniffing: the MIME type of a body from its first bytes, as
//! analysts know it from Zeek's `orig_mime_types` and `resp_mime_types`
//! (what a body is, whatever its Content-Type header claims: an
//! executable served as `image/jpeg` is still `application/x-dosexec`).
//!
//! Each rule looks at the start of the (decoded) body and has a strength;
//! the strongest rule that matches names the type, so a page that opens
//! with `<!DOCTYPE html>` is `text/html`, not the weaker `text/plain` its
//! printable first bytes also satisfy. The rules cover what matters on a
//! municipal network: programs and scripts, archives, documents, images,
//! markup, JSON and plain text. The strengths follow Zeek's, so that where
//! both name a body they agree; formats not listed here get no type.

/// Bytes of a body the rules may look at (Zeek's `default_bof_buffer_size`).
pub const SNIFF_LEN: usize = 4096;

/// Appends what of `data` still fits in a body's first [`SNIFF_LEN`]
/// bytes.
pub fn keep(head: &mut Vec<u8>, data: &[u8]) {
    let room = SNIFF_LEN.saturating_sub(head.len());
    head.extend_from_slice(&data[..data.len().min(room)]);
}

/// A rule: the type it names, its strength, and the test of the first bytes.
type Rule = (&'static str, i32, fn(&[u8]) -> bool);

/// The rules; the strongest match wins, the first among equals.
#[rustfmt::skip]
const RULES: &[Rule] = &[
    ("text/x-shellscript", 250, |b| shebang(b, &["sh", "bash", "tcsh", "csh", "zsh", "ash", "ksh", "dash"])),
    ("image/png", 110, |b| b.starts_with(b"\x89PNG")),
    ("text/html", 100, |b| markup(b, &[b"!doctype html", b"html", b"meta http-equiv"])),
    ("application/x-gzip", 100, |b| b.starts_with(b"\x1f\x8b")),
    ("application/x-7z-compressed", 100, |b| b.starts_with(b"7z\xbc\xaf\x27\x1c")),
    ("application/x-rar", 100, |b| b.starts_with(b"Rar!\x1a\x07")),
    ("application/x-mach-o-executable", 100, |b| b.len() >= 4 && matches!(b[0], 0xce | 0xcf) && b[1..4] == [0xfa, 0xed, 0xfe]),
    ("text/rss", 90, |b| markup(b, &[b"rss"])),
    ("application/vnd.ms-cab-compressed", 80, |b| b.starts_with(b"MSCF\0\0\0\0")),
    ("application/x-java-applet", 71, |b| b.len() >= 8 && b.starts_with(b"\xca\xfe\xba\xbe") && (0x2d..=0x34).contains(&b[7])),
    ("image/gif", 70, |b| b.starts_with(b"GIF8")),
    ("image/x-icon", 70, |b| b.starts_with(b"\0\0\x01\0")),
    ("image/webp", 70, |b| b.len() >= 12 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP"),
    ("image/tiff", 70, |b| b.starts_with(b"MM\0\x2a") || b.starts_with(b"II\x2a\0")),
    ("application/vnd.tcpdump.pcap", 70, |b| b.starts_with(b"\xa1\xb2\xc3\xd4") || b.starts_with(b"\xd4\xc3\xb2\xa1")),
    ("text/x-perl", 60, |b| shebang(b, &["perl"])),
    ("text/x-python", 60, |b| shebang(b, &["python", "python2", "python3"])),
    ("application/javascript", 60, javascript),
    ("application/x-shockwave-flash", 60, |b| b.len() >= 3 && matches!(b[0], b'F' | b'C' | b'Z') && &b[1..3] == b"WS"),
    ("image/jpeg", 52, |b| b.starts_with(b"\xff\xd8")),
    ("application/x-dosexec", 51, |b| b.starts_with(b"MZ")),
    ("application/x-executable", 50, |b| elf(b, 2)),
    ("application/x-sharedlib", 50, |b| elf(b, 3)),
    ("text/html", 20, |b| markup(b, &[b"head", b"html", b"title", b"body"])),
    ("application/pdf", 20, |b| b.starts_with(b"%PDF-")),
    ("application/vnd.ms-office", 20, |b| b.starts_with(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    ("application/zip", 10, |b| b.starts_with(b"PK\x03\x04")),
    ("application/xml", 10, |b| starts_with_ci(after_comments(strip_bom(b)), b"<?xml ")),
    ("application/x-pem", 0, |b| b.starts_with(b"-----BEGIN CERTIFICATE-----")),
    ("text/json", 1, json),
    ("text/plain", -20, plain),
];

/// The type of a body whose first bytes are `head` (at most [`SNIFF_LEN`]
/// are looked at); `None` when no rule knows it or it is empty.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let b = &head[..head.len().min(SNIFF_LEN)];
    let mut best: Option<&Rule> = None;
    for r in RULES {
        if best.is_some_and(|x| x.1 >= r.1) {
            continue;
        }
        if (r.2)(b) {
            best = Some(r);
        }
    }
    best.map(|r| r.0)
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b)
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn skip_blank(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|&&c| is_blank(c)).count();
    &b[n..]
}

fn starts_with_ci(b: &[u8], what: &[u8]) -> bool {
    b.len() >= what.len() && b[..what.len()].eq_ignore_ascii_case(what)
}

/// Past white space and `<!-- ... -->` comments.
fn after_comments(mut b: &[u8]) -> &[u8] {
    loop {
        b = skip_blank(b);
        let Some(rest) = b.strip_prefix(b"<!--") else {
            return b;
        };
        match rest.windows(3).position(|w| w == b"-->") {
            Some(i) => b = &rest[i + 3..],
            None => return b,
        }
    }
}

/// A markup document whose first element is one of `tags` (compared
/// without case; a space in a tag stands for one or more), after a BOM,
/// comments and an XML declaration.
fn markup(b: &[u8], tags: &[&[u8]]) -> bool {
    let mut b = after_comments(strip_bom(b));
    if starts_with_ci(b, b"<?xml ") {
        let Some(end) = b.windows(2).position(|w| w == b"?>") else {
            return false;
        };
        b = after_comments(&b[end + 2..]);
    }
    let Some(b) = b.strip_prefix(b"<") else {
        return false;
    };
    tags.iter()
        .any(|tag| match tag.iter().position(|&c| c == b' ') {
            None => starts_with_ci(b, tag),
            Some(sp) => {
                starts_with_ci(b, &tag[..sp]) && {
                    let rest = &b[sp..];
                    let n = rest.iter().take_while(|&&c| c == b' ').count();
                    n > 0 && starts_with_ci(&rest[n..], &tag[sp + 1..])
                }
            }
        })
}

/// `#!` and an interpreter path naming one of `names` (directly or through
/// `env`), on the first line.
fn shebang(b: &[u8], names: &[&str]) -> bool {
    let Some(rest) = b.strip_prefix(b"#!") else {
        return false;
    };
    let line = rest.split(|&c| c == b'\n').next().unwrap_or_default();
    let Some(at) = line.windows(4).position(|w| w == b"bin/") else {
        return false;
    };
    if at > 15 {
        return false;
    }
    let mut prog = &line[at + 4..];
    if let Some(after_env) = prog.strip_prefix(b"env") {
        if after_env.first().is_some_and(|&c| is_blank(c)) {
            prog = skip_blank(after_env);
        }
    }
    let word: &[u8] = prog.split(|&c| is_blank(c)).next().unwrap_or_default();
    names.iter().any(|n| word == n.as_bytes())
}

fn javascript(b: &[u8]) -> bool {
    if shebang(b, &["node", "nodejs"]) {
        return true;
    }
    // `(function()` and its body's brace, across spaces, tabs and line
    // feeds only (a CR between them is not this idiom's writer).
    if let Some(rest) = b.strip_prefix(b"(function()") {
        let n = rest
            .iter()
            .take_while(|&&c| matches!(c, b' ' | b'\t' | b'\n'))
            .count();
        return rest[n..].starts_with(b"{");
    }
    let b = skip_blank(b);
    if b.starts_with(b"for (;;);") {
        return true;
    }
    if let Some(rest) = b.strip_prefix(b"document.write") {
        let rest = rest.strip_prefix(b"ln").unwrap_or(rest);
        let rest = rest.strip_prefix(b" ").unwrap_or(rest);
        return rest.starts_with(b"(");
    }
    let Some(rest) = b.get(..7).filter(|p| p.eq_ignore_ascii_case(b"<script")) else {
        return false;
    };
    let rest = &b[rest.len()..];
    if let Some(inner) = rest.strip_prefix(b">") {
        let inner = skip_blank(inner);
        return inner.starts_with(b"var ") || inner.starts_with(b"function ");
    }
    let attrs = skip_blank(rest);
    let value = if starts_with_ci(attrs, b"type=") {
        &attrs[5..]
    } else if starts_with_ci(attrs, b"language=") {
        &attrs[9..]
    } else {
        return false;
    };
    let value = value
        .strip_prefix(b"\"")
        .or(value.strip_prefix(b"'"))
        .unwrap_or(value);
    let value = if starts_with_ci(value, b"text/") {
        &value[5..]
    } else {
        value
    };
    starts_with_ci(value, b"javascript")
}

fn elf(b: &[u8], kind: u8) -> bool {
    b.len() >= 18
        && b.starts_with(b"\x7fELF")
        && match b[4] {
            1 => b[16] == kind && b[17] == 0,
            2 => b[16] == 0 && b[17] == kind,
            _ => false,
        }
}

/// A JSON object or array by its opening: `{"key":` or `{key:` and the
/// start of a value, `[` and a first element, or an empty `{}`/`[]`.
fn json(b: &[u8]) -> bool {
    let b = skip_blank(strip_bom(b));
    if let Some(rest) = b.strip_prefix(b"{") {
        let rest = skip_blank(rest);
        if rest.starts_with(b"}") {
            return skip_blank(&rest[1..]).is_empty();
        }
        let after_key = if let Some(q) = rest.strip_prefix(b"\"") {
            match q.iter().position(|&c| c == b'"') {
                Some(end) if end > 0 => &q[end + 1..],
                _ => return false,
            }
        } else if rest.first().is_some_and(u8::is_ascii_alphabetic) {
            let n = rest
                .iter()
                .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'\\')
                .count();
            &rest[n..]
        } else {
            return false;
        };
        let Some(value) = skip_blank(after_key).strip_prefix(b":") else {
            return false;
        };
        let value = skip_blank(value);
        return value
            .first()
            .is_some_and(|&c| matches!(c, b'"' | b'[' | b'{') || c.is_ascii_digit())
            || value.starts_with(b"true")
            || value.starts_with(b"false");
    }
    let Some(rest) = b.strip_prefix(b"[") else {
        return false;
    };
    let rest = skip_blank(rest);
    if rest.starts_with(b"]") {
        return skip_blank(&rest[1..]).is_empty();
    }
    if rest.starts_with(b"{") || rest.starts_with(b"[") {
        return true;
    }
    // A scalar first element followed by a comma.
    let n = if let Some(q) = rest.strip_prefix(b"\"") {
        match q.iter().position(|&c| c == b'"') {
            Some(end) if end > 0 => end + 2,
            _ => return false,
        }
    } else if rest.starts_with(b"true") {
        4
    } else if rest.starts_with(b"false") {
        5
    } else {
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        let frac = match rest[digits..].strip_prefix(b".") {
            Some(f) => match f.iter().take_while(|c| c.is_ascii_digit()).count() {
                0 => return false,
                k => k + 1,
            },
            None => 0,
        };
        digits + frac
    };
    skip_blank(&rest[n..]).starts_with(b",")
}

/// Ten printable or white-space bytes, after a UTF-8, UTF-16 or UTF-32
/// byte-order mark.
fn plain(b: &[u8]) -> bool {
    let b = [
        &b"\xef\xbb\xbf"[..],
        b"\0\0\xfe\xff",
        b"\xfe\xff",
        b"\xff\xfe\0\0",
        b"\xff\xfe",
    ]
    .iter()
    .find_map(|bom| b.strip_prefix(*bom))
    .unwrap_or(b);
    b.len() >= 10
        && b[..10].iter().all(|&c| {
            (0x20..=0x7e).contains(&c) || matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_rule_names_the_body() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"<!DOCTYPE html>\n<html><head>", Some("text/html")),
            (b"\xef\xbb\xbf  <!-- x -->\n<HTML>", Some("text/html")),
            (b"<?xml version=\"1.0\"?>\n<html xmlns=", Some("text/html")),
            (
                b"<?xml version=\"1.0\"?>\n<config>",
                Some("application/xml"),
            ),
            (b"<title>Index of /</title>", Some("text/html")),
            (b"hello world, plain text", Some("text/plain")),
            (b"{\"status\": \"ok\"}", Some("text/json")),
            (b"[1, 2, 3]", Some("text/json")),
            (b"{}", Some("text/json")),
            (
                b"<script type=\"text/javascript\">var a",
                Some("application/javascript"),
            ),
            (
                b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
                Some("application/x-dosexec"),
            ),
            (b"\x89PNG\r\n\x1a\n", Some("image/png")),
            (b"GIF89a\x01\x00", Some("image/gif")),
            (b"%PDF-1.7\n%\xe2\xe3", Some("application/pdf")),
            (b"PK\x03\x04\x14\x00", Some("application/zip")),
            (b"#!/usr/bin/env bash\necho", Some("text/x-shellscript")),
            (b"#!/usr/bin/python3\nimport os", Some("text/x-python")),
            (b"ok\n", None),
            (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", None),
            (b"", None),
        ];
        for (body, want) in cases {
            assert_eq!(sniff(body), *want, "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn any_bytes_are_safe() {
        // Short and hostile inputs: every prefix of every case above and
        // unterminated constructs must not panic.
        for body in [
            &b"<?xml "[..],
            b"<!--",
            b"{\"",
            b"[\"",
            b"[1.",
            b"#!",
            b"#!/bin/",
            b"<script",
            b"\x7fELF\x02",
        ] {
            for n in 0..=body.len() {
                let _ = sniff(&body[..n]);
            }
        }
    }
}
