//! A full room: `room_capacity` (20) participants, two of them real browsers and eighteen
//! synthetic str0m participants of the load generator. Everyone's negotiation succeeds:
//! each browser hears all nineteen others and gets each picture or the notice that it is
//! paused for its link, the two browsers see each other (whoever speaks comes first), and
//! the synthetic participants hear one another. The largest offer and answer are reported.

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::eventually;
use sprechstunde_tests::load::{self, MediaProfile};
use sprechstunde_tests::relay::Relay;

const SYNTHETIC: u32 = 18;
const TIMEOUT: Duration = Duration::from_secs(60);

/// The names of the synthetic participants whose picture `browser` shows as paused for its
/// link.
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

/// `browser` hears every synthetic participant and receives each one's picture, or shows it
/// paused where the relay's estimate of its link does not carry all of them (this machine
/// runs two browsers and eighteen participants on two cores, and the estimate follows the
/// load). Returns how many pictures were paused.
async fn receives_everyone(browser: &Browser, who: &str) -> Result<usize> {
    eventually(
        &format!("{who} to receive all {SYNTHETIC} synthetic participants"),
        TIMEOUT,
        || async {
            let paused = paused_pictures(browser).await?;
            let mut missing = Vec::new();
            for index in 0..SYNTHETIC {
                let name = format!("Last {index}");
                let (video, audio) = browser.received_from(&name).await?;
                let shown = video > 0 || paused.iter().any(|p| p.ends_with(&name));
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
async fn twenty_in_one_room_all_negotiate_and_the_browsers_see_each_other() -> Result<()> {
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

    anna.until_sees_and_hears("Ben", TIMEOUT).await?;
    ben.until_sees_and_hears("Anna", TIMEOUT).await?;
    let anna_paused = receives_everyone(&anna, "Anna").await?;
    let ben_paused = receives_everyone(&ben, "Ben").await?;
    println!("pictures paused for the link: Anna {anna_paused}, Ben {ben_paused} of {SYNTHETIC}");
    eventually(
        "every synthetic participant to hear the other seventeen",
        TIMEOUT,
        || async {
            let deaf: Vec<usize> = synthetic
                .iter()
                .map(|p| p.senders_heard())
                .filter(|heard| *heard < SYNTHETIC as usize - 1)
                .collect();
            Ok(if deaf.is_empty() { Ok(()) } else { Err(deaf) })
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
