//! The frames of a decrypted Initial packet and the CRYPTO stream they
//! carry. Initial packets may only hold PADDING, PING, ACK, CRYPTO and
//! CONNECTION_CLOSE (RFC 9000 §17.2.2); [`parse_frames`] reads those and
//! rejects anything else. A ClientHello may need several Initials (large
//! post-quantum key shares do) and its CRYPTO frames may come out of
//! order, so [`CryptoAssembler`] keeps the stream from offset 0 up to a
//! cap and hands out the first handshake message once it is whole.

use super::initial::varint;

/// Why a payload is not a valid Initial payload, or the stream cannot be
/// kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// A frame ends before a field it announces.
    Truncated,
    /// A frame type that Initial packets may not carry.
    UnexpectedFrame(u64),
    /// CRYPTO data beyond the assembler's cap.
    OverCap,
}

/// What the frames of one Initial packet hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frames<'a> {
    /// CRYPTO frames: (stream offset, data), in packet order.
    pub crypto: Vec<(u64, &'a [u8])>,
    pub ack: bool,
    pub ping: bool,
    /// A CONNECTION_CLOSE frame (quic.log history letter C).
    pub connection_close: bool,
}

/// Reads the frames of a decrypted Initial payload.
pub fn parse_frames(payload: &[u8]) -> Result<Frames<'_>, FrameError> {
    let mut out = Frames::default();
    let mut pos = 0;
    let v = |pos: &mut usize| varint(payload, pos).ok_or(FrameError::Truncated);
    while pos < payload.len() {
        let t = v(&mut pos)?;
        match t {
            0x00 => {}
            0x01 => out.ping = true,
            0x02 | 0x03 => {
                out.ack = true;
                let _largest = v(&mut pos)?;
                let _delay = v(&mut pos)?;
                let ranges = v(&mut pos)?;
                let _first = v(&mut pos)?;
                for _ in 0..ranges {
                    let _gap = v(&mut pos)?;
                    let _len = v(&mut pos)?;
                }
                if t == 0x03 {
                    for _ in 0..3 {
                        let _ecn = v(&mut pos)?;
                    }
                }
            }
            0x06 => {
                let offset = v(&mut pos)?;
                let len = usize::try_from(v(&mut pos)?).map_err(|_| FrameError::Truncated)?;
                let data = payload
                    .get(pos..pos.saturating_add(len))
                    .ok_or(FrameError::Truncated)?;
                pos += len;
                out.crypto.push((offset, data));
            }
            0x1c | 0x1d => {
                out.connection_close = true;
                let _code = v(&mut pos)?;
                if t == 0x1c {
                    let _frame_type = v(&mut pos)?;
                }
                let len = usize::try_from(v(&mut pos)?).map_err(|_| FrameError::Truncated)?;
                payload
                    .get(pos..pos.saturating_add(len))
                    .ok_or(FrameError::Truncated)?;
                pos += len;
            }
            other => return Err(FrameError::UnexpectedFrame(other)),
        }
    }
    Ok(out)
}

/// The default cap on a buffered CRYPTO stream: a ClientHello with a
/// hybrid post-quantum key share is under 2 KiB; 64 KiB leaves room for
/// any sane one while bounding what a stranger can make us hold.
pub const DEFAULT_CAP: usize = 64 * 1024;

/// Puts one direction's Initial CRYPTO stream back together.
#[derive(Debug)]
pub struct CryptoAssembler {
    cap: usize,
    /// The stream from offset 0, without holes.
    contiguous: Vec<u8>,
    /// Pieces beyond a hole: (offset, data), kept until the hole fills.
    pending: Vec<(usize, Vec<u8>)>,
    pending_bytes: usize,
}

impl Default for CryptoAssembler {
    fn default() -> Self {
        CryptoAssembler::new(DEFAULT_CAP)
    }
}

