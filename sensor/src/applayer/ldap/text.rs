//! How Zeek writes LDAP values: result codes, scopes and alias modes by
//! name, search filters in RFC 4515 text form (with Zeek's nesting of
//! long AND/OR lists and its decoding of a few Active Directory
//! attributes), and modify requests' changes.

use ldap_parser::filter::{Filter, MatchingRuleAssertion, Substring, SubstringFilter};
use ldap_parser::ldap::Change;
use std::fmt::Write as _;

/// A string field as Zeek's analyzer reads it, which turns control
/// characters (such as the NUL Active Directory ends its diagnostic
/// messages with) into '?'. Zeek does the same to every non-ASCII byte;
/// Vagt keeps UTF-8 letters (Danish names in DNs) instead.
/// Kept to [`MAX_TEXT`] bytes, so that pending operations stay small.
pub fn ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(MAX_TEXT));
    for c in s.chars() {
        if out.len() + c.len_utf8() > MAX_TEXT {
            break;
        }
        out.push(if c.is_control() { '?' } else { c });
    }
    out
}

/// Longest string field kept (DNs, diagnostic messages, changes).
pub const MAX_TEXT: usize = 1024;

/// Zeek's `LDAP::RESULT_CODES`.
pub fn result(code: u32) -> &'static str {
    match code {
        0 => "success",
        1 => "operations error",
        2 => "protocol error",
        3 => "time limit exceeded",
        4 => "size limit exceeded",
        5 => "compare false",
        6 => "compare true",
        7 => "auth method not supported",
        8 => "stronger auth required",
        9 => "partial results",
        10 => "referral",
        11 => "admin limit exceeded",
        12 => "unavailable critical extension",
        13 => "confidentiality required",
        14 => "SASL bind in progress",
        16 => "no such attribute",
        17 => "undefined attribute type",
        18 => "inappropriate matching",
        19 => "constraint violation",
        20 => "attribute or value exists",
        21 => "invalid attribute syntax",
        32 => "no such object",
        33 => "alias problem",
        34 => "invalid DN syntax",
        36 => "alias dereferencing problem",
        48 => "inappropriate authentication",
        49 => "invalid credentials",
        50 => "insufficient access rights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwilling to perform",
        54 => "loop detect",
        60 => "sort control missing",
        61 => "offset range error",
        64 => "naming violation",
        65 => "object class violation",
        66 => "not allowed on non-leaf",
        67 => "not allowed on RDN",
        68 => "entry already exists",
        69 => "object class mods prohibited",
        70 => "results too large",
        71 => "affects multiple DSAs",
        76 => "control error",
        80 => "other",
        81 => "server down",
        82 => "local error",
        83 => "encoding error",
        84 => "decoding error",
        85 => "timeout",
        86 => "auth unknown",
        87 => "filter error",
        88 => "user canceled",
        89 => "param error",
        90 => "no memory",
        91 => "connect error",
        92 => "not supported",
        93 => "control not found",
        94 => "no results returned",
        95 => "more results to return",
        96 => "client loop",
        97 => "referral limit exceeded",
        100 => "invalid response",
        101 => "ambiguous response",
        112 => "TLS not supported",
        113 => "intermediate response",
        114 => "unknown type",
        115 => "LCUP invalid data",
        116 => "LCUP unsupported scheme",
        117 => "LCUP reload required",
        118 => "canceled",
        119 => "no such operation",
        120 => "too late",
        121 => "cannot cancel",
        122 => "assertion failed",
        123 => "authorization denied",
        _ => "unknown",
    }
}

pub fn scope(s: u32) -> &'static str {
    match s {
        0 => "base",
        1 => "single",
        2 => "tree",
        _ => "unknown",
    }
}

pub fn deref(d: u32) -> &'static str {
    match d {
        0 => "never",
        1 => "searching",
        2 => "finding",
        3 => "always",
        _ => "unknown",
    }
}

/// Zeek's `LDAP::EXTENDED_REQUESTS`: names of well-known extended
/// operations.
pub fn extended(oid: &str) -> &'static str {
    match oid {
        "1.3.6.1.4.1.1466.20037" => "StartTLS",
        "1.3.6.1.4.1.4203.1.11.3" => "whoami",
        _ => "unknown",
    }
}

