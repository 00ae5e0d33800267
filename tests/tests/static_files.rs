//! The relay serves the client's files precompressed (brotli or gzip, whichever the browser
//! takes), byte for byte what `dist/` holds once unpacked; hashed names are cached forever,
//! the vendored blur runtime is revalidated.

use std::io::{Read, Write};

use anyhow::{ensure, Context, Result};
use sprechstunde_tests::relay::Relay;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn get(relay: &Relay, path: &str, extra_headers: &str) -> Result<Reply> {
    let mut stream = std::net::TcpStream::connect(relay.http)?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {}\r\n{extra_headers}\r\n",
        relay.http
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .context("no status")?;
    Ok(Reply {
        status,
        headers: lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect(),
        body: raw[split + 4..].to_vec(),
    })
}

fn unpack(reply: &Reply) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    match reply.header("content-encoding") {
        Some("br") => brotli::BrotliDecompress(&mut &reply.body[..], &mut out)?,
        Some("gzip") => {
            flate2::read::GzDecoder::new(&reply.body[..]).read_to_end(&mut out)?;
        }
        None => out.clone_from(&reply.body),
        Some(other) => anyhow::bail!("unexpected encoding {other}"),
    }
    Ok(out)
}

#[test]
fn files_come_precompressed_and_unpack_to_the_original() -> Result<()> {
    let relay = Relay::start()?;
    let dist = sprechstunde_tests::workspace_root().join("dist");
    let app_wasm = std::fs::read_dir(&dist)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with("_bg.wasm"))
        .context("no client wasm in dist/")?;
    let runtime = "vendor/selfie_segmentation/selfie_segmentation_solution_simd_wasm_bin.wasm";

    for (file, cache) in [
        (app_wasm.as_str(), "public, max-age=31536000, immutable"),
        (runtime, "no-cache"),
    ] {
        let original = std::fs::read(dist.join(file))?;
        for (accept, expected) in [
            ("Accept-Encoding: gzip, deflate, br\r\n", Some("br")),
            ("Accept-Encoding: gzip\r\n", Some("gzip")),
            ("", None),
        ] {
            let reply = get(&relay, &format!("/{file}"), accept)?;
            ensure!(reply.status == 200, "{file}: {}", reply.status);
            ensure!(
                reply.header("content-encoding") == expected,
                "{file} with {accept:?}: {:?}",
                reply.header("content-encoding")
            );
            if let Some(coding) = expected {
                // The very bytes `cargo xtask` compressed at build time, not a copy
                // compressed on the fly.
                let suffix = if coding == "br" { "br" } else { "gz" };
                ensure!(
                    reply.body == std::fs::read(dist.join(format!("{file}.{suffix}")))?,
                    "{file} with {accept:?} is not the precompressed copy"
                );
            }
            ensure!(
                unpack(&reply)? == original,
                "{file} with {accept:?} does not unpack to dist/"
            );
            ensure!(reply.header("cache-control") == Some(cache), "{file}");
            ensure!(
                reply.header("vary") == Some("accept-encoding"),
                "{file}: no Vary"
            );
        }
        let first = get(&relay, &format!("/{file}"), "Accept-Encoding: br\r\n")?;
        let etag = first.header("etag").context("no ETag")?;
        let again = get(
            &relay,
            &format!("/{file}"),
            &format!("Accept-Encoding: br\r\nIf-None-Match: {etag}\r\n"),
        )?;
        ensure!(
            again.status == 304 && again.body.is_empty(),
            "{file}: revalidation gave {} with {} bytes",
            again.status,
            again.body.len()
        );
        let other = get(
            &relay,
            &format!("/{file}"),
            &format!("Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n"),
        )?;
        ensure!(
            other.status == 200,
            "{file}: the brotli ETag matched the gzip copy"
        );
    }
    Ok(())
}
