//! Pre-join: name, camera and microphone preview, join.

use sprechstunde_shared::{DisplayName, EmailAddress, RoomName};
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, MediaStream};
use yew::prelude::*;

use crate::components::lang_switch::LanguageOffer;

use std::rc::Rc;

use crate::app::use_lang;
use crate::components::audio_check::AudioCheck;
use crate::components::blur_toggle::{BlurState, BlurToggle};
use crate::components::connection_check::ConnectionCheck;
use crate::components::device_settings::DeviceSettings;
use crate::components::video_tile::VideoTile;
use crate::i18n::{t, Key};
use crate::media::blur::Blur;
use crate::media::local::{self, DeviceChoice, MediaError};
use crate::media::quality::Quality;
use crate::pages::room::JoinChoice;
use crate::settings::{self, SettingKey};

#[derive(Properties, PartialEq)]
pub struct PrejoinProps {
    pub room: RoomName,
    pub on_join: Callback<JoinChoice>,
}

fn checkbox_callback(state: &UseStateHandle<bool>) -> Callback<Event> {
    let state = state.clone();
    Callback::from(move |event: Event| {
        state.set(
            event
                .target_dyn_into::<HtmlInputElement>()
                .is_some_and(|input| input.checked()),
        )
    })
}

#[derive(Clone, PartialEq)]
enum Preview {
    Off,
    Loading,
    On(MediaStream),
    Failed(MediaError),
}

/// Pre-fill the remembered name and e-mail once; after that the fields belong to the person
/// typing.
#[hook]
fn use_prefill(
    name_input: &NodeRef,
    email_input: &NodeRef,
    remembered: &Option<String>,
    remembered_email: &Option<String>,
) {
    let (name_input, email_input) = (name_input.clone(), email_input.clone());
    let (remembered, remembered_email) = (remembered.clone(), remembered_email.clone());
    use_effect_with((), move |_| {
        if let (Some(input), Some(name)) = (name_input.cast::<HtmlInputElement>(), remembered) {
            input.set_value(&name);
        }
        if let (Some(input), Some(email)) =
            (email_input.cast::<HtmlInputElement>(), remembered_email)
        {
            input.set_value(&email);
        }
    });
}

/// A kiosk link may say how long an untouched pre-join page stays before the tablet starts
/// afresh (`/kiosk/ROOM?idle=SECONDS`).
#[hook]
fn use_kiosk_idle(room: &RoomName) {
    let room = room.clone();
    use_effect_with((), move |_| {
        let idle = settings::kiosk_mode()
            .then(|| web_sys::window().and_then(|w| w.location().search().ok()))
            .flatten()
            .and_then(|search| settings::kiosk_idle_seconds(&search));
        let reset = idle.map(|seconds| crate::pages::kiosk::IdleReset::start(room, seconds));
        move || drop(reset)
    });
}

/// The preview shows the blur as the others will see it.
#[hook]
fn use_preview_blur(preview: &Preview, blur_on: bool) -> BlurState {
    let blur = use_state(|| BlurState::Off);
    let blur_generation = use_mut_ref(|| 0u32);
    {
        let blur = blur.clone();
        // The preview shows the blur as the others will see it.
        let camera = match preview {
            Preview::On(stream) => local::first_track(stream, "video"),
            _ => None,
        };
        let key = (camera.as_ref().map(|c| c.id()), blur_on);
        use_effect_with(key, move |(_, wanted)| {
            *blur_generation.borrow_mut() += 1;
            let generation = *blur_generation.borrow();
            match (camera, *wanted) {
                (Some(camera), true) => {
                    blur.set(BlurState::Loading);
                    spawn_local(async move {
                        let started = Blur::start(&camera).await;
                        // Switched off or another camera meanwhile: this one is dropped.
                        if *blur_generation.borrow() == generation {
                            blur.set(match started {
                                Ok(running) => BlurState::Running(Rc::new(running)),
                                Err(_) => BlurState::Failed,
                            });
                        }
                    });
                }
                (None, true) => blur.set(BlurState::Waiting),
                (_, false) => blur.set(BlurState::Off),
            }
        });
    }
    (*blur).clone()
}

