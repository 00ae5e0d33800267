//! Before joining, beside the camera preview: the microphone's level moves when the family
//! speaks, and "Lautsprecher testen" plays a short tone through the chosen speaker. Nothing
//! is recorded or sent.

use web_sys::{HtmlMediaElement, MediaStream};
use yew::prelude::*;

use crate::app::use_lang;
use crate::i18n::{t, Key};
use crate::media::audio::{self, LevelMeter};

#[derive(Properties, PartialEq)]
pub struct AudioCheckProps {
    /// The preview's capture, with its microphone.
    pub stream: MediaStream,
    /// The chosen speaker, if any.
    pub speaker: Option<String>,
}

/// How often the level is read (often enough to follow speech).
const LEVEL_EVERY_MS: u32 = 100;
/// How long the test tone plays, in ms.
const TONE_MS: u32 = 1_600;
/// Three rising beeps.
const TONE: [(f64, f32); 3] = [(0.0, 523.0), (0.45, 659.0), (0.9, 784.0)];

#[function_component(AudioCheck)]
pub fn audio_check(props: &AudioCheckProps) -> Html {
    let lang = use_lang();
    let level = use_state(|| 0.0f32);
    {
        let level = level.clone();
        use_effect_with(props.stream.clone(), move |stream| {
            let meter = LevelMeter::new(stream);
            let reading = meter.map(|mut meter| {
                gloo_timers::callback::Interval::new(LEVEL_EVERY_MS, move || {
                    // A step of 1 % is all a bar can show: no render for less.
                    let now = (meter.level() * 100.0).round() / 100.0;
                    if now != *level {
                        level.set(now);
                    }
                })
            });
            move || drop(reading)
        });
    }
    let playing = use_state(|| false);
    let sound = use_node_ref();
    let on_test = {
        let (playing, sound, speaker) = (playing.clone(), sound.clone(), props.speaker.clone());
        Callback::from(move |_: MouseEvent| {
            let (Some(element), Some(tone)) =
                (sound.cast::<HtmlMediaElement>(), audio::beeps_stream(&TONE))
            else {
                return;
            };
            if let Some(speaker) = &speaker {
                audio::play_through(&element, speaker);
            }
            element.set_src_object(Some(&tone));
            let _ = element.play();
            playing.set(true);
            let playing = playing.clone();
            gloo_timers::callback::Timeout::new(TONE_MS, move || playing.set(false)).forget();
        })
    };
    html! {
        <div class="audio-check stack">
            <label for="mic-level">{ t(lang, Key::MicLevel) }</label>
            <meter id="mic-level" min="0" max="1" low="0.02" optimum="0.5" value={level.to_string()}
                aria-describedby="mic-level-hint" />
            <small id="mic-level-hint">{ t(lang, Key::MicLevelHint) }</small>
            <button type="button" id="speaker-test" onclick={on_test} disabled={*playing}>
                { t(lang, Key::SpeakerTest) }
            </button>
            <audio ref={sound} id="speaker-test-sound" />
            <p role="status" class="hint">
                if *playing { { t(lang, Key::SpeakerTestPlaying) } }
            </p>
        </div>
    }
}
