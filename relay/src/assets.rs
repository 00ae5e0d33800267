//! The built client, embedded in the binary so that one file deploys.
//!
//! trunk writes the wasm start-up as an inline `<script type="module">` into index.html; the
//! Content-Security-Policy forbids inline script, so at start the relay moves it into a file
//! of its own (`/loader-<hash>.js`) and points index.html at it.

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

pub fn shell() -> Option<&'static Shell> {
    static SHELL: OnceLock<Option<Shell>> = OnceLock::new();
    SHELL
        .get_or_init(|| {
            let index = Assets::get("index.html")?;
            let html = String::from_utf8_lossy(&index.data);
            Some(externalize_inline_script(&html))
        })
        .as_ref()
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
    fn pages_without_inline_script_stay_as_they_are() {
        let html = "<p>hallo</p>";
        let shell = externalize_inline_script(html);
        assert!(shell.loader.is_none());
        assert_eq!(shell.index_html, html);
    }
}
