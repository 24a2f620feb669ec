//! Rules for the application records read out of protocols (Zeek's logs
//! and Vagt's additions). Each function names every field of its record
//! that can carry an identity or a secret; the connection's addresses go
//! through [`Engine::conn_id`]. Fields not named travel in clear:
//! protocol facts, fingerprints and indicators (docs/privacy.md).

use crate::pseudonymise::{split_port, Engine};
use crate::settings::field;
use crate::token::Kind;
use vagt_schema::{
    AuthRecord, FtpRecord, HttpRecord, KerberosRecord, LdapRecord, LdapSearchRecord, NtlmRecord,
    NtpRecord, QuicRecord, RdpRecord, SmbFilesRecord, SmbMappingRecord, SmtpRecord, SnmpRecord,
    SslRecord, SyslogRecord, X509Record,
};

const F_HTTP_HOST: usize = field("http.host");
const F_HTTP_URI: usize = field("http.uri");
const F_HTTP_REFERRER: usize = field("http.referrer");
const F_HTTP_ORIGIN: usize = field("http.origin");
const F_HTTP_USER: usize = field("http.username");
const F_FTP_USER: usize = field("ftp.user");
const F_FTP_ARG: usize = field("ftp.arg");
const F_AUTH_USER: usize = field("auth.user");
const F_SMTP_HELO: usize = field("smtp.helo");
const F_SMTP_MAILFROM: usize = field("smtp.mailfrom");
const F_SMTP_RCPTTO: usize = field("smtp.rcptto");
const F_SMTP_FROM: usize = field("smtp.from");
const F_SMTP_TO: usize = field("smtp.to");
const F_SMTP_CC: usize = field("smtp.cc");
const F_SMTP_REPLY_TO: usize = field("smtp.reply_to");
const F_SMTP_SUBJECT: usize = field("smtp.subject");
const F_SMTP_RECEIVED: usize = field("smtp.received");
const F_SMB_MAP_PATH: usize = field("smb_mapping.path");
const F_SMB_PATH: usize = field("smb_files.path");
const F_SMB_NAME: usize = field("smb_files.name");
const F_NTLM_USER: usize = field("ntlm.username");
const F_NTLM_HOST: usize = field("ntlm.hostname");
const F_NTLM_DOMAIN: usize = field("ntlm.domainname");
const F_NTLM_SERVER: usize = field("ntlm.server_names");
const F_KRB_CLIENT: usize = field("kerberos.client");
const F_KRB_SERVICE: usize = field("kerberos.service");
const F_LDAP_OBJECT: usize = field("ldap.object");
const F_LDAP_ARGUMENT: usize = field("ldap.argument");
const F_LDAP_BASE: usize = field("ldap_search.base_object");
const F_LDAP_FILTER: usize = field("ldap_search.filter");
const F_RDP_COOKIE: usize = field("rdp.cookie");
const F_RDP_CLIENT: usize = field("rdp.client_name");
const F_RDP_PRODUCT: usize = field("rdp.client_dig_product_id");
const F_SSL_SNI: usize = field("ssl.server_name");
const F_SSL_SUBJECT: usize = field("ssl.subject");
const F_SSL_CLIENT_SUBJECT: usize = field("ssl.client_subject");
const F_X509_SUBJECT: usize = field("x509.subject");
const F_X509_SAN: usize = field("x509.san");
const F_QUIC_SNI: usize = field("quic.server_name");
const F_SYSLOG: usize = field("syslog.message");

pub(crate) fn http(e: &mut Engine, h: &mut HttpRecord) {
    let server_internal = e.scope.ip_internal(h.id.resp_h);
    e.conn_id(&mut h.id);
    e.name_opt(F_HTTP_HOST, server_internal, &mut h.host);
    // URIs to an internal server are the municipality's own paths (case
    // files, user folders); to the internet they are indicators (URL
    // lists) and stay, as the brief of the centre requires.
    if server_internal {
        e.tok_opt(Kind::Path, F_HTTP_URI, &mut h.uri);
    } else if !e.keeps(F_HTTP_URI) {
        // An internet URL stays, but not an internal address or MAC in
        // its query string (`?client=10.20.3.48`).
        e.text_opt(&mut h.uri);
    }
    url_opt(e, F_HTTP_REFERRER, server_internal, &mut h.referrer);
    url_opt(e, F_HTTP_ORIGIN, server_internal, &mut h.origin);
    e.tok_opt(Kind::User, F_HTTP_USER, &mut h.username);
    // SECRET.
    h.password = None;
    for p in &mut h.proxied {
        e.text(p);
    }
    e.text_opt(&mut h.status_msg);
    e.text_opt(&mut h.info_msg);
}

