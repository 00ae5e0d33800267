//! "Verbindung prüfen" on the pre-join page: runs once consent is given, and again on
//! request, and says in plain words what will work.

use std::cell::Cell;
use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::media::probe::{self, Verdict};

#[derive(Clone, Copy, PartialEq)]
enum CheckState {
    Running,
    Done(Verdict),
}

fn verdict_text(verdict: Verdict) -> Key {
    match verdict {
        Verdict::Udp => Key::CheckUdp,
        Verdict::Tcp => Key::CheckTcp,
        Verdict::Blocked => Key::CheckBlocked,
        Verdict::BlockedTryTurn => Key::CheckBlockedTurn,
        Verdict::NoServer => Key::CheckNoServer,
        Verdict::Busy => Key::CheckBusy,
    }
}

#[function_component(ConnectionCheck)]
pub fn connection_check() -> Html {
    let lang = use_lang();
    let state = use_state(|| CheckState::Running);
    // Set when the page moves on (joining): a check still running stops.
    let stop = use_mut_ref(|| Rc::new(Cell::new(false)));
    let start = {
        let state = state.clone();
        let stop = stop.clone();
        Callback::from(move |_: ()| {
            state.set(CheckState::Running);
            let state = state.clone();
            let this_check = stop.borrow().clone();
            spawn_local(async move {
                let verdict = probe::check(this_check).await;
                state.set(CheckState::Done(verdict));
            });
        })
    };
    {
        let start = start.clone();
        use_effect_with((), move |_| {
            start.emit(());
            move || stop.borrow().set(true)
        });
    }
    let (code, text, problem) = match *state {
        CheckState::Running => ("running", t(lang, Key::CheckRunning), false),
        CheckState::Done(verdict) => (
            verdict.code(),
            t(lang, verdict_text(verdict)),
            matches!(verdict, Verdict::Blocked | Verdict::NoServer),
        ),
    };
    let running = *state == CheckState::Running;
    html! {
        <section class="connection-check" aria-labelledby="check-heading">
            <h2 id="check-heading">{ t(lang, Key::CheckHeading) }</h2>
            <p id="connection-check" role="status" data-verdict={code}
                class={classes!(problem.then_some("error"))} aria-busy={running.to_string()}>
                { text }
            </p>
            <button type="button" id="connection-check-again" disabled={running}
                onclick={start.reform(|_: MouseEvent| ())}>
                { t(lang, Key::CheckAgain) }
            </button>
        </section>
    }
}
