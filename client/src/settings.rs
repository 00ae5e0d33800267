//! The only place that touches the browser's storage. It knows the allow-list of keys it
//! may store and can remove all of them.

use crate::i18n::Lang;

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
}

impl SettingKey {
    #[cfg(test)]
    pub const ALL: [SettingKey; 4] = [
        SettingKey::Language,
        SettingKey::DisplayName,
        SettingKey::Email,
        SettingKey::VideoQuality,
    ];

    fn storage_key(self) -> String {
        let name = match self {
            SettingKey::Language => "language",
            SettingKey::DisplayName => "display_name",
            SettingKey::Email => "email",
            SettingKey::VideoQuality => "video_quality",
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

/// The chosen language; German until someone picks another (the office's working language,
/// whatever the browser is set to).
pub fn language() -> Lang {
    get(SettingKey::Language)
        .and_then(|code| Lang::from_code(&code))
        .unwrap_or_default()
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
    fn every_key_is_prefixed_and_distinct() {
        let keys: std::collections::HashSet<String> =
            SettingKey::ALL.iter().map(|k| k.storage_key()).collect();
        assert_eq!(keys.len(), SettingKey::ALL.len());
        assert!(keys.iter().all(|k| k.starts_with(PREFIX)));
    }
}
