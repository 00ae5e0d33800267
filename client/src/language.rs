//! Which language the app speaks: the one chosen on this device, else the one a link
//! suggests (`?lang=ar`), else German; the browser's own preference is offered, never
//! imposed. Languages other than German are loaded from the relay when chosen.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::Response;

use crate::i18n::{self, Lang};
use crate::settings::{self, SettingKey};

/// The language chosen on this device (never in kiosk mode: nothing is stored there).
fn chosen() -> Option<Lang> {
    settings::get(SettingKey::Language).and_then(|code| Lang::from_code(&code))
}

/// `lang` from a link's query (`?lang=ar`): a host link or invitation made for a family.
pub fn from_query(search: &str) -> Option<Lang> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("lang="))
        .and_then(Lang::from_code)
}

fn location_search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The language to start in, before the first page is drawn.
pub fn initial() -> Lang {
    let kiosk = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|path| path.starts_with("/kiosk/"));
    let stored = if kiosk { None } else { chosen() };
    stored
        .or_else(|| from_query(&location_search()))
        .unwrap_or_default()
}

/// The browser's preferred language, when it is one we speak, differs from `current`, and
/// nobody has chosen one on this device yet.
pub fn suggestion(current: Lang) -> Option<Lang> {
    if chosen().is_some() {
        return None;
    }
    let navigator = web_sys::window()?.navigator();
    let tags: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|tag| tag.as_string())
        .collect();
    Lang::preferred(&tags).filter(|lang| *lang != current)
}

/// Where the relay serves `lang`'s file: index.html names the content-hashed file
/// (`<meta name="sprechstunde-languages" content="ar=/lang/ar-….json …">`); without that
/// (`trunk serve`) the plain name.
fn file_url(lang: Lang) -> String {
    let listed = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| {
            d.query_selector("meta[name=\"sprechstunde-languages\"]")
                .ok()
                .flatten()
        })
        .and_then(|meta| meta.get_attribute("content"))
        .and_then(|content| {
            content.split_whitespace().find_map(|entry| {
                let (code, url) = entry.split_once('=')?;
                (code == lang.code() && url.starts_with("/lang/")).then(|| url.to_string())
            })
        });
    listed.unwrap_or_else(|| format!("/lang/{}.json", lang.code()))
}

#[derive(Debug)]
pub struct LoadFailed;

/// Fetch and install `lang`'s strings (at once if they are there already).
pub async fn load(lang: Lang) -> Result<(), LoadFailed> {
    if i18n::is_loaded(lang) {
        return Ok(());
    }
    let window = web_sys::window().ok_or(LoadFailed)?;
    let response: Response = JsFuture::from(window.fetch_with_str(&file_url(lang)))
        .await
        .map_err(|_| LoadFailed)?
        .dyn_into()
        .map_err(|_| LoadFailed)?;
    if !response.ok() {
        return Err(LoadFailed);
    }
    let text = JsFuture::from(response.text().map_err(|_| LoadFailed)?)
        .await
        .map_err(|_| LoadFailed)?
        .as_string()
        .ok_or(LoadFailed)?;
    let table = i18n::parse_table(&text).map_err(|_| LoadFailed)?;
    i18n::install(lang, table);
    Ok(())
}

/// `lang` and `dir` of the whole page, so screen readers pronounce it right and Arabic and
/// Farsi run right to left.
pub fn apply_to_document(lang: Lang) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", lang.code());
        let _ = root.set_attribute("dir", if lang.right_to_left() { "rtl" } else { "ltr" });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_may_suggest_a_language() {
        assert_eq!(from_query("?lang=ar"), Some(Lang::Ar));
        assert_eq!(from_query("?idle=60&lang=uk"), Some(Lang::Uk));
        assert_eq!(from_query("?lang=xx"), None);
        assert_eq!(from_query(""), None);
    }
}
