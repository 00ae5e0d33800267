//! Background blur: the camera track goes through person segmentation in this page
//! (`client/js/blur.js`, MediaPipe's selfie model served by the relay) and comes out as a new
//! track whose background is blurred. That track is what is shown and sent.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MediaStreamTrack;

/// Where the relay serves the vendored runtime and model.
const RUNTIME_BASE: &str = "/vendor/selfie_segmentation/";

#[wasm_bindgen(module = "/js/blur.js")]
extern "C" {
    #[wasm_bindgen(js_name = startBlur, catch)]
    async fn start_blur(input: &MediaStreamTrack, base: &str) -> Result<JsValue, JsValue>;
}

/// How the blur keeps up, for the status line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BlurStats {
    /// Frames drawn and sent per second.
    pub fps: f64,
    /// Person masks computed per second; below the frame rate the mask lags movements.
    pub mask_fps: f64,
    pub ms_per_mask: f64,
    /// The device is too slow for a fresh mask on every frame.
    pub slow: bool,
}

pub struct Blur {
    processor: JsValue,
    track: MediaStreamTrack,
}

impl PartialEq for Blur {
    fn eq(&self, other: &Blur) -> bool {
        self.track.id() == other.track.id()
    }
}

fn number(object: &JsValue, name: &str) -> f64 {
    js_sys::Reflect::get(object, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
}

/// Call the processor's method `name` without arguments.
fn call(object: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    js_sys::Reflect::get(object, &JsValue::from_str(name))?
        .dyn_into::<js_sys::Function>()?
        .call0(object)
}

impl Blur {
    /// Start blurring `camera`. Downloads the runtime on first use (about 6 MB, from the
    /// relay). The camera track stays owned by the caller.
    pub async fn start(camera: &MediaStreamTrack) -> Result<Blur, JsValue> {
        let processor = start_blur(camera, RUNTIME_BASE).await?;
        let track = js_sys::Reflect::get(&processor, &JsValue::from_str("track"))?
            .dyn_into::<MediaStreamTrack>()?;
        Ok(Blur { processor, track })
    }

    /// The blurred video, to show and to send.
    pub fn track(&self) -> &MediaStreamTrack {
        &self.track
    }

    pub fn stats(&self) -> BlurStats {
        let Ok(stats) = call(&self.processor, "stats") else {
            return BlurStats::default();
        };
        BlurStats {
            fps: number(&stats, "fps"),
            mask_fps: number(&stats, "maskFps"),
            ms_per_mask: number(&stats, "msPerMask"),
            slow: js_sys::Reflect::get(&stats, &JsValue::from_str("slow"))
                .ok()
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }
    }
}

impl Drop for Blur {
    /// Stops drawing and ends the blurred track; the camera itself goes on.
    fn drop(&mut self) {
        let _ = call(&self.processor, "stop");
    }
}
