//! On a kiosk tablet, after leaving: say that nothing stays, then start afresh for the next
//! family with a full reload (no state in memory) after wiping the origin's storage.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use sprechstunde_shared::RoomName;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::app::use_lang;
use crate::browser_data;
use crate::i18n::{t, Key};
use crate::route;

/// Long enough to read the sentence, short enough that the next family finds a clean screen.
const RESET_AFTER_MS: u32 = 5_000;

/// On the kiosk's pre-join page: with no touch, click or key for the link's idle time, the
/// tablet starts afresh (someone walked away half-way through).
pub struct IdleReset {
    _timer: Rc<RefCell<Option<Timeout>>>,
    listener: Closure<dyn FnMut(web_sys::Event)>,
}

const ACTIVITY: [&str; 4] = ["pointerdown", "keydown", "touchstart", "input"];

impl IdleReset {
    pub fn start(room: RoomName, seconds: u32) -> IdleReset {
        let timer: Rc<RefCell<Option<Timeout>>> = Rc::default();
        let arm = {
            let timer = timer.clone();
            move || {
                let room = room.clone();
                *timer.borrow_mut() =
                    Some(Timeout::new(seconds * 1000, move || start_afresh(&room)));
            }
        };
        arm();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| arm());
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            for kind in ACTIVITY {
                let _ = document
                    .add_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
            }
        }
        IdleReset {
            _timer: timer,
            listener,
        }
    }
}

impl Drop for IdleReset {
    fn drop(&mut self) {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            for kind in ACTIVITY {
                let _ = document.remove_event_listener_with_callback(
                    kind,
                    self.listener.as_ref().unchecked_ref(),
                );
            }
        }
    }
}

fn start_afresh(room: &RoomName) {
    // The kiosk link's settings (`?idle=`) stay for the next family.
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let path = format!("{}{search}", route::kiosk_path(room));
    spawn_local(async move {
        // Nothing should be there (kiosk mode stores nothing); wipe anyway, then reload.
        browser_data::wipe_all().await;
        if let Some(window) = web_sys::window() {
            let _ = window.location().replace(&path);
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct KioskResetProps {
    pub room: RoomName,
}

#[function_component(KioskResetPage)]
pub fn kiosk_reset_page(props: &KioskResetProps) -> Html {
    let lang = use_lang();
    {
        let room = props.room.clone();
        use_effect_with((), move |_| {
            let timer = Timeout::new(RESET_AFTER_MS, move || start_afresh(&room));
            move || drop(timer)
        });
    }
    let now = {
        let room = props.room.clone();
        Callback::from(move |_: MouseEvent| start_afresh(&room))
    };
    html! {
        <main class="page narrow">
            <h1>{ t(lang, Key::LeftHeading) }</h1>
            <p role="status">{ t(lang, Key::KioskResetSoon) }</p>
            <button type="button" class="primary" onclick={now}>{ t(lang, Key::KioskResetNow) }</button>
        </main>
    }
}
