//! Brotli and gzip copies of the client's files, made once at build time at the highest
//! levels, so the relay serves them without compressing on every request.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

/// Worth compressing; media and already compressed formats are not.
const COMPRESSIBLE: [&str; 7] = ["js", "wasm", "css", "html", "tflite", "binarypb", "md"];

fn compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| COMPRESSIBLE.contains(&e))
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out)
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

/// Write `NAME.br` and `NAME.gz` beside every compressible file under `dir` where that
/// is smaller; returns how many files were compressed. trunk empties dist/ on every build.
pub fn dist(dir: &Path) -> Result<usize> {
    let mut written = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            written += dist(&path)?;
            continue;
        }
        if !compressible(&path) {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        for (suffix, compressed) in [("br", brotli(&bytes)?), ("gz", gzip(&bytes)?)] {
            if compressed.len() < bytes.len() {
                let mut name = path.clone().into_os_string();
                name.push(".");
                name.push(suffix);
                std::fs::write(name, compressed)?;
            }
        }
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_gets_both_copies_and_they_decompress_to_the_original() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("xtask-precompress-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub"))?;
        let text = "const sprechstunde = 1;\n".repeat(200);
        std::fs::write(dir.join("sub/app.js"), &text)?;
        std::fs::write(dir.join("photo.png"), [0u8; 100])?;
        assert_eq!(dist(&dir)?, 1);
        let mut unpacked = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&std::fs::read(dir.join("sub/app.js.gz"))?[..]),
            &mut unpacked,
        )?;
        assert_eq!(unpacked, text);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(
            &mut &std::fs::read(dir.join("sub/app.js.br"))?[..],
            &mut unbrotli,
        )?;
        assert_eq!(unbrotli, text.as_bytes());
        assert!(!dir.join("photo.png.br").exists());
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
