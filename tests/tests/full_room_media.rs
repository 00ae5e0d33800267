//! A full room's media with the relay's bandwidth estimate on: twenty synthetic str0m
//! participants, each publishing a camera and a microphone and receiving all nineteen
//! others (with redundant audio negotiated, as browsers do). Every voice reaches everyone;
//! every picture either reaches its receiver or the relay has told that receiver it is
//! paused for its link. On this two-core machine the estimates wander (delay-based
//! estimation reads CPU jitter as queueing), so which pictures are paused varies from run
//! to run; that a paused picture is announced and an allotted one arrives does not.

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::bench::proc;
use sprechstunde_tests::load::{self, MediaProfile};
use sprechstunde_tests::relay::Relay;

const PEOPLE: u32 = 20;
const WINDOW_SECONDS: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_full_room_every_voice_arrives_and_every_picture_arrives_or_is_told_paused(
) -> Result<()> {
    let relay = Relay::start()?;
    // Thumbnails of 50 kbit/s: with nineteen voices about 2.3 Mbit/s a link.
    let profile = MediaProfile {
        video_bits_per_second: 50_000,
        frames_per_second: 10,
        redundant_audio: true,
        ..MediaProfile::default()
    };
    let mut people = Vec::new();
    for index in 0..PEOPLE {
        let source = std::net::IpAddr::from([127, 0, 2, 1 + index as u8]);
        people.push(load::sprechstunde::join(relay.http, source, "voll", index, profile).await?);
    }
    // The estimates start low and grow by probing.
    tokio::time::sleep(Duration::from_secs(10)).await;
    for p in &people {
        p.take();
        p.take_paused();
    }
    tokio::time::sleep(Duration::from_secs(WINDOW_SECONDS)).await;
    let mut audio = 0;
    let (mut shown, mut paused) = (0, 0);
    let mut missing = Vec::new();
    let per_picture = u64::from(profile.frames_per_second) * WINDOW_SECONDS;
    for (receiver, p) in people.iter().enumerate() {
        let counts = p.take();
        let paused_now = p.take_paused();
        audio += counts.audio_received;
        for sender in (0..PEOPLE).filter(|s| *s as usize != receiver) {
            let frames = counts.video_by_sender.get(&sender).copied().unwrap_or(0);
            if paused_now.contains(&sender) {
                paused += 1;
            } else if frames * 10 >= per_picture * 7 {
                shown += 1;
            } else {
                missing.push(format!("{sender}→{receiver}: {frames} frames"));
            }
        }
    }
    let pictures = PEOPLE * (PEOPLE - 1);
    let audio_sent = u64::from(pictures) * 50 * WINDOW_SECONDS;
    println!(
        "over {WINDOW_SECONDS} s: {audio} of {audio_sent} voice frames; of {pictures} pictures {shown} shown, {paused} paused for the link, {} neither; relay RSS {} KiB",
        missing.len(),
        proc::rss_kib(relay.pid()).unwrap_or(0)
    );
    ensure!(
        audio * 100 >= audio_sent * 97,
        "voices lost: {audio} of {audio_sent} frames"
    );
    ensure!(
        missing.is_empty(),
        "pictures neither shown nor told paused: {missing:?}"
    );
    for p in people {
        p.leave().await;
    }
    Ok(())
}
