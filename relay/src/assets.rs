//! The built client, embedded in the binary so that one file deploys.
//!
//! trunk writes the wasm start-up as an inline `<script type="module">` into index.html; the
//! Content-Security-Policy forbids inline script, so at start the relay moves it into a file
//! of its own (`/loader-<hash>.js`) and points index.html at it.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$SPRECHSTUNDE_ASSETS"]
pub struct Assets;

/// Shown when the relay was built before the client.
pub const NO_CLIENT_PAGE: &str = "<!doctype html><html lang=\"de\"><meta charset=\"utf-8\">\
<title>Sprechstunde</title><p>Die Anwendung wurde noch nicht gebaut. \
Starten Sie den Server mit <code>cargo xtask run</code>.</p>\
<p lang=\"en\">The app has not been built yet. Start the relay with <code>cargo xtask run</code>.</p></html>";

/// Precompressed copies `cargo xtask` writes beside the files (`NAME.br`, `NAME.gz`), best
/// first. A relay built from a plain `trunk build` has none and compresses on the fly.
const PRECOMPRESSED: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// Whether an `Accept-Encoding` value allows `coding` (not listed with `q=0`).
pub fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|part| {
        let mut fields = part.split(';');
        let name = fields.next().unwrap_or_default().trim();
        let refused = fields.any(|field| {
            field
                .trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        name.eq_ignore_ascii_case(coding) && !refused
    })
}

/// trunk puts a 16-digit content hash into names (`app-0123456789abcdef.js`,
/// `snippets/app-0123456789abcdef/`): such a file never changes and may be cached forever.
pub fn content_addressed(path: &str) -> bool {
    let bytes = path.as_bytes();
    (0..bytes.len()).filter(|&i| bytes[i] == b'-').any(|i| {
        let hash = &bytes[i + 1..];
        hash.len() >= 16
            && hash[..16].iter().all(u8::is_ascii_hexdigit)
            && hash.get(16).is_none_or(|b| !b.is_ascii_alphanumeric())
    })
}

pub struct StaticFile {
    pub body: Cow<'static, [u8]>,
    pub content_type: String,
    /// `br` or `gzip` when the body is a precompressed copy.
    pub encoding: Option<&'static str>,
    /// Of the original file and the encoding, for revalidation.
    pub etag: String,
}

/// The embedded file at `path`, precompressed if the browser takes that.
pub fn find(path: &str, accept_encoding: &str) -> Option<StaticFile> {
    let original = Assets::get(path)?;
    let content_type = original.metadata.mimetype().to_string();
    let hash: String = original.metadata.sha256_hash()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for (coding, suffix) in PRECOMPRESSED {
        if !accepts(accept_encoding, coding) {
            continue;
        }
        if let Some(copy) = Assets::get(&format!("{path}{suffix}")) {
            return Some(StaticFile {
                body: copy.data,
                content_type,
                encoding: Some(coding),
                etag: format!("\"{hash}-{coding}\""),
            });
        }
    }
    Some(StaticFile {
        body: original.data,
        content_type,
        encoding: None,
        etag: format!("\"{hash}\""),
    })
}

pub struct Shell {
    pub index_html: String,
    /// Path (with leading slash) and text of the start-up script taken out of index.html.
    pub loader: Option<(String, String)>,
}

const INLINE_MODULE: &str = "<script type=\"module\">";

/// Move the first inline module script of `html` into a separate file.
pub fn externalize_inline_script(html: &str) -> Shell {
    let Some(start) = html.find(INLINE_MODULE) else {
        return Shell {
            index_html: html.to_string(),
            loader: None,
        };
    };
    let body_start = start + INLINE_MODULE.len();
    let Some(body_len) = html[body_start..].find("</script>") else {
        return Shell {
            index_html: html.to_string(),
            loader: None,
        };
    };
    let body = &html[body_start..body_start + body_len];
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    let path = format!("/loader-{:016x}.js", hasher.finish());
    let tag = format!("<script type=\"module\" src=\"{path}\"></script>");
    let end = body_start + body_len + "</script>".len();
    Shell {
        index_html: format!("{}{}{}", &html[..start], tag, &html[end..]),
        loader: Some((path, body.to_string())),
    }
}

/// The pages the app starts from: each its own build of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// What a room link, the start page and the privacy pages open.
    App,
    /// The counselors' desk; families never download its code.
    Desk,
}

impl Page {
    fn file(self) -> &'static str {
        match self {
            Page::App => "index.html",
            Page::Desk => "desk.html",
        }
    }
}

fn shell_from(file: &str) -> Option<Shell> {
    let page = Assets::get(file)?;
    let html = crate::languages::announce(&String::from_utf8_lossy(&page.data));
    Some(externalize_inline_script(&html))
}

/// `page` ready to serve; built once. A client built without the desk serves the app there.
pub fn shell(page: Page) -> Option<&'static Shell> {
    static APP: OnceLock<Option<Shell>> = OnceLock::new();
    static DESK: OnceLock<Option<Shell>> = OnceLock::new();
    match page {
        Page::App => APP.get_or_init(|| shell_from(Page::App.file())).as_ref(),
        Page::Desk => DESK
            .get_or_init(|| shell_from(Page::Desk.file()))
            .as_ref()
            .or_else(|| shell(Page::App)),
    }
}

/// The start-up script taken out of one of the pages, by its path.
pub fn loader(path: &str) -> Option<&'static str> {
    [Page::App, Page::Desk]
        .into_iter()
        .filter_map(shell)
        .filter_map(|shell| shell.loader.as_ref())
        .find(|(loader_path, _)| loader_path == path)
        .map(|(_, body)| body.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inline_loader_becomes_a_file() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\nawait init();\n</script><link rel=\"stylesheet\" href=\"/s.css\"></head>";
        let shell = externalize_inline_script(html);
        let (path, body) = shell.loader.expect("loader");
        assert!(path.starts_with("/loader-") && path.ends_with(".js"));
        assert_eq!(body, "\nimport init from '/a.js';\nawait init();\n");
        assert_eq!(
            shell.index_html,
            format!("<head><script type=\"module\" src=\"{path}\"></script><link rel=\"stylesheet\" href=\"/s.css\"></head>")
        );
        assert!(!shell.index_html.contains("import init"));
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("GZIP;q=0.5", "gzip"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(!accepts("gzip", "br"));
        assert!(!accepts("", "gzip"));
    }

    #[test]
    fn only_hashed_names_are_content_addressed() {
        assert!(content_addressed(
            "sprechstunde-client-53b7a5420d291aaa_bg.wasm"
        ));
        assert!(content_addressed("sprechstunde-client-53b7a5420d291aaa.js"));
        assert!(content_addressed(
            "snippets/sprechstunde-client-8f85dcd4bfee972c/js/blur.js"
        ));
        assert!(!content_addressed(
            "vendor/selfie_segmentation/selfie_segmentation.js"
        ));
        assert!(!content_addressed("index.html"));
    }

    #[test]
    fn pages_without_inline_script_stay_as_they_are() {
        let html = "<p>hallo</p>";
        let shell = externalize_inline_script(html);
        assert!(shell.loader.is_none());
        assert_eq!(shell.index_html, html);
    }
}
