//! Zeek's names for TLS numbers, so that ssl.log columns read as Zeek
//! writes them: versions ("TLSv12"), cipher suites (IANA names, with the
//! spellings and extra entries of Zeek's `SSL::cipher_desc`), named groups
//! ("x25519") and alert descriptions ("handshake_failure"). Numbers Zeek
//! has no name for come out as Zeek prints them: "unknown-<decimal>".

use std::borrow::Cow;

/// ssl.log `version` for a protocol version number.
pub fn version_name(v: u16) -> Cow<'static, str> {
    Cow::Borrowed(match v {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        0xfeff => "DTLSv10",
        0xfefd => "DTLSv12",
        0xfefc => "DTLSv13",
        // TLS 1.3 drafts were 0x7fNN; Zeek prints the draft number.
        _ if v >> 8 == 0x7f => return Cow::Owned(format!("TLSv13-draft{}", v & 0xff)),
        _ => return Cow::Owned(format!("unknown-{v}")),
    })
}

/// ssl.log `cipher` for a cipher suite number.
pub fn cipher_name(id: u16) -> Cow<'static, str> {
    if let Some(n) = zeek_only_cipher(id) {
        return Cow::Borrowed(n);
    }
    if crate::applayer::tls::is_grease(id) {
        return Cow::Owned(format!("grease_0x{id:04X}"));
    }
    // Zeek's table lacks these three IANA suites and so prints a number.
    if (0x2c..=0x2e).contains(&id) {
        return Cow::Owned(format!("unknown-{id}"));
    }
    match tls_parser::TlsCipherSuite::from_id(id) {
        // IANA writes "anon" in lower case; Zeek's constants do not.
        Some(c) if c.name.contains("_anon_") => Cow::Owned(c.name.replace("_anon_", "_ANON_")),
        Some(c) => Cow::Borrowed(c.name),
        None => Cow::Owned(format!("unknown-{id}")),
    }
}

/// Suites Zeek names that are not in the IANA registry tls-parser carries
/// (drafts, vendor and pre-standard codes), and the one it spells apart.
fn zeek_only_cipher(id: u16) -> Option<&'static str> {
    Some(match id {
        0x001c => "SSL_FORTEZZA_KEA_WITH_NULL_SHA",
        0x001d => "SSL_FORTEZZA_KEA_WITH_FORTEZZA_CBC_SHA",
        0x0072 => "TLS_DHE_DSS_WITH_3DES_EDE_CBC_RMD",
        0x0073 => "TLS_DHE_DSS_WITH_AES_128_CBC_RMD",
        0x0074 => "TLS_DHE_DSS_WITH_AES_256_CBC_RMD",
        0x0077 => "TLS_DHE_RSA_WITH_3DES_EDE_CBC_RMD",
        0x0078 => "TLS_DHE_RSA_WITH_AES_128_CBC_RMD",
        0x0079 => "TLS_DHE_RSA_WITH_AES_256_CBC_RMD",
        0x007c => "TLS_RSA_WITH_3DES_EDE_CBC_RMD",
        0x007d => "TLS_RSA_WITH_AES_128_CBC_RMD",
        0x007e => "TLS_RSA_WITH_AES_256_CBC_RMD",
        0x0080 => "TLS_GOSTR341094_WITH_28147_CNT_IMIT",
        0x0081 => "TLS_GOSTR341001_WITH_28147_CNT_IMIT",
        0x0082 => "TLS_GOSTR341094_WITH_NULL_GOSTR3411",
        0x0083 => "TLS_GOSTR341001_WITH_NULL_GOSTR3411",
        0x1306 => "TLS_AEGIS_256_SHA384",
        0x16b7 => "TLS_CECPQ1_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x16b8 => "TLS_CECPQ1_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0x16b9 => "TLS_CECPQ1_RSA_WITH_AES_256_GCM_SHA384",
        0x16ba => "TLS_CECPQ1_ECDSA_WITH_AES_256_GCM_SHA384",
        0xc100 => "TLS_GOSTR341112_256_WITH_KUZNYECHIK_CTR_OMAC",
        0xc101 => "TLS_GOSTR341112_256_WITH_MAGMA_CTR_OMAC",
        0xc102 => "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT",
        0xc103 => "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_L",
        0xc104 => "TLS_GOSTR341112_256_WITH_MAGMA_MGM_L",
        0xc105 => "TLS_GOSTR341112_256_WITH_KUZNYECHIK_MGM_S",
        0xc106 => "TLS_GOSTR341112_256_WITH_MAGMA_MGM_S",
        0xcc13 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
        0xcc14 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
        0xcc15 => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
        0xd004 => "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256_OLD",
        0xfefe => "SSL_RSA_FIPS_WITH_DES_CBC_SHA",
        0xfeff => "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA",
        0xffe1 => "SSL_RSA_FIPS_WITH_DES_CBC_SHA_2",
        0xffe0 => "SSL_RSA_FIPS_WITH_3DES_EDE_CBC_SHA_2",
        0xff80 => "SSL_RSA_WITH_RC2_CBC_MD5",
        0xff81 => "SSL_RSA_WITH_IDEA_CBC_MD5",
        0xff82 => "SSL_RSA_WITH_DES_CBC_MD5",
        0xff83 => "SSL_RSA_WITH_3DES_EDE_CBC_MD5",
        _ => return None,
    })
}