/// The pre-join form's fields and choices.
struct Form {
    name_input: NodeRef,
    name_invalid: UseStateHandle<bool>,
    email_input: NodeRef,
    email_invalid: UseStateHandle<bool>,
    joining: UseStateHandle<bool>,
    consent: UseStateHandle<bool>,
    consent_missing: UseStateHandle<bool>,
    remember: UseStateHandle<bool>,
    mic_on: UseStateHandle<bool>,
    camera_on: UseStateHandle<bool>,
    devices: UseStateHandle<DeviceChoice>,
    quality: UseStateHandle<Quality>,
    blur_on: UseStateHandle<bool>,
}

/// Ticking the consent box; nothing is captured or connected before it.
fn consent_callback(form: &Form) -> Callback<Event> {
    let consent = form.consent.clone();
    let consent_missing = form.consent_missing.clone();
    Callback::from(move |event: Event| {
        let checked = event
            .target_dyn_into::<HtmlInputElement>()
            .is_some_and(|input| input.checked());
        consent.set(checked);
        if checked {
            consent_missing.set(false);
        }
    })
}

/// "Kamera und Mikrofon testen", and a device switch while the preview runs.
fn preview_controls(
    form: &Form,
    preview: &UseStateHandle<Preview>,
    device_refresh: &UseStateHandle<u32>,
) -> (Callback<MouseEvent>, Callback<DeviceChoice>) {
    let capture_preview = {
        let preview = preview.clone();
        let device_refresh = device_refresh.clone();
        move |choice: DeviceChoice| {
            let preview = preview.clone();
            let device_refresh = device_refresh.clone();
            if let Preview::On(old) = &*preview {
                local::stop(old);
            }
            preview.set(Preview::Loading);
            spawn_local(async move {
                preview.set(match local::capture_chosen(true, true, &choice).await {
                    Ok(stream) => Preview::On(stream),
                    Err(e) => Preview::Failed(e),
                });
                // Device names are known once capture was allowed.
                device_refresh.set(*device_refresh + 1);
            });
        }
    };
    let start_preview = {
        let consent = form.consent.clone();
        let consent_missing = form.consent_missing.clone();
        let devices = form.devices.clone();
        let capture_preview = capture_preview.clone();
        Callback::from(move |_: MouseEvent| {
            if !*consent {
                consent_missing.set(true);
                return;
            }
            capture_preview((*devices).clone());
        })
    };
    let on_devices = {
        let devices = form.devices.clone();
        let preview = preview.clone();
        Callback::from(move |next: DeviceChoice| {
            settings::set_devices(&next);
            devices.set(next.clone());
            if matches!(*preview, Preview::On(_)) {
                capture_preview(next);
            }
        })
    };
    (start_preview, on_devices)
}

/// "Beitreten": check consent, name and e-mail, remember them if wanted, and hand the
/// choices to the room.
fn submit_callback(
    form: Form,
    preview: UseStateHandle<Preview>,
    on_join: Callback<JoinChoice>,
) -> Callback<SubmitEvent> {
    let Form {
        name_input,
        name_invalid,
        email_input,
        email_invalid,
        joining,
        consent,
        consent_missing,
        remember,
        mic_on,
        camera_on,
        devices,
        quality,
        blur_on,
    } = form;
    Callback::from(move |event: SubmitEvent| {
        event.prevent_default();
        if *joining {
            return;
        }
        if !*consent {
            consent_missing.set(true);
            return;
        }
        let raw = name_input
            .cast::<HtmlInputElement>()
            .map(|i| i.value())
            .unwrap_or_default();
        let Ok(name) = DisplayName::parse(&raw) else {
            name_invalid.set(true);
            return;
        };
        name_invalid.set(false);
        let raw_email = email_input
            .cast::<HtmlInputElement>()
            .map(|i| i.value())
            .unwrap_or_default();
        // Optional: empty is fine, anything else must look like an address.
        let email = match raw_email.trim() {
            "" => None,
            given => match EmailAddress::parse(given) {
                Ok(email) => Some(email.into_string()),
                Err(_) => {
                    email_invalid.set(true);
                    return;
                }
            },
        };
        email_invalid.set(false);
        joining.set(true);
        if settings::fullscreen_preferred() {
            // The click is the gesture full screen needs.
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.request_fullscreen();
            }
        }
        let name = name.into_string();
        if *remember {
            settings::set(SettingKey::DisplayName, &name);
            match &email {
                Some(email) => settings::set(SettingKey::Email, email),
                None => settings::remove(SettingKey::Email),
            }
        } else {
            settings::remove(SettingKey::DisplayName);
            settings::remove(SettingKey::Email);
        }
        let on_join = on_join.clone();
        let (mic, camera, chosen, quality, blur) =
            (*mic_on, *camera_on, (*devices).clone(), *quality, *blur_on);
        let choice = move |stream: Option<MediaStream>, capture_at_join: bool| JoinChoice {
            name: name.clone(),
            email: email.clone(),
            stream,
            mic_on: mic,
            camera_on: camera,
            devices: chosen.clone(),
            quality,
            blur,
            capture_at_join,
        };
        match &*preview {
            Preview::On(stream) => on_join.emit(choice(Some(stream.clone()), false)),
            // Capture failed before: join without camera and microphone.
            Preview::Failed(_) => on_join.emit(choice(None, false)),
            // Only what will be used is captured, by the room, while it joins.
            Preview::Off | Preview::Loading => on_join.emit(choice(None, mic || camera)),
        }
    })
}

