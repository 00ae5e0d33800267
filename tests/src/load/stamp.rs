//! What every synthetic frame carries after its first byte: who sent it, its number in its
//! track, and when it was sent (wall clock, the same on every process of this machine).

use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub sender: u32,
    pub index: u32,
    pub sent_unix_nanos: u64,
}

pub fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Stamp {
    pub const LEN: usize = 16;

    pub fn now(sender: u32, index: u32) -> Stamp {
        Stamp {
            sender,
            index,
            sent_unix_nanos: unix_nanos(),
        }
    }

    /// Writes into the start of `out`, which must hold [`Stamp::LEN`] bytes.
    pub fn write(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.sender.to_le_bytes());
        out[4..8].copy_from_slice(&self.index.to_le_bytes());
        out[8..16].copy_from_slice(&self.sent_unix_nanos.to_le_bytes());
    }

    /// Reads a whole frame (its first byte is the codec's).
    pub fn read(frame: &[u8]) -> Option<Stamp> {
        let bytes = frame.get(1..1 + Stamp::LEN)?;
        Some(Stamp {
            sender: u32::from_le_bytes(bytes[..4].try_into().ok()?),
            index: u32::from_le_bytes(bytes[4..8].try_into().ok()?),
            sent_unix_nanos: u64::from_le_bytes(bytes[8..16].try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_survives_a_frame() {
        let stamp = Stamp::now(7, 123_456);
        let mut frame = vec![0x10; 40];
        stamp.write(&mut frame[1..]);
        assert_eq!(Stamp::read(&frame), Some(stamp));
        assert_eq!(Stamp::read(&frame[..Stamp::LEN]), None, "too short");
    }
}
