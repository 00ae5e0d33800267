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

/// Two short rising beeps.
fn knock_sound() {
    if let Some(context) = crate::media::audio::context() {
        crate::media::audio::beeps(
            &context,
            &context.destination(),
            &[(0.0, 660.0), (0.18, 880.0)],
        );
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
                            <span class="person"><bdi>{ guest.name.clone() }</bdi></span>
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
