//! The top: language, and which screen is shown.

use sprechstunde_shared::RoomName;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::components::lang_switch::LangSwitch;
use crate::i18n::{self, t, Key, Lang};
use crate::language;
use crate::pages::{
    kiosk::KioskResetPage, left::LeftPage, my_data::MyDataPage, prejoin::PrejoinPage,
    privacy::PrivacyPage, room::JoinChoice, room::RoomPage, start::StartPage,
    unsupported::UnsupportedBrowserPage,
};
use crate::route::{self, Route};
use crate::session::EndReason;
use crate::settings::{self, SettingKey};

#[derive(Clone, PartialEq)]
pub struct LangContext {
    pub lang: Lang,
    pub set: Callback<Lang>,
}

#[hook]
pub fn use_lang() -> Lang {
    use_context::<LangContext>()
        .map(|c| c.lang)
        .unwrap_or_default()
}

#[derive(Clone, PartialEq)]
enum Phase {
    Start {
        invalid_link: bool,
    },
    Prejoin(RoomName),
    InRoom {
        room: RoomName,
        choice: JoinChoice,
    },
    Left {
        room: RoomName,
        reason: Option<EndReason>,
    },
    Privacy,
    MyData,
    Desk,
    NotFound,
}

fn initial_phase() -> Phase {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    match route::parse(&path) {
        Route::Start => Phase::Start {
            invalid_link: false,
        },
        Route::InvalidRoom => Phase::Start { invalid_link: true },
        Route::Room(room) => Phase::Prejoin(room),
        Route::Kiosk(room) => {
            settings::enter_kiosk_mode();
            Phase::Prejoin(room)
        }
        Route::Privacy => Phase::Privacy,
        Route::MyData => Phase::MyData,
        Route::Desk => Phase::Desk,
        Route::NotFound => Phase::NotFound,
    }
}

fn show_path(path: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

#[derive(Properties)]
pub struct AppProps {
    /// The desk, in the desk's build only.
    pub desk: Option<crate::ExtraPage>,
}

// Given once at start and never changed; function addresses are no identity to compare.
impl PartialEq for AppProps {
    fn eq(&self, other: &Self) -> bool {
        self.desk.is_some() == other.desk.is_some()
    }
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    // main() has loaded the starting language; if that failed, German.
    let lang = use_state(|| {
        Some(language::initial())
            .filter(|l| i18n::is_loaded(*l))
            .unwrap_or_default()
    });
    let lang_failed = use_state(|| false);
    let phase = use_state(initial_phase);

    use_effect_with(*lang, |lang| language::apply_to_document(*lang));

    // Only the latest choice counts when a slower load ends after a later choice.
    let latest_choice = use_mut_ref(|| 0_u32);
    let set_lang = {
        let lang = lang.clone();
        let lang_failed = lang_failed.clone();
        Callback::from(move |next: Lang| {
            let lang = lang.clone();
            let lang_failed = lang_failed.clone();
            let latest_choice = latest_choice.clone();
            *latest_choice.borrow_mut() += 1;
            let this_choice = *latest_choice.borrow();
            spawn_local(async move {
                let loaded = language::load(next).await.is_ok();
                if *latest_choice.borrow() != this_choice {
                    return;
                }
                lang_failed.set(!loaded);
                if loaded {
                    settings::set(SettingKey::Language, next.code());
                    lang.set(next);
                }
            });
        })
    };
    let context = LangContext {
        lang: *lang,
        set: set_lang,
    };

    let on_room = {
        let phase = phase.clone();
        Callback::from(move |room: RoomName| {
            show_path(&route::room_path(&room));
            phase.set(Phase::Prejoin(room));
        })
    };

    let body = match (*phase).clone() {
        Phase::Start { invalid_link } => html! { <StartPage {on_room} {invalid_link} /> },
        Phase::Prejoin(room) => {
            let on_join = {
                let phase = phase.clone();
                let room = room.clone();
                Callback::from(move |choice: JoinChoice| {
                    phase.set(Phase::InRoom {
                        room: room.clone(),
                        choice,
                    })
                })
            };
            if crate::media::support::can_call() {
                html! { <PrejoinPage {room} {on_join} /> }
            } else {
                html! { <UnsupportedBrowserPage /> }
            }
        }
        Phase::InRoom { room, choice } => {
            let on_leave = {
                let phase = phase.clone();
                let room = room.clone();
                Callback::from(move |reason: Option<EndReason>| {
                    phase.set(Phase::Left {
                        room: room.clone(),
                        reason,
                    })
                })
            };
            html! { <RoomPage {room} {choice} {on_leave} /> }
        }
        Phase::Left { room, reason } => {
            let on_rejoin = {
                let phase = phase.clone();
                let room = room.clone();
                Callback::from(move |_| phase.set(Phase::Prejoin(room.clone())))
            };
            let on_start = {
                let phase = phase.clone();
                Callback::from(move |_| {
                    show_path("/");
                    phase.set(Phase::Start {
                        invalid_link: false,
                    })
                })
            };
            if settings::kiosk_mode() {
                html! { <KioskResetPage {room} /> }
            } else {
                html! { <LeftPage {reason} {on_rejoin} {on_start} /> }
            }
        }
        Phase::Privacy => html! { <PrivacyPage /> },
        Phase::MyData => html! { <MyDataPage /> },
        Phase::Desk if props.desk.is_some() => props.desk.map(|desk| desk()).unwrap_or_default(),
        Phase::Desk | Phase::NotFound => html! {
            <main class="page narrow">
                <h1>{ t(*lang, Key::AppName) }</h1>
                <p><a href="/">{ t(*lang, Key::BackToStart) }</a></p>
            </main>
        },
    };

    let kiosk = settings::kiosk_mode().then_some("kiosk");
    let in_call = matches!(*phase, Phase::InRoom { .. }).then_some("in-call");
    html! {
        <ContextProvider<LangContext> context={context}>
            <div class={classes!("app", kiosk, in_call)}>
            <header class="topbar">
                <span class="brand">{ t(*lang, Key::AppName) }</span>
                <nav class="topnav">
                    <a href="/datenschutz" target="_blank" rel="noopener">{ t(*lang, Key::PrivacyLink) }</a>
                    <a href="/meine-daten" target="_blank" rel="noopener">{ t(*lang, Key::MyDataLink) }</a>
                    <LangSwitch />
                </nav>
            </header>
            if *lang_failed {
                <p class="error language-failed" role="alert">{ t(*lang, Key::LanguageFailed) }</p>
            }
            { body }
            </div>
        </ContextProvider<LangContext>>
    }
}
