//! The only place that touches the browser's storage. It knows the allow-list of keys it
//! may store and can remove all of them.

const PREFIX: &str = "sprechstunde.";

/// Every key this app may ever store, without the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKey {
    Language,
    /// Only when the person asked for it ("auf diesem Gerät merken").
    DisplayName,
    /// Optional, only for the counselor; stored only when the person asked for it.
    Email,
    /// The video quality this person sends (low, standard, high).
    VideoQuality,
    /// The chosen camera, microphone and speaker (the browser's device ids for this site).
    CameraDevice,
    MicrophoneDevice,
    SpeakerDevice,
    /// "on" when the room should open in full screen.
    Fullscreen,
    /// "on" when the camera's background is to be blurred.
    BackgroundBlur,
    /// "off" when the single-key shortcuts in the room are switched off.
    KeyboardShortcuts,
}

impl SettingKey {
    #[cfg(test)]
    pub const ALL: [SettingKey; 10] = [
        SettingKey::Language,
        SettingKey::DisplayName,
        SettingKey::Email,
        SettingKey::VideoQuality,
        SettingKey::CameraDevice,
        SettingKey::MicrophoneDevice,
        SettingKey::SpeakerDevice,
        SettingKey::Fullscreen,
        SettingKey::BackgroundBlur,
        SettingKey::KeyboardShortcuts,
    ];

    fn storage_key(self) -> String {
        let name = match self {
            SettingKey::Language => "language",
            SettingKey::DisplayName => "display_name",
            SettingKey::Email => "email",
            SettingKey::VideoQuality => "video_quality",
            SettingKey::CameraDevice => "camera_device",
            SettingKey::MicrophoneDevice => "microphone_device",
            SettingKey::SpeakerDevice => "speaker_device",
            SettingKey::Fullscreen => "fullscreen",
            SettingKey::BackgroundBlur => "background_blur",
            SettingKey::KeyboardShortcuts => "keyboard_shortcuts",
        };
        format!("{PREFIX}{name}")
    }
}

thread_local! {
    static KIOSK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// On a shared tablet nothing is stored at all, for the rest of this page's life.
pub fn enter_kiosk_mode() {
    KIOSK.with(|k| k.set(true));
}

/// Shortest and longest idle time a kiosk link may set (`?idle=SECONDS`).
const KIOSK_IDLE_RANGE: std::ops::RangeInclusive<u32> = 10..=7200;

/// Seconds without a touch or key on the pre-join page after which a kiosk tablet starts
/// afresh, from the kiosk link's `?idle=` (none: it waits).
pub fn kiosk_idle_seconds(search: &str) -> Option<u32> {
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("idle="))
        .and_then(|value| value.parse().ok())
        .filter(|seconds| KIOSK_IDLE_RANGE.contains(seconds))
}

pub fn kiosk_mode() -> bool {
    KIOSK.with(|k| k.get())
}

fn storage() -> Option<web_sys::Storage> {
    if kiosk_mode() {
        return None;
    }
    // Storage can be disabled (private mode, policies): then nothing is remembered.
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn get(key: SettingKey) -> Option<String> {
    storage()?.get_item(&key.storage_key()).ok().flatten()
}

pub fn set(key: SettingKey, value: &str) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&key.storage_key(), value);
    }
}

pub fn remove(key: SettingKey) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key.storage_key());
    }
}

/// The room's single-key shortcuts are on unless switched off on this device.
pub fn keyboard_shortcuts_on() -> bool {
    get(SettingKey::KeyboardShortcuts).as_deref() != Some("off")
}

/// The devices chosen last time (each `None` if never chosen or not stored).
pub fn devices() -> crate::media::local::DeviceChoice {
    crate::media::local::DeviceChoice {
        camera: get(SettingKey::CameraDevice),
        microphone: get(SettingKey::MicrophoneDevice),
        speaker: get(SettingKey::SpeakerDevice),
    }
}

pub fn set_devices(choice: &crate::media::local::DeviceChoice) {
    for (key, value) in [
        (SettingKey::CameraDevice, &choice.camera),
        (SettingKey::MicrophoneDevice, &choice.microphone),
        (SettingKey::SpeakerDevice, &choice.speaker),
    ] {
        match value {
            Some(id) => set(key, id),
            None => remove(key),
        }
    }
}

pub fn fullscreen_preferred() -> bool {
    get(SettingKey::Fullscreen).as_deref() == Some("on")
}

pub fn background_blur() -> bool {
    get(SettingKey::BackgroundBlur).as_deref() == Some("on")
}

pub fn set_background_blur(on: bool) {
    if on {
        set(SettingKey::BackgroundBlur, "on");
    } else {
        remove(SettingKey::BackgroundBlur);
    }
}

pub fn video_quality() -> crate::media::quality::Quality {
    get(SettingKey::VideoQuality)
        .and_then(|code| crate::media::quality::Quality::from_code(&code))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kiosk_idle_comes_from_the_link_within_bounds() {
        assert_eq!(kiosk_idle_seconds("?idle=300"), Some(300));
        assert_eq!(kiosk_idle_seconds("?x=1&idle=60"), Some(60));
        assert_eq!(kiosk_idle_seconds("?idle=5"), None);
        assert_eq!(kiosk_idle_seconds("?idle=abc"), None);
        assert_eq!(kiosk_idle_seconds(""), None);
    }

    #[test]
    fn every_key_is_prefixed_and_distinct() {
        let keys: std::collections::HashSet<String> =
            SettingKey::ALL.iter().map(|k| k.storage_key()).collect();
        assert_eq!(keys.len(), SettingKey::ALL.len());
        assert!(keys.iter().all(|k| k.starts_with(PREFIX)));
    }
}
