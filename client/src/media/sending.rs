//! What this participant sends: microphone, camera and screen tracks, the devices they come
//! from and the quality cap. Switching any of them replaces the track on its line of the
//! peer connection; the call goes on.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{MediaStream, MediaStreamTrack};

use super::blur::Blur;
use super::local::{self, DeviceChoice, MediaError};
use super::peer::{Line, Peer};
use super::quality::Quality;

#[derive(Default)]
pub struct Sending {
    pub microphone: Option<MediaStreamTrack>,
    pub mic_on: bool,
    pub camera: Option<MediaStreamTrack>,
    /// The person wants their background blurred: the raw camera is then never sent.
    pub blur_wanted: bool,
    /// The blur of the current camera track, once it runs.
    pub blur: Option<Rc<Blur>>,
    /// Blur was wanted but could not start: the camera line stays empty.
    pub blur_failed: bool,
    pub screen: Option<MediaStreamTrack>,
    pub choice: DeviceChoice,
    pub quality: Quality,
    /// Keeps the "sharing ended in the browser's own bar" handler alive.
    on_screen_ended: Option<Closure<dyn FnMut()>>,
}

pub type SharedSending = Rc<RefCell<Sending>>;

impl Sending {
    /// From what pre-join captured: a muted microphone sends nothing; a camera that is to
    /// stay off is stopped at once (its light goes off).
    pub fn from_prejoin(
        stream: Option<&MediaStream>,
        mic_on: bool,
        camera_on: bool,
        choice: DeviceChoice,
        quality: Quality,
        blur_wanted: bool,
    ) -> Sending {
        let microphone = stream.and_then(|s| local::first_track(s, "audio"));
        if let Some(track) = &microphone {
            track.set_enabled(mic_on);
        }
        let mut camera = stream.and_then(|s| local::first_track(s, "video"));
        if !camera_on {
            if let Some(track) = camera.take() {
                track.stop();
            }
        }
        Sending {
            microphone,
            mic_on,
            camera,
            blur_wanted,
            choice,
            quality,
            ..Default::default()
        }
    }

    /// The microphone track to send now (none while muted).
    pub fn microphone_to_send(&self) -> Option<&MediaStreamTrack> {
        self.microphone.as_ref().filter(|_| self.mic_on)
    }

    /// The camera track to send now: with blur wanted only the blurred one, never the raw.
    pub fn camera_to_send(&self) -> Option<&MediaStreamTrack> {
        if self.blur_wanted {
            self.blur.as_ref().map(|b| b.track())
        } else {
            self.camera.as_ref()
        }
    }

    /// What the others see of the camera, for the own tile.
    pub fn camera_stream(&self) -> Option<MediaStream> {
        self.camera_to_send().and_then(|t| local::stream_of(&[t]))
    }

    pub fn stop_all(&mut self) {
        self.blur = None;
        for track in [
            self.microphone.take(),
            self.camera.take(),
            self.screen.take(),
        ]
        .into_iter()
        .flatten()
        {
            track.stop();
        }
        self.on_screen_ended = None;
    }
}

async fn send_on(peer: Option<&Rc<Peer>>, line: Line, track: Option<&MediaStreamTrack>) {
    if let Some(peer) = peer {
        // A failed replacement leaves the line as it was; the call goes on.
        let _ = peer.replace_track(line, track).await;
    }
}

/// Take over what was captured while joining (in parallel with signaling, so the join does
/// not wait for the camera): the tracks go onto the lines of the peer connection if it exists
/// already, else the peer connection is made with them. Returns what is really there.
pub async fn adopt_capture(
    sending: &SharedSending,
    stream: Option<&MediaStream>,
    mic_on: bool,
    camera_on: bool,
    peer: impl Fn() -> Option<Rc<Peer>>,
) -> (bool, bool) {
    {
        let mut sending = sending.borrow_mut();
        let captured = Sending::from_prejoin(
            stream,
            mic_on,
            camera_on,
            sending.choice.clone(),
            sending.quality,
            sending.blur_wanted,
        );
        sending.microphone = captured.microphone;
        sending.mic_on = mic_on;
        sending.camera = captured.camera;
    }
    let (mic, camera) = {
        let sending = sending.borrow();
        (
            sending.microphone_to_send().cloned(),
            sending.camera.is_some(),
        )
    };
    if sending.borrow().blur_wanted && camera {
        // Puts the blurred track on the line itself once it runs.
        set_blur(sending, &peer, true).await;
    }
    let peer = peer();
    send_on(peer.as_ref(), Line::Microphone, mic.as_ref()).await;
    let camera_track = sending.borrow().camera_to_send().cloned();
    send_on(peer.as_ref(), Line::Camera, camera_track.as_ref()).await;
    apply_quality(sending, peer).await;
    (mic.is_some(), camera)
}

/// Mute or unmute. Muting stops sending audio packets altogether (not only silence).
pub async fn set_mic(
    sending: &SharedSending,
    peer: Option<Rc<Peer>>,
    on: bool,
) -> Result<(), MediaError> {
    let existing = sending.borrow().microphone.clone();
    let track = match existing {
        Some(track) if track.ready_state() == web_sys::MediaStreamTrackState::Live => track,
        _ if !on => {
            sending.borrow_mut().mic_on = false;
            return Ok(());
        }
        _ => {
            let choice = sending.borrow().choice.clone();
            let track = local::track("audio", &choice).await?;
            sending.borrow_mut().microphone = Some(track.clone());
            track
        }
    };
    track.set_enabled(on);
    sending.borrow_mut().mic_on = on;
    send_on(peer.as_ref(), Line::Microphone, on.then_some(&track)).await;
    Ok(())
}

