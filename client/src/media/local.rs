//! Camera and microphone capture.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{MediaStream, MediaStreamConstraints, MediaStreamTrack};

use crate::i18n::Key;

/// Why capture failed, in the words the user needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaError {
    Denied,
    NotFound,
    Busy,
    Unavailable,
}

impl MediaError {
    pub fn message(self) -> Key {
        match self {
            MediaError::Denied => Key::MediaDenied,
            MediaError::NotFound => Key::MediaNotFound,
            MediaError::Busy => Key::MediaBusy,
            MediaError::Unavailable => Key::MediaUnavailable,
        }
    }

    fn from_js(error: &JsValue) -> MediaError {
        let name = js_sys::Reflect::get(error, &JsValue::from_str("name"))
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" | "SecurityError" => MediaError::Denied,
            "NotFoundError" | "OverconstrainedError" => MediaError::NotFound,
            "NotReadableError" | "AbortError" => MediaError::Busy,
            _ => MediaError::Unavailable,
        }
    }
}

async fn request(audio: bool, video: bool) -> Result<MediaStream, MediaError> {
    let devices = web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or(MediaError::Unavailable)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::from_bool(audio));
    constraints.set_video(&JsValue::from_bool(video));
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| MediaError::from_js(&e))?;
    let stream = JsFuture::from(promise)
        .await
        .map_err(|e| MediaError::from_js(&e))?;
    stream.dyn_into().map_err(|_| MediaError::Unavailable)
}

/// Camera and microphone; if both together fail, each alone, so that a call still works
/// with what is there.
pub async fn capture() -> Result<MediaStream, MediaError> {
    let both = request(true, true).await;
    let error = match both {
        Ok(stream) => return Ok(stream),
        Err(MediaError::Denied) => return Err(MediaError::Denied),
        Err(e) => e,
    };
    if let Ok(stream) = request(true, false).await {
        return Ok(stream);
    }
    if let Ok(stream) = request(false, true).await {
        return Ok(stream);
    }
    Err(error)
}

pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}
