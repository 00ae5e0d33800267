//! `/datenschutz`: the office's privacy notice, fetched from the relay and shown as text
//! (never as HTML). A line starting with `# ` is a heading.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::Response;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key, Lang};

/// The notice and the language it is in (`Content-Language`; German where the operator has
/// none in `lang`).
async fn fetch_notice(lang: Lang) -> Option<(String, String)> {
    let window = web_sys::window()?;
    let response =
        JsFuture::from(window.fetch_with_str(&format!("/privacy-notice/{}", lang.code())))
            .await
            .ok()?
            .dyn_into::<Response>()
            .ok()?;
    if !response.ok() {
        return None;
    }
    let language = response
        .headers()
        .get("content-language")
        .ok()
        .flatten()
        .unwrap_or_else(|| lang.code().to_string());
    let text = JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()?;
    Some((text, language))
}

#[derive(Clone, PartialEq)]
enum Notice {
    Loading,
    /// The text and its language.
    Loaded(String, String),
    Failed,
}

fn render(text: &str) -> Html {
    text.split("\n\n")
        .map(str::trim)
        .filter(|block| !block.is_empty())
        .map(|block| match block.strip_prefix("# ") {
            Some(heading) => html! { <h2>{ heading.to_string() }</h2> },
            None => html! { <p>{ block.to_string() }</p> },
        })
        .collect()
}

#[function_component(PrivacyPage)]
pub fn privacy_page() -> Html {
    let lang = use_lang();
    let notice = use_state(|| Notice::Loading);
    {
        let notice = notice.clone();
        use_effect_with(lang, move |lang| {
            let lang = *lang;
            notice.set(Notice::Loading);
            spawn_local(async move {
                notice.set(match fetch_notice(lang).await {
                    Some((text, language)) => Notice::Loaded(text, language),
                    None => Notice::Failed,
                });
            });
        });
    }
    html! {
        <main class="page narrow privacy">
            <h1 class="visually-hidden">{ t(lang, Key::PrivacyHeading) }</h1>
            { match &*notice {
                Notice::Loading => html! { <p role="status">{ t(lang, Key::PrivacyLoading) }</p> },
                Notice::Failed => html! { <p class="error" role="alert">{ t(lang, Key::PrivacyUnavailable) }</p> },
                Notice::Loaded(text, language) if language != lang.code() => html! {
                    <>
                        <p class="notice-language" role="note">{ t(lang, Key::NoticeInGerman) }</p>
                        <div lang={language.clone()} dir="ltr">{ render(text) }</div>
                    </>
                },
                Notice::Loaded(text, _) => render(text),
            } }
            <p><a href="/">{ t(lang, Key::BackToStart) }</a></p>
        </main>
    }
}
