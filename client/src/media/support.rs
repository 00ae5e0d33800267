//! Whether this browser can make a call at all. Some in-app browsers of messengers and old
//! versions have no WebRTC or no camera access; the family must learn that before typing
//! anything, with a way out.

use wasm_bindgen::JsValue;

fn has(target: &JsValue, name: &str) -> bool {
    js_sys::Reflect::get(target, &JsValue::from_str(name)).is_ok_and(|v| !v.is_undefined())
}

/// `navigator.mediaDevices.getDisplayMedia` exists (not on phones).
pub fn can_share_screen() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("mediaDevices")).ok())
        .is_some_and(|devices| !devices.is_undefined() && has(&devices, "getDisplayMedia"))
}

/// `navigator.mediaDevices.getUserMedia` exists: the camera can be shown, if not sent.
pub fn can_capture() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("mediaDevices")).ok())
        .is_some_and(|devices| !devices.is_undefined() && has(&devices, "getUserMedia"))
}

/// `RTCPeerConnection` and `navigator.mediaDevices.getUserMedia` both exist.
pub fn can_call() -> bool {
    web_sys::window().is_some_and(|window| has(&window, "RTCPeerConnection")) && can_capture()
}

/// How this browser shows something full screen.
#[derive(Clone, Copy, PartialEq)]
pub enum FullScreen {
    /// `Element.requestFullscreen`: the whole tile, with its name.
    Element,
    /// Only a video element, in the system player (`webkitEnterFullscreen`).
    VideoOnly,
    None,
}

pub fn full_screen_support() -> FullScreen {
    let prototype = |name: &str| {
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(name))
            .and_then(|class| js_sys::Reflect::get(&class, &JsValue::from_str("prototype")))
            .unwrap_or(JsValue::UNDEFINED)
    };
    let has = |target: &JsValue, name: &str| {
        js_sys::Reflect::get(target, &JsValue::from_str(name)).is_ok_and(|v| v.is_function())
    };
    if has(&prototype("Element"), "requestFullscreen") {
        FullScreen::Element
    } else if has(&prototype("HTMLVideoElement"), "webkitEnterFullscreen") {
        FullScreen::VideoOnly
    } else {
        FullScreen::None
    }
}
