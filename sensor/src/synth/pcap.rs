//! Writing classic pcap files with nanosecond timestamps.

use std::io::{self, Write};

/// Link type Ethernet in pcap files.
pub const LINKTYPE_ETHERNET: u32 = 1;

pub struct PcapWriter<W: Write> {
    w: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header (nanosecond-resolution magic).
    pub fn new(mut w: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        w.write_all(&0xa1b2_3c4du32.to_le_bytes())?;
        w.write_all(&2u16.to_le_bytes())?;
        w.write_all(&4u16.to_le_bytes())?;
        w.write_all(&0i32.to_le_bytes())?;
        w.write_all(&0u32.to_le_bytes())?;
        w.write_all(&snaplen.to_le_bytes())?;
        w.write_all(&linktype.to_le_bytes())?;
        Ok(PcapWriter { w, snaplen })
    }

    /// Writes one frame captured at `ts_ns` (nanoseconds since the epoch).
    pub fn write(&mut self, ts_ns: i64, frame: &[u8]) -> io::Result<()> {
        let caplen = (frame.len() as u32).min(self.snaplen);
        let sec = ts_ns.div_euclid(1_000_000_000) as u32;
        let nsec = ts_ns.rem_euclid(1_000_000_000) as u32;
        self.w.write_all(&sec.to_le_bytes())?;
        self.w.write_all(&nsec.to_le_bytes())?;
        self.w.write_all(&caplen.to_le_bytes())?;
        self.w.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.w.write_all(&frame[..caplen as usize])
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}
