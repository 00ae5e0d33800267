//! The pre-call check beside the camera preview: the microphone's level moves with the
//! (fake) microphone's sound, and "Lautsprecher testen" plays tones through the speaker the
//! family chose.

use std::time::Duration;

use anyhow::{ensure, Result};
use fantoccini::Locator;
use serde_json::Value;
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::relay::Relay;

/// The loudest the level meter shows within 5 s (Chromium's fake microphone beeps).
const LOUDEST_LEVEL: &str = r#"
const done = arguments[arguments.length - 1];
let loudest = 0;
const started = Date.now();
const timer = setInterval(() => {
  const meter = document.getElementById('mic-level');
  loudest = Math.max(loudest, meter ? meter.value : 0);
  if (Date.now() - started > 5000) { clearInterval(timer); done(loudest); }
}, 50);
"#;

/// What the test sound element plays: its state, speaker, and the loudest sample of its
/// stream within 1.5 s, measured by the page's own analyser.
const TEST_SOUND: &str = r#"
const done = arguments[arguments.length - 1];
const el = document.getElementById('speaker-test-sound');
const stream = el.srcObject;
if (!stream) { done({ stream: false }); return; }
const context = new AudioContext();
const analyser = context.createAnalyser();
context.createMediaStreamSource(stream).connect(analyser);
const samples = new Float32Array(analyser.fftSize);
let loudest = 0;
const started = Date.now();
const timer = setInterval(() => {
  analyser.getFloatTimeDomainData(samples);
  for (const s of samples) loudest = Math.max(loudest, Math.abs(s));
  if (Date.now() - started > 1500) {
    clearInterval(timer);
    done({ stream: true, paused: el.paused, sinkId: el.sinkId || '', loudest,
           live: stream.getAudioTracks().some(t => t.readyState === 'live') });
  }
}, 30);
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_microphone_level_moves_and_the_speaker_test_plays_on_the_chosen_speaker() -> Result<()>
{
    let relay = Relay::start()?;
    let driver = Driver::start().await?;
    let family = driver.browser().await?;
    family
        .open_prejoin(&relay.url("/r/probe"), "Familie Demir")
        .await?;
    ensure!(
        family
            .eval("return !!document.getElementById('mic-level');")
            .await?
            == Value::Bool(false),
        "a level meter before the microphone is on"
    );
    family
        .button("Kamera und Mikrofon testen")
        .await?
        .click()
        .await?;
    family.wait_for(Locator::Id("mic-level")).await?;
    let loudest = family.client.execute_async(LOUDEST_LEVEL, vec![]).await?;
    ensure!(
        loudest.as_f64().is_some_and(|level| level > 0.02),
        "the level meter reached only {loudest} in 5 s"
    );

    // A speaker chosen in the settings is the one the test plays on.
    family.click("details.prejoin-settings summary").await?;
    let speaker = family
        .eval(
            "const s = document.getElementById('speaker-device');
             const o = [...s.options].find(o => o.value !== '' && o.value !== 'default');
             if (!o) return null;
             s.value = o.value; s.dispatchEvent(new Event('change', { bubbles: true }));
             return o.value;",
        )
        .await?;
    let speaker = speaker.as_str().unwrap_or_default().to_string();
    ensure!(!speaker.is_empty(), "no speaker to choose from");
    family.click("#speaker-test").await?;
    let status = family.text("div.audio-check p[role=status]").await?;
    ensure!(
        status.contains("drei kurze Töne"),
        "while the tone plays the page says {status:?}"
    );
    let sound = family.client.execute_async(TEST_SOUND, vec![]).await?;
    ensure!(
        sound["stream"] == Value::Bool(true)
            && sound["paused"] == Value::Bool(false)
            && sound["live"] == Value::Bool(true)
            && sound["sinkId"].as_str() == Some(speaker.as_str())
            && sound["loudest"].as_f64().is_some_and(|level| level > 0.05),
        "the test sound: {sound} (speaker chosen {speaker})"
    );
    family
        .until_true(
            "the button to be ready again",
            Duration::from_secs(5),
            "return !document.getElementById('speaker-test').disabled;",
        )
        .await?;
    Ok(())
}
