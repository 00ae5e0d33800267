//! The client's language files (`lang/<code>.json` in the build). Each is served under a
//! content-hashed name (`/lang/ar-0123456789abcdef.json`, cached for good) and index.html
//! lists the current names in a meta tag, so a new build never meets a stale cached file.

use std::sync::OnceLock;

use crate::assets::Assets;

pub const META_NAME: &str = "sprechstunde-languages";

/// (code, hashed URL path) of every embedded language file, by code.
fn files() -> &'static [(String, String)] {
    static FILES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut files: Vec<(String, String)> = Assets::iter()
            .filter_map(|path| {
                let code = path.strip_prefix("lang/")?.strip_suffix(".json")?;
                let valid = !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase());
                let file = Assets::get(&path)?;
                valid.then(|| {
                    let url = format!("/lang/{code}-{}.json", hash16(&file.metadata.sha256_hash()));
                    (code.to_string(), url)
                })
            })
            .collect();
        files.sort();
        files
    })
}

fn hash16(sha256: &[u8; 32]) -> String {
    sha256[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The embedded file a hashed language path stands for (`lang/ar-<hash>.json` →
/// `lang/ar.json`); `None` for any other path, including an outdated hash.
pub fn resolve(path: &str) -> Option<String> {
    let wanted = format!("/{path}");
    files()
        .iter()
        .find(|(_, url)| *url == wanted)
        .map(|(code, _)| format!("lang/{code}.json"))
}

/// Whether the app offers `code` besides German (a language file is embedded for it).
pub fn is_offered(code: &str) -> bool {
    files().iter().any(|(c, _)| c == code)
}

/// `html` with the meta tag that names the language files, before `</head>`.
pub fn announce(html: &str) -> String {
    announce_files(html, files())
}

fn announce_files(html: &str, files: &[(String, String)]) -> String {
    if files.is_empty() {
        return html.to_string();
    }
    let list: Vec<String> = files
        .iter()
        .map(|(code, url)| format!("{code}={url}"))
        .collect();
    let tag = format!(
        "<meta name=\"{META_NAME}\" content=\"{}\" />",
        list.join(" ")
    );
    match html.find("</head>") {
        Some(at) => format!("{}{tag}{}", &html[..at], &html[at..]),
        None => html.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_meta_tag_goes_into_the_head() {
        let files = vec![
            ("ar".to_string(), "/lang/ar-00.json".to_string()),
            ("tr".to_string(), "/lang/tr-11.json".to_string()),
        ];
        let html = announce_files(
            "<html><head><title>x</title></head><body></body></html>",
            &files,
        );
        assert_eq!(
            html,
            "<html><head><title>x</title><meta name=\"sprechstunde-languages\" content=\"ar=/lang/ar-00.json tr=/lang/tr-11.json\" /></head><body></body></html>"
        );
        assert_eq!(announce_files("<p>no head</p>", &files), "<p>no head</p>");
        assert_eq!(announce_files("<head></head>", &[]), "<head></head>");
    }

    #[test]
    fn only_current_hashed_names_resolve() {
        assert_eq!(resolve("lang/ar.json"), None);
        assert_eq!(resolve("lang/ar-0000000000000000.json"), None);
        assert_eq!(resolve("index.html"), None);
        for (code, url) in files() {
            assert_eq!(
                resolve(url.trim_start_matches('/')),
                Some(format!("lang/{code}.json"))
            );
        }
    }
}
