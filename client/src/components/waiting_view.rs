//! The waiting room as a guest sees it: the meeting's topic, the host's message, and that they
//! are waiting (for admission, or for the host to arrive). Nothing of the room is shown.

use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::session::WaitingView;

#[derive(Properties, PartialEq)]
pub struct WaitingProps {
    pub view: WaitingView,
    pub room: AttrValue,
    pub on_leave: Callback<MouseEvent>,
}

#[function_component(WaitingRoomView)]
pub fn waiting_room_view(props: &WaitingProps) -> Html {
    let lang = use_lang();
    let view = &props.view;
    let explanation = if view.host_present {
        Key::WaitingForAdmission
    } else {
        Key::WaitingForHost
    };
    html! {
        <main class="page narrow waiting" id="waiting-room">
            <h1>{ t(lang, Key::WaitingHeading) }</h1>
            <p class="topic" id="waiting-topic">
                { view.topic.clone().unwrap_or_else(|| props.room.to_string()) }
            </p>
            if let Some(description) = &view.description {
                <p class="description">{ description.clone() }</p>
            }
            <p class="waiting-state" role="status" aria-live="polite" id="waiting-state"
                data-host-present={view.host_present.to_string()}>
                <span class="spinner" aria-hidden="true"></span>
                { t(lang, explanation) }
            </p>
            if let Some(message) = &view.message {
                <section class="host-message" aria-labelledby="host-message-heading">
                    <h2 id="host-message-heading">{ t(lang, Key::MessageFromHost) }</h2>
                    <p id="waiting-message">{ message.clone() }</p>
                </section>
            }
            <button type="button" class="leave" onclick={props.on_leave.clone()}>{ t(lang, Key::Leave) }</button>
        </main>
    }
}
