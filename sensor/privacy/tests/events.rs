//! One test per event kind: a realistic event is pseudonymised and its
//! JSON, as it would leave for the centre, holds none of the internal
//! values and all of the external ones.

mod common;
use common::*;

#[test]
fn conn() {
    let ev = event(
        "conn",
        &format!(
            r#"{},"proto":"tcp","service":"ssl","conn_state":"SF","missed_bytes":0,"orig_pkts":18,"orig_ip_bytes":889,"resp_pkts":27,"resp_ip_bytes":36363,"ip_proto":6,"orig_l2_addr":"{CLIENT_MAC}","resp_l2_addr":"{SERVER_MAC}","community_id":"1:d3DF8LTisRjDq9Q7F3Ct3sc/fEk=","orig_link_bytes":961,"resp_link_bytes":36471"#,
            conn_id(CLIENT, EXTERNAL, 443)
        ),
    );
    let json = out(&mut pseudo(), ev);
    check(
        &json,
        &[CLIENT, CLIENT_MAC, SERVER_MAC, "d3DF8LTisRjDq9Q7F3Ct3sc"],
        &[EXTERNAL, "\"id.orig_h\":\"fd", "~m_", "~c_", "C4GXVTnJA242"],
    );
}

#[test]
fn dns_internal_names_and_answers_are_tokenised_internet_names_stay() {
    let mut p = pseudo();
    let base = r#""proto":"udp","trans_id":7,"AA":false,"TC":false,"RD":true,"RA":true,"Z":0,"rejected":false"#;
    let internal = event(
        "dns",
        &format!(
            r#"{},{base},"query":"anne-pc.kommune.local","qtype_name":"A","answers":["10.20.3.48"],"TTLs":[60.0]"#,
            conn_id(CLIENT, SERVER, 53)
        ),
    );
    let json = out(&mut p, internal);
    check(
        &json,
        &[CLIENT, SERVER, "anne-pc"],
        &["\"query\":\"~h_", "\"answers\":[\"fd"],
    );

    let reverse = event(
        "dns",
        &format!(
            r#"{},{base},"query":"48.3.20.10.in-addr.arpa","qtype_name":"PTR","answers":["jensens-laptop.kommune.dk"]"#,
            conn_id(CLIENT, SERVER, 53)
        ),
    );
    let json = out(&mut p, reverse);
    check(&json, &["48.3.20.10", "jensens-laptop"], &["~h_"]);

    let netbios = event(
        "dns",
        &format!(
            r#"{},{base},"query":"fileserver01""#,
            conn_id(CLIENT, "10.20.3.255", 137)
        ),
    );
    check(&out(&mut p, netbios), &["fileserver01"], &["~h_"]);

    let external = event(
        "dns",
        &format!(
            r#"{},{base},"query":"www.example.com","answers":["www.example.com.cdn.net","{EXTERNAL}","TXT 11 hello world"]"#,
            conn_id(CLIENT, "8.8.8.8", 53)
        ),
    );
    let json = out(&mut p, external);
    check(
        &json,
        &[CLIENT],
        &[
            "www.example.com",
            "www.example.com.cdn.net",
            EXTERNAL,
            "8.8.8.8",
            "TXT 11 hello world",
        ],
    );
}

