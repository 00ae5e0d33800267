//! Just enough of VP8's RTP payload format (RFC 7741) to tell a keyframe and its size, so the
//! synthetic client can check that what it receives is real video, not just bytes.

/// Width and height if this RTP payload starts a VP8 keyframe.
pub fn keyframe_size(payload: &[u8]) -> Option<(u16, u16)> {
    let first = *payload.first()?;
    let extended = first & 0x80 != 0;
    let start_of_partition = first & 0x10 != 0;
    let partition_id = first & 0x0f;
    if !start_of_partition || partition_id != 0 {
        return None;
    }
    let mut at = 1;
    if extended {
        let flags = *payload.get(at)?;
        at += 1;
        if flags & 0x80 != 0 {
            // Picture id: 7 or 15 bits.
            at += if *payload.get(at)? & 0x80 != 0 { 2 } else { 1 };
        }
        if flags & 0x40 != 0 {
            at += 1; // TL0PICIDX
        }
        if flags & 0x30 != 0 {
            at += 1; // TID / KEYIDX
        }
    }
    let frame = payload.get(at..)?;
    // Frame tag: bit 0 is 0 for keyframes; then the start code 9d 01 2a.
    if frame.len() < 10 || frame[0] & 0x01 != 0 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let width = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let height = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keyframe_dimensions_behind_the_descriptor() {
        // X=1 S=1 PID=0; I=1 with a 15-bit picture id; then a keyframe header 640x480.
        let payload = [
            0x90, 0x80, 0x81, 0x23, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01,
        ];
        assert_eq!(keyframe_size(&payload), Some((640, 480)));
    }

    #[test]
    fn inter_frames_and_continuations_are_not_keyframes() {
        let inter = [
            0x10, 0x51, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01,
        ];
        assert_eq!(keyframe_size(&inter), None);
        let continuation = [
            0x00, 0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01,
        ];
        assert_eq!(keyframe_size(&continuation), None);
        assert_eq!(keyframe_size(&[]), None);
    }
}
