//! Start: type the room name, continue.

use sprechstunde_shared::RoomName;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::lang_switch::LanguageOffer;

use crate::app::use_lang;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct StartProps {
    pub on_room: Callback<RoomName>,
    /// Opened through a link with an invalid room name.
    pub invalid_link: bool,
}

#[function_component(StartPage)]
pub fn start_page(props: &StartProps) -> Html {
    let lang = use_lang();
    let input = use_node_ref();
    let invalid = use_state(|| props.invalid_link);

    let onsubmit = {
        let input = input.clone();
        let invalid = invalid.clone();
        let on_room = props.on_room.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let value = input
                .cast::<HtmlInputElement>()
                .map(|i| i.value())
                .unwrap_or_default();
            match RoomName::parse(&value) {
                Ok(room) => on_room.emit(room),
                Err(_) => invalid.set(true),
            }
        })
    };

    html! {
        <main class="page narrow">
            <h1>{ t(lang, Key::StartHeading) }</h1>
            <LanguageOffer />
            <p>{ t(lang, Key::StartIntro) }</p>
            <form class="stack" {onsubmit} novalidate=true>
                <label for="room-name">{ t(lang, Key::RoomNameLabel) }</label>
                <input id="room-name" ref={input} type="text" autocomplete="off"
                    autocapitalize="none" spellcheck="false" maxlength="64"
                    aria-describedby="room-name-hint room-name-error"
                    aria-invalid={(*invalid).to_string()} />
                <small id="room-name-hint">{ t(lang, Key::RoomNameHint) }</small>
                <p id="room-name-error" class="error" role="alert">
                    if *invalid { { t(lang, Key::RoomNameInvalid) } }
                </p>
                <button type="submit" class="primary">{ t(lang, Key::Continue) }</button>
            </form>
        </main>
    }
}