#[function_component(PrejoinPage)]
pub fn prejoin_page(props: &PrejoinProps) -> Html {
    let lang = use_lang();
    let name_input = use_node_ref();
    let email_input = use_node_ref();
    let email_invalid = use_state(|| false);
    let preview = use_state(|| Preview::Off);
    let name_invalid = use_state(|| false);
    let joining = use_state(|| false);
    // Nothing is captured and nothing connects before this is ticked.
    let consent = use_state(|| false);
    let consent_missing = use_state(|| false);
    // Remembering the name is opt-in; a remembered name pre-fills the field.
    let remembered = use_state(|| settings::get(SettingKey::DisplayName));
    let remembered_email = use_state(|| settings::get(SettingKey::Email));
    let remember = use_state(|| remembered.is_some());
    // Join muted or without camera if wanted; the camera then stays off (light off).
    let mic_on = use_state(|| true);
    let camera_on = use_state(|| true);
    let devices = use_state(settings::devices);
    let quality = use_state(settings::video_quality);
    let device_refresh = use_state(|| 0u32);
    // Kiosk mode stores nothing, so the setting reads as off there.
    let blur_on = use_state(settings::background_blur);
    use_prefill(&name_input, &email_input, &remembered, &remembered_email);
    use_kiosk_idle(&props.room);
    let on_remember = checkbox_callback(&remember);
    let on_mic = checkbox_callback(&mic_on);
    let on_camera = checkbox_callback(&camera_on);
    let on_quality = {
        let quality = quality.clone();
        Callback::from(move |next: Quality| {
            settings::set(SettingKey::VideoQuality, next.code());
            quality.set(next);
        })
    };

    let form = Form {
        name_input: name_input.clone(),
        name_invalid: name_invalid.clone(),
        email_input: email_input.clone(),
        email_invalid: email_invalid.clone(),
        joining: joining.clone(),
        consent: consent.clone(),
        consent_missing: consent_missing.clone(),
        remember: remember.clone(),
        mic_on: mic_on.clone(),
        camera_on: camera_on.clone(),
        devices: devices.clone(),
        quality: quality.clone(),
        blur_on: blur_on.clone(),
    };
    let on_consent = consent_callback(&form);
    let (start_preview, on_devices) = preview_controls(&form, &preview, &device_refresh);
    let blur = use_preview_blur(&preview, *blur_on);
    let on_blur = {
        let blur_on = blur_on.clone();
        Callback::from(move |on: bool| {
            settings::set_background_blur(on);
            blur_on.set(on);
        })
    };

    let onsubmit = submit_callback(form, preview.clone(), props.on_join.clone());

    let stream = match (&*preview, &blur) {
        (Preview::On(_), BlurState::Running(running)) => local::stream_of(&[running.track()]),
        (Preview::On(stream), _) => Some(stream.clone()),
        _ => None,
    };
    let status = match &*preview {
        Preview::Off => Some(t(lang, Key::PreviewOff)),
        Preview::Loading => Some(t(lang, Key::PreviewLoading)),
        Preview::On(_) => None,
        Preview::Failed(e) => Some(t(lang, e.message())),
    };

    html! {
        <main class="page prejoin">
            <h1>{ t(lang, Key::PrejoinHeading) }</h1>
            <LanguageOffer />
            <p class="room-label">{ props.room.as_str() }</p>
            <div class="prejoin-grid">
                <section class="preview">
                    <VideoTile stream={stream.clone()} label={t(lang, Key::You)} own=true />
                    if let Some(status) = status {
                        <p role="status">{ status }</p>
                    }
                    if let Preview::On(captured) = &*preview {
                        <AudioCheck stream={captured.clone()} speaker={devices.speaker.clone()} />
                    }
                    if stream.is_none() {
                        <button type="button" onclick={start_preview}
                            disabled={matches!(*preview, Preview::Loading)}>
                            { t(lang, Key::PreviewStart) }
                        </button>
                    }
                    <label class="checkbox" for="join-mic">
                        <input id="join-mic" type="checkbox" checked={*mic_on} onchange={on_mic} />
                        <span>{ t(lang, Key::JoinWithMic) }</span>
                    </label>
                    <label class="checkbox" for="join-camera">
                        <input id="join-camera" type="checkbox" checked={*camera_on} onchange={on_camera} />
                        <span>{ t(lang, Key::JoinWithCamera) }</span>
                    </label>
                    <BlurToggle on={*blur_on} state={blur.clone()} on_change={on_blur} />
                    <details class="prejoin-settings">
                        <summary>{ t(lang, Key::Settings) }</summary>
                        <DeviceSettings choice={(*devices).clone()} on_choice={on_devices}
                            quality={*quality} {on_quality} refresh={*device_refresh} />
                    </details>
                </section>
                <form class="stack" {onsubmit} novalidate=true>
                    <section class="consent" aria-labelledby="consent-heading">
                        <h2 id="consent-heading">{ t(lang, Key::PrivacyLink) }</h2>
                        <p>{ t(lang, Key::ConsentSummary) }</p>
                        <p><a href="/datenschutz" target="_blank" rel="noopener">{ t(lang, Key::ReadNotice) }</a></p>
                        <label class="checkbox" for="consent">
                            <input id="consent" type="checkbox" checked={*consent} onchange={on_consent}
                                aria-describedby="consent-error" />
                            <span>{ t(lang, Key::ConsentLabel) }</span>
                        </label>
                        <p id="consent-error" class="error" role="alert">
                            if *consent_missing { { t(lang, Key::ConsentRequired) } }
                        </p>
                    </section>
                    // Nothing connects before consent.
                    if *consent {
                        <ConnectionCheck />
                    }
                    <label for="display-name">{ t(lang, Key::NameLabel) }</label>
                    <input id="display-name" ref={name_input} type="text" autocomplete="name"
                        maxlength="64" aria-describedby="display-name-error"
                        aria-invalid={(*name_invalid).to_string()} />
                    if !settings::kiosk_mode() {
                        <label class="checkbox" for="remember-name">
                            <input id="remember-name" type="checkbox" checked={*remember} onchange={on_remember} />
                            <span>{ t(lang, Key::RememberName) }</span>
                        </label>
                    }
                    <p id="display-name-error" class="error" role="alert">
                        if *name_invalid { { t(lang, Key::NameInvalid) } }
                    </p>
                    <label for="email">{ t(lang, Key::EmailLabel) }</label>
                    <input id="email" ref={email_input} type="email" autocomplete="email"
                        maxlength="254" aria-describedby="email-hint email-error"
                        aria-invalid={(*email_invalid).to_string()} />
                    <p id="email-hint" class="hint">{ t(lang, Key::EmailHint) }</p>
                    <p id="email-error" class="error" role="alert">
                        if *email_invalid { { t(lang, Key::EmailInvalid) } }
                    </p>
                    <button type="submit" id="join" class="primary" disabled={*joining}>
                        { if *joining { t(lang, Key::Joining) } else { t(lang, Key::Join) } }
                    </button>
                </form>
            </div>
        </main>
    }
}