impl CryptoAssembler {
    pub fn new(cap: usize) -> CryptoAssembler {
        CryptoAssembler {
            cap,
            contiguous: Vec::new(),
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Adds one CRYPTO frame's data at `offset`. Data already held is
    /// ignored (retransmissions); data ending beyond the cap is refused.
    pub fn add(&mut self, offset: u64, data: &[u8]) -> Result<(), FrameError> {
        let offset = usize::try_from(offset).map_err(|_| FrameError::OverCap)?;
        let end = offset.checked_add(data.len()).ok_or(FrameError::OverCap)?;
        if end > self.cap {
            return Err(FrameError::OverCap);
        }
        let have = self.contiguous.len();
        if end <= have {
            return Ok(());
        }
        if offset <= have {
            self.contiguous.extend_from_slice(&data[have - offset..]);
            self.absorb_pending();
        } else if self.pending_bytes + data.len() <= self.cap {
            self.pending_bytes += data.len();
            self.pending.push((offset, data.to_vec()));
        } else {
            return Err(FrameError::OverCap);
        }
        Ok(())
    }

    /// Adds every CRYPTO frame of a packet.
    pub fn add_frames(&mut self, frames: &Frames<'_>) -> Result<(), FrameError> {
        for (off, data) in &frames.crypto {
            self.add(*off, data)?;
        }
        Ok(())
    }

    fn absorb_pending(&mut self) {
        loop {
            let have = self.contiguous.len();
            let Some(i) = self.pending.iter().position(|(o, _)| *o <= have) else {
                return;
            };
            let (off, data) = self.pending.swap_remove(i);
            self.pending_bytes -= data.len();
            if off + data.len() > have {
                self.contiguous.extend_from_slice(&data[have - off..]);
            }
        }
    }

    /// The stream from offset 0 as far as it is known without holes.
    pub fn contiguous(&self) -> &[u8] {
        &self.contiguous
    }

    /// The first handshake message once whole: its type and body.
    pub fn first_message(&self) -> Option<(u8, &[u8])> {
        let b = &self.contiguous;
        let t = *b.first()?;
        let len = (usize::from(*b.get(1)?) << 16)
            | (usize::from(*b.get(2)?) << 8)
            | usize::from(*b.get(3)?);
        Some((t, b.get(4..4 + len)?))
    }

    /// The ClientHello body, once the first message is whole and is one.
    pub fn client_hello(&self) -> Option<&[u8]> {
        self.first_message()
            .filter(|(t, _)| *t == 1)
            .map(|(_, b)| b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_an_initial() {
        // ACK (largest 0, delay 0, no extra ranges, first 0), PADDING,
        // PING, CRYPTO at offset 0 with 3 bytes, CONNECTION_CLOSE.
        let p = [2, 0, 0, 0, 0, 0, 0, 1, 6, 0, 3, 1, 2, 3, 0x1c, 0, 0, 0];
        let f = parse_frames(&p).expect("parses");
        assert!(f.ack && f.ping && f.connection_close);
        assert_eq!(f.crypto, vec![(0, &[1u8, 2, 3][..])]);
        assert_eq!(
            parse_frames(&[0x08, 0]),
            Err(FrameError::UnexpectedFrame(8))
        );
        assert_eq!(parse_frames(&[6, 0, 9, 1]), Err(FrameError::Truncated));
        assert_eq!(parse_frames(&[0x40]), Err(FrameError::Truncated));
    }

    #[test]
    fn out_of_order_and_repeated_pieces() {
        let msg: Vec<u8> = [1u8, 0, 0, 6].iter().copied().chain(10..16).collect();
        let mut a = CryptoAssembler::default();
        a.add(7, &msg[7..]).expect("fits");
        assert_eq!(a.client_hello(), None);
        a.add(2, &msg[2..5]).expect("fits");
        a.add(0, &msg[..3]).expect("fits");
        assert_eq!(a.client_hello(), None, "hole at 5..7");
        a.add(4, &msg[4..8]).expect("fits");
        a.add(0, &msg[..4]).expect("repeat is ignored");
        assert_eq!(a.client_hello(), Some(&msg[4..]));
        assert_eq!(a.contiguous(), &msg[..]);
        let mut small = CryptoAssembler::new(8);
        assert_eq!(small.add(4, &[0; 5]), Err(FrameError::OverCap));
        assert_eq!(small.add(u64::MAX, &[0]), Err(FrameError::OverCap));
    }
}
