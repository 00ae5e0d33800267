//! Sprechstunde client: a Yew single-page app that talks to the relay over one WebSocket and
//! one peer connection.

mod app;
mod browser_data;
mod components;
mod i18n;
mod media;
mod pages;
mod route;
mod session;
mod settings;
mod signaling;
mod state;
mod transcript;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
