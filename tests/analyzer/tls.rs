//! TLS from the config: with `[api] tls_cert` and `tls_key` the API
//! serves HTTPS only; the CLI checks the certificate against the CA it is
//! given and refuses a certificate it cannot check.

use super::*;

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (Debian's openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A centre's own CA and a server certificate for 127.0.0.1 signed by
/// it, made by openssl: (CA certificate, server certificate, server key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-days",
        "2",
        "-subj",
        "/CN=Vagt test CA",
        "-keyout",
        "ca.key",
    ]);
    ca.extend(["-out", "ca.pem"]);
    openssl(&ca, dir);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend([
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    openssl(&csr, dir);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n",
    )
    .expect("write");
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "cert.pem",
        ],
        dir,
    );
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

#[test]
fn the_api_serves_https_from_the_config_and_the_cli_checks_its_certificate() {
    let dir = temp_dir("tls");
    let (ca, cert, key) = certificates(&dir.0);
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