/// Deepest filter nesting written out; hostile filters nest deeper.
const MAX_DEPTH: usize = 64;
/// Longest filter text kept.
const MAX_FILTER: usize = 4 * 1024;

/// A search filter as Zeek writes it.
pub fn filter(f: &Filter<'_>) -> String {
    let mut out = String::new();
    write_filter(&mut out, f, 0);
    if out.len() > MAX_FILTER {
        let mut end = MAX_FILTER;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    out
}

fn write_filter(out: &mut String, f: &Filter<'_>, depth: usize) {
    if depth > MAX_DEPTH || out.len() > MAX_FILTER {
        return;
    }
    match f {
        Filter::And(list) | Filter::Or(list) => {
            let op = if matches!(f, Filter::And(_)) {
                '&'
            } else {
                '|'
            };
            // Zeek nests lists longer than two as Wireshark shows them:
            // (&(&AB)C) rather than (&ABC).
            let mut acc = String::new();
            for (i, sub) in list.iter().enumerate() {
                let mut s = String::new();
                write_filter(&mut s, sub, depth + 1);
                acc = match i {
                    0 if list.len() == 1 => format!("({op}{s})"),
                    0 => format!("({op}{s}"),
                    1 => acc + &s + ")",
                    _ => format!("({op}{acc}{s})"),
                };
                if acc.len() > MAX_FILTER {
                    break;
                }
            }
            out.push_str(&acc);
        }
        Filter::Not(sub) => {
            out.push_str("(!");
            write_filter(out, sub, depth + 1);
            out.push(')');
        }
        Filter::EqualityMatch(a) => pair(out, &a.attribute_desc.0, "=", &a.assertion_value),
        Filter::GreaterOrEqual(a) => pair(out, &a.attribute_desc.0, ">=", &a.assertion_value),
        Filter::LessOrEqual(a) => pair(out, &a.attribute_desc.0, "<=", &a.assertion_value),
        Filter::ApproxMatch(a) => pair(out, &a.attribute_desc.0, "~=", &a.assertion_value),
        Filter::Present(a) => {
            let _ = write!(out, "({}=*)", a.0);
        }
        Filter::Substrings(s) => substrings(out, s),
        Filter::ExtensibleMatch(m) => extensible(out, m),
    }
}

fn pair(out: &mut String, attr: &str, op: &str, value: &[u8]) {
    let _ = write!(out, "({attr}{op}{})", value_text(attr, value));
}

/// "(attr=initial*any*...*final)".
fn substrings(out: &mut String, s: &SubstringFilter<'_>) {
    let (mut initial, mut anys, mut last) = (String::new(), Vec::new(), String::new());
    for part in &s.substrings {
        match part {
            Substring::Initial(v) => initial = String::from_utf8_lossy(&v.0).into_owned(),
            Substring::Any(v) => anys.push(String::from_utf8_lossy(&v.0).into_owned()),
            Substring::Final(v) => last = String::from_utf8_lossy(&v.0).into_owned(),
        }
    }
    let anys = if anys.is_empty() {
        String::new()
    } else {
        anys.join("*") + "*"
    };
    let _ = write!(out, "({}={initial}*{anys}{last})", s.filter_type.0);
}

/// "(type:rule:=value)", as Zeek orders an extensible match.
fn extensible(out: &mut String, m: &MatchingRuleAssertion<'_>) {
    let rule = m.matching_rule.as_ref().map_or("", |r| &r.0);
    let ty = m.rule_type.as_ref().map_or("", |t| &t.0);
    let value = String::from_utf8_lossy(&m.assertion_value.0);
    let _ = write!(out, "({ty}:{rule}:={value})");
}

/// An assertion value as text: UTF-8, except the Active Directory
/// attributes Zeek decodes (CLDAP's domain controller locator).
fn value_text(attr: &str, v: &[u8]) -> String {
    match attr {
        "DomainGuid" => guid(v),
        "objectSid" | "AAC" => v
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        "DomainSid" => sid(v),
        "NtVer" => match v {
            [a, b, c, d] => format!("0x{d:02x}{c:02x}{b:02x}{a:02x}"),
            _ => "HEX_FORMAT_FAILED".into(),
        },
        _ => String::from_utf8_lossy(v).into_owned(),
    }
}

/// A GUID in its usual text form (little-endian first three groups).
fn guid(v: &[u8]) -> String {
    if v.len() != 16 {
        return "GUID_FORMAT_FAILED".into();
    }
    let mut s = String::new();
    for group in [
        &[3usize, 2, 1, 0][..],
        &[5, 4],
        &[7, 6],
        &[8, 9],
        &[10, 11, 12, 13, 14, 15],
    ] {
        if !s.is_empty() {
            s.push('-');
        }
        for &i in group {
            let _ = write!(s, "{:02x}", v[i]);
        }
    }
    s
}

/// A 24-byte SID as "S-1-5-21-...", as Zeek reads it.
fn sid(v: &[u8]) -> String {
    if v.len() != 24 {
        return "SID_FORMAT_FAILED".into();
    }
    let be = |idx: &[usize]| idx.iter().fold(0u64, |a, &i| (a << 8) | u64::from(v[i]));
    let parts = [
        be(&[0]),
        be(&[2, 3, 4, 5, 6, 7]),
        be(&[11, 10, 9, 8]),
        be(&[15, 14, 13, 12]),
        be(&[19, 18, 17, 16]),
        be(&[23, 22, 21, 20]),
    ];
    let mut s = "S-".to_string();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = write!(s, "{p}");
    }
    s
}

