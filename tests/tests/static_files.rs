//! The relay serves the client's files precompressed (brotli or gzip, whichever the browser
//! takes), byte for byte what `dist/` holds once unpacked; hashed names are cached forever,
//! the vendored blur runtime is revalidated. A room link starts an app without the desk.

use std::io::Read;

use anyhow::{ensure, Context, Result};
use sprechstunde_tests::http::{self, Reply};
use sprechstunde_tests::relay::Relay;

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
            let reply = http::get(relay.http, &format!("/{file}"), accept)?;
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
        let first = http::get(relay.http, &format!("/{file}"), "Accept-Encoding: br\r\n")?;
        let etag = first.header("etag").context("no ETag")?;
        let again = http::get(
            relay.http,
            &format!("/{file}"),
            &format!("Accept-Encoding: br\r\nIf-None-Match: {etag}\r\n"),
        )?;
        ensure!(
            again.status == 304 && again.body.is_empty(),
            "{file}: revalidation gave {} with {} bytes",
            again.status,
            again.body.len()
        );
        let other = http::get(
            relay.http,
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

/// The wasm a page starts: named in the start-up script the relay took out of the page.
fn wasm_of_page(relay: &Relay, page: &str) -> Result<Vec<u8>> {
    let html = String::from_utf8(http::get(relay.http, page, "")?.body)?;
    let loader = html
        .split("src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|src| src.starts_with("/loader-"))
        .with_context(|| format!("no start-up script in {page}"))?;
    let script = String::from_utf8(http::get(relay.http, loader, "")?.body)?;
    let end = script
        .find("_bg.wasm")
        .context("no wasm in the start-up script")?;
    let start = script[..end].rfind('/').context("no wasm path")?;
    let wasm = format!("{}_bg.wasm", &script[start..end]);
    let reply = http::get(relay.http, &wasm, "")?;
    ensure!(reply.status == 200, "{wasm}: {}", reply.status);
    Ok(reply.body)
}

#[test]
fn a_family_downloads_no_desk_code_and_the_desk_has_its_own() -> Result<()> {
    let relay = Relay::start()?;
    let holds_desk = |wasm: &[u8]| {
        let needle = b"/desk/api/meetings";
        wasm.windows(needle.len()).any(|w| w == needle)
    };
    let family = wasm_of_page(&relay, "/r/beratung")?;
    let desk = wasm_of_page(&relay, "/desk")?;
    ensure!(!holds_desk(&family), "the room link's app carries the desk");
    ensure!(holds_desk(&desk), "the desk's build has no desk");
    ensure!(
        family.len() < desk.len(),
        "the family's app ({} bytes) is not smaller than the desk's ({})",
        family.len(),
        desk.len()
    );
    Ok(())
}
