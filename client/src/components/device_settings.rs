//! Camera, microphone and speaker choice, the video quality sent and (in the call) what is
//! received of others' video; used before joining and in the call.

use sprechstunde_shared::ReceiveQuality;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::media::local::{self, Device, DeviceChoice, DeviceKind};
use crate::media::quality::Quality;

#[derive(Properties, PartialEq)]
pub struct DeviceSettingsProps {
    pub choice: DeviceChoice,
    pub on_choice: Callback<DeviceChoice>,
    pub quality: Quality,
    pub on_quality: Callback<Quality>,
    /// Shown in the call only: what to receive of others' video.
    #[prop_or_default]
    pub receive: Option<ReceiveQuality>,
    #[prop_or_default]
    pub on_receive: Callback<ReceiveQuality>,
    /// Bump to list the devices again (after capture, labels become known).
    #[prop_or_default]
    pub refresh: u32,
}

fn speaker_choice_supported() -> bool {
    web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"HTMLMediaElement".into()).ok())
        .and_then(|c| js_sys::Reflect::get(&c, &"prototype".into()).ok())
        .is_some_and(|p| js_sys::Reflect::has(&p, &"setSinkId".into()).unwrap_or(false))
}

/// A select's change as the setting its option code names (unknown codes are ignored).
fn on_choice_of<T: 'static>(emit: Callback<T>, parse: fn(&str) -> Option<T>) -> Callback<Event> {
    Callback::from(move |event: Event| {
        if let Some(choice) = event
            .target_dyn_into::<HtmlSelectElement>()
            .and_then(|select| parse(&select.value()))
        {
            emit.emit(choice);
        }
    })
}

#[function_component(DeviceSettings)]
pub fn device_settings(props: &DeviceSettingsProps) -> Html {
    let lang = use_lang();
    let devices = use_state(Vec::<Device>::new);
    {
        let devices = devices.clone();
        use_effect_with(props.refresh, move |_| {
            wasm_bindgen_futures::spawn_local(async move { devices.set(local::devices().await) });
        });
    }
    let select = |kind: DeviceKind, id: &'static str, label: Key, current: Option<String>| {
        let choice = props.choice.clone();
        let on_choice = props.on_choice.clone();
        let onchange = Callback::from(move |event: Event| {
            let Some(select) = event.target_dyn_into::<HtmlSelectElement>() else {
                return;
            };
            let value = Some(select.value()).filter(|v| !v.is_empty());
            let mut next = choice.clone();
            match kind {
                DeviceKind::Camera => next.camera = value,
                DeviceKind::Microphone => next.microphone = value,
                DeviceKind::Speaker => next.speaker = value,
            }
            on_choice.emit(next);
        });
        let options: Vec<&Device> = devices.iter().filter(|d| d.kind == kind).collect();
        html! {
            <>
                <label for={id}>{ t(lang, label) }</label>
                <select {id} {onchange}>
                    <option value="" selected={current.is_none()}>{ t(lang, Key::DefaultDevice) }</option>
                    { for options.iter().enumerate().map(|(i, d)| {
                        let text = if d.label.is_empty() { format!("{} {}", t(lang, label), i + 1) } else { d.label.clone() };
                        html! {
                            <option key={d.id.clone()} value={d.id.clone()}
                                selected={current.as_deref() == Some(d.id.as_str())}>{ text }</option>
                        }
                    }) }
                </select>
            </>
        }
    };
    let on_quality = on_choice_of(props.on_quality.clone(), Quality::from_code);
    let on_receive = on_choice_of(props.on_receive.clone(), ReceiveQuality::from_code);
    let receive_label = |q: ReceiveQuality| match q {
        ReceiveQuality::Auto => Key::ReceiveAuto,
        ReceiveQuality::Low => Key::ReceiveLow,
        ReceiveQuality::AudioOnly => Key::AudioOnly,
    };
    let quality_label = |q: Quality| match q {
        Quality::Low => Key::QualityLow,
        Quality::Standard => Key::QualityStandard,
        Quality::High => Key::QualityHigh,
    };
    html! {
        <div class="device-settings stack">
            { select(DeviceKind::Camera, "camera-device", Key::CameraDevice, props.choice.camera.clone()) }
            { select(DeviceKind::Microphone, "microphone-device", Key::MicrophoneDevice, props.choice.microphone.clone()) }
            if speaker_choice_supported() {
                { select(DeviceKind::Speaker, "speaker-device", Key::SpeakerDevice, props.choice.speaker.clone()) }
            } else {
                <p class="hint">{ t(lang, Key::SpeakerNotSupported) }</p>
            }
            <label for="video-quality">{ t(lang, Key::VideoQuality) }</label>
            <select id="video-quality" onchange={on_quality}>
                { for Quality::ALL.iter().map(|q| html! {
                    <option value={q.code()} selected={*q == props.quality}>{ t(lang, quality_label(*q)) }</option>
                }) }
            </select>
            if let Some(receive) = props.receive {
                <label for="receive-quality">{ t(lang, Key::ReceiveQualityLabel) }</label>
                <select id="receive-quality" onchange={on_receive}>
                    { for ReceiveQuality::ALL.iter().map(|q| html! {
                        <option value={q.code()} selected={*q == receive}>{ t(lang, receive_label(*q)) }</option>
                    }) }
                </select>
            }
        </div>
    }
}
