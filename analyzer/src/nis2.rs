//! NIS2 reporting (Danish law since July 2025): for an incident flagged
//! significant, the deadlines counted from detection (early warning within
//! 24 hours, notification within 72 hours, final report within one month)
//! and drafts of each report in Markdown and JSON: what happened, when it
//! was detected, whether it is suspected malicious or cross-border,
//! affected services, indicators, and what was done (the timeline).
//! Drafts are for a person to finish and send; nothing is sent from here.

use crate::incidents::{Incident, TimelineEntry};
use crate::store::{text, Store};
use serde::Serialize;

/// The three reports, with how long after detection each is due.
pub const STAGES: [(&str, &str, f64); 3] = [
    ("early_warning", "Early warning", 24.0 * 3600.0),
    ("notification", "Incident notification", 72.0 * 3600.0),
    ("final_report", "Final report", 30.0 * 86400.0),
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deadline {
    pub stage: String,
    pub due: f64,
    pub due_text: String,
    /// Seconds left; negative once overdue.
    pub remaining: f64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Draft {
    pub stage: String,
    pub title: String,
    pub incident_id: String,
    pub municipality: String,
    pub significant: bool,
    pub detected: String,
    pub due: String,
    pub what_happened: String,
    pub severity: String,
    pub suspected_malicious: bool,
    /// Whether the incident may affect other EU member states: the analyzer
    /// cannot know; `null` until someone assesses it.
    pub cross_border: Option<bool>,
    pub affected_services: Vec<String>,
    pub indicators: Vec<String>,
    pub actions_taken: Vec<String>,
    pub state: String,
}

pub fn deadlines(inc: &Incident, now: f64) -> Vec<Deadline> {
    if !inc.significant {
        return Vec::new();
    }
    STAGES
        .iter()
        .map(|(stage, _, after)| {
            let due = inc.detected + after;
            Deadline {
                stage: stage.to_string(),
                due,
                due_text: datetime(due),
                remaining: due - now,
            }
        })
        .collect()
}

/// Builds a draft of `stage` from the incident and what the store holds
/// about it.
pub async fn draft(
    store: &Store,
    inc: &Incident,
    timeline: &[TimelineEntry],
    stage: &str,
) -> anyhow::Result<Option<Draft>> {
    let Some((_, title, after)) = STAGES.iter().find(|s| s.0 == stage) else {
        return Ok(None);
    };
    let (services, indicators, malicious) = evidence(store, inc).await?;
    Ok(Some(Draft {
        stage: stage.to_string(),
        title: title.to_string(),
        incident_id: inc.id.clone(),
        municipality: inc.municipality.clone(),
        significant: inc.significant,
        detected: datetime(inc.detected),
        due: datetime(inc.detected + after),
        what_happened: inc.title.clone(),
        severity: inc.severity.clone(),
        suspected_malicious: malicious,
        cross_border: None,
        affected_services: services,
        indicators,
        actions_taken: timeline
            .iter()
            .map(|t| format!("{} {} ({}): {}", datetime(t.ts), t.what, t.actor, t.detail))
            .collect(),
        state: inc.state.clone(),
    }))
}

/// Affected services (segments and detectors, by municipality),
/// indicators, and whether the evidence points at an attacker.
async fn evidence(
    store: &Store,
    inc: &Incident,
) -> anyhow::Result<(Vec<String>, Vec<String>, bool)> {
    let mut services = Vec::new();
    let mut indicators = Vec::new();
    let mut malicious = false;
    if inc.source_kind == "correlation" {
        if let Some(r) = sqlx::query(
            "SELECT rule, key_kind, key_value, municipalities, detectors FROM correlations \
             WHERE id = $1",
        )
        .bind(&inc.source_id)
        .fetch_optional(&store.pool)
        .await?
        {
            let rule = text(&r, "rule");
            malicious = rule == "campaign" || rule == "kill_chain";
            let munis: Vec<String> =
                serde_json::from_str(&text(&r, "municipalities")).unwrap_or_default();
            let dets: Vec<String> =
                serde_json::from_str(&text(&r, "detectors")).unwrap_or_default();
            services.push(format!(
                "municipalities {} (detectors: {})",
                munis.join(", "),
                dets.join(", ")
            ));
            if rule != "kill_chain" {
                indicators.push(format!(
                    "{} {}",
                    text(&r, "key_kind"),
                    text(&r, "key_value")
                ));
            }
        }
    } else {
        let mut parts = inc.source_id.splitn(3, '/');
        let (m, s, a) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let rows = sqlx::query(
            "SELECT a.segment, a.detector, a.technique, i.kind, i.value FROM alerts a \
             LEFT JOIN indicators i ON i.municipality = a.municipality AND i.sensor = a.sensor \
             AND i.seq = a.seq WHERE a.municipality = $1 AND a.sensor = $2 AND a.alert_id = $3",
        )
        .bind(m)
        .bind(s)
        .bind(a)
        .fetch_all(&store.pool)
        .await?;
        for r in &rows {
            let svc = format!(
                "segment {} of {m} ({})",
                text(r, "segment"),
                text(r, "detector")
            );
            if !services.contains(&svc) {
                services.push(svc);
            }
            let (k, v) = (text(r, "kind"), text(r, "value"));
            if !k.is_empty() && !indicators.contains(&format!("{k} {v}")) {
                indicators.push(format!("{k} {v}"));
            }
            malicious |= !text(r, "technique").is_empty();
        }
    }
    Ok((services, indicators, malicious))
}

pub fn markdown(d: &Draft) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "- (none recorded)\n".to_string()
        } else {
            v.iter().map(|x| format!("- {x}\n")).collect()
        }
    };
    format!(
        "# NIS2 {title}: DRAFT\n\n\
         Incident `{id}`, municipality {muni}, state {state}, severity {sev}.\n\n\
         - Detected: {detected}\n- Due: {due}\n\
         - Suspected malicious: {mal}\n- Cross-border impact: {cb}\n\n\
         ## What happened\n\n{what}\n\n## Affected services\n\n{svc}\n\
         ## Indicators\n\n{ind}\n## What was done\n\n{act}",
        title = d.title,
        id = d.incident_id,
        muni = if d.municipality.is_empty() {
            "several (central)"
        } else {
            &d.municipality
        },
        state = d.state,
        sev = d.severity,
        detected = d.detected,
        due = d.due,
        mal = if d.suspected_malicious {
            "yes"
        } else {
            "not established"
        },
        cb = match d.cross_border {
            Some(true) => "yes",
            Some(false) => "no",
            None => "to be assessed",
        },
        what = d.what_happened,
        svc = list(&d.affected_services),
        ind = list(&d.indicators),
        act = list(&d.actions_taken),
    )
}

