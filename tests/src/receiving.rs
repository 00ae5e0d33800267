//! What a browser receives of video, from `getStats()`, for tests where it is sent one
//! camera (the others join without one), and picking a setting in the room's settings panel.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde::Deserialize;

use crate::browser::Browser;

pub const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// What a browser receives of the one camera it is sent (the others join without one).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    pub video_bytes: u64,
    pub audio_packets: u64,
    pub frame_height: u64,
    pub frames_decoded: u64,
    pub pli_count: u64,
    pub frames_dropped: u64,
    /// Seconds the picture stood still (`totalFreezesDuration`).
    pub freezes: f64,
}

pub async fn received(browser: &Browser) -> Result<Received> {
    let value = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             (async () => {
               const out = { videoBytes: 0, audioPackets: 0, frameHeight: 0, framesDecoded: 0,
                             pliCount: 0, framesDropped: 0, freezes: 0 };
               for (const pc of (window.__testPeerConnections || [])) {
                 if (pc.connectionState === 'closed') continue;
                 (await pc.getStats()).forEach(s => {
                   if (s.type !== 'inbound-rtp') return;
                   if (s.kind === 'audio') { out.audioPackets += s.packetsReceived || 0; return; }
                   out.videoBytes += s.bytesReceived || 0;
                   out.frameHeight = Math.max(out.frameHeight, s.frameHeight || 0);
                   out.framesDecoded += s.framesDecoded || 0;
                   out.pliCount += s.pliCount || 0;
                   out.framesDropped += s.framesDropped || 0;
                   out.freezes += s.totalFreezesDuration || 0;
                 });
               }
               return out;
             })().then(done, e => done({ error: String(e) }));",
            vec![],
        )
        .await?;
    serde_json::from_value(value).context("unexpected stats shape")
}

pub async fn until_received<F>(browser: &Browser, what: &str, check: F) -> Result<Received>
where
    F: Fn(&Received) -> bool,
{
    until_received_within(browser, what, MEDIA_TIMEOUT, check).await
}

pub async fn until_received_within<F>(
    browser: &Browser,
    what: &str,
    timeout: Duration,
    check: F,
) -> Result<Received>
where
    F: Fn(&Received) -> bool,
{
    crate::eventually(what, timeout, || async {
        let now = received(browser).await?;
        Ok(if check(&now) { Ok(now) } else { Err(now) })
    })
    .await
}

/// Open the settings panel (once) and pick `value` in the select `id`.
pub async fn choose(browser: &Browser, id: &str, value: &str) -> Result<()> {
    let open = browser
        .eval(&format!("return !!document.getElementById({id:?});"))
        .await?;
    if open != serde_json::Value::Bool(true) {
        browser.click("#open-settings").await?;
    }
    let chosen = browser
        .eval(&format!(
            "const s = document.getElementById({id:?});
             if (!s) return 'no select';
             s.value = {value:?}; s.dispatchEvent(new Event('change', {{ bubbles: true }}));
             return s.value;"
        ))
        .await?;
    ensure!(chosen == value, "{id}: {chosen}");
    Ok(())
}