/// Camera on (captures anew) or off (stops the track: the camera light goes off).
pub async fn set_camera(
    sending: &SharedSending,
    peer: Option<Rc<Peer>>,
    on: bool,
) -> Result<(), MediaError> {
    if !on {
        let (old, old_blur) = {
            let mut sending = sending.borrow_mut();
            (sending.camera.take(), sending.blur.take())
        };
        send_on(peer.as_ref(), Line::Camera, None).await;
        drop(old_blur);
        if let Some(track) = old {
            track.stop();
        }
        return Ok(());
    }
    let choice = sending.borrow().choice.clone();
    let track = local::track("video", &choice).await?;
    let blur = if sending.borrow().blur_wanted {
        Blur::start(&track).await.ok().map(Rc::new)
    } else {
        None
    };
    let (old, old_blur) = {
        let mut sending = sending.borrow_mut();
        sending.blur_failed = sending.blur_wanted && blur.is_none();
        (
            sending.camera.replace(track.clone()),
            std::mem::replace(&mut sending.blur, blur),
        )
    };
    // Replace first, stop the old camera after: the sender never holds an ended track.
    let to_send = sending.borrow().camera_to_send().cloned();
    send_on(peer.as_ref(), Line::Camera, to_send.as_ref()).await;
    drop(old_blur);
    if let Some(old) = old {
        old.stop();
    }
    apply_quality(sending, peer).await;
    Ok(())
}

/// Blur on or off for the camera, now and for every camera track to come. `peer` is asked
/// after the (slow, first time) start of the blur: the call may have connected meanwhile.
pub async fn set_blur(sending: &SharedSending, peer: impl Fn() -> Option<Rc<Peer>>, on: bool) {
    sending.borrow_mut().blur_wanted = on;
    if !on {
        let (camera, old_blur) = {
            let mut sending = sending.borrow_mut();
            sending.blur_failed = false;
            (sending.camera.clone(), sending.blur.take())
        };
        send_on(peer().as_ref(), Line::Camera, camera.as_ref()).await;
        drop(old_blur);
        return;
    }
    let camera = sending.borrow().camera.clone();
    let Some(camera) = camera else {
        // Applied when the camera comes on.
        return;
    };
    if sending.borrow().blur.is_some() {
        return;
    }
    let started = Blur::start(&camera).await;
    let still_wanted = {
        let sending = sending.borrow();
        sending.blur_wanted && sending.camera.as_ref().map(|c| c.id()) == Some(camera.id())
    };
    if !still_wanted {
        return;
    }
    match started {
        Ok(blur) => {
            let blur = Rc::new(blur);
            {
                let mut sending = sending.borrow_mut();
                sending.blur = Some(blur.clone());
                sending.blur_failed = false;
            }
            let peer = peer();
            send_on(peer.as_ref(), Line::Camera, Some(blur.track())).await;
            apply_quality(sending, peer).await;
        }
        Err(_) => {
            // Never fall back to the raw camera unasked: the line stays empty.
            sending.borrow_mut().blur_failed = true;
            send_on(peer().as_ref(), Line::Camera, None).await;
        }
    }
}

/// Use another camera or microphone; a live track of that kind is replaced at once.
pub async fn switch_device(
    sending: &SharedSending,
    peer: Option<Rc<Peer>>,
    choice: DeviceChoice,
) -> Result<(), MediaError> {
    let previous = std::mem::replace(&mut sending.borrow_mut().choice, choice.clone());
    if choice.microphone != previous.microphone && sending.borrow().microphone.is_some() {
        let track = local::track("audio", &choice).await?;
        let mic_on = sending.borrow().mic_on;
        track.set_enabled(mic_on);
        if let Some(old) = sending.borrow_mut().microphone.replace(track.clone()) {
            old.stop();
        }
        if mic_on {
            send_on(peer.as_ref(), Line::Microphone, Some(&track)).await;
        }
    }
    if choice.camera != previous.camera && sending.borrow().camera.is_some() {
        // Release the old camera before opening the new one: on many phones the front and
        // the back camera cannot be open at the same time.
        set_camera(sending, peer.clone(), false).await?;
        set_camera(sending, peer, true).await?;
    }
    Ok(())
}

pub async fn apply_quality(sending: &SharedSending, peer: Option<Rc<Peer>>) {
    let quality = sending.borrow().quality;
    if let Some(peer) = peer {
        let _ = peer.set_quality(quality).await;
    }
}

/// Share the screen after the person picked it; `on_ended` runs when sharing is stopped
/// from the browser's own controls.
pub async fn start_screen(
    sending: &SharedSending,
    peer: Option<Rc<Peer>>,
    on_ended: impl Fn() + 'static,
) -> Result<(), MediaError> {
    let track = local::screen().await?;
    // Text on a shared screen must stay readable: keep the resolution, drop frames instead.
    let _ = js_sys::Reflect::set(
        &track,
        &wasm_bindgen::JsValue::from_str("contentHint"),
        &wasm_bindgen::JsValue::from_str("detail"),
    );
    let ended = Closure::<dyn FnMut()>::new(on_ended);
    track.set_onended(Some(ended.as_ref().unchecked_ref()));
    {
        let mut sending = sending.borrow_mut();
        if let Some(old) = sending.screen.replace(track.clone()) {
            old.stop();
        }
        sending.on_screen_ended = Some(ended);
    }
    send_on(peer.as_ref(), Line::Screen, Some(&track)).await;
    Ok(())
}

pub async fn stop_screen(sending: &SharedSending, peer: Option<Rc<Peer>>) {
    let old = {
        let mut sending = sending.borrow_mut();
        sending.on_screen_ended = None;
        sending.screen.take()
    };
    send_on(peer.as_ref(), Line::Screen, None).await;
    if let Some(track) = old {
        track.set_onended(None);
        track.stop();
    }
}
