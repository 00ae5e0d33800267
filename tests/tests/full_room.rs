//! A full room: `room_capacity` (20) participants, two of them real browsers and eighteen
//! synthetic str0m participants of the load generator. Everyone's negotiation succeeds:
//! each browser hears all nineteen others and gets each picture or the notice that it is
//! paused for its link, and the synthetic participants hear one another. The largest offer
//! and answer are reported. (That the pictures do flow in a full room once the link carries
//! them is `full_room_media`'s proof: here two browsers on two cores hold every link's
//! estimate near the audio alone.)

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::eventually;
use sprechstunde_tests::load::{self, MediaProfile, TrackKind};
use sprechstunde_tests::relay::Relay;

const SYNTHETIC: u32 = 18;
const TIMEOUT: Duration = Duration::from_secs(60);

/// The names of the participants whose picture `browser` shows as paused for its link.
async fn paused_pictures(browser: &Browser) -> Result<Vec<String>> {
    let names = browser
        .eval(
            "return [...document.querySelectorAll('figure.tile[data-participant]:not(.own)')]
               .filter(t => t.querySelector('.video-paused'))
               .map(t => (t.querySelector('figcaption') || { textContent: '' }).textContent);",
        )
        .await?;
    Ok(names
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect())
}

/// `browser` hears everyone in `others` and receives each one's picture, or shows it
/// paused where the relay's estimate of its link does not carry all of them (this machine
/// runs two browsers and eighteen participants on two cores, and the estimate follows the
/// load). Returns how many pictures were paused.
async fn receives_everyone(browser: &Browser, who: &str, others: &[String]) -> Result<usize> {
    eventually(
        &format!("{who} to receive all {} others", others.len()),
        TIMEOUT,
        || async {
            let paused = paused_pictures(browser).await?;
            let mut missing = Vec::new();
            for name in others {
                let (video, audio) = browser.received_from(name).await?;
                let shown = video > 0 || paused.iter().any(|p| p.ends_with(name.as_str()));
                if !shown || audio == 0 {
                    missing.push(format!("{name} (video {video}, audio {audio} packets)"));
                }
            }
            Ok(if missing.is_empty() {
                Ok(paused.len())
            } else {
                Err(missing)
            })
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_in_one_room_all_negotiate_and_each_browser_gets_every_voice_and_picture_or_its_pause(
) -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    anna.join(&base, "voll", "Anna").await?;

    // Light synthetic media: the point is negotiation, and two cores run everything.
    let profile = MediaProfile {
        video_bits_per_second: 100_000,
        frames_per_second: 10,
        ..MediaProfile::default()
    };
    let mut synthetic = Vec::new();
    for index in 0..SYNTHETIC {
        let source = std::net::IpAddr::from([127, 0, 2, 1 + index as u8]);
        synthetic.push(load::sprechstunde::join(relay.http, source, "voll", index, profile).await?);
    }
    let ben = driver.browser().await?;
    ben.join(&base, "voll", "Ben").await?;

    let synthetic_names = (0..SYNTHETIC).map(|index| format!("Last {index}"));
    let anna_others: Vec<String> = synthetic_names.clone().chain(["Ben".into()]).collect();
    let ben_others: Vec<String> = synthetic_names.chain(["Anna".into()]).collect();
    let anna_paused = receives_everyone(&anna, "Anna", &anna_others).await?;
    let ben_paused = receives_everyone(&ben, "Ben", &ben_others).await?;
    println!("pictures paused for the link: Anna {anna_paused}, Ben {ben_paused} of 19");
    eventually(
        "every synthetic participant to hear the other seventeen and get each picture or its pause",
        TIMEOUT,
        || async {
            let mut lacking = Vec::new();
            for (index, p) in synthetic.iter().enumerate() {
                let (voices, pictures) = (
                    p.senders_of(TrackKind::Audio),
                    p.senders_of(TrackKind::Video),
                );
                let paused = p.take_paused();
                let others = (0..SYNTHETIC).filter(|other| *other as usize != index);
                for other in others {
                    if !voices.contains(&other)
                        || !(pictures.contains(&other) || paused.contains(&other))
                    {
                        lacking.push(format!("{other}→{index}"));
                    }
                }
            }
            Ok(if lacking.is_empty() {
                Ok(())
            } else {
                Err(lacking)
            })
        },
    )
    .await?;

    let anna_session = anna.session().await?;
    let ben_session = ben.session().await?;
    println!("full room of 20: Anna's session {anna_session:?}, Ben's {ben_session:?}");
    let largest_offer = anna_session.offer_bytes.max(ben_session.offer_bytes);
    let largest_answer = anna_session.answer_bytes.max(ben_session.answer_bytes);
    ensure!(
        largest_offer < sprechstunde_shared::MAX_SDP_MESSAGE_BYTES as u64
            && largest_answer < sprechstunde_shared::MAX_SDP_MESSAGE_BYTES as u64,
        "offer {largest_offer} B, answer {largest_answer} B"
    );
    for participant in synthetic {
        participant.leave().await;
    }
    Ok(())
}
