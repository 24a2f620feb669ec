//! Waves: one detector firing in an unusual number of municipalities
//! within an hour, measured against that detector's own hourly history
//! (mean and standard deviation over the previous `history_hours`, hours
//! without alerts counting as zero).

use super::{Finding, WaveRule};
use crate::store::{float, int, text, Store};
use std::collections::BTreeMap;

/// Waves of the detectors that raised alerts received after `since`.
pub async fn find(
    store: &Store,
    rule: &WaveRule,
    since_received: f64,
) -> anyhow::Result<Vec<Finding>> {
    let newest = sqlx::query("SELECT MAX(ts) AS t FROM alerts")
        .fetch_one(&store.pool)
        .await?;
    let newest = float(&newest, "t");
    if newest <= 0.0 {
        return Ok(Vec::new());
    }
    let since = newest - (rule.history_hours + 1.0) * 3600.0;
    let fresh = sqlx::query("SELECT DISTINCT detector FROM alerts WHERE received > $1")
        .bind(since_received)
        .fetch_all(&store.pool)
        .await?;
    let mut rows = Vec::new();
    for d in &fresh {
        rows.extend(
            sqlx::query(
                "SELECT detector, CAST(ts / 3600 AS BIGINT) AS hour, \
                 COUNT(DISTINCT municipality) AS n, COUNT(*) AS alerts FROM alerts \
                 WHERE detector = $1 AND ts >= $2 GROUP BY detector, CAST(ts / 3600 AS BIGINT)",
            )
            .bind(text(d, "detector"))
            .bind(since)
            .fetch_all(&store.pool)
            .await?,
        );
    }
    let mut by_detector: BTreeMap<String, BTreeMap<i64, (i64, i64)>> = BTreeMap::new();
    for r in &rows {
        by_detector
            .entry(text(r, "detector"))
            .or_default()
            .insert(int(r, "hour"), (int(r, "n"), int(r, "alerts")));
    }
    let last_hour = (newest / 3600.0) as i64;
    let history = rule.history_hours.max(1.0) as i64;
    let mut out = Vec::new();
    for (detector, hours) in by_detector {
        for (&hour, &(n, alerts)) in hours.range(last_hour - 1..=last_hour) {
            let past: Vec<f64> = (hour - history..hour)
                .map(|h| hours.get(&h).map_or(0.0, |v| v.0 as f64))
                .collect();
            let (mean, sd) = mean_sd(&past);
            let bar = mean + rule.sigma * sd.max(0.5);
            if (n as usize) < rule.min_municipalities || (n as f64) <= bar {
                continue;
            }
            let munis = municipalities(store, &detector, hour).await?;
            out.push(Finding {
                rule: "wave",
                key_kind: detector.clone(),
                key_value: hour.to_string(),
                municipality: String::new(),
                summary: format!(
                    "{detector} fired in {n} municipalities in one hour; its normal over the \
                     previous {history} hours is {mean:.1} ± {sd:.1}"
                ),
                municipalities: munis,
                detectors: vec![detector.clone()],
                severity: "high".into(),
                first_seen: hour as f64 * 3600.0,
                last_seen: (hour + 1) as f64 * 3600.0,
                alerts,
            });
        }
    }
    Ok(out)
}

async fn municipalities(store: &Store, detector: &str, hour: i64) -> anyhow::Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT municipality FROM alerts WHERE detector = $1 AND ts >= $2 AND ts < $3 \
         ORDER BY municipality",
    )
    .bind(detector)
    .bind(hour as f64 * 3600.0)
    .bind((hour + 1) as f64 * 3600.0)
    .fetch_all(&store.pool)
    .await?;
    Ok(rows.iter().map(|r| text(r, "municipality")).collect())
}

pub fn mean_sd(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    #[test]
    fn mean_and_deviation() {
        let (m, s) = super::mean_sd(&[1.0, 1.0, 1.0, 5.0]);
        assert_eq!(m, 2.0);
        assert!((s - 1.732).abs() < 0.01);
    }
}
