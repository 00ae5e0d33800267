//! The room state machine under any sequence of commands (four bytes a step): rooms stay
//! apart, chat senders are real, the not-admitted hear nothing, nothing panics.
#![no_main]

use sprechstunde_relay::sfu::engine::invariants::{Driver, Step};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let steps: Vec<Step> = data
        .chunks_exact(4)
        .take(400)
        .map(|c| Step::from_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if let Err(broken) = Driver::default().run(&steps) {
        panic!("{broken}");
    }
});
