//! "Chat herunterladen": the chat as this participant saw it, as a UTF-8 text file made in
//! the browser. Nothing goes to the relay for it.

use sprechstunde_shared::chat::transcript_line;
use sprechstunde_shared::ChatMessage;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

use crate::i18n::{t, Key, Lang};

/// Local date and time of a relay timestamp: `2026-11-27 14:05:09`.
pub fn local_time(time_ms: u64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(time_ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

/// Only the clock time, for the chat panel, as `lang` writes times (24 hours in German,
/// Persian digits in Farsi, and so on).
pub fn clock_time(lang: Lang, time_ms: u64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(time_ms as f64));
    date.to_locale_time_string(lang.code()).into()
}

/// The machine-readable time for `<time datetime>`.
pub fn iso_time(time_ms: u64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(time_ms as f64));
    date.to_iso_string().into()
}

pub fn transcript(lang: Lang, messages: &[ChatMessage]) -> String {
    let private = t(lang, Key::Private);
    let mut text = String::new();
    for message in messages {
        let receiver = message.to_name.as_deref().map(|name| (name, private));
        text.push_str(&transcript_line(
            &local_time(message.time_ms),
            &message.from_name,
            receiver,
            &message.text,
        ));
        text.push('\n');
    }
    text
}

/// Save `text` as `file_name` through the browser's download.
pub fn download(file_name: &str, text: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = BlobPropertyBag::new();
    options.set_type("text/plain;charset=utf-8");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let anchor: HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.click();
    // The download reads the blob after this returns: free it a little later.
    gloo_timers::callback::Timeout::new(10_000, move || {
        let _ = Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}
