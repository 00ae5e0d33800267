//! The page's own sound: one audio context for all of it (a new one each time may start
//! suspended and stay silent, and browsers allow only a few), short tones made in the page
//! (no sound file to load), the microphone's level, and playing through a chosen speaker.

use std::cell::RefCell;

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{
    AnalyserNode, AudioContext, AudioNode, HtmlMediaElement, MediaStream,
    MediaStreamAudioSourceNode,
};

thread_local! {
    static CONTEXT: RefCell<Option<AudioContext>> = const { RefCell::new(None) };
}

/// The page's audio context, resumed (it starts suspended until the page was used).
pub fn context() -> Option<AudioContext> {
    let context = CONTEXT.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            *cell = AudioContext::new().ok();
        }
        cell.clone()
    })?;
    let _ = context.resume();
    Some(context)
}

/// Beeps of `(start offset in s, frequency in Hz)`, 0.12 s each, into `output`.
pub fn beeps(context: &AudioContext, output: &AudioNode, beeps: &[(f64, f32)]) {
    let now = context.current_time();
    for &(offset, frequency) in beeps {
        let (Ok(oscillator), Ok(gain)) = (context.create_oscillator(), context.create_gain())
        else {
            return;
        };
        oscillator.frequency().set_value(frequency);
        gain.gain().set_value(0.15);
        let _ = oscillator.connect_with_audio_node(&gain);
        let _ = gain.connect_with_audio_node(output);
        let _ = oscillator.start_with_when(now + offset);
        let _ = oscillator.stop_with_when(now + offset + 0.12);
    }
}

/// A stream of beeps, for a media element that plays it through the chosen speaker (an
/// audio context itself cannot choose one in most browsers).
pub fn beeps_stream(tones: &[(f64, f32)]) -> Option<MediaStream> {
    let context = context()?;
    let destination = context.create_media_stream_destination().ok()?;
    beeps(&context, &destination, tones);
    Some(destination.stream())
}

/// Play through this speaker, if the browser can choose (`setSinkId`).
pub fn play_through(element: &HtmlMediaElement, sink_id: &str) {
    let Ok(set_sink) = js_sys::Reflect::get(element, &JsValue::from_str("setSinkId")) else {
        return;
    };
    if let Some(set_sink) = set_sink.dyn_ref::<js_sys::Function>() {
        let _ = set_sink.call1(element, &JsValue::from_str(sink_id));
    }
}

/// How loud a stream's microphone is, read as often as wanted.
pub struct LevelMeter {
    /// Kept to be disconnected: a source left connected keeps the shared context pulling
    /// the microphone's samples after the meter is gone.
    source: MediaStreamAudioSourceNode,
    analyser: AnalyserNode,
    samples: Vec<f32>,
}

impl LevelMeter {
    /// `None` when the stream has no microphone or the browser has no audio analysis.
    pub fn new(stream: &MediaStream) -> Option<LevelMeter> {
        if stream.get_audio_tracks().length() == 0 {
            return None;
        }
        let context = context()?;
        let source = context.create_media_stream_source(stream).ok()?;
        let analyser = context.create_analyser().ok()?;
        analyser.set_fft_size(1024);
        source.connect_with_audio_node(&analyser).ok()?;
        let samples = vec![0.0; analyser.fft_size() as usize];
        Some(LevelMeter {
            source,
            analyser,
            samples,
        })
    }

    /// The loudest sample of the last few milliseconds, 0 (silence) to 1 (full scale).
    pub fn level(&mut self) -> f32 {
        self.analyser.get_float_time_domain_data(&mut self.samples);
        self.samples
            .iter()
            .fold(0.0f32, |peak, sample| peak.max(sample.abs()))
            .min(1.0)
    }
}

impl Drop for LevelMeter {
    fn drop(&mut self) {
        let _ = self.source.disconnect();
        let _ = self.analyser.disconnect();
    }
}
