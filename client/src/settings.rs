//! The only place that touches the browser's storage. It knows the allow-list of keys it
//! may store and can remove all of them.

use crate::i18n::Lang;

const PREFIX: &str = "sprechstunde.";

/// Every key this app may ever store, without the prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKey {
    Language,
}

impl SettingKey {
    pub const ALL: [SettingKey; 1] = [SettingKey::Language];

    fn storage_key(self) -> String {
        let name = match self {
            SettingKey::Language => "language",
        };
        format!("{PREFIX}{name}")
    }
}

fn storage() -> Option<web_sys::Storage> {
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

/// Remove every setting this app stores.
#[allow(dead_code)] // Used by the "Meine Daten" page.
pub fn clear_all() {
    if let Some(storage) = storage() {
        for key in SettingKey::ALL {
            let _ = storage.remove_item(&key.storage_key());
        }
    }
}

/// The chosen language; German until someone picks another (the office's working language,
/// whatever the browser is set to).
pub fn language() -> Lang {
    get(SettingKey::Language)
        .and_then(|code| Lang::from_code(&code))
        .unwrap_or_default()
}