#[test]
fn http_to_internal_server_and_to_internet() {
    let mut p = pseudo();
    let internal = event(
        "http",
        &format!(
            r#"{},"trans_depth":1,"method":"GET","host":"intranet.intern.kommune.dk:8080","uri":"/sager/borger/0101901234","referrer":"http://intranet.intern.kommune.dk/start","user_agent":"Mozilla/5.0","request_body_len":0,"response_body_len":10,"status_code":200,"tags":[],"username":"jensen","password":"hunter2","proxied":["X-FORWARDED-FOR -> 10.20.3.49"]"#,
            conn_id(CLIENT, SERVER, 8080)
        ),
    );
    let json = out(&mut p, internal);
    check(
        &json,
        &[
            CLIENT,
            SERVER,
            "10.20.3.49",
            "intranet",
            "0101901234",
            "jensen",
            "hunter2",
            "password",
        ],
        &[
            "\"host\":\"~h_",
            ":8080\"",
            "\"uri\":\"~p_",
            "Mozilla/5.0",
            "X-FORWARDED-FOR -> fd",
        ],
    );
    let external = event(
        "http",
        &format!(
            r#"{},"trans_depth":1,"method":"GET","host":"evil.example.com","uri":"/payload.bin","referrer":"http://anne-pc.kommune.local/x","request_body_len":0,"response_body_len":10,"tags":[]"#,
            conn_id(CLIENT, EXTERNAL, 80)
        ),
    );
    let json = out(&mut p, external);
    check(
        &json,
        &[CLIENT, "anne-pc"],
        &["evil.example.com", "/payload.bin", EXTERNAL],
    );
}

#[test]
fn ssl_and_x509_and_quic() {
    let mut p = pseudo();
    let ssl = event(
        "ssl",
        &format!(
            r#"{},"server_name":"www.example.com","resumed":false,"established":true,"ssl_history":"CsxknGIi","subject":"CN=www.example.com","client_subject":"CN=Anne Jensen,OU=Borgerservice","client_issuer":"CN=Anne Jensen,OU=Borgerservice","issuer":"CN=DigiCert Global G2","ja3":"e7d705a3286e19ea42f587b344ee6865","ja4":"t13d1516h2_8daaf6152771_02713d6af862","cert_chain_fps":["ab12"]"#,
            conn_id(CLIENT, EXTERNAL, 443)
        ),
    );
    let json = out(&mut p, ssl);
    check(
        &json,
        &[CLIENT, "Anne Jensen", "Borgerservice"],
        &[
            "www.example.com",
            "e7d705a3286e19ea42f587b344ee6865",
            "t13d1516h2",
            "ab12",
            EXTERNAL,
        ],
    );
    let internal = event(
        "ssl",
        &format!(
            r#"{},"server_name":"printer7","resumed":false,"established":true,"ssl_history":"Cs","subject":"CN=printer7.kommune.local""#,
            conn_id(CLIENT, SERVER, 443)
        ),
    );
    check(&out(&mut p, internal), &["printer7"], &["~h_", "~x_"]);

    let x509 = event(
        "x509",
        &format!(
            r#"{},"fingerprint":"ff00","certificate.version":3,"certificate.serial":"01","certificate.subject":"CN=Anne Jensen","certificate.issuer":"CN=Kommune CA","certificate.not_valid_before":0.0,"certificate.not_valid_after":1.0,"certificate.key_alg":"rsaEncryption","certificate.sig_alg":"sha256WithRSAEncryption","san.email":["anne.jensen@kommune.dk"],"san.dns":["anne-pc"],"san.ip":["{CLIENT}"],"host_cert":false,"client_cert":true"#,
            conn_id(CLIENT, EXTERNAL, 443)
        ),
    );
    check(
        &out(&mut p, x509),
        &[
            CLIENT,
            "Anne Jensen",
            "anne.jensen",
            "anne-pc",
            "CN=Kommune CA",
        ],
        &["ff00"],
    );
    // A proxy certificate's issuer is the user's own certificate.
    let proxy = event(
        "x509",
        &format!(
            r#"{},"fingerprint":"ff01","certificate.version":3,"certificate.serial":"02","certificate.subject":"CN=917532944,CN=Jon Siwek","certificate.issuer":"CN=Jon Siwek,OU=local","certificate.not_valid_before":0.0,"certificate.not_valid_after":1.0,"certificate.key_alg":"rsaEncryption","certificate.sig_alg":"sha1WithRSAEncryption","host_cert":false,"client_cert":true"#,
            conn_id(CLIENT, SERVER, 443)
        ),
    );
    check(&out(&mut p, proxy), &["Siwek"], &["ff01"]);
    let quic = event(
        "quic",
        &format!(
            r#"{},"version":"1","server_name":"www.example.com","history":"ISisH""#,
            conn_id(CLIENT, EXTERNAL, 443)
        ),
    );
    check(
        &out(&mut p, quic),
        &[CLIENT],
        &["www.example.com", EXTERNAL],
    );
}

