//! The load generator of `cargo xtask bench`, briefly, against the real relay: two rooms of two
//! synthetic str0m participants. Their packets are forwarded, and the frames that come back
//! carry the stamps they were sent with (the bench's loss and delay figures rest on them).

use std::time::Duration;

use anyhow::{ensure, Result};
use sprechstunde_tests::load::{run_point, Load, MediaProfile, Target};
use sprechstunde_tests::relay::Relay;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synthetic_participants_get_their_media_forwarded() -> Result<()> {
    let relay = Relay::start()?;
    let target = Target::Sprechstunde {
        http: relay.http,
        pid: relay.pid(),
    };
    let point = run_point(
        &target,
        Load {
            rooms: 2,
            room_size: 2,
            profile: MediaProfile::default(),
            warm_up: Duration::from_millis(500),
            window: Duration::from_secs(2),
        },
    )
    .await?;
    let counts = &point.counts;
    eprintln!(
        "load smoke: {:.0} packets/s in, {:.0} forwarded, audio {}/{}, video {}/{} frames, delay p50 {:.1} ms",
        point.packets_in_per_second(),
        point.packets_forwarded_per_second(),
        counts.audio_received,
        counts.audio_expected,
        counts.video_received,
        counts.video_expected,
        point.delay_ms(None, 50.0)
    );
    ensure!(counts.rtp_sent > 0, "the participants sent nothing");
    ensure!(
        counts.rtp_received > 0,
        "the relay forwarded no packets: {counts:?}"
    );
    ensure!(
        counts.audio_received > 0 && counts.video_received > 0,
        "no stamped frame came back: {counts:?}"
    );
    Ok(())
}
