//! Media over the web port (ICE-TCP) against UDP: two headless Chromium browsers on hosts of
//! their own, once on an open network and once with UDP blocked. The join time from the
//! click on "Beitreten" to the first decoded frame, and the relay's CPU per packet it sends
//! while the two talk.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::Value;

use super::proc;
use crate::browser::Browser;
use crate::netns::RELAY_IP;
use crate::two_hosts::{both_see_each_other, TwoHosts, MEDIA_TIMEOUT, ROOM};

/// How long the call is counted, after a warm-up.
pub const COUNTED_SECONDS: u64 = 15;
const COUNTED: Duration = Duration::from_secs(COUNTED_SECONDS);
const WARM_UP: Duration = Duration::from_secs(3);

/// Video frames decoded on the newest peer connection (the call's, not the check's).
const FRAMES: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  const pc = (window.__testPeerConnections || []).filter(p => p.connectionState !== 'closed').pop();
  if (!pc) return 0;
  let frames = 0;
  (await pc.getStats()).forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'video') frames += r.framesDecoded || 0; });
  return frames;
})().then(done, () => done(0));
"#;

pub struct PathRun {
    pub first_frame_ms: f64,
    pub microseconds_per_packet: f64,
    pub packets_per_second: f64,
}

/// From the click to the first frame of the other's video.
async fn click_to_first_frame(browser: &Browser) -> Result<f64> {
    let button = browser.button("Beitreten").await?;
    let clicked = Instant::now();
    button.click().await?;
    loop {
        let frames: Value = browser.client.execute_async(FRAMES, vec![]).await?;
        if frames.as_u64().unwrap_or(0) > 0 {
            return Ok(clicked.elapsed().as_secs_f64() * 1000.0);
        }
        if clicked.elapsed() > MEDIA_TIMEOUT {
            bail!("no frame within {MEDIA_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One call: Anna joins first, Ben's join is timed, then the call is counted.
pub async fn one_call(udp_blocked: bool) -> Result<PathRun> {
    let call = TwoHosts::ready(None).await?;
    if udp_blocked {
        call.anna_host.block_udp()?;
        call.ben_host.block_udp()?;
    }
    let base = format!("http://{RELAY_IP}:{}", call.http_port);
    call.anna.join(&base, ROOM, "Anna").await?;
    call.ben
        .open_prejoin(&format!("{base}/r/{ROOM}"), "Ben")
        .await?;
    // A person reads the check's verdict before joining; it must not share the timed part.
    call.ben.connection_check().await?;
    let first_frame_ms = click_to_first_frame(&call.ben).await?;
    both_see_each_other(&call.anna, &call.ben, MEDIA_TIMEOUT).await?;
    let path = call.ben.media_path().await?;
    let expected = if udp_blocked { "tcp" } else { "udp" };
    if path.as_deref() != Some(expected) {
        bail!("the call went over {path:?}, not {expected}");
    }
    tokio::time::sleep(WARM_UP).await;
    let pid = call.relay.pid();
    let (ticks, sent) = (
        proc::cpu_ticks(pid)?,
        call.relay.metric("datagrams_sent_total")?,
    );
    tokio::time::sleep(COUNTED).await;
    let cpu_seconds = (proc::cpu_ticks(pid)? - ticks) as f64 / proc::TICKS_PER_SECOND as f64;
    let packets = call.relay.metric("datagrams_sent_total")? - sent;
    if packets <= 0.0 {
        bail!("the relay sent nothing during the counted call");
    }
    Ok(PathRun {
        first_frame_ms,
        microseconds_per_packet: cpu_seconds * 1e6 / packets,
        packets_per_second: packets / COUNTED.as_secs_f64(),
    })
}
