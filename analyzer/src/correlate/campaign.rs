//! Campaigns: the same external indicator in alerts from at least k
//! municipalities within a window. The campaign names the municipalities,
//! the detectors, first and last seen, and grows as more municipalities
//! see it (same id: see `Finding::id`). A /24 that only repeats what one
//! address inside it already shows is not a second campaign.

use super::{CampaignRule, Finding};
use crate::store::{float, text, Store};
use std::collections::{BTreeMap, BTreeSet};

/// Campaigns among the indicators of alerts received after `since`.
pub async fn find(store: &Store, rule: &CampaignRule, since: f64) -> anyhow::Result<Vec<Finding>> {
    if rule.indicators.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = (0..rule.indicators.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let sql = format!(
        "SELECT DISTINCT i.kind, i.value FROM alerts a JOIN indicators i \
         ON i.municipality = a.municipality AND i.sensor = a.sensor AND i.seq = a.seq \
         WHERE a.received > $1 AND i.kind IN ({})",
        list.join(",")
    );
    let mut q = sqlx::query(&sql).bind(since);
    for k in &rule.indicators {
        q = q.bind(k.as_str());
    }
    let candidates = q.fetch_all(&store.pool).await?;
    let window = rule.window_hours * 3600.0;
    let mut out = Vec::new();
    for c in candidates {
        let (kind, value) = (text(&c, "kind"), text(&c, "value"));
        let rows = sqlx::query(
            "SELECT municipality, ts, detector FROM indicators WHERE value = $1 AND kind = $2 \
             ORDER BY ts",
        )
        .bind(&value)
        .bind(&kind)
        .fetch_all(&store.pool)
        .await?;
        let rows: Vec<(String, f64, String)> = rows
            .iter()
            .map(|r| (text(r, "municipality"), float(r, "ts"), text(r, "detector")))
            .collect();
        let distinct: BTreeSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        if distinct.len() < rule.min_municipalities {
            continue;
        }
        let covered = in_windows(&rows, window, rule.min_municipalities);
        if covered.is_empty() {
            continue;
        }
        let munis: BTreeSet<&str> = covered.iter().map(|&i| rows[i].0.as_str()).collect();
        let dets: BTreeSet<&str> = covered.iter().map(|&i| rows[i].2.as_str()).collect();
        let first = covered.iter().map(|&i| rows[i].1).fold(f64::MAX, f64::min);
        let last = covered.iter().map(|&i| rows[i].1).fold(f64::MIN, f64::max);
        out.push(Finding {
            rule: "campaign",
            summary: format!(
                "{kind} {value} in alerts from {} municipalities ({}) by {}",
                munis.len(),
                munis.iter().copied().collect::<Vec<_>>().join(", "),
                dets.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            key_kind: kind,
            key_value: value,
            municipality: String::new(),
            municipalities: munis.iter().map(|s| s.to_string()).collect(),
            detectors: dets.iter().map(|s| s.to_string()).collect(),
            severity: if munis.len() >= 2 * rule.min_municipalities {
                "critical".into()
            } else {
                "high".into()
            },
            first_seen: first,
            last_seen: last,
            alerts: covered.len() as i64,
        });
    }
    Ok(without_repeats(out))
}

/// The rows that lie in some window of `window` seconds holding at least
/// `k` municipalities (rows sorted by time).
fn in_windows(rows: &[(String, f64, String)], window: f64, k: usize) -> Vec<usize> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut mark = vec![false; rows.len()];
    let mut left = 0;
    for right in 0..rows.len() {
        *counts.entry(rows[right].0.as_str()).or_default() += 1;
        while rows[right].1 - rows[left].1 > window {
            let m = rows[left].0.as_str();
            if let Some(n) = counts.get_mut(m) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(m);
                }
            }
            left += 1;
        }
        if counts.len() >= k {
            for m in mark.iter_mut().take(right + 1).skip(left) {
                *m = true;
            }
        }
    }
    (0..rows.len()).filter(|&i| mark[i]).collect()
}

/// Drops a `net` campaign when an `ip` campaign inside it names the same
/// municipalities: one attacker, one campaign.
fn without_repeats(found: Vec<Finding>) -> Vec<Finding> {
    let ips: Vec<(String, Vec<String>)> = found
        .iter()
        .filter(|f| f.key_kind == "ip")
        .filter_map(|f| {
            let ip: std::net::IpAddr = f.key_value.parse().ok()?;
            Some((crate::indicators::network(&ip), f.municipalities.clone()))
        })
        .collect();
    found
        .into_iter()
        .filter(|f| {
            f.key_kind != "net"
                || !ips
                    .iter()
                    .any(|(net, m)| *net == f.key_value && *m == f.municipalities)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[(&str, f64)]) -> Vec<(String, f64, String)> {
        v.iter()
            .map(|(m, t)| (m.to_string(), *t, "scan".to_string()))
            .collect()
    }

    #[test]
    fn three_municipalities_within_the_window_make_a_campaign() {
        let h = 3600.0;
        let r = rows(&[("a", 0.0), ("b", 1.0 * h), ("c", 2.0 * h)]);
        assert_eq!(in_windows(&r, 24.0 * h, 3), vec![0, 1, 2]);
        // Spread over more than the window: none.
        let r = rows(&[("a", 0.0), ("b", 20.0 * h), ("c", 30.0 * h)]);
        assert!(in_windows(&r, 24.0 * h, 3).is_empty());
        // Only the rows of the qualifying window count.
        let r = rows(&[
            ("a", 0.0),
            ("a", 100.0 * h),
            ("b", 101.0 * h),
            ("c", 102.0 * h),
        ]);
        assert_eq!(in_windows(&r, 24.0 * h, 3), vec![1, 2, 3]);
        // One municipality many times is not a campaign.
        let r = rows(&[("a", 0.0), ("a", 1.0), ("a", 2.0)]);
        assert!(in_windows(&r, 24.0 * h, 3).is_empty());
    }
}
