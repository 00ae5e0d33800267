//! A call goes on while someone attacks the relay from another room: malformed and hostile
//! signaling, floods, too many connections, a foreign Origin, 100,000 garbage datagrams on the
//! media port and garbage sent from the address of a participant of the call itself. Each
//! attack gets the answer the protocol specifies, the counters rise, the relay's memory stays
//! bounded, and room A's video keeps being decoded after every step.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, ensure, Context, Result};
use sprechstunde_shared::{close_code, ClientMessage, ErrorCode, ServerMessage};
use sprechstunde_tests::bench::proc;
use sprechstunde_tests::browser::{Browser, Driver};
use sprechstunde_tests::garbage::{crafted, Noise};
use sprechstunde_tests::raw_ws::{connect_from, expect_error, join, next, send_raw, Socket};
use sprechstunde_tests::relay::Relay;

const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// Room A's video must have advanced since the last check.
struct Watch<'a> {
    viewer: &'a Browser,
    frames: u64,
}

impl Watch<'_> {
    async fn still_decoding(&mut self, after: &str) -> Result<()> {
        let before = self.frames;
        let stats = self
            .viewer
            .until_stats(
                &format!("room A's video to keep coming after {after}"),
                MEDIA_TIMEOUT,
                |s| s.frames_decoded() > before + 20 && s.live_videos() == 1,
            )
            .await?;
        self.frames = stats.frames_decoded();
        Ok(())
    }
}

/// Send `text` after a join (or without one) and expect this error.
async fn refused(text: &str, joined: bool, code: ErrorCode, relay: &Relay) -> Result<Socket> {
    let mut socket = connect_from(relay, ATTACKER).await?;
    if joined {
        send_raw(&mut socket, &join("raum-b", "Mallory")).await?;
        ensure!(matches!(
            next(&mut socket).await?,
            Ok(ServerMessage::Welcome { .. })
        ));
    }
    send_raw(&mut socket, text).await?;
    let message = expect_error(&mut socket, code)
        .await
        .with_context(|| format!("sending {text:.80}"))?;
    ensure!(!message.is_empty(), "an error without words for {text:.80}");
    Ok(socket)
}

/// The address and port Ben's browser sends its media from (the selected ICE pair).
async fn media_source(browser: &Browser) -> Result<SocketAddr> {
    let value = browser
        .client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
(async () => {
  for (const pc of window.__testPeerConnections || []) {
    if (pc.connectionState !== 'connected') continue;
    const report = await pc.getStats();
    let local = null;
    report.forEach((r) => {
      if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') local = r.localCandidateId;
    });
    const candidate = local && report.get(local);
    if (candidate) return `${candidate.address}:${candidate.port}`;
  }
  return null;
})().then(done, () => done(null));"#,
            vec![],
        )
        .await?;
    value
        .as_str()
        .context("no selected candidate pair")?
        .parse()
        .context("candidate address")
}

