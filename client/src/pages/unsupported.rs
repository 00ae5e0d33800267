//! Shown instead of the pre-join page when this browser cannot make calls: what to do, in
//! plain words, and the link to copy into another browser. Where the browser can use the
//! camera (WebKit builds without WebRTC, some in-app browsers), the family may still check
//! their camera and microphone here; the picture stays on the device.

use wasm_bindgen::{JsCast, JsValue};
use yew::prelude::*;

use crate::app::use_lang;
use crate::components::audio_check::AudioCheck;
use crate::components::video_tile::VideoTile;
use crate::i18n::{t, Key};
use crate::media::local::{self, DeviceChoice, MediaError};
use crate::media::support;
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

/// The device check: off until asked for, then the camera and microphone, or why not.
#[derive(Clone, PartialEq)]
enum Check {
    Off,
    Loading,
    On(web_sys::MediaStream),
    Failed(MediaError),
}

/// "Kamera und Mikrofon testen", for a browser that can capture but not call.
#[function_component(DeviceCheck)]
fn device_check() -> Html {
    let lang = use_lang();
    let check = use_state(|| Check::Off);
    // Leaving the page ends the capture.
    let captured = use_mut_ref(|| None::<web_sys::MediaStream>);
    {
        let captured = captured.clone();
        use_effect_with((), move |_| {
            move || {
                if let Some(stream) = captured.borrow_mut().take() {
                    local::stop(&stream);
                }
            }
        });
    }
    let on_start = {
        let check = check.clone();
        Callback::from(move |_: MouseEvent| {
            let (check, captured) = (check.clone(), captured.clone());
            check.set(Check::Loading);
            wasm_bindgen_futures::spawn_local(async move {
                check.set(
                    match local::capture_chosen(true, true, &DeviceChoice::default()).await {
                        Ok(stream) => {
                            *captured.borrow_mut() = Some(stream.clone());
                            Check::On(stream)
                        }
                        Err(e) => Check::Failed(e),
                    },
                );
            });
        })
    };
    html! {
        <section class="preview stack" aria-labelledby="device-check-heading" id="device-check">
            <h2 id="device-check-heading">{ t(lang, Key::DeviceCheckHeading) }</h2>
            <p>{ t(lang, Key::DeviceCheckHelp) }</p>
            if let Check::On(stream) = &*check {
                <VideoTile stream={Some(stream.clone())} label={t(lang, Key::You)} own=true />
                <AudioCheck stream={stream.clone()} speaker={None::<String>} />
            } else {
                <button type="button" onclick={on_start} disabled={*check == Check::Loading}>
                    { t(lang, Key::PreviewStart) }
                </button>
            }
            if let Check::Failed(e) = &*check {
                <p role="status">{ t(lang, e.message()) }</p>
            }
        </section>
    }
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
            if support::can_capture() {
                <DeviceCheck />
            }
        </main>
    }
}
