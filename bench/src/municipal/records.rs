//! Application records beyond web and DNS, built for a connection already
//! written by `emit`: the Windows domain's Kerberos, LDAP, NTLM and SMB
//! records, RDP and SSH, the LAN's DHCP and ARP records, OT messages
//! (written one by one when they change a device, summarised per 5 minutes
//! otherwise, as the sensor's default `[app.ot] records = "changes"`
//! does), and the asset inventory's records of devices.

use super::emit::{Conn, Sink};
use super::net::Host;
use std::net::{IpAddr, Ipv4Addr};
use vagt_schema::*;

impl Sink {
    /// A Kerberos AS or TGS exchange: success, or the KDC's error code
    /// (24 pre-authentication failed, 6 client unknown).
    pub fn kerberos(
        &mut self,
        seg: usize,
        c: &Conn,
        uid: String,
        client: &str,
        error: Option<u32>,
    ) {
        self.push(
            seg,
            EventBody::Kerberos(KerberosRecord {
                ts: c.ts,
                uid,
                id: c.id(),
                request_type: Some(if error.is_some() { "AS" } else { "TGS" }.into()),
                client: Some(format!("{client}/KOMMUNE.LOCAL")),
                // A failed AS request asks for a ticket-granting ticket; the
                // logon's TGS requests ask for the DC's services.
                service: Some(
                    if error.is_some() {
                        "krbtgt/KOMMUNE.LOCAL"
                    } else {
                        "cifs/dc01.kommune.local"
                    }
                    .into(),
                ),
                success: Some(error.is_none()),
                error_code: error,
                error_msg: error.map(|e| {
                    match e {
                        24 => "KDC_ERR_PREAUTH_FAILED",
                        18 => "KDC_ERR_CLIENT_REVOKED",
                        _ => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
                    }
                    .into()
                }),
                from: None,
                till: None,
                cipher: Some("aes256-cts-hmac-sha1-96".into()),
                forwardable: Some(true),
                renewable: Some(true),
            }),
        );
    }

    /// An LDAP bind with its result as the sensor spells it ("success",
    /// "invalid credentials").
    pub fn ldap_bind(
        &mut self,
        seg: usize,
        c: &Conn,
        uid: String,
        user: &str,
        ok: bool,
        msg_id: i64,
    ) {
        self.push(
            seg,
            EventBody::Ldap(LdapRecord {
                ts: c.ts,
                uid,
                id: c.id(),
                message_id: msg_id,
                version: Some(3),
                opcode: Some("bind simple".into()),
                result: Some(if ok { "success" } else { "invalid credentials" }.into()),
                diagnostic_message: None,
                object: Some(format!("CN={user},OU=Brugere,DC=kommune,DC=local")),
                argument: Some("REDACTED".into()),
            }),
        );
    }

    pub fn ntlm(&mut self, seg: usize, c: &Conn, uid: String, user: &str, ok: bool) {
        self.push(
            seg,
            EventBody::Ntlm(NtlmRecord {
                ts: c.ts,
                uid,
                id: c.id(),
                username: Some(user.to_string()),
                hostname: None,
                domainname: Some("KOMMUNE".into()),
                server_nb_computer_name: None,
                server_dns_computer_name: None,
                server_tree_name: None,
                success: Some(ok),
            }),
        );
    }

    pub fn smb_mapping(&mut self, seg: usize, c: &Conn, uid: String, path: &str) {
        self.push(
            seg,
            EventBody::SmbMapping(SmbMappingRecord {
                ts: c.ts,
                uid,
                id: c.id(),
                path: Some(path.to_string()),
                service: Some("DISK".into()),
                native_file_system: Some("NTFS".into()),
                share_type: "DISK".into(),
            }),
        );
    }

    pub fn rdp(&mut self, seg: usize, c: &Conn, uid: String, cookie: &str, result: &str) {
        self.push(
            seg,
            EventBody::Rdp(RdpRecord {
                ts: c.ts,
                uid,
                id: c.id(),
                cookie: Some(cookie.to_string()),
                result: Some(result.to_string()),
                security_protocol: Some("HYBRID".into()),
                client_channels: None,
                keyboard_layout: None,
                client_build: None,
                client_name: None,
                client_dig_product_id: None,
                desktop_width: None,
                desktop_height: None,
                requested_color_depth: None,
                cert_type: None,
                cert_count: 0,
                cert_permanent: None,
                encryption_level: None,
                encryption_method: None,
            }),
        );
    }

    /// An SSH session with the outcome the sensor infers from packet sizes.
    pub fn ssh(
        &mut self,
        seg: usize,
        c: &Conn,
        uid: String,
        client: &str,
        success: Option<bool>,
        attempts: u64,
    ) {
        let inbound = !super::emit::local(c.orig) && super::emit::local(c.resp);
        self.push(
            seg,
            EventBody::Ssh(SshRecord {
                ts: c.ts,
                uid,
                id: c.id(),
                version: Some(2),
                auth_success: success,
                auth_attempts: attempts,
                direction: Some(if inbound { "INBOUND" } else { "OUTBOUND" }.into()),
                client: Some(client.to_string()),
                server: Some("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3".into()),
                cipher_alg: Some("chacha20-poly1305@openssh.com".into()),
                mac_alg: Some("umac-64-etm@openssh.com".into()),
                compression_alg: Some("none".into()),
                kex_alg: Some("curve25519-sha256".into()),
                host_key_alg: Some("ssh-ed25519".into()),
                host_key_fingerprint: None,
                hassh: None,
                hassh_server: None,
            }),
        );
    }

