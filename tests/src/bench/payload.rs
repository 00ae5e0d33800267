//! What a browser downloads: the files in `dist/`, raw and compressed as the relay can serve
//! them.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSize {
    pub name: String,
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

pub fn gzip_len(bytes: &[u8]) -> Result<u64> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len() as u64)
}

pub fn brotli_len(bytes: &[u8]) -> Result<u64> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(bytes)?;
    }
    Ok(out.len() as u64)
}

/// Every file under `dir` (named by its path below it), sorted by name; the precompressed
/// copies (`.br`, `.gz`) are not files of their own.
pub fn sizes(dir: &Path) -> Result<Vec<FileSize>> {
    let mut sizes = Vec::new();
    collect(dir, dir, &mut sizes)?;
    sizes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sizes)
}

fn collect(root: &Path, dir: &Path, sizes: &mut Vec<FileSize>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, sizes)?;
            continue;
        }
        if path.extension().is_some_and(|e| e == "br" || e == "gz") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        sizes.push(FileSize {
            name: path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned(),
            raw: bytes.len() as u64,
            gzip: gzip_len(&bytes)?,
            brotli: brotli_len(&bytes)?,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetitive_text_compresses_and_brotli_beats_gzip() {
        let text = "Sprechstunde ".repeat(1000);
        let gzip = gzip_len(text.as_bytes()).expect("gzip");
        let brotli = brotli_len(text.as_bytes()).expect("brotli");
        assert!(gzip < text.len() as u64 / 20, "{gzip}");
        assert!(brotli <= gzip, "{brotli} > {gzip}");
    }

    #[test]
    fn sizes_lists_files_with_their_raw_length() {
        let dir = std::env::temp_dir().join(format!("sprechstunde-payload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("b.js"), "x".repeat(300)).expect("write");
        std::fs::write(dir.join("a.wasm"), [0u8; 10]).expect("write");
        std::fs::write(dir.join("a.wasm.br"), [0u8; 5]).expect("write");
        std::fs::create_dir_all(dir.join("vendor")).expect("dir");
        std::fs::write(dir.join("vendor/c.js"), "c").expect("write");
        let listed = sizes(&dir).expect("sizes");
        assert_eq!(
            listed.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["a.wasm", "b.js", "vendor/c.js"]
        );
        assert_eq!(listed[1].raw, 300);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