/// ssl.log `curve` for a named group (supported group) number.
pub fn curve_name(id: u16) -> Cow<'static, str> {
    const SECT: [&str; 25] = [
        "sect163k1",
        "sect163r1",
        "sect163r2",
        "sect193r1",
        "sect193r2",
        "sect233k1",
        "sect233r1",
        "sect239k1",
        "sect283k1",
        "sect283r1",
        "sect409k1",
        "sect409r1",
        "sect571k1",
        "sect571r1",
        "secp160k1",
        "secp160r1",
        "secp160r2",
        "secp192k1",
        "secp192r1",
        "secp224k1",
        "secp224r1",
        "secp256k1",
        "secp256r1",
        "secp384r1",
        "secp521r1",
    ];
    const LATER: [&str; 16] = [
        "brainpoolP256r1",
        "brainpoolP384r1",
        "brainpoolP512r1",
        "x25519",
        "x448",
        "brainpoolP256r1tls13",
        "brainpoolP384r1tls13",
        "brainpoolP512r1tls13",
        "GC256A",
        "GC256B",
        "GC256C",
        "GC256D",
        "GC512A",
        "GC512B",
        "GC512C",
        "curveSM2",
    ];
    let name = match id {
        1..=25 => SECT[usize::from(id - 1)],
        26..=41 => LATER[usize::from(id - 26)],
        256 => "ffdhe2048",
        257 => "ffdhe3072",
        258 => "ffdhe4096",
        259 => "ffdhe6144",
        260 => "ffdhe8192",
        512 => "MLKEM512",
        513 => "MLKEM768",
        514 => "MLKEM1024",
        4587 => "SecP256r1MLKEM768",
        4588 => "X25519MLKEM768",
        4589 => "SecP384r1MLKEM1024",
        4590 => "curveSM2MLKEM768",
        16696 => "CECPQ2",
        25497 => "X25519Kyber768Draft00",
        25498 => "SecP256r1Kyber768Draft00",
        0xff01 => "arbitrary_explicit_prime_curves",
        0xff02 => "arbitrary_explicit_char2_curves",
        _ if crate::applayer::tls::is_grease(id) => {
            return Cow::Owned(format!("grease_0x{id:04X}"))
        }
        _ => return Cow::Owned(format!("unknown-{id}")),
    };
    Cow::Borrowed(name)
}

/// ssl.log `last_alert` for an alert description number.
pub fn alert_name(desc: u8) -> Cow<'static, str> {
    Cow::Borrowed(match desc {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        117 => "general_error",
        120 => "no_application_protocol",
        121 => "ech_required",
        _ => return Cow::Owned(format!("unknown-{desc}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_zeek_writes_them() {
        // Each pair appears in a Zeek ssl.log baseline of the corpus.
        assert_eq!(version_name(0x0303), "TLSv12");
        assert_eq!(version_name(0x0304), "TLSv13");
        assert_eq!(version_name(0x0302), "TLSv11");
        assert_eq!(version_name(0x7f17), "TLSv13-draft23");
        assert_eq!(version_name(0xfeff), "DTLSv10");
        assert_eq!(version_name(0x1234), "unknown-4660");
        assert_eq!(cipher_name(0x1301), "TLS_AES_128_GCM_SHA256");
        assert_eq!(cipher_name(0x1302), "TLS_AES_256_GCM_SHA384");
        assert_eq!(cipher_name(0x0004), "TLS_RSA_WITH_RC4_128_MD5");
        assert_eq!(cipher_name(0x009d), "TLS_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(cipher_name(0x009f), "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384");
        assert_eq!(cipher_name(0xc014), "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA");
        assert_eq!(
            cipher_name(0xc02b),
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        );
        assert_eq!(cipher_name(0xc028), "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384");
        assert_eq!(cipher_name(0xc00a), "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA");
        assert_eq!(cipher_name(0x002f), "TLS_RSA_WITH_AES_128_CBC_SHA");
        // Zeek's own spellings and entries.
        assert_eq!(cipher_name(0x0018), "TLS_DH_ANON_WITH_RC4_128_MD5");
        assert_eq!(cipher_name(0xc018), "TLS_ECDH_ANON_WITH_AES_128_CBC_SHA");
        assert_eq!(
            cipher_name(0xcc13),
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD"
        );
        assert_eq!(cipher_name(0x1306), "TLS_AEGIS_256_SHA384");
        assert_eq!(cipher_name(0x0a0a), "grease_0x0A0A");
        assert_eq!(cipher_name(0x002c), "unknown-44");
        assert_eq!(cipher_name(0x0bad), "unknown-2989");
        assert_eq!(curve_name(29), "x25519");
        assert_eq!(curve_name(23), "secp256r1");
        assert_eq!(curve_name(24), "secp384r1");
        assert_eq!(curve_name(1), "sect163k1");
        assert_eq!(curve_name(41), "curveSM2");
        assert_eq!(curve_name(4588), "X25519MLKEM768");
        assert_eq!(curve_name(999), "unknown-999");
        assert_eq!(alert_name(40), "handshake_failure");
        assert_eq!(alert_name(200), "unknown-200");
    }
}