/// A URL (Referer, Origin): tokenised whole when it points at an internal
/// host (or the request went to an internal server), else kept.
fn url_opt(e: &mut Engine, f: usize, server_internal: bool, u: &mut Option<String>) {
    let Some(v) = u else { return };
    let host = v
        .split_once("://")
        .map_or(v.as_str(), |(_, r)| r)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or(host);
    let host = host.trim_start_matches('[');
    let host = host.split(']').next().unwrap_or(host);
    let (host, _) = split_port(host);
    if server_internal || e.scope.name_internal(host) {
        e.tok(Kind::Path, f, v);
    } else if !e.keeps(f) {
        e.text(v);
    }
}

pub(crate) fn ftp(e: &mut Engine, f: &mut FtpRecord) {
    e.conn_id(&mut f.id);
    e.ip_opt(&mut f.data_channel_orig_h);
    e.ip_opt(&mut f.data_channel_resp_h);
    if f.user != "<unknown>" {
        e.tok(Kind::User, F_FTP_USER, &mut f.user);
    }
    // SECRET (a password, or for anonymous logins a mail address).
    f.password = None;
    e.tok_opt(Kind::Path, F_FTP_ARG, &mut f.arg);
    e.text_opt(&mut f.reply_msg);
}

pub(crate) fn auth(e: &mut Engine, a: &mut AuthRecord) {
    e.conn_id(&mut a.id);
    e.tok_opt(Kind::User, F_AUTH_USER, &mut a.user);
}

pub(crate) fn smtp(e: &mut Engine, s: &mut SmtpRecord) {
    let client_internal = e.scope.ip_internal(s.id.orig_h);
    e.conn_id(&mut s.id);
    e.name_opt(F_SMTP_HELO, client_internal, &mut s.helo);
    e.tok_opt(Kind::Mail, F_SMTP_MAILFROM, &mut s.mailfrom);
    e.tok_all(Kind::Mail, F_SMTP_RCPTTO, &mut s.rcptto);
    e.tok_opt(Kind::Mail, F_SMTP_FROM, &mut s.from);
    e.tok_all(Kind::Mail, F_SMTP_TO, &mut s.to);
    e.tok_all(Kind::Mail, F_SMTP_CC, &mut s.cc);
    e.tok_opt(Kind::Mail, F_SMTP_REPLY_TO, &mut s.reply_to);
    e.tok_opt(Kind::Text, F_SMTP_SUBJECT, &mut s.subject);
    e.ip_opt(&mut s.x_originating_ip);
    e.tok_opt(Kind::Text, F_SMTP_RECEIVED, &mut s.first_received);
    e.tok_opt(Kind::Text, F_SMTP_RECEIVED, &mut s.second_received);
    e.ips(&mut s.path);
    e.text_opt(&mut s.last_reply);
}

/// `\\server\share[\rest]`: the server as a host token, an administrative
/// share (`C$`, `ADMIN$`, `IPC$`, `SYSVOL`, ...) in clear (lateral movement shows in
/// them), any other share and the rest as one path token.
fn unc(e: &mut Engine, f: usize, p: &mut String) {
    if p.is_empty() || e.keeps(f) {
        return;
    }
    let Some(rest) = p.strip_prefix("\\\\") else {
        e.tok(Kind::Path, f, p);
        return;
    };
    let mut parts = rest.splitn(2, '\\');
    let mut server = parts.next().unwrap_or_default().to_string();
    let tail = parts.next().unwrap_or_default().to_string();
    if let Ok(ip) = server.parse() {
        server = e.ip_value(ip).to_string();
    } else {
        e.name(f, true, &mut server);
    }
    let mut out = format!("\\\\{server}");
    if !tail.is_empty() {
        out.push('\\');
        match tail.split_once('\\') {
            Some((share, more)) if admin_share(share) => {
                let mut m = more.to_string();
                e.tok(Kind::Path, f, &mut m);
                out.push_str(share);
                out.push('\\');
                out.push_str(&m);
            }
            None if admin_share(&tail) => out.push_str(&tail),
            _ => {
                let mut t = tail;
                e.tok(Kind::Path, f, &mut t);
                out.push_str(&t);
            }
        }
    }
    *p = out;
}

