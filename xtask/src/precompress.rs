//! Brotli and gzip copies of the client's files, made once at build time at the highest
//! levels, so the relay serves them without compressing on every request.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

/// Worth compressing; media and already compressed formats are not.
const COMPRESSIBLE: [&str; 8] = [
    "js", "wasm", "css", "html", "json", "tflite", "binarypb", "md",
];
pub const SUFFIXES: [&str; 2] = ["br", "gz"];

pub fn compressible(path: &Path) -> bool {
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

/// `path` with `.suffix` appended.
pub fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Write `NAME.br` and `NAME.gz` beside `path` where that is smaller (and remove an old copy
/// where it is not). Returns whether the file was compressible.
pub fn compress_beside(path: &Path) -> Result<bool> {
    if !compressible(path) {
        return Ok(false);
    }
    let bytes = std::fs::read(path)?;
    for (suffix, compressed) in [("br", brotli(&bytes)?), ("gz", gzip(&bytes)?)] {
        let target = beside(path, suffix);
        if compressed.len() < bytes.len() {
            std::fs::write(target, compressed)?;
        } else if target.exists() {
            std::fs::remove_file(target)?;
        }
    }
    Ok(true)
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
        assert!(compress_beside(&dir.join("sub/app.js"))?);
        assert!(!compress_beside(&dir.join("photo.png"))?);
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
