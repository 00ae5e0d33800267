//! One video on the stage: a person's camera (or a placeholder with their name) or a shared
//! screen, with their state and the buttons to pin it or show it full screen.

use sprechstunde_shared::{ConnectionQuality, ParticipantId, TrackSource};
use wasm_bindgen::JsValue;
use web_sys::{Element, HtmlVideoElement, MediaStream};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, tf, Key};
use crate::media::support::{full_screen_support, FullScreen};

#[derive(Properties, PartialEq)]
pub struct VideoTileProps {
    pub stream: Option<MediaStream>,
    pub label: AttrValue,
    /// The own preview: never play it back (echo), show it mirrored.
    #[prop_or_default]
    pub own: bool,
    #[prop_or_default]
    pub participant: Option<ParticipantId>,
    #[prop_or(TrackSource::Camera)]
    pub source: TrackSource,
    /// The camera is off: show the name instead of a frozen picture.
    #[prop_or_default]
    pub camera_off: bool,
    #[prop_or_default]
    pub muted: bool,
    #[prop_or_default]
    pub hand: bool,
    /// Marked as the interpreter: labelled for everyone.
    #[prop_or_default]
    pub interpreter: bool,
    #[prop_or_default]
    pub speaking: bool,
    #[prop_or_default]
    pub pinned: bool,
    /// Shown large (speaker view or a screen share).
    #[prop_or_default]
    pub large: bool,
    #[prop_or_default]
    pub on_pin: Option<Callback<()>>,
    /// The chosen speaker (`setSinkId`), where the browser can choose.
    #[prop_or_default]
    pub sink_id: Option<String>,
    /// Oneself while others are here: a small picture in the stage's corner.
    #[prop_or_default]
    pub self_view: bool,
    /// Another camera to switch to (a phone's front and back): offers the button.
    #[prop_or_default]
    pub on_switch_camera: Option<Callback<()>>,
    /// Their media connection as the relay measures it: a badge when not good.
    #[prop_or_default]
    pub connection: ConnectionQuality,
    /// The relay paused this camera to us: our own link cannot carry it now.
    #[prop_or_default]
    pub video_paused: bool,
}

/// A stable name for the page (`data-quality`) and for tests.
pub fn quality_code(quality: ConnectionQuality) -> &'static str {
    match quality {
        ConnectionQuality::Good => "good",
        ConnectionQuality::Weak => "weak",
        ConnectionQuality::Bad => "bad",
    }
}

/// The badge's short text and the explanation a tap shows.
pub fn connection_texts(quality: ConnectionQuality) -> Option<(Key, Key)> {
    match quality {
        ConnectionQuality::Good => None,
        ConnectionQuality::Weak => Some((Key::ConnectionWeak, Key::ConnectionWeakHelp)),
        ConnectionQuality::Bad => Some((Key::ConnectionBad, Key::ConnectionBadHelp)),
    }
}

fn call_method(target: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    let method = js_sys::Reflect::get(target, &JsValue::from_str(name))?;
    match wasm_bindgen::JsCast::dyn_ref::<js_sys::Function>(&method) {
        Some(method) => method.call0(target),
        None => Err(JsValue::from_str("no such method")),
    }
}

/// Start playback; `refused` tells whether the browser wants a tap first.
fn start_playing(element: &HtmlVideoElement, refused: UseStateHandle<bool>) {
    let Ok(promise) = element.play() else {
        refused.set(true);
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let started = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        refused.set(!started);
    });
}

