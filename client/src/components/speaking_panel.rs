//! Everyone's speaking time, as the relay counts it, with each one's share.

use sprechstunde_shared::{ParticipantId, SpeakingTime};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};

#[derive(Properties, PartialEq)]
pub struct SpeakingPanelProps {
    pub speakers: Vec<SpeakingTime>,
    pub active: Option<ParticipantId>,
}

fn minutes_seconds(ms: u64) -> String {
    let seconds = ms / 1000;
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[function_component(SpeakingPanel)]
pub fn speaking_panel(props: &SpeakingPanelProps) -> Html {
    let lang = use_lang();
    let total: u64 = props.speakers.iter().map(|s| s.ms).sum();
    html! {
        <section class="panel speaking" aria-labelledby="speaking-heading">
            <h2 id="speaking-heading">{ t(lang, Key::SpeakingTimeHeading) }</h2>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{ t(lang, Key::NameColumn) }</th>
                        <th scope="col">{ t(lang, Key::TimeColumn) }</th>
                        <th scope="col">{ t(lang, Key::ShareOfTime) }</th>
                    </tr>
                </thead>
                <tbody>
                    { for props.speakers.iter().map(|s| {
                        let share = (s.ms * 100 + total / 2).checked_div(total).unwrap_or(0);
                        let active = props.active == Some(s.id);
                        html! {
                            <tr key={s.id.0} data-participant={s.id.to_string()} data-ms={s.ms.to_string()}
                                class={classes!(active.then_some("active"))}>
                                <th scope="row">
                                    <bdi>{ s.name.clone() }</bdi>
                                    if !s.present { { format!(" ({})", t(lang, Key::HasLeft)) } }
                                    if active { { format!(" – {}", t(lang, Key::SpeakingNow)) } }
                                </th>
                                <td>{ minutes_seconds(s.ms) }</td>
                                <td>
                                    <meter min="0" max="100" value={share.to_string()}>{ format!("{share} %") }</meter>
                                    { format!(" {share} %") }
                                </td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </section>
    }
}