/// A modify request's changes: "replace(attr=v1,v2)", joined by ", ".
pub fn changes(changes: &[Change<'_>]) -> String {
    let mut out = String::new();
    for c in changes {
        if out.len() > MAX_TEXT {
            break;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        let op = match c.operation.0 {
            0 => "add",
            1 => "delete",
            2 => "replace",
            3 => "increment",
            _ => "unknown",
        };
        let m = &c.modification;
        let vals: Vec<String> = m
            .attr_vals
            .iter()
            .map(|v| String::from_utf8_lossy(&v.0).into_owned())
            .collect();
        let _ = write!(out, "{op}({}={})", m.attr_type.0, vals.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ldap_parser::filter::{AssertionValue, AttributeValueAssertion};
    use ldap_parser::ldap::LdapString;
    use std::borrow::Cow;

    fn eq(a: &'static str, v: &'static str) -> Filter<'static> {
        Filter::EqualityMatch(AttributeValueAssertion {
            attribute_desc: LdapString(Cow::Borrowed(a)),
            assertion_value: Cow::Borrowed(v.as_bytes()),
        })
    }

    #[test]
    fn filters_as_zeek_writes_them() {
        let present = Filter::Present(LdapString(Cow::Borrowed("objectclass")));
        assert_eq!(filter(&present), "(objectclass=*)");
        let and = Filter::And(vec![present.clone(), eq("sAMAccountName", "bob")]);
        assert_eq!(filter(&and), "(&(objectclass=*)(sAMAccountName=bob))");
        let three = Filter::Or(vec![eq("a", "1"), eq("b", "2"), eq("c", "3")]);
        assert_eq!(filter(&three), "(|(|(a=1)(b=2))(c=3))");
        assert_eq!(filter(&Filter::And(vec![eq("a", "1")])), "(&(a=1))");
        assert_eq!(filter(&Filter::Not(Box::new(eq("a", "1")))), "(!(a=1))");
        let sub = Filter::Substrings(SubstringFilter {
            filter_type: LdapString(Cow::Borrowed("cn")),
            substrings: vec![
                Substring::Initial(AssertionValue(Cow::Borrowed(b"["))),
                Substring::Any(AssertionValue(Cow::Borrowed(b"x"))),
                Substring::Final(AssertionValue(Cow::Borrowed(b"]"))),
            ],
        });
        assert_eq!(filter(&sub), "(cn=[*x*])");
        assert_eq!(value_text("NtVer", &[6, 0, 0, 0]), "0x00000006");
        assert_eq!(value_text("objectSid", &[1, 0xab]), "01:ab");
        assert_eq!(guid(&[0; 3]), "GUID_FORMAT_FAILED");
    }

    #[test]
    fn deep_filters_are_bounded() {
        let mut f = eq("a", "1");
        for _ in 0..200 {
            f = Filter::Not(Box::new(f));
        }
        assert!(filter(&f).len() < 1000);
        assert_eq!(result(49), "invalid credentials");
        assert_eq!(result(15), "unknown");
    }
}
