//! Header blocks and values as Zeek's HTTP analyzer reads them: a block
//! parsed with httparse, or line by line, leniently, when httparse refuses
//! it (folded lines, odd bytes, too many headers); a value's first token
//! and the numbers in it.

/// Headers one message may carry (more are dropped).
const MAX_HEADERS: usize = 128;

/// A header as the analyzer and the log see it.
pub struct Header<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// Calls `each` for every header of `block` (ending with its empty line),
/// in order.
pub fn each(block: &[u8], each: &mut dyn FnMut(Header<'_>)) {
    let mut parsed = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(block, &mut parsed) {
        Ok(httparse::Status::Complete((_, hs))) => {
            for h in hs.iter() {
                each(Header {
                    name: h.name.as_bytes(),
                    value: h.value,
                });
            }
        }
        // Folded lines, odd bytes, too many headers: read line by line
        // as Zeek's MIME reader does, which joins folded lines and
        // skips lines without a colon.
        _ => each_by_hand(block, each),
    }
}

/// The first token of a header value (Zeek's `get_value_token`) and what
/// follows it.
pub fn token(v: &[u8]) -> (&[u8], &[u8]) {
    let start = v
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(v.len());
    let v = &v[start..];
    let end = v
        .iter()
        .position(|&c| c <= b' ' || c >= 127 || b"()<>@,;:\\\"/[]?=".contains(&c))
        .unwrap_or(v.len());
    (&v[..end], &v[end..])
}

/// Zeek's `atoi_n`: an optional minus, then digits of `base` up to the
/// first other character; `None` when the first character is no digit.
pub fn atoi(t: &[u8], base: u32) -> Option<i64> {
    let (neg, t) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for (i, &c) in t.iter().enumerate() {
        match (c as char).to_digit(base) {
            Some(d) => n = n.wrapping_mul(i64::from(base)).wrapping_add(i64::from(d)),
            None if i > 0 => break,
            None => return None,
        }
    }
    if t.is_empty() {
        return None;
    }
    Some(if neg { n.wrapping_neg() } else { n })
}

/// Headers of a block httparse refused, read leniently: folded lines join
/// the header before them, lines without a colon are skipped.
fn each_by_hand(block: &[u8], each: &mut dyn FnMut(Header<'_>)) {
    let mut joined: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in block.split(|&c| c == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some((_, v)) = joined.last_mut() {
                v.push(b' ');
                v.extend_from_slice(line.trim_ascii());
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            continue;
        };
        if joined.len() >= MAX_HEADERS {
            break;
        }
        joined.push((
            line[..colon].trim_ascii().to_vec(),
            line[colon + 1..].trim_ascii_start().to_vec(),
        ));
    }
    for (n, v) in &joined {
        each(Header { name: n, value: v });
    }
}
