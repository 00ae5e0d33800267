//! Sprechstunde client: a Yew single-page app that talks to the relay over one WebSocket and
//! one peer connection. Two builds start it: the app families and counselors open with a room
//! link (`main.rs`), and the counselors' desk (`bin/sprechstunde-desk.rs`), which alone links
//! the desk's code, so that a family never downloads it.

mod announcements;
mod app;
mod appointment;
mod browser_data;
mod components;
mod desk_api;
mod i18n;
mod language;
mod media;
mod pages;
mod route;
mod session;
mod settings;
mod signaling;
mod state;
mod transcript;

/// A page only one of the builds has: it is given to [`start`], so the other never links it.
pub type ExtraPage = fn() -> yew::Html;

/// The counselors' desk, for the desk's build.
pub fn desk_page() -> yew::Html {
    yew::html! { <pages::desk::DeskPage /> }
}

/// Starts the app; `desk` shows the desk at `/desk`.
pub fn start(desk: Option<ExtraPage>) {
    // Started: the "this browser is too old" text in index.html is not needed.
    if let Some(fallback) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("boot-fallback"))
    {
        fallback.remove();
    }
    // A language other than German is loaded before the first page, so nobody sees German
    // flash by; if it cannot be loaded, the app starts in German.
    let lang = language::initial();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = language::load(lang).await;
        yew::Renderer::<app::App>::with_props(app::AppProps { desk }).render();
    });
}