/// "YYYY-MM-DD" (UTC) of a Unix time.
pub fn date(ts: f64) -> String {
    let days = (ts / 86400.0).floor() as i64;
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// "YYYY-MM-DD HH:MM UTC" of a Unix time.
pub fn datetime(ts: f64) -> String {
    let secs = ts.floor() as i64;
    let day_secs = secs.rem_euclid(86400);
    format!(
        "{} {:02}:{:02} UTC",
        date(ts),
        day_secs / 3600,
        (day_secs % 3600) / 60
    )
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(date(0.0), "1970-01-01");
        assert_eq!(datetime(1_751_328_000.0 + 3661.0), "2025-07-01 01:01 UTC");
        assert_eq!(date(951_782_400.0), "2000-02-29");
    }

    #[test]
    fn deadlines_count_from_detection_once_significant() {
        let mut inc = Incident {
            id: "i".into(),
            municipality: "0101".into(),
            title: "t".into(),
            severity: "high".into(),
            state: "new".into(),
            assignee: String::new(),
            significant: false,
            source_kind: "alert".into(),
            source_id: "a/b/c".into(),
            detected: 1000.0,
            updated: 1000.0,
        };
        assert!(deadlines(&inc, 1000.0).is_empty());
        inc.significant = true;
        let d = deadlines(&inc, 1000.0 + 25.0 * 3600.0);
        assert_eq!(d[0].stage, "early_warning");
        assert!(d[0].remaining < 0.0, "overdue after 25 h");
        assert!((d[1].remaining - 47.0 * 3600.0).abs() < 1e-6);
        assert_eq!(d[2].due, 1000.0 + 30.0 * 86400.0);
    }
}
