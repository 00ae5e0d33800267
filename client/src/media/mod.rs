//! Media in the browser, apart from any view: the local camera and microphone, and the one
//! peer connection to the relay.

pub mod audio;
pub mod blur;
pub mod local;
pub mod peer;
pub mod probe;
pub mod quality;
pub mod sending;
pub mod support;
