//! For hosts: who is knocking, with "let in" and "turn away". A short tone sounds when
//! someone new knocks, so a counselor looking at papers notices.

use std::collections::HashSet;

use sprechstunde_shared::{ParticipantId, WaitingGuest};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct KnockNoticeProps {
    pub guests: Vec<WaitingGuest>,
    pub on_admit: Callback<ParticipantId>,
    pub on_deny: Callback<ParticipantId>,
}

thread_local! {
    /// One audio context for every knock: a new one each time may start suspended and stay
    /// silent, and browsers allow only a few.
    static TONE_CONTEXT: std::cell::RefCell<Option<web_sys::AudioContext>> =
        const { std::cell::RefCell::new(None) };
}

fn tone_context() -> Option<web_sys::AudioContext> {
    TONE_CONTEXT.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = web_sys::AudioContext::new().ok();
        }
        cell.clone()
    })
}

/// Two short rising beeps, made in the page (no sound file to load).
fn knock_sound() {
    let Some(context) = tone_context() else {
        return;
    };
    // A context starts suspended until the page was used; the host has clicked by now.
    let _ = context.resume();
    let now = context.current_time();
    for (offset, frequency) in [(0.0, 660.0), (0.18, 880.0)] {
        let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
        else {
            return;
        };
        oscillator.frequency().set_value(frequency);
        gain.gain().set_value(0.15);
        let _ = oscillator.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(&context.destination());
        let _ = oscillator.start_with_when(now + offset);
        let _ = oscillator.stop_with_when(now + offset + 0.12);
    }
}

#[function_component(KnockNotice)]
pub fn knock_notice(props: &KnockNoticeProps) -> Html {
    let lang = use_lang();
    let heard = use_mut_ref(HashSet::<ParticipantId>::new);
    {
        let heard = heard.clone();
        use_effect_with(props.guests.clone(), move |guests| {
            let mut heard = heard.borrow_mut();
            if guests.iter().any(|g| !heard.contains(&g.id)) {
                knock_sound();
            }
            *heard = guests.iter().map(|g| g.id).collect();
        });
    }
    if props.guests.is_empty() {
        return html! {};
    }
    html! {
        <section class="knock-notice" id="waiting-notice" role="alert" aria-labelledby="knock-heading">
            <h2 id="knock-heading">{ format!("{} ({})", t(lang, Key::KnockingHeading), props.guests.len()) }</h2>
            <ul>
                { for props.guests.iter().map(|guest| {
                    let id = guest.id;
                    let admit = { let cb = props.on_admit.clone(); Callback::from(move |_: MouseEvent| cb.emit(id)) };
                    let deny = { let cb = props.on_deny.clone(); Callback::from(move |_: MouseEvent| cb.emit(id)) };
                    html! {
                        <li key={id.0} data-participant={id.to_string()}>
                            <span class="person">{ guest.name.clone() }</span>
                            if let Some(email) = &guest.email {
                                <span class="email">{ email.clone() }</span>
                            }
                            <button type="button" class="primary admit" id={format!("admit-{id}")} onclick={admit}>{ t(lang, Key::Admit) }</button>
                            <button type="button" class="deny" id={format!("deny-{id}")} onclick={deny}>{ t(lang, Key::Deny) }</button>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
