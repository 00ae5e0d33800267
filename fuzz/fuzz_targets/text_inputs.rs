//! Any text as a name, chat line, room name or e-mail: cleaned once and for all.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    if let Err(broken) = sprechstunde_shared::invariants::text_inputs_are_clean(text) {
        panic!("{broken}");
    }
});
