//! The relay's SDP and datagram paths fed with whatever a hostile client can send: a
//! browser's offer with bytes spliced in or cut off, any candidate line, any answer, and any
//! datagram from the client's address once its offer was taken. Whatever comes, the engine
//! does not panic, the participant can still leave, and nothing of them stays behind.
//! Run by proptest here and by `cargo fuzz` (`fuzz/fuzz_targets/media_input.rs`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sprechstunde_shared::{DisplayName, MediaState, ParticipantId, RoomName};
use str0m::media::{Direction, MediaKind};
use str0m::{Candidate, Rtc};

use super::{Command, Sfu};
use crate::access::Entry;

const CLIENT: ParticipantId = ParticipantId(1);

fn client_address() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 5], 5000))
}

/// What a browser offers first: a microphone and a camera line, and its candidate.
fn browser_offer(now: Instant) -> Option<String> {
    let mut rtc = Rtc::new(now);
    let candidate = Candidate::host(client_address(), "udp").ok()?;
    rtc.add_local_candidate(candidate);
    let mut change = rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
    change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
    let (offer, _) = change.apply()?;
    Some(offer.to_sdp_string())
}

fn joined(now: Instant) -> Sfu {
    let mut sfu = Sfu::for_tests();
    if let (Ok(room), Ok(name)) = (RoomName::parse("beratung"), DisplayName::parse("Gast")) {
        sfu.handle_command(
            now,
            Command::Join {
                id: CLIENT,
                room,
                name,
                email: None,
                media: MediaState::default(),
                entry: Entry::Guest,
                password_checked: None,
                resume: "r".into(),
                address: client_address().ip(),
            },
        );
    }
    sfu
}

/// The participant leaves, and the relay keeps nothing of them.
fn leaves_without_trace(sfu: &mut Sfu, now: Instant) -> Result<(), String> {
    sfu.handle_timeout(now + Duration::from_secs(1));
    sfu.handle_command(now, Command::Leave { id: CLIENT });
    while sfu.poll_output().is_some() {}
    sfu.tables_hold_only_those_present()?;
    if sfu.members.contains(CLIENT) {
        return Err("the participant is still kept after leaving".into());
    }
    Ok(())
}

/// `bytes[0]` picks what is attacked, `bytes[1..3]` where, the rest is what is sent.
pub fn hostile_sdp(bytes: &[u8]) -> Result<(), String> {
    let now = Instant::now();
    let mut sfu = joined(now);
    let Some(offer) = browser_offer(now) else {
        return Ok(());
    };
    let (what, at, payload) = match bytes {
        [what, a, b, rest @ ..] => (*what, usize::from(u16::from_le_bytes([*a, *b])), rest),
        _ => return Ok(()),
    };
    let text = String::from_utf8_lossy(payload);
    let at = (at % (offer.len() + 1)).min(offer.len());
    let at = (0..=at)
        .rev()
        .find(|i| offer.is_char_boundary(*i))
        .unwrap_or(0);
    let sdp = match what % 4 {
        0 => format!("{}{}{}", &offer[..at], text, &offer[at..]),
        1 => offer[..at].to_string(),
        2 => text.to_string(),
        _ => offer.replacen("a=", &text, 1 + at % 8),
    };
    sfu.handle_command(now, Command::Offer { id: CLIENT, sdp });
    sfu.handle_command(
        now,
        Command::Candidate {
            id: CLIENT,
            candidate: text.to_string(),
        },
    );
    sfu.handle_command(
        now,
        Command::Answer {
            id: CLIENT,
            sdp: text.to_string(),
        },
    );
    leaves_without_trace(&mut sfu, now)
}

/// After the browser's offer was taken, `bytes` split at zero bytes arrive as datagrams
/// from the client's address.
pub fn hostile_datagrams(bytes: &[u8]) -> Result<(), String> {
    let now = Instant::now();
    let mut sfu = joined(now);
    let Some(offer) = browser_offer(now) else {
        return Ok(());
    };
    sfu.handle_command(
        now,
        Command::Offer {
            id: CLIENT,
            sdp: offer,
        },
    );
    let relay = SocketAddr::from(([127, 0, 0, 1], 9));
    for datagram in bytes.split(|b| *b == 0).take(64) {
        sfu.receive_datagram(now, client_address(), relay, datagram);
    }
    sfu.drive_received(now);
    leaves_without_trace(&mut sfu, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn any_sdp_or_candidate_is_survived(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            hostile_sdp(&bytes).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn any_datagram_is_survived(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            hostile_datagrams(&bytes).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn a_data_channel_or_a_second_offer_is_refused() {
        let now = Instant::now();
        let mut sfu = joined(now);
        let offer = browser_offer(now).expect("offer");
        let with_data = format!("{offer}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
        sfu.handle_command(
            now,
            Command::Offer {
                id: CLIENT,
                sdp: with_data,
            },
        );
        sfu.handle_command(
            now,
            Command::Offer {
                id: CLIENT,
                sdp: offer.clone(),
            },
        );
        sfu.handle_command(
            now,
            Command::Offer {
                id: CLIENT,
                sdp: offer,
            },
        );
        let mut answers = 0;
        let mut refusals = Vec::new();
        while let Some(output) = sfu.poll_output() {
            match output {
                super::super::Output::Signal(
                    _,
                    sprechstunde_shared::ServerMessage::Answer { .. },
                ) => answers += 1,
                super::super::Output::Signal(
                    _,
                    sprechstunde_shared::ServerMessage::Error { message, .. },
                ) => refusals.push(message),
                _ => {}
            }
        }
        assert_eq!(answers, 1, "one offer answered");
        assert_eq!(refusals.len(), 2, "{refusals:?}");
        assert!(refusals[0].contains("data channel"));
        assert!(refusals[1].contains("one offer"));
    }
}
