//! Shown instead of the pre-join page when this browser cannot make calls: what to do, in
//! plain words, and the link to copy into another browser.

use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::route;

/// Copy `text` with the asynchronous clipboard API; whether the browser confirmed it.
async fn copy_to_clipboard(text: String) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("clipboard"))
        .unwrap_or(JsValue::UNDEFINED);
    let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(promise) = write
        .and_then(|write| write.call1(&clipboard, &JsValue::from_str(&text)).ok())
        .and_then(|p| p.dyn_into::<js_sys::Promise>().ok())
    else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// What became of "Link kopieren".
#[derive(Clone, Copy, PartialEq)]
enum Copy {
    NotYet,
    Done,
    /// No clipboard here: the link is selected to copy by hand.
    ByHand,
}

#[function_component(UnsupportedBrowserPage)]
pub fn unsupported_browser_page() -> Html {
    let lang = use_lang();
    let link = use_memo((), |_| route::shareable_link().unwrap_or_default());
    let copied = use_state(|| Copy::NotYet);
    let field = use_node_ref();
    let on_copy = {
        let (link, copied, field) = (link.clone(), copied.clone(), field.clone());
        Callback::from(move |_: MouseEvent| {
            let (link, copied, field) = ((*link).clone(), copied.clone(), field.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if copy_to_clipboard(link).await {
                    copied.set(Copy::Done);
                } else {
                    if let Some(input) = field.cast::<web_sys::HtmlInputElement>() {
                        let _ = input.focus();
                        input.select();
                    }
                    copied.set(Copy::ByHand);
                }
            });
        })
    };
    // Where copying is not possible, the whole link is selected for a long press.
    let on_focus = Callback::from(|event: FocusEvent| {
        if let Some(input) = event.target_dyn_into::<web_sys::HtmlInputElement>() {
            input.select();
        }
    });
    html! {
        <main class="page narrow" id="browser-cannot-call">
            <h1>{ t(lang, Key::BrowserCannotCall) }</h1>
            <p>{ t(lang, Key::BrowserCannotCallHelp) }</p>
            <label for="room-link">{ t(lang, Key::RoomLink) }</label>
            <input id="room-link" ref={field} type="text" readonly=true value={(*link).clone()}
                onfocus={on_focus} dir="ltr" />
            <button type="button" class="primary" onclick={on_copy}>{ t(lang, Key::CopyLink) }</button>
            <p role="status">
                { match *copied {
                    Copy::NotYet => "",
                    Copy::Done => t(lang, Key::LinkCopied),
                    Copy::ByHand => t(lang, Key::CopyByHand),
                } }
            </p>
        </main>
    }
}
