//! On a kiosk tablet, after leaving: say that nothing stays, then start afresh for the next
//! family with a full reload (no state in memory) after wiping the origin's storage.

use gloo_timers::callback::Timeout;
use sprechstunde_shared::RoomName;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::app::use_lang;
use crate::browser_data;
use crate::i18n::{t, Key};
use crate::route;

/// Long enough to read the sentence, short enough that the next family finds a clean screen.
const RESET_AFTER_MS: u32 = 5_000;

fn start_afresh(room: &RoomName) {
    let path = route::kiosk_path(room);
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
