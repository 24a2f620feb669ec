//! Tests of the indicator lists: both formats, their errors, and the
//! lookups.

use super::*;
use crate::rules::Rules;

fn toml(text: &str) -> Result<Rules, RulesError> {
    let mut r = Rules::default();
    r.add_file(Path::new("rules/indicators.toml"), text)?;
    Ok(r)
}

fn intel(text: &str) -> Result<Rules, RulesError> {
    let mut r = Rules::default();
    r.add_intel_file(Path::new("rules/feed.intel"), text)?;
    Ok(r)
}

fn hits_addr(set: &Indicators, a: &str) -> Vec<String> {
    let mut out = Vec::new();
    set.find_addr(a.parse().unwrap(), |i| {
        out.push(set.get(i).unwrap().value.to_string())
    });
    out.sort();
    out
}

fn hits_domain(set: &Indicators, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    set.find_domain(name, |i| out.push(set.get(i).unwrap().value.to_string()));
    out.sort();
    out
}

#[test]
fn toml_entries_are_checked_and_placed() {
    let r = toml(
        r#"
# A comment line, so the entries are not on the first lines.
[[indicator]]
value = "203.0.113.0/24"
type = "ip"
comment = "C2 range from the CERT bulletin"
source = "CFCS"

[[indicator]]
value = "*.Bad.Example."
type = "domain"
comment = "phishing kit"
score = 90
technique = "T1566.002"
expires = "2027-01-31"

[[indicator]]
value = "e7d705a3286e19ea42f587b344ee6865"
type = "ja3"
comment = "Cobalt Strike default profile"
"#,
    )
    .unwrap();
    let set = &r.indicators;
    assert_eq!(set.len(), 3);
    assert_eq!(set.counts(), vec![("ip", 1), ("domain", 1), ("ja3", 1)]);
    let net = set.get(0).unwrap();
    assert_eq!(set.origin(net), "rules/indicators.toml line 4");
    assert_eq!(net.source.as_deref(), Some("CFCS"));
    assert_eq!((net.score, &*net.technique), (None, DEFAULT_TECHNIQUE));
    let dom = set.get(1).unwrap();
    assert_eq!(&*dom.value, "*.bad.example");
    assert_eq!((dom.score, &*dom.technique), (Some(90), "T1566.002"));
    assert_eq!(dom.expires, Some(1_801_440_000.0));
    assert_eq!(set.origin(dom), "rules/indicators.toml line 10");
    assert!(set
        .summary()
        .contains("3 indicator(s) (ip 1, domain 1, ja3 1)"));
}

