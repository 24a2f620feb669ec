//! TLS from the config: with `[api] tls_cert` and `tls_key` the API
//! serves HTTPS only; the CLI checks the certificate against the CA it is
//! given and refuses a certificate it cannot check.

use super::*;

#[test]
fn the_api_serves_https_from_the_config_and_the_cli_checks_its_certificate() {
    let dir = temp_dir("tls");
    let (ca, cert, key) = certs::server_set(&dir.0);
    let port = free_port();
    let cfg = dir.0.join("tls.toml");
    std::fs::write(
        &cfg,
        format!(
            "[analyzer]\ninstance = \"tls\"\n\n[store]\nurl = \"sqlite://{}\"\n\n\
             [kafka]\nenabled = false\n\n\
             [api]\nlisten = \"127.0.0.1:{port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
            dir.0.join("a.db").display(),
            cert.display(),
            key.display()
        ),
    )
    .expect("config");
    let central = token(&cfg, "central", "");
    let _a = Analyzer::start(&cfg, port, dir.0.join("analyzer.log"));
    let query = |url: &str, extra: &[&str]| {
        Command::new(bin())
            .args(["query", "--url", url])
            .args(extra)
            .env("VAGT_TOKEN", &central)
            .env_remove("VAGT_CA_CERT")
            .output()
            .expect("vagt-analyzer query")
    };
    let https = format!("https://127.0.0.1:{port}");

    // With the centre's CA: the API answers over TLS.
    let ca = ca.display().to_string();
    let ok = query(&https, &["--ca-cert", &ca, "status"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&ok.stdout).expect("status is JSON");
    assert_eq!(status["instance"], "tls", "{status}");

    // Without it, the certificate cannot be checked against the public
    // roots: refused, and the error says it is the certificate.
    let bad = query(&https, &["status"]);
    let said = String::from_utf8_lossy(&bad.stderr).to_lowercase();
    assert!(!bad.status.success() && said.contains("cert"), "{said}");

    // Plain HTTP gets no answer from the TLS port.
    let plain = query(&format!("http://127.0.0.1:{port}"), &["status"]);
    assert!(!plain.status.success());
    let (code, _) = http(port, "GET", "/api/v1/status", &central, b"");
    assert_ne!(code, 200);
}
