//! For hosts: whose media could not get through their network, so the counselor knows why
//! a family is gone (and can phone them) instead of waiting for them.

use std::collections::HashSet;

use sprechstunde_shared::ParticipantId;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{around, t, Key};

#[derive(Properties, PartialEq)]
pub struct UnreachableNoticeProps {
    pub people: Vec<(ParticipantId, String)>,
}

#[function_component(UnreachableNotice)]
pub fn unreachable_notice(props: &UnreachableNoticeProps) -> Html {
    let lang = use_lang();
    let dismissed = use_state(HashSet::<ParticipantId>::new);
    let (before, after) = around(lang, Key::MediaUnreachableHost, "name");
    let shown: Vec<&(ParticipantId, String)> = props
        .people
        .iter()
        .filter(|(id, _)| !dismissed.contains(id))
        .collect();
    html! {
        for (id, name) in shown {
            <div class="notice unreachable" role="alert" data-participant={id.0.to_string()}>
                <span>{ before }<strong><bdi>{ name.clone() }</bdi></strong>{ after }</span>
                <button type="button" onclick={
                    let (dismissed, id) = (dismissed.clone(), *id);
                    move |_: MouseEvent| {
                        let mut next = (*dismissed).clone();
                        next.insert(id);
                        dismissed.set(next);
                    }
                }>{ t(lang, Key::Close) }</button>
            </div>
        }
    }
}
