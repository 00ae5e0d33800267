//! The room: everyone's video and a leave button.

use sprechstunde_shared::RoomName;
use web_sys::MediaStream;
use yew::prelude::*;

use crate::app::use_lang;
use crate::components::video_tile::VideoTile;
use crate::i18n::{t, Key};
use crate::media::local;
use crate::session::{EndReason, Session};
use crate::state::RoomState;

#[derive(Properties, PartialEq)]
pub struct RoomProps {
    pub room: RoomName,
    pub name: String,
    pub local: Option<MediaStream>,
    pub on_leave: Callback<Option<EndReason>>,
}

#[function_component(RoomPage)]
pub fn room_page(props: &RoomProps) -> Html {
    let lang = use_lang();
    let state = use_reducer(RoomState::default);
    let session = use_mut_ref(|| None::<Session>);

    {
        let session = session.clone();
        let dispatcher = state.dispatcher();
        let room = props.room.clone();
        let name = props.name.clone();
        let local = props.local.clone();
        use_effect_with((), move |_| {
            let on_event = Callback::from(move |event| dispatcher.dispatch(event));
            *session.borrow_mut() = Some(Session::start(room, name, local.clone(), on_event));
            move || {
                // Leaving the page ends everything: connections and capture.
                if let Some(session) = session.borrow_mut().take() {
                    session.leave();
                }
                if let Some(stream) = &local {
                    local::stop(stream);
                }
            }
        });
    }

    {
        let on_leave = props.on_leave.clone();
        use_effect_with(state.ended, move |ended| {
            if let Some(reason) = ended {
                on_leave.emit(Some(*reason));
            }
        });
    }

    let leave = {
        let on_leave = props.on_leave.clone();
        Callback::from(move |_: MouseEvent| on_leave.emit(None))
    };

    let people = state.participants.len() + 1;
    let media = match state.media_state.as_str() {
        "connected" => Key::MediaEncrypted,
        "disconnected" => Key::MediaReconnecting,
        _ => Key::MediaConnecting,
    };
    html! {
        <main class="room">
            <header class="room-header">
                <h1>{ props.room.as_str() }</h1>
                <p class="status-line">
                    <span id="people-count" role="status" aria-live="polite">
                        { format!("{people} {}", t(lang, Key::PeopleInRoom)) }
                    </span>
                    <span id="media-status" role="status">{ t(lang, media) }</span>
                </p>
            </header>
            <section class="stage">
                <VideoTile stream={props.local.clone()}
                    label={format!("{} ({})", props.name, t(lang, Key::You))} own=true
                    participant={state.me} />
                { for state.participants.iter().map(|p| html! {
                    <VideoTile key={p.id.0} stream={state.streams.get(&p.id).cloned()}
                        label={p.name.clone()} participant={Some(p.id)} />
                }) }
                if state.participants.is_empty() {
                    <p class="alone">{ t(lang, Key::Alone) }</p>
                }
            </section>
            <nav class="controls">
                <button type="button" class="leave" onclick={leave}>{ t(lang, Key::Leave) }</button>
            </nav>
        </main>
    }
}
