//! Certificates for the TLS tests, made by Debian's openssl (tests/run
//! installs it): a CA of the test's own, a server certificate for
//! 127.0.0.1 and a client certificate, both signed by that CA.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn openssl(args: &[&str], dir: &Path) {
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

const EC: [&str; 5] = [
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
];

/// A CA named `name`: (`{name}.pem`, `{name}.key`) in `dir`.
pub fn ca(dir: &Path, name: &str) -> PathBuf {
    let (pem, key) = (format!("{name}.pem"), format!("{name}.key"));
    let subject = format!("/CN=Vagt test CA {name}");
    let mut args = vec!["req", "-x509"];
    args.extend(EC);
    args.extend([
        "-days", "2", "-subj", &subject, "-keyout", &key, "-out", &pem,
    ]);
    openssl(&args, dir);
    dir.join(pem)
}

/// A certificate for `cn` signed by the CA `ca` (made by [`ca`]), for a
/// server (`server`: 127.0.0.1 and localhost) or a client: (certificate,
/// key) as `{name}.pem` and `{name}.key`.
pub fn signed(dir: &Path, ca: &str, name: &str, cn: &str, server: bool) -> (PathBuf, PathBuf) {
    let (pem, key, csr, ext) = (
        format!("{name}.pem"),
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.ext"),
    );
    let subject = format!("/CN={cn}");
    let mut args = vec!["req"];
    args.extend(EC);
    args.extend(["-subj", &subject, "-keyout", &key, "-out", &csr]);
    openssl(&args, dir);
    let usage = if server {
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
         extendedKeyUsage=serverAuth\n"
    } else {
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
    };
    std::fs::write(dir.join(&ext), usage).expect("write");
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
        dir,
    );
    (dir.join(pem), dir.join(key))
}

/// The usual set: (CA certificate, server certificate, server key).
pub fn server_set(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let ca_pem = ca(dir, "ca");
    let (cert, key) = signed(dir, "ca", "server", "127.0.0.1", true);
    (ca_pem, cert, key)
}
