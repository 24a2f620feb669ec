//! Shipping to a real broker that requires SASL/SCRAM over mutual TLS, as
//! a centre's production cluster would: every event arrives with the right
//! settings; a wrong password, a CA that did not sign the broker's
//! certificate, or a missing client certificate is named in a warning,
//! and the events wait in the spool until the settings are mended, none
//! lost and none twice.

use super::*;
use common::broker::Security;
use common::certs;
use std::path::Path;

const USER: &str = "kommune-751";
const PASSWORD: &str = "kommune-751-Ti7bq2";

/// What a sensor (and the test's consumer) needs to reach the broker.
struct Secured {
    broker: Broker,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    password: PathBuf,
}

impl Secured {
    /// A broker with one SCRAM-SHA-512 user, behind TLS that asks for a
    /// client certificate signed by the test's CA.
    fn start(dir: &Path) -> Secured {
        let ca = certs::ca(dir, "ca");
        let (server, server_key) = certs::signed(dir, "ca", "server", "127.0.0.1", true);
        let (cert, key) = certs::signed(dir, "ca", "sensor", USER, false);
        let password = dir.join("kafka-password");
        std::fs::write(&password, format!("{PASSWORD}\n")).expect("write");
        let client = [
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanisms", "SCRAM-SHA-512"),
            ("sasl.username", USER),
            ("sasl.password", PASSWORD),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([
            ("ssl.ca.location".into(), ca.display().to_string()),
            (
                "ssl.certificate.location".into(),
                cert.display().to_string(),
            ),
            ("ssl.key.location".into(), key.display().to_string()),
        ])
        .collect();
        let broker = Broker::start_secured(
            &dir.join("broker"),
            &TOPICS,
            Security {
                users: vec![(USER.into(), PASSWORD.into(), "scram512".into())],
                authentication: true,
                tls: Some((server, server_key, Some(ca.clone()))),
                client,
            },
        );
        Secured {
            broker,
            ca,
            cert,
            key,
            password,
        }
    }

    /// The sensor's `[kafka]` lines, with any of them replaced by `with`.
    fn settings(&self, with: &[(&str, String)]) -> String {
        let q = |p: &Path| format!("\"{}\"", p.display());
        let mut lines = vec![
            ("security_protocol", "\"sasl_ssl\"".to_string()),
            ("sasl_mechanism", "\"SCRAM-SHA-512\"".into()),
            ("sasl_username", format!("\"{USER}\"")),
            ("sasl_password_file", q(&self.password)),
            ("ca_file", q(&self.ca)),
            ("cert_file", q(&self.cert)),
            ("key_file", q(&self.key)),
        ];
        for (k, v) in with {
            lines.retain(|(d, _)| d != k);
            lines.push((k, v.clone()));
        }
        lines.iter().map(|(k, v)| format!("{k} = {v}\n")).collect()
    }
}

#[test]
fn sasl_scram_over_mutual_tls_delivers_every_event() {
    let dir = common::temp_dir("kafka-sasl-tls");
    let b = Secured::start(&dir);
    let cfg = config(&dir, &b.broker.bootstrap(), &b.settings(&[]));
    let (out, _) = replay(&dir, &cfg, &[ftp_capture()], "local.json");
    let local = local_events(&out);
    assert_eq!(local.len(), 1381);
    let all = shipped(&b.broker);
    assert_all_arrived(&local, &all);
    // The health event's timings: every spool commit and delivery counted.
    let health = last_health(&all);
    let commits = health.commit_seconds.expect("the commit histogram");
    assert!(commits.count > 0, "{commits:?}");
    let deliveries = health.delivery_seconds.expect("the delivery histogram");
    for h in [&commits, &deliveries] {
        assert_eq!(h.counts.iter().sum::<u64>(), h.count, "{h:?}");
        assert_eq!(h.counts.len(), h.le.len() + 1, "{h:?}");
    }
    assert!(deliveries.count >= health.delivered, "{deliveries:?}");
}

#[test]
fn a_wrong_password_ca_or_client_certificate_is_named_and_loses_nothing() {
    let dir = common::temp_dir("kafka-sasl-bad");
    let b = Secured::start(&dir);
    let wrong = dir.join("wrong-password");
    std::fs::write(&wrong, "not-the-password\n").expect("write");
    let other_ca = certs::ca(&dir, "other-ca");
    let pcap = common::corpus().join("attacks/ftp_bruteforce.pcap");
    let short = ("drain_timeout", "3.0".to_string());
    // (what is wrong, the settings that make it so, what the warning says)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: [Case; 3] = [
        (
            "a wrong password",
            vec![
                ("sasl_password_file", format!("\"{}\"", wrong.display())),
                short.clone(),
            ],
            "SASL authentication",
        ),
        (
            "a CA that did not sign the broker's certificate",
            vec![
                ("ca_file", format!("\"{}\"", other_ca.display())),
                short.clone(),
            ],
            "certificate verify failed",
        ),
        (
            "no client certificate",
            vec![
                ("cert_file", "\"\"".into()),
                ("key_file", "\"\"".into()),
                short.clone(),
            ],
            "certificate required",
        ),
    ];
    let mut local = Vec::new();
    for (i, (what, with, want)) in cases.iter().enumerate() {
        let cfg = config(&dir, &b.broker.bootstrap(), &b.settings(with));
        let started = Instant::now();
        let (out, err) = replay(
            &dir,
            &cfg,
            std::slice::from_ref(&pcap),
            &format!("local-{i}.json"),
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: the sensor hung"
        );
        assert!(err.contains(want), "{what}: wanted '{want}' in: {err}");
        assert!(
            err.contains("wait in the Kafka spool"),
            "{what}: the events left in the spool are not reported: {err}"
        );
        let events = local_events(&out);
        assert!(!events.is_empty(), "{what}: nothing was written");
        local.extend(events);
    }
    // Mended: the next start sends all that waited, once each, in order.
    let cfg = config(&dir, &b.broker.bootstrap(), &b.settings(&[]));
    let (out, _) = replay(&dir, &cfg, &[empty_capture(&dir)], "local-mended.json");
    local.extend(local_events(&out));
    let all = shipped(&b.broker);
    assert_all_arrived(&local, &all);
}