#[test]
fn smtp() {
    let ev = event(
        "smtp",
        &format!(
            r#"{},"trans_depth":1,"helo":"anne-pc","mailfrom":"anne.jensen@kommune.dk","rcptto":["bo@example.org"],"from":"Anne Jensen <anne.jensen@kommune.dk>","to":["bo@example.org"],"cc":["carl@example.org"],"reply_to":"anne.jensen@kommune.dk","subject":"Sag om Carl Hansen","x_originating_ip":"{CLIENT}","first_received":"from anne-pc.kommune.local ([10.20.3.48])","path":["{EXTERNAL}","{CLIENT}"],"last_reply":"250 2.0.0 Ok: queued for bo@example.org","user_agent":"Microsoft Outlook 16.0","tls":false,"msg_id":"<abc@mail.kommune.dk>""#,
            conn_id(CLIENT, EXTERNAL, 25)
        ),
    );
    let json = out(&mut pseudo(), ev);
    check(
        &json,
        &[CLIENT, "anne", "bo@example.org", "carl@", "Carl Hansen"],
        &[
            EXTERNAL,
            "Microsoft Outlook 16.0",
            "<abc@mail.kommune.dk>",
            "~e_",
        ],
    );
}

#[test]
fn ftp_and_auth() {
    let mut p = pseudo();
    let ftp = event(
        "ftp",
        &format!(
            r#"{},"user":"jensen","password":"<hidden>","command":"RETR","arg":"ftp://10.0.0.60/home/jensen/cpr-liste.xlsx","reply_code":226,"reply_msg":"Transfer complete for jensen","data_channel.orig_h":"{SERVER}","data_channel.resp_h":"{CLIENT}","data_channel.resp_p":50000"#,
            conn_id(CLIENT, SERVER, 21)
        ),
    );
    check(
        &out(&mut p, ftp),
        &[CLIENT, SERVER, "jensen", "cpr-liste", "hidden"],
        &["RETR", "Transfer complete for ~u_"],
    );
    let auth = event(
        "auth",
        &format!(
            r#"{},"service":"ftp","user":"jensen","success":false,"reply_code":530"#,
            conn_id(EXTERNAL, SERVER, 21)
        ),
    );
    check(&out(&mut p, auth), &[SERVER, "jensen"], &[EXTERNAL, "~u_"]);
}

