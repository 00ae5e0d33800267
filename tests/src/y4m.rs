//! A busy camera for Chromium's fake capture (`--use-file-for-fake-video-capture`): Y4M
//! frames full of motion and fine detail, as a person moving in front of a bookshelf is to
//! a video encoder (its default test pattern is mostly flat and compresses to almost
//! nothing, which hides what a narrow link does to a real picture).

use std::io::Write;
use std::path::Path;

use anyhow::Result;

/// Writes `frames` frames of `width` x `height` at 30 frames/s (Chromium loops the file):
/// diagonal bars sweeping across, with fresh noise on every frame.
pub fn write_busy(path: &Path, width: usize, height: usize, frames: usize) -> Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg")?;
    let mut seed: u32 = 0x9e37_79b9;
    let mut noise = move || {
        // xorshift32: cheap, and the same file every time.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed & 0x07) as u8
    };
    let (chroma_width, chroma_height) = (width.div_ceil(2), height.div_ceil(2));
    let mut luma = vec![0u8; width * height];
    let mut chroma = vec![0u8; chroma_width * chroma_height];
    for frame in 0..frames {
        out.write_all(b"FRAME\n")?;
        for y in 0..height {
            for x in 0..width {
                let bar = ((x + y + frame * 12) / 24) % 2;
                luma[y * width + x] = 40 + bar as u8 * 140 + noise();
            }
        }
        out.write_all(&luma)?;
        for plane in 0..2 {
            for y in 0..chroma_height {
                for x in 0..chroma_width {
                    let wave = (x * (plane + 1) + y + frame * 4) % 64;
                    chroma[y * chroma_width + x] = 96 + wave as u8;
                }
            }
            out.write_all(&chroma)?;
        }
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_the_header_and_every_frame() -> Result<()> {
        let path = std::env::temp_dir().join(format!("busy-{}.y4m", std::process::id()));
        write_busy(&path, 64, 36, 3)?;
        let bytes = std::fs::read(&path)?;
        std::fs::remove_file(&path)?;
        let header = b"YUV4MPEG2 W64 H36 F30:1 Ip A1:1 C420jpeg\n";
        assert!(bytes.starts_with(header));
        let frame = b"FRAME\n".len() + 64 * 36 + 2 * 32 * 18;
        assert_eq!(bytes.len(), header.len() + 3 * frame);
        // Consecutive frames differ: there is motion.
        let first = &bytes[header.len()..header.len() + frame];
        let second = &bytes[header.len() + frame..header.len() + 2 * frame];
        assert_ne!(first, second);
        Ok(())
    }
}
