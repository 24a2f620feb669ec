//! JSON Lines: one event per line, Zeek field names, `event_type` and
//! `schema_version` on every line.

use super::Encoder;
use vagt_schema::Event;

#[derive(Default)]
pub struct JsonEncoder;

impl Encoder for JsonEncoder {
    fn encode(&mut self, event: &Event, out: &mut Vec<u8>) {
        event.write_json(out);
        out.push(b'\n');
    }
}