#[test]
fn smb_ntlm_kerberos_dce_rpc() {
    let mut p = pseudo();
    let map = event(
        "smb_mapping",
        &format!(
            r#"{},"path":"\\\\FILESRV01\\jensen$","share_type":"DISK""#,
            conn_id(CLIENT, SERVER, 445)
        ),
    );
    let json = out(&mut p, map);
    check(
        &json,
        &[CLIENT, SERVER, "FILESRV01", "jensen"],
        &["~h_", "\\\\~p_"],
    );
    let map = event(
        "smb_mapping",
        &format!(
            r#"{},"path":"\\\\10.0.0.60\\Borgere","share_type":"DISK""#,
            conn_id(CLIENT, SERVER, 445)
        ),
    );
    check(&out(&mut p, map), &[SERVER, "Borgere"], &["~p_"]);
    let admin = event(
        "smb_mapping",
        &format!(
            r#"{},"path":"\\\\filesrv01\\ADMIN$","share_type":"DISK""#,
            conn_id(CLIENT, SERVER, 445)
        ),
    );
    check(&out(&mut p, admin), &["filesrv01"], &["ADMIN$"]);
    let files = event(
        "smb_files",
        &format!(
            r#"{},"action":"SMB::FILE_RENAME","path":"\\\\filesrv01\\Sager","name":"Hansen, Carl.docx","prev_name":"udkast.docx","size":1024"#,
            conn_id(CLIENT, SERVER, 445)
        ),
    );
    check(
        &out(&mut p, files),
        &["filesrv01", "Sager", "Hansen", "udkast"],
        &["SMB::FILE_RENAME"],
    );
    let ntlm = event(
        "ntlm",
        &format!(
            r#"{},"username":"jensen","hostname":"ANNE-PC","domainname":"KOMMUNE","server_nb_computer_name":"FILESRV01","server_dns_computer_name":"filesrv01.kommune.local","server_tree_name":"kommune.local","success":true"#,
            conn_id(CLIENT, SERVER, 445)
        ),
    );
    check(
        &out(&mut p, ntlm),
        &["jensen", "ANNE-PC", "FILESRV01", "filesrv01", "\"KOMMUNE\""],
        &["~u_"],
    );
    let krb = event(
        "kerberos",
        &format!(
            r#"{},"request_type":"TGS","client":"jensen/KOMMUNE.LOCAL","service":"cifs/filesrv01.kommune.local","success":false,"error_msg":"KDC_ERR_PREAUTH_FAILED""#,
            conn_id(CLIENT, SERVER, 88)
        ),
    );
    let json = out(&mut p, krb);
    check(
        &json,
        &["jensen", "filesrv01"],
        &["\"cifs/~h_", "KDC_ERR_PREAUTH_FAILED"],
    );
    // The user part joins with the NTLM record's user name.
    let ntlm_user = &json[json.find("\"client\":\"").unwrap() + 10..][..23];
    assert!(ntlm_user.starts_with("~u_"), "{json}");
    assert!(out(
        &mut p,
        event(
            "ntlm",
            &format!(r#"{},"username":"jensen""#, conn_id(CLIENT, SERVER, 445))
        )
    )
    .contains(ntlm_user));
    let dce = event(
        "dce_rpc",
        &format!(
            r#"{},"named_pipe":"\\PIPE\\lsass","endpoint":"samr","operation":"SamrEnumerateUsersInDomain""#,
            conn_id(CLIENT, SERVER, 445)
        ),
    );
    check(&out(&mut p, dce), &[CLIENT, SERVER], &["samr", "lsass"]);
}

#[test]
fn ldap_and_rdp() {
    let mut p = pseudo();
    let bind = event(
        "ldap",
        &format!(
            r#"{},"message_id":1,"version":3,"opcode":"bind simple","result":"success","object":"CN=Anne Jensen,OU=Users,DC=kommune,DC=local","argument":"REDACTED""#,
            conn_id(CLIENT, SERVER, 389)
        ),
    );
    check(
        &out(&mut p, bind),
        &["Anne Jensen"],
        &["REDACTED", "bind simple"],
    );
    let modify = event(
        "ldap",
        &format!(
            r#"{},"message_id":2,"opcode":"modify","object":"CN=Bo,DC=kommune","argument":"replace(telephoneNumber=12345678)""#,
            conn_id(CLIENT, SERVER, 389)
        ),
    );
    check(&out(&mut p, modify), &["12345678", "CN=Bo"], &["~x_"]);
    let search = event(
        "ldap_search",
        &format!(
            r#"{},"message_id":3,"scope":"tree","base_object":"DC=kommune,DC=local","result_count":1,"filter":"(sAMAccountName=jensen)""#,
            conn_id(CLIENT, SERVER, 389)
        ),
    );
    check(&out(&mut p, search), &["jensen", "DC=kommune"], &["tree"]);
    let rdp = event(
        "rdp",
        &format!(
            r#"{},"cookie":"jensen","security_protocol":"HYBRID","client_name":"ANNE-PC","client_dig_product_id":"00330-80000-00000-AA123","cert_count":0,"client_build":"RDP 10.0""#,
            conn_id(CLIENT, SERVER, 3389)
        ),
    );
    check(
        &out(&mut p, rdp),
        &["jensen", "ANNE-PC", "AA123"],
        &["HYBRID", "RDP 10.0"],
    );
}

#[test]
fn dhcp_arp_asset() {
    let mut p = pseudo();
    let dhcp = event(
        "dhcp",
        &format!(
            r#""ts":1.0,"uids":["C1","C2"],"client_addr":"{CLIENT}","server_addr":"10.0.0.1","mac":"{CLIENT_MAC}","host_name":"Annes-iPhone","client_fqdn":"annes-iphone.kommune.local","domain":"kommune.local","assigned_addr":"{CLIENT}","msg_types":["DISCOVER","OFFER","REQUEST","ACK"],"duration":0.5,"client_chaddr":"{CLIENT_MAC}","vendor_class":"android-dhcp-13","param_list":[1,3,6]"#
        ),
    );
    check(
        &out(&mut p, dhcp),
        &[
            CLIENT,
            "10.0.0.1",
            CLIENT_MAC,
            "Annes-iPhone",
            "annes-iphone",
        ],
        &["android-dhcp-13", "~m_", "~h_"],
    );
    let arp = event(
        "arp",
        &format!(
            r#""ts":1.0,"op":"reply","src_mac":"{CLIENT_MAC}","ip":"{CLIENT}","mac":"{CLIENT_MAC}","previous_mac":"{SERVER_MAC}","change":"moved","mac_ips":1"#
        ),
    );
    let json = out(&mut p, arp);
    check(
        &json,
        &[CLIENT, CLIENT_MAC, SERVER_MAC],
        &["\"ip\":\"24", "\"ip\":\"2"],
    );
    let asset = event(
        "asset",
        &format!(
            r#""key":"mac:{CLIENT_MAC}","mac":"{CLIENT_MAC}","vendor":"Apple, Inc.","ips":[{{"ip":"{CLIENT}","first_seen":1.0,"last_seen":2.0}}],"host_name":"Annes-iPhone","device_hints":["Mozilla/5.0 (iPhone)"],"role":"phone","role_evidence":["DHCP vendor class android-dhcp-13 from {CLIENT}"],"first_seen":1.0,"last_seen":2.0,"change":["new"]"#
        ),
    );
    let json = out(&mut p, asset);
    check(
        &json,
        &[CLIENT, CLIENT_MAC, "Annes-iPhone"],
        &["\"key\":\"mac:~m_", "Apple, Inc.", "phone"],
    );
    let by_ip = event(
        "asset",
        &format!(
            r#""key":"ip:{CLIENT}","ips":[],"first_seen":1.0,"last_seen":2.0,"change":["new"]"#
        ),
    );
    check(&out(&mut p, by_ip), &[CLIENT], &["\"key\":\"ip:fd"]);
}

#[test]
fn syslog_snmp_ntp_ssh_and_ot() {
    let mut p = pseudo();
    let syslog = event(
        "syslog",
        &format!(
            r#"{},"proto":"udp","facility":"AUTH","severity":"NOTICE","message":"sshd[1]: Failed password for jensen from 10.20.3.48""#,
            conn_id(CLIENT, SERVER, 514)
        ),
    );
    check(
        &out(&mut p, syslog),
        &["jensen", CLIENT],
        &["\"message\":\"~x_", "AUTH"],
    );
    let snmp = event(
        "snmp",
        &format!(
            r#"{},"duration":1.0,"version":"2c","community":"s3cr3t","get_requests":1,"get_bulk_requests":0,"get_responses":1,"set_requests":0,"display_string":"HP LaserJet at printer7.kommune.local""#,
            conn_id(CLIENT, SERVER, 161)
        ),
    );
    check(
        &out(&mut p, snmp),
        &["s3cr3t", "community", "printer7"],
        &["HP LaserJet"],
    );
    let ntp = event(
        "ntp",
        &format!(
            r#"{},"version":4,"mode":4,"stratum":2,"ref_id":"10.0.0.1","num_exts":0"#,
            conn_id(CLIENT, SERVER, 123)
        ),
    );
    check(
        &out(&mut p, ntp),
        &["10.0.0.1", CLIENT, SERVER],
        &["\"ref_id\":\"fd"],
    );
    let ssh = event(
        "ssh",
        &format!(
            r#"{},"auth_attempts":1,"client":"SSH-2.0-OpenSSH_9.7","hassh":"ec7378c1a92f5a8dde7e8b7a1ddf33d1""#,
            conn_id(CLIENT, EXTERNAL, 22)
        ),
    );
    check(
        &out(&mut p, ssh),
        &[CLIENT],
        &[EXTERNAL, "OpenSSH_9.7", "ec7378c1a92f5a8dde7e8b7a1ddf33d1"],
    );
    let modbus = event(
        "modbus",
        &format!(
            r#"{},"func":"WRITE_SINGLE_REGISTER","pdu_type":"REQ","class":"write""#,
            conn_id(CLIENT, SERVER, 502)
        ),
    );
    check(
        &out(&mut p, modbus),
        &[CLIENT, SERVER],
        &["WRITE_SINGLE_REGISTER"],
    );
    let bacnet = event(
        "bacnet",
        &format!(
            r#"{},"is_orig":true,"source_h":"{CLIENT}","source_p":47808,"destination_h":"{SERVER}","destination_p":47808,"pdu_service":"write_property""#,
            conn_id(CLIENT, SERVER, 47808)
        ),
    );
    check(&out(&mut p, bacnet), &[CLIENT, SERVER], &["write_property"]);
    for (kind, body) in [
        ("dnp3", r#""fc_request":"WRITE""#),
        ("s7comm", r#""is_orig":true,"function_name":"PLC Stop""#),
        (
            "enip",
            r#""is_orig":true,"enip_command_code":"0x6f","enip_command":"Send RR Data","length":0,"session_handle":"0x1","enip_status":"0x0","sender_context":"0x0","options":"0x0""#,
        ),
        (
            "ot_summary",
            r#""protocol":"modbus","is_orig":true,"function":"READ_HOLDING_REGISTERS","count":10,"last_ts":2.0"#,
        ),
    ] {
        let ev = event(kind, &format!("{},{body}", conn_id(CLIENT, SERVER, 502)));
        check(&out(&mut p, ev), &[CLIENT, SERVER], &["fd"]);
    }
}

#[test]
fn stats_and_segment_metrics_pass_unchanged() {
    let mut p = pseudo();
    let stats = event(
        "stats",
        r#""ts":1.0,"packets":10,"bytes":1000,"decoded":{"ipv4":10},"decode_errors":{},"drops":{},"connections":1,"connections_evicted":0,"connections_active":0"#,
    );
    let before = serde_json::to_string(&stats).unwrap();
    assert_eq!(out(&mut p, stats), before);
    let with_error = event(
        "stats",
        r#""ts":1.0,"packets":10,"bytes":1000,"decoded":{},"decode_errors":{},"drops":{},"connections":1,"connections_evicted":0,"connections_active":0,"analysis":{"events":1,"notices":0,"alerts":0,"allowed":0,"open_alerts":0,"rules_files":2,"rules_error":"rules/allow.toml:3: src 10.20.3.48/33 is not a network"}"#,
    );
    check(&out(&mut p, with_error), &[CLIENT], &["rules/allow.toml:3"]);
    let m = event(
        "segment_metrics",
        r#""ts":1.0,"interval":60.0,"bytes_out":1,"bytes_in":2,"bytes_internal":3,"pkts_out":1,"pkts_in":1,"conns":2,"failed_conns":0,"hosts":1,"external_peers":1,"new_external_peers":0,"dns_queries":0,"dns_nxdomain":0,"services":{"ssl":2}"#,
    );
    let before = serde_json::to_string(&m).unwrap();
    assert_eq!(out(&mut p, m), before);
}
