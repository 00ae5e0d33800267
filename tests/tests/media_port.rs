//! Garbage on the media port while a call runs: random bytes, truncated STUN, bad DTLS
//! records, RTP with padding longer than its payload, RTCP with wrong lengths. The relay drops
//! and counts them and the call goes on.

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::browser::{Driver, MediaStats};
use sprechstunde_tests::garbage::{crafted, Noise};
use sprechstunde_tests::relay::Relay;
use tokio::net::UdpSocket;

const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

fn frames(stats: &MediaStats) -> u64 {
    stats.frames_decoded()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_media_port_is_dropped_and_counted_while_a_call_goes_on() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    let ben = driver.browser().await?;
    anna.join(&base, "laerm", "Anna").await?;
    ben.join(&base, "laerm", "Ben").await?;
    let before = ben
        .until_stats("Ben to see Anna", MEDIA_TIMEOUT, |s| s.live_videos() == 1)
        .await?;
    let dropped_before = relay.metric("datagrams_dropped_total")?;

    let socket = UdpSocket::bind("127.0.0.1:0").await?;
    let mut noise = Noise(0x5eed_1234_abcd_ef01);
    let mut sent = 0u32;
    for round in 0..3 {
        for (i, datagram) in crafted(&mut noise).into_iter().enumerate() {
            socket.send_to(&datagram, relay.media).await?;
            sent += 1;
            // Paced, so the kernel's receive buffer does not drop them before the relay sees them.
            if i % 10 == 9 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(200 * (round + 1))).await;
    }

    let (status, body) = relay.get("/healthz")?;
    ensure!(
        status == 200 && body == "ok",
        "the relay is not healthy: {status} {body}"
    );
    let dropped = relay.metric("datagrams_dropped_total")? - dropped_before;
    ensure!(
        dropped >= f64::from(sent) * 0.9,
        "{sent} bad datagrams sent, only {dropped} counted as dropped"
    );
    let after = ben
        .until_stats("Anna's video to keep coming", MEDIA_TIMEOUT, |s| {
            frames(s) > frames(&before) + 50
        })
        .await?;
    ensure!(after.live_videos() == 1);
    ensure!(!relay.log().contains("panicked"));
    Ok(())
}
