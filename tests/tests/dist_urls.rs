//! Build check: the built client (`dist/`, made by `cargo xtask test` before the tests) names
//! no external URL that a browser could fetch. XML namespace identifiers inside the wasm,
//! bare schemes (`https://` without a host) and links in comments of wasm-bindgen's JS are
//! not requests and are allowed, and so are the help links in the error messages of the
//! vendored blur runtime (the full-flow request recording shows none is ever requested).

use anyhow::{ensure, Context, Result};

/// Namespace URIs the DOM code carries as plain strings; never fetched.
const NAMESPACES: [&str; 3] = [
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1998/Math/MathML",
];

/// Links the blur runtime (emscripten, TensorFlow Lite, OpenCV) prints in error messages.
const RUNTIME_HELP_LINKS: [&str; 4] = [
    "https://emscripten.org/docs/",
    "https://github.com/emscripten-core/emscripten/",
    "https://github.com/opencv/opencv/issues/",
    "https://www.tensorflow.org/lite/guide/",
];
const VENDORED: &str = "vendor/selfie_segmentation";

fn urls(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest
            .find("http://")
            .into_iter()
            .chain(rest.find("https://"))
            .min()
        {
            let mut url: String = rest[start..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"\"'`)<>\0".contains(*c))
                .collect();
            // Strings in the wasm data section stand back to back: split them.
            if let Some(next) = url[1..]
                .find("http://")
                .into_iter()
                .chain(url[1..].find("https://"))
                .min()
            {
                url.truncate(next + 1);
            }
            rest = &rest[start + url.len().max(1)..];
            found.push((number, url));
        }
    }
    found
}

fn is_comment(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("//") || line.starts_with('*') || line.starts_with("/*")
}

fn files_under(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "{} is missing: build with `cargo xtask test`",
            dir.display()
        )
    })?;
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            files_under(&path, found)?;
        } else {
            found.push(path);
        }
    }
    Ok(())
}

#[test]
fn the_built_client_names_no_external_url() -> Result<()> {
    let dist = sprechstunde_tests::workspace_root().join("dist");
    let mut files = Vec::new();
    files_under(&dist, &mut files)?;
    let mut checked = 0;
    let mut vendored = 0;
    let mut offending = Vec::new();
    // The precompressed copies are the same files, packed.
    let originals = files
        .into_iter()
        .filter(|p| !p.extension().is_some_and(|e| e == "br" || e == "gz"));
    for path in originals {
        let in_runtime = path
            .strip_prefix(&dist)
            .is_ok_and(|p| p.starts_with(VENDORED));
        vendored += usize::from(in_runtime);
        let bytes = std::fs::read(&path)?;
        let text = String::from_utf8_lossy(&bytes);
        let lines: Vec<&str> = text.lines().collect();
        for (number, url) in urls(&text) {
            let in_comment = path.extension().is_some_and(|e| e == "js")
                && lines.get(number).is_some_and(|l| is_comment(l));
            let namespace = NAMESPACES.iter().any(|ns| url.starts_with(ns));
            // The chat recognises links by their scheme alone; without a host nothing can
            // be fetched.
            let bare_scheme = url == "http://" || url == "https://";
            let help_link = in_runtime && RUNTIME_HELP_LINKS.iter().any(|l| url.starts_with(l));
            if !in_comment && !namespace && !bare_scheme && !help_link {
                offending.push(format!("{}: {url}", path.display()));
            }
        }
        checked += 1;
    }
    ensure!(checked >= 3, "dist/ looks empty ({checked} files)");
    ensure!(
        vendored >= 5,
        "the blur runtime is missing from dist/{VENDORED} ({vendored} files)"
    );
    ensure!(
        offending.is_empty(),
        "external URLs in the client: {offending:?}"
    );
    Ok(())
}

#[test]
fn the_url_finder_finds_urls() {
    let found = urls(
        "a https://cdn.example/x.js b\n'http://w'http://www.w3.org/2000/svghttps://evil.example/",
    );
    assert_eq!(
        found,
        vec![
            (0, "https://cdn.example/x.js".to_string()),
            (1, "http://w".to_string()),
            (1, "http://www.w3.org/2000/svg".to_string()),
            (1, "https://evil.example/".to_string()),
        ]
    );
}