#[test]
fn toml_errors_name_the_line_and_what_to_write() {
    let e = toml("[[indicator]]\nvalue = \"10.0.0.1\"\ntype = \"ipv4\"\ncomment = \"x\"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(
        e.message.contains("\"ip\"") && e.message.contains("\"domain\""),
        "{e}"
    );
    let e = toml("[[indicator]]\ntype = \"ip\"\ncomment = \"x\"\nvalue = \"10.0.0.0/8x\"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(
        e.to_string()
            .starts_with("rules/indicators.toml:4: indicator entry 1"),
        "{e}"
    );
    let e = toml("[[indicator]]\nvalue = \"10.1.2.0/16\"\ntype = \"ip\"\ncomment = \"x\"\n")
        .unwrap_err();
    assert!(e.message.contains("host bits"), "{e}");
    let e = toml("[[indicator]]\nvalue = \"a.example\"\ntype = \"domain\"\ncomment = \" \"\n")
        .unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("comment"), "{e}");
    let e = toml("[[indicator]]\nvalue = \"a.example\"\ntype = \"domain\"\n").unwrap_err();
    assert!(e.message.contains("comment"), "{e}");
    let e = toml(
        "[[indicator]]\nvalue = \"a.example\"\ntype = \"domain\"\ncomment = \"x\"\nscore = 150\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    assert!(e.message.contains("0 to 100"), "{e}");
    let e = toml(
        "[[indicator]]\nvalue = \"a.example\"\ntype = \"domain\"\ncomment = \"x\"\n\ntechnique = \"C2\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(6), "{e}");
    assert!(e.message.contains("T1071"), "{e}");
    let e = toml(
        "[[indicator]]\nvalue = \"a.example\"\ntype = \"domain\"\ncomment = \"x\"\nexpires = \"soon\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
    let e = toml("[[indicator]]\nvalue = \"abc\"\ntype = \"ja3\"\ncomment = \"x\"\n").unwrap_err();
    assert!(e.message.contains("32 hexadecimal"), "{e}");
    let e = toml("[[indicator]]\nvalue = \"Go\"\ntype = \"user_agent\"\ncomment = \"x\"\n")
        .unwrap_err();
    assert!(e.message.contains("too short"), "{e}");
    let e = toml("[[indicator]]\nvalue = \"*.x.example\"\ntype = \"sni\"\ncomment = \"x\"\n")
        .unwrap_err();
    assert!(e.message.contains("\"domain\""), "{e}");
    let e = toml(
        "[[indicator]]\nvalue = \"a.example\"\ntype = \"domain\"\ncomment = \"x\"\nfeed = \"y\"\n",
    )
    .unwrap_err();
    assert_eq!(e.line, Some(5), "{e}");
}

const FEED: &str = "#separator \\x09
#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\tmeta.do_notice
198.51.100.7\tIntel::ADDR\tfeodo\tDridex C2\t-\tT
192.0.2.130/25\tIntel::SUBNET\tspamhaus\tDROP list\thttps://www.spamhaus.org/drop/\tF
Evil.Example\tIntel::DOMAIN\tabuse.ch\t(empty)\t-\tT

bad.example/gate.php\tIntel::URL\turlhaus\tloader\t-\tT
# a comment line
report.pdf\tIntel::FILE_NAME\tx\t-\t-\tF
AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01\tIntel::CERT_HASH\tsslbl\tQakbot\t-\tT
a0e9f5d64349fb13191bc781f81f42e1\tIntel::JA3\tsslbl\tTrickbot\t-\tT
00:11:22\tIntel::PUBKEY_HASH\tx\t-\t-\tF
";

#[test]
fn zeek_intel_feeds_load_as_they_are() {
    let r = intel(FEED).unwrap();
    let set = &r.indicators;
    assert_eq!(set.len(), 6);
    // Zeek's to_subnet clears host bits; so does the feed reader.
    assert_eq!(hits_addr(set, "192.0.2.200"), vec!["192.0.2.128/25"]);
    assert!(hits_addr(set, "192.0.2.100").is_empty());
    assert_eq!(hits_addr(set, "198.51.100.7"), vec!["198.51.100.7"]);
    let ip = set.get(0).unwrap();
    assert_eq!(set.origin(ip), "rules/feed.intel line 3");
    assert_eq!(
        (ip.source.as_deref(), &*ip.comment),
        (Some("feodo"), "Dridex C2")
    );
    let net = set.get(1).unwrap();
    assert_eq!(net.url.as_deref(), Some("https://www.spamhaus.org/drop/"));
    // Zeek's intel is case-insensitive and its domains exact.
    assert_eq!(hits_domain(set, "evil.example"), vec!["evil.example"]);
    assert!(hits_domain(set, "www.evil.example").is_empty());
    let mut found = Vec::new();
    set.find(Kind::Url, "bad.example/gate.php", &mut |i| found.push(i));
    assert_eq!(found.len(), 1);
    assert_eq!(
        set.origin(set.get(found[0]).unwrap()),
        "rules/feed.intel line 7"
    );
    assert_eq!(
        r.indicators.skipped,
        BTreeMap::from([
            ("Intel::FILE_NAME".to_string(), 1),
            ("Intel::PUBKEY_HASH".to_string(), 1)
        ])
    );
    // A SHA-1 certificate hash loads, and says it cannot match.
    assert_eq!(set.idle_hashes(), 1);
    let s = set.summary();
    assert!(
        s.contains("2 feed line(s) of types not matched here skipped"),
        "{s}"
    );
    assert!(s.contains("1 certificate hash(es) are MD5 or SHA-1"), "{s}");
}

#[test]
fn zeek_intel_errors_name_the_line() {
    let e = intel("198.51.100.7\tIntel::ADDR\tx\n").unwrap_err();
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("#fields"), "{e}");
    let e = intel("#fields indicator indicator_type meta.source\n").unwrap_err();
    assert!(e.message.contains("tabs"), "{e}");
    let e = intel("#fields\tindicator\tmeta.source\n").unwrap_err();
    assert!(e.message.contains("indicator_type"), "{e}");
    let e = intel("#fields\tindicator\tindicator_type\tmeta.source\n\n10.0.0.1 Intel::ADDR x\n")
        .unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("one tab"), "{e}");
    let e = intel("#fields\tindicator\tindicator_type\tmeta.source\n10.0.0.300\tIntel::ADDR\tx\n")
        .unwrap_err();
    assert_eq!(e.line, Some(2), "{e}");
    assert!(
        e.to_string().starts_with("rules/feed.intel:2:") && e.message.contains("10.0.0.300"),
        "{e}"
    );
}

