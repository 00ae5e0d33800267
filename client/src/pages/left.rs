//! After leaving (or being disconnected): what happened and what to do next.

use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::session::EndReason;

#[derive(Properties, PartialEq)]
pub struct LeftProps {
    pub reason: Option<EndReason>,
    pub on_rejoin: Callback<MouseEvent>,
    pub on_start: Callback<MouseEvent>,
}

#[function_component(LeftPage)]
pub fn left_page(props: &LeftProps) -> Html {
    let lang = use_lang();
    html! {
        <main class="page narrow">
            <h1>{ t(lang, Key::LeftHeading) }</h1>
            if let Some(reason) = props.reason {
                <p class="error" role="alert">{ reason.text(lang) }</p>
            }
            <div class="actions">
                <button type="button" class="primary" onclick={props.on_rejoin.clone()}>
                    { t(lang, Key::Rejoin) }
                </button>
                <button type="button" onclick={props.on_start.clone()}>
                    { t(lang, Key::BackToStart) }
                </button>
            </div>
        </main>
    }
}
