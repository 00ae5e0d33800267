//! The "Hintergrund unscharf" switch with a status line that says whether blur is loading,
//! running (and how fast) or failed. Used in pre-join and in the call's settings.

use std::rc::Rc;

use gloo_timers::callback::Interval;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::media::blur::{Blur, BlurStats};

#[derive(Clone, PartialEq)]
pub enum BlurState {
    Off,
    /// Wanted, but the camera is off: starts with the camera.
    Waiting,
    /// Downloading the runtime or starting the model.
    Loading,
    Running(Rc<Blur>),
    Failed,
}

#[derive(Properties, PartialEq)]
pub struct BlurToggleProps {
    /// What the person chose.
    pub on: bool,
    pub state: BlurState,
    pub on_change: Callback<bool>,
    /// In the call, a failed blur keeps the camera from being sent: say so.
    #[prop_or_default]
    pub holds_camera: bool,
}

#[function_component(BlurToggle)]
pub fn blur_toggle(props: &BlurToggleProps) -> Html {
    let lang = use_lang();
    let stats = use_state(BlurStats::default);
    {
        let stats = stats.clone();
        use_effect_with(props.state.clone(), move |state| {
            let running = match state {
                BlurState::Running(blur) => Some(blur.clone()),
                _ => None,
            };
            let interval = running.map(|blur| Interval::new(1000, move || stats.set(blur.stats())));
            move || drop(interval)
        });
    }
    let onchange = {
        let on_change = props.on_change.clone();
        Callback::from(move |event: Event| {
            on_change.emit(
                event
                    .target_dyn_into::<HtmlInputElement>()
                    .is_some_and(|input| input.checked()),
            )
        })
    };
    let status = match &props.state {
        BlurState::Off | BlurState::Waiting => html! {},
        BlurState::Loading => html! {
            <span class="progress" aria-busy="true">{ t(lang, Key::BlurLoading) }</span>
        },
        BlurState::Running(_) => html! {
            <>
                <span>
                    { format!("{} · {:.0} {}", t(lang, Key::BlurOn), stats.fps, t(lang, Key::FramesPerSecond)) }
                </span>
                if stats.slow {
                    <span class="hint">{ " " }{ t(lang, Key::BlurSlow) }</span>
                }
            </>
        },
        BlurState::Failed => html! {
            <span class="error">
                { t(lang, Key::BlurFailed) }
                if props.holds_camera { { " " }{ t(lang, Key::BlurHoldsCamera) } }
            </span>
        },
    };
    let running = matches!(props.state, BlurState::Running(_));
    html! {
        <div class="blur-toggle">
            <label class="checkbox" for="background-blur">
                <input id="background-blur" type="checkbox" checked={props.on} {onchange}
                    aria-describedby="blur-status" />
                <span>{ t(lang, Key::BlurLabel) }</span>
            </label>
            <p id="blur-status" role="status" class="hint" data-running={running.to_string()}
                data-fps={format!("{:.1}", stats.fps)} data-mask-fps={format!("{:.1}", stats.mask_fps)}
                data-ms-per-mask={format!("{:.1}", stats.ms_per_mask)}>
                { status }
            </p>
        </div>
    }
}