    /// A DHCP exchange: a full DISCOVER..ACK for a device joining, a
    /// REQUEST/ACK for a renewal. Over UDP 68 -> 67, with its conn record.
    #[allow(clippy::too_many_arguments)]
    pub fn dhcp(
        &mut self,
        seg: usize,
        ts: f64,
        host: &Host,
        ip: Ipv4Addr,
        server: Ipv4Addr,
        renew: bool,
        vendor: &str,
    ) {
        let c = Conn::udp(ts, ip, 68, server, 67)
            .service("dhcp")
            .bytes(300, 300);
        let uid = self.conn(seg, &c);
        let msg_types = if renew {
            vec!["REQUEST".into(), "ACK".into()]
        } else {
            vec![
                "DISCOVER".into(),
                "OFFER".into(),
                "REQUEST".into(),
                "ACK".into(),
            ]
        };
        self.push(
            seg,
            EventBody::Dhcp(DhcpRecord {
                ts,
                uids: vec![uid],
                client_addr: Some(IpAddr::V4(ip)),
                server_addr: Some(IpAddr::V4(server)),
                client_port: Some(68),
                server_port: Some(67),
                mac: Some(host.mac.clone()),
                host_name: Some(host.name.clone()),
                client_fqdn: None,
                domain: Some("kommune.local".into()),
                requested_addr: Some(IpAddr::V4(ip)),
                assigned_addr: Some(IpAddr::V4(ip)),
                lease_time: Some(28_800.0),
                client_message: None,
                server_message: None,
                msg_types,
                duration: 0.02,
                client_chaddr: Some(host.mac.clone()),
                vendor_class: Some(vendor.to_string()),
                param_list: vec![1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252],
            }),
        );
    }

    /// An ARP binding that is new or moved (the sensor writes nothing else);
    /// `previous` is the MAC it moved from and how long ago that MAC last
    /// announced it.
    #[allow(clippy::too_many_arguments)]
    pub fn arp(
        &mut self,
        seg: usize,
        ts: f64,
        ip: Ipv4Addr,
        mac: &str,
        previous: Option<(&str, f64)>,
        gratuitous: bool,
        mac_ips: u32,
    ) {
        self.push(
            seg,
            EventBody::Arp(ArpRecord {
                ts,
                op: "reply".into(),
                src_mac: mac.to_string(),
                ip,
                mac: mac.to_string(),
                previous_mac: previous.map(|p| p.0.to_string()),
                previous_age: previous.map(|p| p.1),
                gratuitous,
                change: if previous.is_some() { "moved" } else { "new" }.into(),
                mac_ips,
                targets: None,
                duration: None,
            }),
        );
    }

    /// A Modbus request written in full (a write, or the first of a kind).
    pub fn modbus(
        &mut self,
        seg: usize,
        c: &Conn,
        uid: String,
        ts: f64,
        func: &str,
        class: OtClass,
    ) {
        self.push(
            seg,
            EventBody::Modbus(ModbusRecord {
                ts,
                uid,
                id: c.id(),
                tid: Some((ts as u64 % 65_536) as u16),
                unit: Some(1),
                func: Some(func.to_string()),
                pdu_type: Some("REQ".into()),
                exception: None,
                class: Some(class),
            }),
        );
    }

    /// A DNP3 request written in full.
    pub fn dnp3(&mut self, seg: usize, c: &Conn, uid: String, ts: f64, func: &str, class: OtClass) {
        self.push(
            seg,
            EventBody::Dnp3(Dnp3Record {
                ts,
                uid,
                id: c.id(),
                fc_request: Some(func.to_string()),
                fc_reply: Some("RESPONSE".into()),
                iin: Some(0),
                class: Some(class),
            }),
        );
    }

    /// OT messages counted, not written: one summary per interval.
    #[allow(clippy::too_many_arguments)]
    pub fn ot_summary(
        &mut self,
        seg: usize,
        c: &Conn,
        uid: String,
        protocol: &str,
        function: &str,
        class: Option<OtClass>,
        is_orig: bool,
        first: f64,
        last: f64,
        count: u64,
    ) {
        self.push(
            seg,
            EventBody::OtSummary(OtSummaryRecord {
                ts: first,
                uid,
                id: c.id(),
                protocol: protocol.to_string(),
                is_orig,
                unit: Some(1),
                function: function.to_string(),
                class,
                count,
                last_ts: last,
            }),
        );
    }

    /// A device of the asset inventory, first seen.
    pub fn asset(
        &mut self,
        seg: usize,
        ts: f64,
        host: &Host,
        ip: Ipv4Addr,
        vendor: &str,
        role: &str,
    ) {
        self.push(
            seg,
            EventBody::Asset(AssetRecord {
                key: format!("mac:{}", host.mac),
                mac: Some(host.mac.clone()),
                vendor: Some(vendor.to_string()),
                ips: vec![AssetIp {
                    ip: IpAddr::V4(ip),
                    first_seen: ts,
                    last_seen: ts,
                }],
                host_name: Some(host.name.clone()),
                os_hints: Vec::new(),
                device_hints: Vec::new(),
                services_offered: Vec::new(),
                services_used: Vec::new(),
                role: Some(role.to_string()),
                role_evidence: Vec::new(),
                first_seen: ts,
                last_seen: ts,
                change: vec!["new".into()],
                uids: Vec::new(),
            }),
        );
    }
}
