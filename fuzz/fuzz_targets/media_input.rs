//! The relay's SDP, candidate and datagram paths under any bytes a client can send: nothing
//! panics, and the participant leaves without a trace.
#![no_main]

use sprechstunde_relay::sfu::engine::hostile_media::{hostile_datagrams, hostile_sdp};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (sdp, datagrams) = data.split_at(data.len() / 2);
    if let Err(broken) = hostile_sdp(sdp).and_then(|()| hostile_datagrams(datagrams)) {
        panic!("{broken}");
    }
});
