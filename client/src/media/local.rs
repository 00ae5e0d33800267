//! Camera, microphone and screen capture, and the list of devices.

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaDeviceInfo, MediaDeviceKind, MediaStream, MediaStreamConstraints, MediaStreamTrack,
};

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

fn media_devices() -> Result<web_sys::MediaDevices, MediaError> {
    web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or(MediaError::Unavailable)
}

/// Constraints for one kind: `false`, or the device (if chosen) and for video the size the
/// quality setting may scale down from.
fn constraint(wanted: bool, device: Option<&str>, video: bool) -> JsValue {
    if !wanted {
        return JsValue::FALSE;
    }
    let mut value = serde_json::Map::new();
    if let Some(device) = device {
        value.insert("deviceId".into(), serde_json::json!({ "exact": device }));
    }
    if video {
        value.insert("width".into(), serde_json::json!({ "ideal": 1280 }));
        value.insert("height".into(), serde_json::json!({ "ideal": 720 }));
        // The camera's own picture, not cropped to 16:9: a phone held upright sends
        // portrait video (the quality setting scales it down, never crops).
        value.insert("resizeMode".into(), serde_json::json!("none"));
    }
    js_sys::JSON::parse(&serde_json::Value::Object(value).to_string()).unwrap_or(JsValue::TRUE)
}

/// The devices chosen for capture; `None` is the browser's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceChoice {
    pub camera: Option<String>,
    pub microphone: Option<String>,
    pub speaker: Option<String>,
}

async fn request_with(
    audio: bool,
    video: bool,
    choice: &DeviceChoice,
) -> Result<MediaStream, MediaError> {
    let chosen = choice.camera.is_some() || choice.microphone.is_some();
    match request_from(audio, video, choice).await {
        // A remembered device that is gone (unplugged, or its id rotated) gives way to
        // what is there, instead of failing as "no camera".
        Err(e) if chosen && e != MediaError::Denied => {
            let any = DeviceChoice {
                speaker: choice.speaker.clone(),
                ..DeviceChoice::default()
            };
            request_from(audio, video, &any).await.map_err(|_| e)
        }
        result => result,
    }
}

async fn request_from(
    audio: bool,
    video: bool,
    choice: &DeviceChoice,
) -> Result<MediaStream, MediaError> {
    let devices = media_devices()?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&constraint(audio, choice.microphone.as_deref(), false));
    constraints.set_video(&constraint(video, choice.camera.as_deref(), true));
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| MediaError::from_js(&e))?;
    let stream = JsFuture::from(promise)
        .await
        .map_err(|e| MediaError::from_js(&e))?;
    stream.dyn_into().map_err(|_| MediaError::Unavailable)
}

/// Capture only what is wanted, from the chosen devices. If both together fail, each alone,
/// so that a call still works with what is there.
pub async fn capture_chosen(
    audio: bool,
    video: bool,
    choice: &DeviceChoice,
) -> Result<MediaStream, MediaError> {
    if !audio && !video {
        return MediaStream::new().map_err(|_| MediaError::Unavailable);
    }
    let error = match request_with(audio, video, choice).await {
        Ok(stream) => return Ok(stream),
        Err(MediaError::Denied) => return Err(MediaError::Denied),
        Err(e) => e,
    };
    if audio && video {
        if let Ok(stream) = request_with(true, false, choice).await {
            return Ok(stream);
        }
        if let Ok(stream) = request_with(false, true, choice).await {
            return Ok(stream);
        }
    }
    Err(error)
}

/// One new track of this kind (`"audio"` or `"video"`) from the chosen device.
pub async fn track(kind: &str, choice: &DeviceChoice) -> Result<MediaStreamTrack, MediaError> {
    let video = kind == "video";
    let stream = request_with(!video, video, choice).await?;
    first_track(&stream, kind).ok_or(MediaError::NotFound)
}

