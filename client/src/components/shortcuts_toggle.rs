//! In the settings panel: the room's single-key shortcuts, on unless switched off here (and
//! remembered on this device).

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::settings::{self, SettingKey};

#[function_component(ShortcutsToggle)]
pub fn shortcuts_toggle() -> Html {
    let lang = use_lang();
    let on = use_state(settings::keyboard_shortcuts_on);
    let onchange = {
        let on = on.clone();
        Callback::from(move |event: Event| {
            let checked = event
                .target_dyn_into::<HtmlInputElement>()
                .is_some_and(|input| input.checked());
            if checked {
                settings::remove(SettingKey::KeyboardShortcuts);
            } else {
                settings::set(SettingKey::KeyboardShortcuts, "off");
            }
            on.set(checked);
        })
    };
    html! {
        <label class="checkbox shortcuts-toggle" for="keyboard-shortcuts">
            <input id="keyboard-shortcuts" type="checkbox" checked={*on} {onchange} />
            <span>{ t(lang, Key::ShortcutsToggle) }</span>
        </label>
    }
}
