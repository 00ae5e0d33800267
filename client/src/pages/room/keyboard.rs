//! The room by keyboard: focus goes into a panel when it opens and back to its button when
//! it closes, Escape closes it, and single-key shortcuts (M microphone, V camera, H hand,
//! C chat) work unless switched off in the settings (WCAG 2.1.4: a screen reader's own
//! single-key commands must be able to win).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

use super::local::Panel;
use crate::settings;

/// The control a shortcut key presses, by id.
pub fn shortcut_target(key: &str) -> Option<&'static str> {
    match key {
        "m" | "M" => Some("toggle-mic"),
        "v" | "V" => Some("toggle-camera"),
        "h" | "H" => Some("toggle-hand"),
        "c" | "C" => Some(Panel::Chat.button_id()),
        _ => None,
    }
}

fn element(id: &str) -> Option<HtmlElement> {
    web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .dyn_into()
        .ok()
}

/// Typing into a field never triggers a shortcut.
fn typing(event: &KeyboardEvent) -> bool {
    event
        .target()
        .and_then(|t| t.dyn_into::<HtmlElement>().ok())
        .is_some_and(|target| {
            matches!(target.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || target.is_content_editable()
        })
}

#[hook]
pub fn use_room_keyboard(panel: Option<Panel>, close_panel: Callback<()>) {
    // Focus into an opened panel, back to its button when it closes.
    let previous = use_mut_ref(|| None::<Panel>);
    use_effect_with(panel, move |panel| {
        let before = previous.replace(*panel);
        match (before, *panel) {
            (_, Some(_)) if before != *panel => {
                if let Some(side) = element("side-panel") {
                    let _ = side.focus();
                }
            }
            (Some(closed), None) => {
                if let Some(button) = element(closed.button_id()) {
                    let _ = button.focus();
                }
            }
            _ => {}
        }
    });
    use_effect_with(panel.is_some(), move |open| {
        let open = *open;
        let listener = Closure::<dyn Fn(KeyboardEvent)>::new(move |event: KeyboardEvent| {
            if event.key() == "Escape" && open {
                close_panel.emit(());
                return;
            }
            if event.alt_key() || event.ctrl_key() || event.meta_key() || event.repeat() {
                return;
            }
            if typing(&event) || !settings::keyboard_shortcuts_on() {
                return;
            }
            if let Some(button) = shortcut_target(&event.key()).and_then(element) {
                event.prevent_default();
                button.click();
            }
        });
        let document = web_sys::window().and_then(|w| w.document());
        if let Some(document) = &document {
            let _ = document
                .add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(document) = document {
                let _ = document.remove_event_listener_with_callback(
                    "keydown",
                    listener.as_ref().unchecked_ref(),
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_keys_press_the_documented_controls() {
        assert_eq!(shortcut_target("m"), Some("toggle-mic"));
        assert_eq!(shortcut_target("V"), Some("toggle-camera"));
        assert_eq!(shortcut_target("h"), Some("toggle-hand"));
        assert_eq!(shortcut_target("c"), Some("open-chat"));
        assert_eq!(shortcut_target("x"), None);
        assert_eq!(shortcut_target("Enter"), None);
    }
}