/// Shares every Windows server has: their names say nothing about a
/// person, and their use is what lateral movement looks like. Other
/// hidden shares (`jensen$`, a home folder) are tokenised.
fn admin_share(s: &str) -> bool {
    let u = s.to_ascii_uppercase();
    matches!(
        u.as_str(),
        "IPC$" | "ADMIN$" | "PRINT$" | "SYSVOL" | "NETLOGON"
    ) || (u.len() == 2 && u.ends_with('$') && u.as_bytes()[0].is_ascii_alphabetic())
}

pub(crate) fn smb_mapping(e: &mut Engine, s: &mut SmbMappingRecord) {
    e.conn_id(&mut s.id);
    if let Some(p) = &mut s.path {
        unc(e, F_SMB_MAP_PATH, p);
    }
}

pub(crate) fn smb_files(e: &mut Engine, s: &mut SmbFilesRecord) {
    e.conn_id(&mut s.id);
    if let Some(p) = &mut s.path {
        unc(e, F_SMB_PATH, p);
    }
    // "<share_root>" names no file.
    for n in [&mut s.name, &mut s.prev_name].into_iter().flatten() {
        if n != "<share_root>" {
            e.tok(Kind::Path, F_SMB_NAME, n);
        }
    }
}

pub(crate) fn ntlm(e: &mut Engine, n: &mut NtlmRecord) {
    let server_internal = e.scope.ip_internal(n.id.resp_h);
    e.conn_id(&mut n.id);
    e.tok_opt(Kind::User, F_NTLM_USER, &mut n.username);
    e.name_opt(F_NTLM_HOST, true, &mut n.hostname);
    // The client's domain is the computer's own name for a local account.
    e.name_opt(F_NTLM_DOMAIN, true, &mut n.domainname);
    e.name_opt(
        F_NTLM_SERVER,
        server_internal,
        &mut n.server_nb_computer_name,
    );
    e.name_opt(
        F_NTLM_SERVER,
        server_internal,
        &mut n.server_dns_computer_name,
    );
    e.name_opt(F_NTLM_SERVER, server_internal, &mut n.server_tree_name);
}

pub(crate) fn kerberos(e: &mut Engine, k: &mut KerberosRecord) {
    e.conn_id(&mut k.id);
    // "jensen/KOMMUNE.LOCAL" or "jensen@KOMMUNE.LOCAL": the user part
    // gets the same token as the user name in NTLM, RDP and FTP records
    // (so the centre can count one user's failures across protocols),
    // the realm a host token.
    if let Some(c) = &mut k.client {
        if !e.keeps(F_KRB_CLIENT) {
            match c.find(['/', '@']) {
                Some(i) if i > 0 => {
                    let sep = &c[i..=i];
                    let mut user = c[..i].to_string();
                    let mut realm = c[i + 1..].to_string();
                    e.tok(Kind::User, F_KRB_CLIENT, &mut user);
                    e.name(F_KRB_CLIENT, true, &mut realm);
                    *c = format!("{user}{sep}{realm}");
                }
                _ => e.tok(Kind::User, F_KRB_CLIENT, c),
            }
        }
    }
    // "cifs/fs1.example.org": the service class stays (kerberoasting and
    // golden tickets show in it), the rest is a host (or user) token.
    if let Some(s) = &mut k.service {
        if !e.keeps(F_KRB_SERVICE) {
            match s.split_once('/') {
                Some((class, rest)) if !rest.is_empty() => {
                    let mut r = rest.to_string();
                    e.name(F_KRB_SERVICE, true, &mut r);
                    *s = format!("{class}/{r}");
                }
                _ => e.tok(Kind::User, F_KRB_SERVICE, s),
            }
        }
    }
    e.text_opt(&mut k.error_msg);
}

