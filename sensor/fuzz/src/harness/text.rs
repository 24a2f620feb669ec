//! The text-protocol application parsers (HTTP, FTP and its data
//! connections, SMTP) fed scripted
//! conversations (the layout is `vagt_sensor::applayer::drive`'s). Checks:
//! no panic, and output bounded by the input (a record per line at most,
//! each record no larger than its fields' escaped bytes allow).

use vagt_sensor::applayer::registry::MakeParser;
use vagt_sensor::applayer::script as drive;

fn check(make: MakeParser, port: u16, data: &[u8]) {
    let conn = drive::tcp_ident(port);
    let (bodies, _) = drive::run(make, &conn, data);
    assert!(
        bodies.len() <= data.len() + 2,
        "{} records from {} bytes",
        bodies.len(),
        data.len()
    );
    for b in &bodies {
        let len = format!("{b:?}").len();
        assert!(
            len <= 4096 + 8 * data.len(),
            "a record of {len} bytes from {} bytes",
            data.len()
        );
    }
}

pub fn app_http(data: &[u8]) {
    check(vagt_sensor::applayer::http::make, 80, data);
}

pub fn app_ftp(data: &[u8]) {
    check(vagt_sensor::applayer::ftp::make, 21, data);
}

pub fn app_ftp_data(data: &[u8]) {
    check(vagt_sensor::applayer::ftp::data::make, 20, data);
}

pub fn app_smtp(data: &[u8]) {
    check(vagt_sensor::applayer::smtp::make, 25, data);
}
