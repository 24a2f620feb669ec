//! The inventory as a table for people (`vagt-sensor assets`): one row
//! per device, every column cut to a fixed width so that rows stay on one
//! line, then the evidence behind each role guess.

use super::Asset;

/// Columns: heading and widest content.
const COLUMNS: &[(&str, usize)] = &[
    ("SEGMENT", 12),
    ("MAC", 17),
    ("VENDOR", 18),
    ("IPS", 20),
    ("HOST NAME", 16),
    ("ROLE", 23),
    ("OFFERS", 26),
    ("FIRST SEEN (UTC)", 16),
    ("LAST SEEN (UTC)", 16),
];

/// Cuts `s` to `width` characters, marking the cut with "~".
fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('~');
    out
}

/// Seconds since the epoch as "YYYY-MM-DD HH:MM" (UTC).
pub fn utc(ts: f64) -> String {
    if !ts.is_finite() {
        return "-".into();
    }
    let secs = ts.floor() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Days to a civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60
    )
}

fn row(a: &Asset) -> Vec<String> {
    let ips = match a.ips.as_slice() {
        [] => "-".to_string(),
        [one] => one.ip.to_string(),
        [first, rest @ ..] => format!("{} +{}", first.ip, rest.len()),
    };
    let offers: Vec<String> = a.offered.iter().map(|s| s.label()).collect();
    vec![
        a.segment.clone(),
        a.mac.clone().unwrap_or_else(|| "-".into()),
        a.vendor.clone().unwrap_or_else(|| "-".into()),
        ips,
        a.host_name.clone().unwrap_or_else(|| "-".into()),
        a.role.clone().unwrap_or_else(|| "unknown".into()),
        if offers.is_empty() {
            "-".into()
        } else {
            offers.join(" ")
        },
        utc(a.first_seen),
        utc(a.last_seen),
    ]
}

/// The table, the evidence of each role, and a count.
pub fn render(assets: &[&Asset]) -> String {
    let line = |cells: Vec<String>| {
        let mut l = String::new();
        for (i, (cell, (_, w))) in cells.iter().zip(COLUMNS).enumerate() {
            if i > 0 {
                l.push_str("  ");
            }
            let c = fit(cell, *w);
            if i + 1 == COLUMNS.len() {
                l.push_str(&c);
            } else {
                l.push_str(&format!("{c:<w$}", w = *w));
            }
        }
        l.push('\n');
        l
    };
    let mut out = line(COLUMNS.iter().map(|(h, _)| h.to_string()).collect());
    for a in assets {
        out += &line(row(a));
    }
    let why: Vec<&&Asset> = assets
        .iter()
        .filter(|a| !a.role_evidence.is_empty())
        .collect();
    if !why.is_empty() {
        out += "\nWhy these roles:\n";
        for a in why {
            let who = a
                .ips
                .first()
                .map(|i| i.ip.to_string())
                .or_else(|| a.mac.clone())
                .unwrap_or_else(|| a.key.clone());
            out += &format!(
                "  {} {who} ({}): {}\n",
                a.segment,
                a.role.as_deref().unwrap_or("unknown"),
                fit(&a.role_evidence.join("; "), 160)
            );
        }
    }
    out += &format!(
        "\n{} device{}\n",
        assets.len(),
        if assets.len() == 1 { "" } else { "s" }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_cuts() {
        assert_eq!(utc(0.0), "1970-01-01 00:00");
        assert_eq!(utc(1_256_044_260.5), "2009-10-20 13:11");
        assert_eq!(utc(951_782_400.0), "2000-02-29 00:00");
        assert_eq!(utc(f64::NAN), "-");
        assert_eq!(fit("Schneider Electric Industries", 10), "Schneider~");
        assert_eq!(fit("short", 10), "short");
    }

    #[test]
    fn rows_stay_within_their_columns() {
        let mut a = Asset::new(
            "a-very-long-segment-name",
            "mac:00:02:b3:ce:70:51".into(),
            0.0,
        );
        a.vendor = Some("A vendor with a name far too long for its column".into());
        a.role = Some("ot_controller".into());
        a.role_evidence = vec!["offers modbus (502/tcp) to 2 clients".into()];
        let t = render(&[&a]);
        let width: usize = COLUMNS.iter().map(|(_, w)| w + 2).sum::<usize>() - 2;
        let row = t.lines().nth(1).expect("a row");
        assert!(row.chars().count() <= width, "{row}");
        assert!(
            t.contains("(ot_controller): offers modbus (502/tcp) to 2 clients"),
            "{t}"
        );
        assert!(t.ends_with("1 device\n"), "{t}");
    }
}
