//! A counselor's whole day in one room: one browser stays while fifty families come, send
//! their camera and microphone, and go, one after another (synthetic str0m participants of
//! the load generator, whose frames carry stamps rather than pictures). The counselor must receive every one of them
//! (in the first wave the thirteenth was never received: the session grew with every
//! visitor until its messages no longer fit), and the session must stay the size of one
//! visit, since the relay reuses the lines of those who left.

use std::time::Duration;

use anyhow::Result;
use sprechstunde_tests::browser::Driver;
use sprechstunde_tests::eventually;
use sprechstunde_tests::load::{self, MediaProfile};
use sprechstunde_tests::relay::Relay;

const VISITS: usize = 50;
const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counselor_receives_the_fifty_first_family_like_the_first() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let counselor = driver.browser().await?;
    counselor.join(&base, "sprechstunde", "Beraterin").await?;
    let mut largest = (0, 0);

    let profile = MediaProfile {
        video_bits_per_second: 300_000,
        frames_per_second: 15,
        ..MediaProfile::default()
    };
    for visit in 1..=VISITS as u32 {
        let name = format!("Last {visit}");
        let source = std::net::IpAddr::from([127, 0, 1, visit as u8]);
        let family =
            load::sprechstunde::join(relay.http, source, "sprechstunde", visit, profile).await?;
        eventually(
            &format!("the counselor to receive {name}'s camera and microphone"),
            MEDIA_TIMEOUT,
            || async {
                let (video, audio) = counselor.received_from(&name).await?;
                Ok(if video > 0 && audio > 0 {
                    Ok(())
                } else {
                    Err((video, audio))
                })
            },
        )
        .await?;
        let size = counselor.session().await?.lines_and_offer();
        largest = largest.max(size);
        family.leave().await;
        eventually(
            &format!("{name} to leave the counselor's screen"),
            MEDIA_TIMEOUT,
            || async {
                let stats = counselor.stats().await?;
                Ok(if stats.tiles.is_empty() {
                    Ok(())
                } else {
                    Err(stats.tiles)
                })
            },
        )
        .await?;
    }
    let after_the_day = counselor.session().await?.lines_and_offer();

    // The next family comes in a browser: both see and hear each other.
    let family = driver.browser().await?;
    family.join(&base, "sprechstunde", "Familie Letzte").await?;
    counselor
        .until_sees_and_hears("Familie Letzte", MEDIA_TIMEOUT)
        .await?;
    family
        .until_sees_and_hears("Beraterin", MEDIA_TIMEOUT)
        .await?;
    let with_the_last = counselor.session().await?.lines_and_offer();
    println!(
        "counselor's session: largest during {VISITS} visits {} B / {} m-lines; after the day {} B / {} m-lines; with a browser family {} B / {} m-lines",
        largest.0, largest.1, after_the_day.0, after_the_day.1, with_the_last.0, with_the_last.1
    );
    // The counselor's own three lines, and two person slots of microphone and camera: a
    // family that comes while the last one's lines are still being freed gets the other
    // slot. A browser family adds its screen line. Without reuse: 3 + 2 per visit.
    anyhow::ensure!(
        largest.1 <= 7 && with_the_last.1 <= 8,
        "the session grew with the day: {largest:?}, then {with_the_last:?}"
    );
    anyhow::ensure!(
        with_the_last.0 < 16 * 1024,
        "the relay's offer is {} bytes",
        with_the_last.0
    );
    Ok(())
}
