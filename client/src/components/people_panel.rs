//! Who is in the room, with microphone, camera and hand; raised hands in the order raised.

use sprechstunde_shared::Participant;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct PeoplePanelProps {
    /// Oneself first, then the others in join order.
    pub people: Vec<Participant>,
    pub own_label: AttrValue,
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
                    html! {
                        <li key={p.id.0} data-participant={p.id.to_string()}
                            data-mic={p.media.mic.to_string()} data-camera={p.media.camera.to_string()}
                            data-hand={p.hand.is_some().to_string()}>
                            <span class="person">{ name }</span>
                            <span class="states">
                                { state(p.media.mic, Key::MicOn, Key::MicOff) }{ " · " }
                                { state(p.media.camera, Key::CameraOn, Key::CameraOff) }
                                if p.media.screen { { " · " }{ t(lang, Key::ShareScreen) } }
                                if p.hand.is_some() { { " · " }{ t(lang, Key::HandRaised) } }
                            </span>
                        </li>
                    }
                }) }
            </ul>
            if !hands.is_empty() {
                <h3>{ t(lang, Key::RaisedHands) }</h3>
                <ol id="raised-hands">
                    { for hands.iter().map(|p| html! {
                        <li key={p.id.0} data-participant={p.id.to_string()}>{ p.name.clone() }</li>
                    }) }
                </ol>
            }
        </section>
    }
}
