//! Any bytes as a client message: no panic, and what decodes round-trips.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(broken) = sprechstunde_shared::invariants::decode_round_trips(data) {
        panic!("{broken}");
    }
});
