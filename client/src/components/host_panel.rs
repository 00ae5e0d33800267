//! For hosts: the meeting's topic and description, the waiting room and its message, the
//! lock, the password, and ending the meeting for everyone. Every change goes to the relay,
//! which checks that it comes from a host.

use sprechstunde_shared::{ClientMessage, MeetingSettings};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct HostPanelProps {
    pub meeting: MeetingSettings,
    pub on_send: Callback<ClientMessage>,
}

/// What the host typed into a field, kept across re-renders: Yew resets a bound `value` to
/// its prop on every render, which would wipe a half-typed topic whenever the room updates.
/// The draft follows the saved value only when that value itself changes.
#[hook]
fn use_draft(saved: Option<String>) -> (UseStateHandle<String>, Callback<InputEvent>) {
    let draft = use_state(|| saved.clone().unwrap_or_default());
    {
        let draft = draft.clone();
        use_effect_with(saved, move |saved| {
            draft.set(saved.clone().unwrap_or_default());
        });
    }
    let on_input = {
        let draft = draft.clone();
        Callback::from(move |event: InputEvent| {
            let value = event
                .target_dyn_into::<HtmlInputElement>()
                .map(|input| input.value())
                .or_else(|| {
                    event
                        .target_dyn_into::<HtmlTextAreaElement>()
                        .map(|area| area.value())
                });
            if let Some(value) = value {
                draft.set(value);
            }
        })
    };
    (draft, on_input)
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[function_component(HostPanel)]
pub fn host_panel(props: &HostPanelProps) -> Html {
    let lang = use_lang();
    let meeting = &props.meeting;
    let (topic, on_topic) = use_draft(meeting.topic.clone());
    let (description, on_description) = use_draft(meeting.description.clone());
    let (message, on_message) = use_draft(meeting.waiting_message.clone());
    let password = use_node_ref();
    let confirm_end = use_state(|| false);

    let save_info = {
        let (topic, description, on_send) =
            (topic.clone(), description.clone(), props.on_send.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            on_send.emit(ClientMessage::SetRoomInfo {
                topic: non_empty(&topic),
                description: non_empty(&description),
            });
        })
    };
    let policy = |waiting_room: bool, locked: bool| {
        let on_send = props.on_send.clone();
        Callback::from(move |_: Event| {
            on_send.emit(ClientMessage::SetRoomPolicy {
                waiting_room,
                locked,
            })
        })
    };
    let set_password = {
        let (password, on_send) = (password.clone(), props.on_send.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            if let Some(field) = password.cast::<HtmlInputElement>() {
                let value = field.value();
                if !value.is_empty() {
                    field.set_value("");
                    on_send.emit(ClientMessage::SetPassword {
                        password: Some(value),
                    });
                }
            }
        })
    };
    let remove_password = {
        let on_send = props.on_send.clone();
        Callback::from(move |_: MouseEvent| {
            on_send.emit(ClientMessage::SetPassword { password: None })
        })
    };
    let save_message = {
        let (message, on_send) = (message.clone(), props.on_send.clone());
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            on_send.emit(ClientMessage::SetWaitingMessage {
                text: non_empty(&message),
            });
        })
    };
    let end = {
        let confirm_end = confirm_end.clone();
        let on_send = props.on_send.clone();
        Callback::from(move |_: MouseEvent| {
            if *confirm_end {
                on_send.emit(ClientMessage::EndMeeting);
            } else {
                confirm_end.set(true);
            }
        })
    };
    html! {
        <section class="panel host" aria-labelledby="host-heading">
            <h2 id="host-heading">{ t(lang, Key::RoomPanel) }</h2>
            <form onsubmit={save_info}>
                <label for="room-topic">{ t(lang, Key::TopicLabel) }</label>
                <input id="room-topic" maxlength="200"
                    value={(*topic).clone()} oninput={on_topic} />
                <label for="room-description">{ t(lang, Key::DescriptionLabel) }</label>
                <textarea id="room-description" maxlength="2000" rows="3"
                    value={(*description).clone()} oninput={on_description} />
                <button type="submit" id="save-room-info">{ t(lang, Key::Save) }</button>
            </form>
            <label class="check">
                <input type="checkbox" id="waiting-room-toggle" checked={meeting.waiting_room}
                    onchange={policy(!meeting.waiting_room, meeting.locked)} />
                { t(lang, Key::WaitingRoomToggle) }
            </label>
            <label class="check">
                <input type="checkbox" id="lock-toggle" checked={meeting.locked}
                    onchange={policy(meeting.waiting_room, !meeting.locked)} />
                { t(lang, Key::LockToggle) }
            </label>
            <form onsubmit={save_message}>
                <label for="waiting-message-input">{ t(lang, Key::WaitingMessageLabel) }</label>
                <textarea id="waiting-message-input" maxlength="500" rows="2"
                    value={(*message).clone()} oninput={on_message} />
                <button type="submit" id="save-waiting-message">{ t(lang, Key::Save) }</button>
            </form>
            <form onsubmit={set_password}>
                <label for="new-password">{ t(lang, Key::NewPasswordLabel) }</label>
                <input id="new-password" type="password" ref={password} maxlength="128" autocomplete="new-password" />
                <p id="password-state" role="status">
                    { if meeting.has_password { t(lang, Key::PasswordIsSet) } else { t(lang, Key::NoPasswordSet) } }
                </p>
                <button type="submit" id="set-password">{ t(lang, Key::SetPassword) }</button>
                if meeting.has_password {
                    <button type="button" id="remove-password" onclick={remove_password}>{ t(lang, Key::RemovePassword) }</button>
                }
            </form>
            <button type="button" class="leave" id="end-meeting" onclick={end}>
                { if *confirm_end { t(lang, Key::EndMeetingConfirm) } else { t(lang, Key::EndMeeting) } }
            </button>
        </section>
    }
}