pub(crate) fn ldap(e: &mut Engine, l: &mut LdapRecord) {
    e.conn_id(&mut l.id);
    let op = l.opcode.as_deref().unwrap_or_default();
    // An extended operation's object is an OID and its name.
    if !op.starts_with("extended") {
        e.tok_opt(Kind::Text, F_LDAP_OBJECT, &mut l.object);
    }
    // A bind's argument is its SASL mechanism (or "REDACTED"): no one's.
    if !op.starts_with("bind") {
        e.tok_opt(Kind::Text, F_LDAP_ARGUMENT, &mut l.argument);
    }
    e.text_opt(&mut l.diagnostic_message);
}

pub(crate) fn ldap_search(e: &mut Engine, l: &mut LdapSearchRecord) {
    e.conn_id(&mut l.id);
    e.tok_opt(Kind::Text, F_LDAP_BASE, &mut l.base_object);
    e.tok_opt(Kind::Text, F_LDAP_FILTER, &mut l.filter);
    e.text_opt(&mut l.diagnostic_message);
}

pub(crate) fn rdp(e: &mut Engine, r: &mut RdpRecord) {
    e.conn_id(&mut r.id);
    e.tok_opt(Kind::User, F_RDP_COOKIE, &mut r.cookie);
    e.name_opt(F_RDP_CLIENT, true, &mut r.client_name);
    // A product id identifies one Windows installation, so one PC.
    e.tok_opt(Kind::Text, F_RDP_PRODUCT, &mut r.client_dig_product_id);
}

pub(crate) fn ssl(e: &mut Engine, s: &mut SslRecord) {
    let server_internal = e.scope.ip_internal(s.id.resp_h);
    e.conn_id(&mut s.id);
    e.name_opt(F_SSL_SNI, server_internal, &mut s.server_name);
    // An internal server's certificate names the internal host; an
    // internet server's is an indicator.
    // A certificate's issuer is the subject of the next one up the
    // chain, so it is treated like the subjects it stands beside (a user
    // certificate issuing a proxy certificate names the user there).
    if server_internal {
        e.tok_opt(Kind::Text, F_SSL_SUBJECT, &mut s.subject);
        e.tok_opt(Kind::Text, F_SSL_SUBJECT, &mut s.issuer);
    }
    e.tok_opt(Kind::Text, F_SSL_CLIENT_SUBJECT, &mut s.client_subject);
    e.tok_opt(Kind::Text, F_SSL_CLIENT_SUBJECT, &mut s.client_issuer);
}

pub(crate) fn x509(e: &mut Engine, x: &mut X509Record) {
    let server_internal = e.scope.ip_internal(x.id.resp_h);
    e.conn_id(&mut x.id);
    let personal = x.client_cert || server_internal;
    if personal {
        // The issuer is the next certificate's subject (see `ssl`).
        e.tok(Kind::Text, F_X509_SUBJECT, &mut x.subject);
        e.tok(Kind::Text, F_X509_SUBJECT, &mut x.issuer);
    }
    for n in &mut x.san_dns {
        e.name(F_X509_SAN, personal, n);
    }
    if personal {
        e.tok_all(Kind::Path, F_X509_SAN, &mut x.san_uri);
    }
    e.tok_all(Kind::Mail, F_X509_SAN, &mut x.san_email);
    e.ips(&mut x.san_ip);
}

pub(crate) fn quic(e: &mut Engine, q: &mut QuicRecord) {
    let server_internal = e.scope.ip_internal(q.id.resp_h);
    e.conn_id(&mut q.id);
    e.name_opt(F_QUIC_SNI, server_internal, &mut q.server_name);
}

pub(crate) fn snmp(e: &mut Engine, s: &mut SnmpRecord) {
    e.conn_id(&mut s.id);
    // SECRET: a v1/v2c community is a password (a v3 user name rides in
    // the same field and goes with it).
    s.community = None;
    e.text_opt(&mut s.display_string);
}

pub(crate) fn ntp(e: &mut Engine, n: &mut NtpRecord) {
    e.conn_id(&mut n.id);
    // The reference server's IPv4 address, written as text.
    e.text_opt(&mut n.ref_id);
}

pub(crate) fn syslog(e: &mut Engine, s: &mut SyslogRecord) {
    e.conn_id(&mut s.id);
    // Log lines name users, hosts and paths in forms no pattern finds:
    // the whole line is one token unless kept, and a kept line is still
    // cleared of addresses, MACs and internal names.
    if e.keeps(F_SYSLOG) {
        e.text(&mut s.message);
    } else {
        e.tok(Kind::Text, F_SYSLOG, &mut s.message);
    }
}
