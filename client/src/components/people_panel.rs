//! Who is in the room, with microphone, camera and hand; raised hands in the order raised.

use sprechstunde_shared::{ModerationAction, Participant, ParticipantId};
use yew::prelude::*;

use crate::app::use_lang;
use crate::components::video_tile;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct PeoplePanelProps {
    /// Oneself first, then the others in join order.
    pub people: Vec<Participant>,
    pub own_label: AttrValue,
    /// Set for hosts: act on someone.
    #[prop_or_default]
    pub on_moderate: Option<Callback<(ParticipantId, ModerationAction)>>,
    /// Hosts only: e-mail addresses participants gave.
    #[prop_or_default]
    pub contacts: std::collections::HashMap<ParticipantId, String>,
}

/// The actions a host has on someone, with their element id prefix and label. What is off
/// already is not offered; nobody can switch anything on for someone else.
fn actions_for(p: &Participant) -> Vec<(ModerationAction, &'static str, Key)> {
    let mut actions = Vec::new();
    if p.media.mic {
        actions.push((ModerationAction::Mute, "mute", Key::ModMute));
    }
    if p.media.camera {
        actions.push((
            ModerationAction::StopCamera,
            "stop-camera",
            Key::ModStopCamera,
        ));
    }
    if p.media.screen {
        actions.push((
            ModerationAction::StopScreen,
            "stop-screen",
            Key::ModStopScreen,
        ));
    }
    if p.hand.is_some() {
        actions.push((ModerationAction::LowerHand, "lower-hand", Key::ModLowerHand));
    }
    actions.push((
        ModerationAction::SendToWaitingRoom,
        "to-waiting",
        Key::ModToWaiting,
    ));
    actions.push((ModerationAction::Remove, "remove", Key::ModRemove));
    if !p.host {
        actions.push((ModerationAction::MakeHost, "make-host", Key::ModMakeHost));
    }
    if p.interpreter {
        actions.push((
            ModerationAction::UnmarkInterpreter,
            "unmark-interpreter",
            Key::ModUnmarkInterpreter,
        ));
    } else {
        actions.push((
            ModerationAction::MarkInterpreter,
            "mark-interpreter",
            Key::ModMarkInterpreter,
        ));
    }
    actions
}

#[function_component(PeoplePanel)]
pub fn people_panel(props: &PeoplePanelProps) -> Html {
    let lang = use_lang();
    let mut hands: Vec<&Participant> = props.people.iter().filter(|p| p.hand.is_some()).collect();
    hands.sort_by_key(|p| p.hand);
    let state = |on: bool, yes: Key, no: Key| if on { t(lang, yes) } else { t(lang, no) };
    html! {
        <section class="panel people" aria-labelledby="people-heading">
            <h2 id="people-heading">{ t(lang, Key::People) }</h2>
            <ul>
                { for props.people.iter().enumerate().map(|(i, p)| {
                    let name = if i == 0 { props.own_label.to_string() } else { p.name.clone() };
                    let controls = props.on_moderate.as_ref().filter(|_| i > 0).map(|on_moderate| {
                        let id = p.id;
                        html! {
                            <span class="moderation">
                                { for actions_for(p).into_iter().map(|(action, prefix, label)| {
                                    let on_moderate = on_moderate.clone();
                                    let onclick = Callback::from(move |_: MouseEvent| on_moderate.emit((id, action)));
                                    html! {
                                        <button type="button" id={format!("{prefix}-{id}")} {onclick}
                                            aria-label={format!("{}: {}", t(lang, label), p.name)}>
                                            { t(lang, label) }
                                        </button>
                                    }
                                }) }
                            </span>
                        }
                    });
                    html! {
                        <li key={p.id.0} data-participant={p.id.to_string()}
                            data-mic={p.media.mic.to_string()} data-camera={p.media.camera.to_string()}
                            data-hand={p.hand.is_some().to_string()} data-host={p.host.to_string()}>
                            <span class="person"><bdi>{ name }</bdi></span>
                            if p.host { <span class="badge host-badge">{ t(lang, Key::HostBadge) }</span> }
                            if p.interpreter { <span class="badge interpreter-badge">{ t(lang, Key::InterpreterBadge) }</span> }
                            if let Some((short, _)) = video_tile::connection_texts(p.connection) {
                                <span class="badge connection" data-quality={video_tile::quality_code(p.connection)}>
                                    { t(lang, short) }
                                </span>
                            }
                            if let Some(email) = props.contacts.get(&p.id) {
                                <span class="email" data-email="true">{ email.clone() }</span>
                            }
                            <span class="states">
                                { state(p.media.mic, Key::MicOn, Key::MicOff) }{ " · " }
                                { state(p.media.camera, Key::CameraOn, Key::CameraOff) }
                                if p.media.screen { { " · " }{ t(lang, Key::ShareScreen) } }
                                if p.hand.is_some() { { " · " }{ t(lang, Key::HandRaised) } }
                            </span>
                            { controls.unwrap_or_default() }
                        </li>
                    }
                }) }
            </ul>
            if !hands.is_empty() {
                <h3>{ t(lang, Key::RaisedHands) }</h3>
                <ol id="raised-hands">
                    { for hands.iter().map(|p| html! {
                        <li key={p.id.0} data-participant={p.id.to_string()}><bdi>{ p.name.clone() }</bdi></li>
                    }) }
                </ol>
            }
        </section>
    }
}