#[function_component(VideoTile)]
pub fn video_tile(props: &VideoTileProps) -> Html {
    let lang = use_lang();
    let video = use_node_ref();
    let figure = use_node_ref();
    let show_video = props.stream.is_some() && !props.camera_off;
    let explaining = use_state(|| false);
    let toggle_explanation = {
        let explaining = explaining.clone();
        Callback::from(move |_: MouseEvent| explaining.set(!*explaining))
    };
    // The browser refused to start playback without a tap (Safari on iPhones when the page
    // captures nothing, autoplay policies): a button starts it.
    let refused = use_state(|| false);
    {
        let video = video.clone();
        let own = props.own;
        let refused = refused.clone();
        use_effect_with((props.stream.clone(), show_video), move |(stream, _)| {
            if let Some(element) = video.cast::<HtmlVideoElement>() {
                // `muted` must be the property, not only the attribute, to stop playback.
                element.set_muted(own);
                element.set_src_object(stream.as_ref());
                if stream.is_some() {
                    start_playing(&element, refused);
                }
            }
        });
    }
    // Taller than wide (a phone held upright): shown whole instead of cropped to 16:9.
    let portrait = use_state(|| false);
    let on_size = {
        let portrait = portrait.clone();
        Callback::from(move |event: Event| {
            if let Some(element) = event.target_dyn_into::<HtmlVideoElement>() {
                portrait.set(element.video_height() > element.video_width());
            }
        })
    };
    let play_after_tap = {
        let (video, refused) = (video.clone(), refused.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(element) = video.cast::<HtmlVideoElement>() {
                start_playing(&element, refused.clone());
            }
        })
    };
    {
        let video = video.clone();
        use_effect_with((props.sink_id.clone(), show_video), move |(sink_id, _)| {
            if let (Some(element), Some(sink_id)) = (video.cast::<HtmlVideoElement>(), sink_id) {
                crate::media::audio::play_through(&element, sink_id);
            }
        });
    }
    let fullscreen = {
        let (figure, video) = (figure.clone(), video.clone());
        Callback::from(move |_: MouseEvent| match full_screen_support() {
            FullScreen::Element => {
                if let Some(element) = figure.cast::<Element>() {
                    let _ = element.request_fullscreen();
                }
            }
            // iPhone Safari: only a video element can go full screen, in its own player.
            FullScreen::VideoOnly => {
                if let Some(element) = video.cast::<HtmlVideoElement>() {
                    let _ = call_method(&element, "webkitEnterFullscreen");
                }
            }
            FullScreen::None => {}
        })
    };
    let can_full_screen = full_screen_support() != FullScreen::None;
    let screen = props.source == TrackSource::Screen;
    let class = classes!(
        "tile",
        props.own.then_some("own"),
        screen.then_some("screen"),
        props.speaking.then_some("speaking"),
        props.large.then_some("large"),
        props.pinned.then_some("pinned"),
        props.self_view.then_some("self-view"),
        (show_video && *portrait).then_some("upright"),
    );
    let participant = props.participant.map(|id| id.to_string());
    let what = if screen { Key::ScreenOf } else { Key::VideoOf };
    let video_label = tf(lang, what, &[("name", &props.label)]);
    let source = if screen { "screen" } else { "camera" };
    html! {
        <figure {class} ref={figure} data-participant={participant} data-source={source}
            data-camera-off={props.camera_off.to_string()}>
            if show_video {
                <video ref={video} autoplay=true playsinline=true aria-label={video_label}
                    class={classes!((*portrait).then_some("portrait"))}
                    onresize={on_size.clone()} onloadedmetadata={on_size} />
            } else {
                // Audio still plays while the camera is off.
                if !props.own && props.stream.is_some() {
                    <video ref={video} class="audio-only" autoplay=true playsinline=true aria-hidden="true" />
                }
                <div class="placeholder">
                    <span class="placeholder-name"><bdi>{ props.label.clone() }</bdi></span>
                    <span class="visually-hidden">{ t(lang, Key::CameraOff) }</span>
                </div>
            }
            if *refused && !props.own {
                <button type="button" class="primary enable-sound" onclick={play_after_tap}>
                    { t(lang, Key::EnableSound) }
                </button>
            }
            <figcaption>
                if props.interpreter {
                    <span class="badge interpreter-badge">{ t(lang, Key::InterpreterBadge) }</span>
                }
                if props.hand {
                    <span class="badge hand" title={t(lang, Key::HandRaised)}>
                        <span aria-hidden="true">{ "✋" }</span>
                        <span class="visually-hidden">{ t(lang, Key::HandRaised) }</span>
                    </span>
                }
                if let Some((short, _)) = connection_texts(props.connection) {
                    <button type="button" class="badge connection" data-quality={quality_code(props.connection)}
                        aria-expanded={explaining.to_string()} onclick={toggle_explanation}>
                        { t(lang, short) }
                    </button>
                }
                if props.muted {
                    <span class="badge muted" title={t(lang, Key::MicOff)}>
                        <span aria-hidden="true">{ "🔇" }</span>
                        <span class="visually-hidden">{ t(lang, Key::MicOff) }</span>
                    </span>
                }
                // Names in any script read right in either direction.
                <bdi>{ props.label.clone() }</bdi>
            </figcaption>
            if props.video_paused && !props.camera_off {
                <p class="video-paused" role="status">{ t(lang, Key::VideoPausedWeakLink) }</p>
            }
            if let (true, Some((_, help))) = (*explaining, connection_texts(props.connection)) {
                <p class="connection-help" role="status">{ t(lang, help) }</p>
            }
            if let (true, Some(on_switch)) = (show_video, props.on_switch_camera.clone()) {
                <button type="button" class="switch-camera" id="switch-camera" title={t(lang, Key::SwitchCamera)}
                    onclick={Callback::from(move |_: MouseEvent| on_switch.emit(()))}>
                    <span aria-hidden="true">{ "⟲" }</span>
                    <span class="switch-label">{ t(lang, Key::SwitchCamera) }</span>
                </button>
            }
            // The small own picture keeps only what fits on it.
            if !props.self_view {
            <div class="tile-actions">
                if let Some(on_pin) = props.on_pin.clone() {
                    <button type="button" class="icon" aria-pressed={props.pinned.to_string()}
                        aria-label={tf(lang, if props.pinned { Key::UnpinNamed } else { Key::PinNamed }, &[("name", &props.label)])}
                        onclick={Callback::from(move |_: MouseEvent| on_pin.emit(()))}>
                        { if props.pinned { t(lang, Key::Unpin) } else { t(lang, Key::Pin) } }
                    </button>
                }
                if show_video && can_full_screen {
                    <button type="button" class="icon" onclick={fullscreen}
                        aria-label={tf(lang, Key::FullscreenNamed, &[("name", &props.label)])}>{ t(lang, Key::Fullscreen) }</button>
                }
            </div>
            }
        </figure>
    }
}