/// The screen, a window or a tab, as the person picks it in the browser's own dialog.
pub async fn screen() -> Result<MediaStreamTrack, MediaError> {
    // About 720p at up to 15 frames a second: readable text at a bandwidth a home line
    // carries; the browser scales the real screen to it.
    let constraints: web_sys::DisplayMediaStreamConstraints = js_sys::JSON::parse(
        r#"{"video":{"width":{"ideal":1280},"height":{"ideal":720},"frameRate":{"max":15}},"audio":false}"#,
    )
    .map_err(|_| MediaError::Unavailable)?
    .unchecked_into();
    let promise = media_devices()?
        .get_display_media_with_constraints(&constraints)
        .map_err(|e| MediaError::from_js(&e))?;
    let stream: MediaStream = JsFuture::from(promise)
        .await
        .map_err(|e| MediaError::from_js(&e))?
        .dyn_into()
        .map_err(|_| MediaError::Unavailable)?;
    first_track(&stream, "video").ok_or(MediaError::NotFound)
}

pub fn first_track(stream: &MediaStream, kind: &str) -> Option<MediaStreamTrack> {
    stream
        .get_tracks()
        .iter()
        .filter_map(|t| t.dyn_into::<MediaStreamTrack>().ok())
        .find(|t| t.kind() == kind)
}

/// A stream holding just these tracks (for a preview or a tile).
pub fn stream_of(tracks: &[&MediaStreamTrack]) -> Option<MediaStream> {
    let list = Array::new();
    for track in tracks {
        list.push(track);
    }
    MediaStream::new_with_tracks(&list).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Camera,
    Microphone,
    Speaker,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub label: String,
    pub kind: DeviceKind,
}

/// Cameras, microphones and speakers. Labels are empty until capture was allowed once.
pub async fn devices() -> Vec<Device> {
    let Ok(media) = media_devices() else {
        return Vec::new();
    };
    let Ok(promise) = media.enumerate_devices() else {
        return Vec::new();
    };
    let Ok(list) = JsFuture::from(promise).await else {
        return Vec::new();
    };
    Array::from(&list)
        .iter()
        .filter_map(|d| d.dyn_into::<MediaDeviceInfo>().ok())
        .filter_map(|info| {
            let kind = match info.kind() {
                MediaDeviceKind::Videoinput => DeviceKind::Camera,
                MediaDeviceKind::Audioinput => DeviceKind::Microphone,
                MediaDeviceKind::Audiooutput => DeviceKind::Speaker,
                _ => return None,
            };
            Some(Device {
                id: info.device_id(),
                label: info.label(),
                kind,
            })
        })
        .filter(|d| !d.id.is_empty())
        .collect()
}

pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// The device a track captures from (`getSettings().deviceId`), where the browser says.
pub fn device_of(track: &MediaStreamTrack) -> Option<String> {
    js_sys::Reflect::get(&track.get_settings(), &JsValue::from_str("deviceId"))
        .ok()
        .and_then(|id| id.as_string())
        .filter(|id| !id.is_empty())
}

/// The camera after `current` in the list, round again at the end: on a phone, front and
/// back in turn. `None` when there is nothing else to switch to.
pub fn next_camera(cameras: &[String], current: Option<&str>) -> Option<String> {
    if cameras.len() < 2 {
        return None;
    }
    let at = current.and_then(|current| cameras.iter().position(|id| id == current));
    let next = at.map_or(1, |at| (at + 1) % cameras.len());
    cameras.get(next).cloned()
}

#[cfg(test)]
mod tests {
    use super::next_camera;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|id| id.to_string()).collect()
    }

    #[test]
    fn the_next_camera_goes_round_and_needs_a_second_one() {
        let phone = ids(&["front", "back"]);
        assert_eq!(next_camera(&phone, Some("front")).as_deref(), Some("back"));
        assert_eq!(next_camera(&phone, Some("back")).as_deref(), Some("front"));
        // The default camera is the first one listed.
        assert_eq!(next_camera(&phone, None).as_deref(), Some("back"));
        assert_eq!(next_camera(&phone, Some("gone")).as_deref(), Some("back"));
        assert_eq!(next_camera(&ids(&["only"]), Some("only")), None);
        assert_eq!(next_camera(&[], None), None);
    }
}