#[test]
fn wildcards_match_the_name_and_names_under_it_only() {
    let r = toml(
        "[[indicator]]\nvalue = \"*.bad.example\"\ntype = \"domain\"\ncomment = \"x\"\n\
         [[indicator]]\nvalue = \"exact.example\"\ntype = \"domain\"\ncomment = \"x\"\n\
         [[indicator]]\nvalue = \"*.example\"\ntype = \"domain\"\ncomment = \"y\"\n",
    )
    .unwrap();
    let set = &r.indicators;
    assert_eq!(
        hits_domain(set, "a.b.bad.example"),
        vec!["*.bad.example", "*.example"]
    );
    assert_eq!(
        hits_domain(set, "bad.example"),
        vec!["*.bad.example", "*.example"]
    );
    assert_eq!(hits_domain(set, "notbad.example"), vec!["*.example"]);
    assert_eq!(
        hits_domain(set, "exact.example"),
        vec!["*.example", "exact.example"]
    );
    assert!(hits_domain(set, "example.com").is_empty());
    assert!(hits_domain(set, "bad.example.com").is_empty());
}

#[test]
fn networks_match_by_prefix_in_both_families() {
    let r = toml(
        "[[indicator]]\nvalue = \"10.0.0.0/8\"\ntype = \"ip\"\ncomment = \"a\"\n\
         [[indicator]]\nvalue = \"10.20.0.0/16\"\ntype = \"ip\"\ncomment = \"b\"\n\
         [[indicator]]\nvalue = \"10.20.30.40\"\ntype = \"ip\"\ncomment = \"c\"\n\
         [[indicator]]\nvalue = \"2001:db8::/32\"\ntype = \"ip\"\ncomment = \"d\"\n\
         [[indicator]]\nvalue = \"10.20.30.40\"\ntype = \"ip\"\ncomment = \"same address, another list\"\n",
    )
    .unwrap();
    let set = &r.indicators;
    assert_eq!(
        hits_addr(set, "10.20.30.40"),
        vec!["10.0.0.0/8", "10.20.0.0/16", "10.20.30.40", "10.20.30.40"]
    );
    assert_eq!(
        hits_addr(set, "::ffff:10.20.1.1"),
        vec!["10.0.0.0/8", "10.20.0.0/16"]
    );
    assert_eq!(hits_addr(set, "10.99.0.1"), vec!["10.0.0.0/8"]);
    assert!(hits_addr(set, "11.0.0.1").is_empty());
    assert_eq!(hits_addr(set, "2001:db8:1::5"), vec!["2001:db8::/32"]);
    assert!(hits_addr(set, "2001:db9::5").is_empty());
}

#[test]
fn a_large_feed_loads_and_looks_up_in_bounded_time() {
    let mut text = String::from("#fields\tindicator\tindicator_type\tmeta.source\n");
    for i in 0..200_000u32 {
        text.push_str(&format!(
            "{}.{}.{}.{}\tIntel::ADDR\tbulk\n",
            10 + (i >> 24),
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        ));
        text.push_str(&format!("host{i}.bulk.example\tIntel::DOMAIN\tbulk\n"));
    }
    let r = intel(&text).unwrap();
    assert_eq!(r.indicators.len(), 400_000);
    let start = std::time::Instant::now();
    let mut n = 0;
    for i in 0..100_000u32 {
        let a = IpAddr::from([172, 16, (i >> 8) as u8, i as u8]);
        r.indicators.find_addr(a, |_| n += 1);
        r.indicators
            .find_domain("www.host7.bulk.example", |_| n += 1);
    }
    assert_eq!(n, 0);
    // 200,000 lookups: hash lookups, not scans of 400,000 entries.
    assert!(start.elapsed().as_secs_f64() < 2.0, "{:?}", start.elapsed());
    assert_eq!(hits_addr(&r.indicators, "10.1.2.3").len(), 1);
}

#[test]
fn a_rules_folder_reads_toml_and_feeds_and_ignores_other_files() {
    let dir = std::env::temp_dir().join(format!("vagt-detect-indicators-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.toml"),
        "[[indicator]]\nvalue = \"bad.example\"\ntype = \"domain\"\ncomment = \"x\"\n",
    )
    .unwrap();
    // A Latin-1 description (0xE6, "æ") in a feed from elsewhere.
    std::fs::write(
        dir.join("b.dat"),
        b"#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\n198.51.100.7\tIntel::ADDR\tx\tskr\xe6ppe\n",
    )
    .unwrap();
    std::fs::write(dir.join("c.txt"), "not read").unwrap();
    let r = Rules::load_dir(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    let r = r.unwrap();
    assert_eq!(r.files.len(), 2);
    assert_eq!(r.indicators.counts(), vec![("ip", 1), ("domain", 1)]);
    let ip = r.indicators.get(1).unwrap();
    assert!(r.indicators.origin(ip).ends_with("b.dat line 2"));
}
