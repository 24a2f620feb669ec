//! The targets that feed the industrial (OT) application parsers: Modbus,
//! DNP3, BACnet, S7comm and EtherNet/IP. Input layout: a sequence of
//! steps, each a header byte (bit 7: the responder sends; bits 0..6: the
//! step's length) and that many bytes, handed to the parser as one TCP
//! chunk or one UDP datagram of that direction. Checks: no panic, and the
//! records stay bounded (at most one per input byte, plus one).

use vagt_schema::Proto;
use vagt_sensor::applayer::registry::MakeParser;
use vagt_sensor::applayer::testing::{ident, run};
use vagt_sensor::applayer::Dir;

/// Splits an input into steps.
pub fn steps(data: &[u8]) -> Vec<(Dir, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&h) = data.get(i) {
        let n = usize::from(h & 0x7f);
        let end = (i + 1 + n).min(data.len());
        let dir = if h & 0x80 != 0 {
            Dir::ToClient
        } else {
            Dir::ToServer
        };
        out.push((dir, &data[i + 1..end]));
        i = end;
    }
    out
}

fn feed(make: MakeParser, proto: Proto, port: u16, data: &[u8]) {
    let conn = ident(proto, port);
    let mut parser = make(&conn);
    let (records, _) = run(parser.as_mut(), &conn, &steps(data));
    assert!(
        records.len() <= data.len() + 1,
        "{} records from {} bytes",
        records.len(),
        data.len()
    );
}

pub fn app_modbus(data: &[u8]) {
    feed(vagt_sensor::applayer::modbus::make, Proto::Tcp, 502, data);
}

/// DNP3 over TCP, or over UDP when the input's length is odd.
pub fn app_dnp3(data: &[u8]) {
    let proto = if data.len() % 2 == 1 {
        Proto::Udp
    } else {
        Proto::Tcp
    };
    feed(vagt_sensor::applayer::dnp3::make, proto, 20000, data);
}

pub fn app_bacnet(data: &[u8]) {
    feed(vagt_sensor::applayer::bacnet::make, Proto::Udp, 47808, data);
}

pub fn app_s7comm(data: &[u8]) {
    feed(vagt_sensor::applayer::s7comm::make, Proto::Tcp, 102, data);
}

/// EtherNet/IP over TCP, or over UDP when the input's length is odd.
pub fn app_enip(data: &[u8]) {
    let proto = if data.len() % 2 == 1 {
        Proto::Udp
    } else {
        Proto::Tcp
    };
    feed(vagt_sensor::applayer::enip::make, proto, 44818, data);
}