/// A UDP datagram with a forged source, through a raw socket (the tests run as root in their
/// own network namespace). The kernel fills in the IP checksum; UDP over IPv4 may omit its.
fn spoofed(from: SocketAddr, to: SocketAddr, payload: &[u8]) -> Result<Vec<u8>> {
    let (IpAddr::V4(source), IpAddr::V4(destination)) = (from.ip(), to.ip()) else {
        bail!("IPv4 only");
    };
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut packet = Vec::with_capacity(total);
    packet.extend([0x45, 0x00]);
    packet.extend((total as u16).to_be_bytes());
    packet.extend([0x00, 0x00, 0x40, 0x00, 64, 17, 0x00, 0x00]);
    packet.extend(source.octets());
    packet.extend(destination.octets());
    packet.extend(from.port().to_be_bytes());
    packet.extend(to.port().to_be_bytes());
    packet.extend((udp_len as u16).to_be_bytes());
    packet.extend([0x00, 0x00]);
    packet.extend(payload);
    Ok(packet)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_a_talks_on_while_room_b_attacks() -> Result<()> {
    let relay = Relay::start()?;
    let base = relay.url("");
    let driver = Driver::start().await?;
    let anna = driver.browser().await?;
    let ben = driver.browser().await?;
    anna.join(&base, "raum-a", "Anna").await?;
    ben.join(&base, "raum-a", "Ben").await?;
    let first = ben
        .until_stats("Ben to see Anna", MEDIA_TIMEOUT, |s| s.live_videos() == 1)
        .await?;
    let mut watch = Watch {
        viewer: &ben,
        frames: first.frames_decoded(),
    };
    let rss_before = proc::rss_kib(relay.pid())?;
    let errors_before = relay.metric("signaling_errors_total")?;

    // Malformed, unknown and duplicate fields, wrong types, out of order.
    refused("{\"type\":", false, ErrorCode::Malformed, &relay).await?;
    refused(
        r#"{"join":{"version":3,"room":"raum-b","name":"M","role":"host"}}"#,
        false,
        ErrorCode::Malformed,
        &relay,
    )
    .await?;
    refused(
        r#"{"join":{"version":3,"room":"raum-b","room":"raum-a","name":"M"}}"#,
        false,
        ErrorCode::Malformed,
        &relay,
    )
    .await?;
    refused(
        r#"{"join":{"version":"2","room":7,"name":["M"]}}"#,
        false,
        ErrorCode::Malformed,
        &relay,
    )
    .await?;
    refused(
        &ClientMessage::Chat {
            text: "vor dem Beitritt".into(),
            to: None,
        }
        .to_json(),
        false,
        ErrorCode::OutOfOrder,
        &relay,
    )
    .await?;
    refused(
        &ClientMessage::Offer {
            sdp: "v=0\r\nx".into(),
        }
        .to_json(),
        true,
        ErrorCode::InvalidSdp,
        &relay,
    )
    .await?;
    watch.still_decoding("malformed messages").await?;

    // A 1 MiB message: `too_large`, and the connection is closed (1009, message too big).
    let mut big = connect_from(&relay, ATTACKER).await?;
    send_raw(&mut big, &join("raum-b", "Mallory")).await?;
    ensure!(matches!(
        next(&mut big).await?,
        Ok(ServerMessage::Welcome { .. })
    ));
    let _ = send_raw(&mut big, &"x".repeat(1 << 20)).await;
    match next(&mut big).await? {
        Ok(ServerMessage::Error {
            code: ErrorCode::TooLarge,
            ..
        }) => {}
        other => bail!("a 1 MiB message was answered with {other:?}"),
    }
    match next(&mut big).await? {
        Err(code) => ensure!(code == Some(1009), "a 1 MiB message closed with {code:?}"),
        Ok(other) => bail!("after too_large came {other:?}"),
    }
    watch.still_decoding("a 1 MiB message").await?;

    // 1,000 messages a second for two seconds from a joined client.
    let mut flood = connect_from(&relay, ATTACKER).await?;
    send_raw(&mut flood, &join("raum-b", "Flut")).await?;
    ensure!(matches!(
        next(&mut flood).await?,
        Ok(ServerMessage::Welcome { .. })
    ));
    let chat = ClientMessage::Chat {
        text: "Flut".into(),
        to: None,
    }
    .to_json();
    let mut sent = 0;
    'flood: for _ in 0..20 {
        for _ in 0..100 {
            if send_raw(&mut flood, &chat).await.is_err() {
                break 'flood;
            }
            sent += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut limited = false;
    let closed = loop {
        match next(&mut flood).await {
            Ok(Ok(ServerMessage::Error {
                code: ErrorCode::RateLimited,
                ..
            })) => limited = true,
            Ok(Ok(_)) => {}
            Ok(Err(code)) => break code,
            Err(_) => bail!("the flood was neither refused nor closed"),
        }
    };
    ensure!(
        limited || closed.is_none(),
        "no rate-limit error for {sent} messages"
    );
    ensure!(
        closed.is_none() || closed == Some(close_code::PROTOCOL_ABUSE),
        "the flood closed with {closed:?}"
    );
    watch.still_decoding("a message flood").await?;

    // 50 connections from one address, then the 51st is refused (429).
    let mut held = Vec::new();
    for _ in 0..50 {
        held.push(connect_from(&relay, ATTACKER).await?);
    }
    match connect_from(&relay, ATTACKER).await {
        Err(e) => ensure!(e.to_string().contains("429"), "the 51st: {e}"),
        Ok(_) => bail!("the 51st connection from one address was accepted"),
    }
    drop(held);
    watch.still_decoding("50 connections").await?;

    // A foreign Origin.
    {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut request = relay.ws_url().into_client_request()?;
        request
            .headers_mut()
            .insert("origin", "https://evil.example".parse()?);
        match tokio_tungstenite::connect_async(request).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                ensure!(response.status() == 403, "status {}", response.status())
            }
            other => bail!("a foreign origin was let in: {:?}", other.map(|_| ())),
        }
    }

    // 100,000 garbage datagrams on the media port from an unknown address.
    let dropped_before = relay.metric("datagrams_dropped_total")?;
    let udp = tokio::net::UdpSocket::bind((ATTACKER, 0)).await?;
    let mut noise = Noise(0x0a77_ac4e_0001);
    let mut datagrams = 0u32;
    while datagrams < 100_000 {
        for datagram in crafted(&mut noise) {
            udp.send_to(&datagram, relay.media).await?;
            datagrams += 1;
            // About 20,000 a second: the kernel's buffer holds, the relay reads them all.
            if datagrams.is_multiple_of(200) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            if datagrams == 100_000 {
                break;
            }
        }
    }
    let dropped =
        sprechstunde_tests::eventually("the garbage counted", Duration::from_secs(10), || async {
            let dropped = relay.metric("datagrams_dropped_total")? - dropped_before;
            Ok(if dropped >= 90_000.0 {
                Ok(dropped)
            } else {
                Err(dropped)
            })
        })
        .await?;
    watch.still_decoding("100,000 garbage datagrams").await?;

    // Garbage from Ben's own media address: it reaches the participant's own ICE, DTLS and
    // SRTP state, which must drop it without ending his call.
    let ben_address = media_source(&ben).await?;
    let mut watch_anna = Watch {
        viewer: &anna,
        frames: anna.stats().await?.frames_decoded(),
    };
    let received_before = relay.metric("datagrams_received_total")?;
    let dropped_before = relay.metric("datagrams_dropped_total")?;
    let mut forged = 0u32;
    // What demultiplexing hands to a participant's DTLS and SRTP (RFC 7983 first bytes);
    // STUN must carry the participant's ICE credentials, and garbage never does.
    let mut for_ben = 0u32;
    let raw = socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::RAW,
        Some(socket2::Protocol::from(255)), // IPPROTO_RAW: we write the IP header
    )
    .context("a raw socket (the tests run as root)")?;
    let target = socket2::SockAddr::from(relay.media);
    let mut noise = Noise(0xbe4_0000_0002);
    for round in 0..5 {
        for datagram in crafted(&mut noise) {
            raw.send_to(&spoofed(ben_address, relay.media, &datagram)?, &target)?;
            forged += 1;
            for_ben += u32::from(matches!(datagram.first(), Some(20..=63 | 128..=191)));
        }
        tokio::time::sleep(Duration::from_millis(100 * (round + 1))).await;
    }
    // They were taken as Ben's (not dropped as strangers'), so they reached his state.
    let taken = (relay.metric("datagrams_received_total")? - received_before)
        - (relay.metric("datagrams_dropped_total")? - dropped_before);
    eprintln!("{taken} of {forged} forged datagrams reached Ben's connection ({for_ben} look like DTLS or RTP)");
    ensure!(
        taken >= f64::from(for_ben) * 0.9,
        "of {for_ben} forged DTLS and RTP datagrams only {taken} reached Ben's connection"
    );
    watch
        .still_decoding("garbage from Ben's own address")
        .await?;
    watch_anna
        .still_decoding("garbage from Ben's own address (Ben's video at Anna)")
        .await?;

    // Counters rose, memory stayed bounded, room A noticed nothing, the relay is well.
    let errors = relay.metric("signaling_errors_total")? - errors_before;
    ensure!(errors >= 6.0, "only {errors} signaling errors counted");
    let rss_after = proc::rss_kib(relay.pid())?;
    eprintln!(
        "relay memory {rss_before} KiB before, {rss_after} KiB after; {dropped} datagrams dropped; {errors} signaling errors"
    );
    ensure!(
        rss_after < rss_before + 64 * 1024,
        "the relay grew from {rss_before} KiB to {rss_after} KiB"
    );
    ensure!(
        relay.metric("participants")? <= 2.0,
        "attackers are still in: {}",
        relay.metric("participants")?
    );
    let people = ben
        .eval("return document.querySelectorAll('figure.tile[data-participant]:not(.own)').length;")
        .await?;
    ensure!(people == 1, "Ben sees {people} others in room A");
    let (status, body) = relay.get("/healthz")?;
    ensure!(status == 200 && body == "ok", "{status} {body}");
    ensure!(!relay.log().contains("panicked"));
    anna.close().await?;
    ben.close().await?;
    Ok(())
}
