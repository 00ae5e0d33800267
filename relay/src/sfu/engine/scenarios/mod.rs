//! Room rules as scenarios on the sans-IO core: commands in, time as an input, outputs read
//! back. No sockets, no browser; each runs in milliseconds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sprechstunde_shared::{
    close_code, ChatText, DisplayName, MediaState, ModerationAction, ParticipantId, ReceiveQuality,
    RoomName, ServerMessage,
};
use std::net::SocketAddr;

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::media::{Direction, MediaKind};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Input, Output as RtcOutput, Rtc};

use super::{Command, Output, Sfu, PARKED_MAX};
use crate::access::token::{Grant, LinkRole, TokenId};
use crate::access::Entry;

mod admission;
mod places;

const HOST: ParticipantId = ParticipantId(1);
const GUEST: ParticipantId = ParticipantId(2);
const THIRD: ParticipantId = ParticipantId(3);

struct Scene {
    sfu: Sfu,
    now: Instant,
    /// Everything each participant was sent, in order.
    inbox: HashMap<ParticipantId, Vec<ServerMessage>>,
    closed: HashMap<ParticipantId, u16>,
    /// Media clients (str0m) and their addresses, for scenarios that need media up.
    clients: HashMap<ParticipantId, (Rtc, SocketAddr)>,
}

impl Scene {
    fn new() -> Scene {
        Scene {
            sfu: Sfu::for_tests(),
            now: Instant::now(),
            inbox: HashMap::new(),
            closed: HashMap::new(),
            clients: HashMap::new(),
        }
    }

    fn command(&mut self, command: Command) {
        self.sfu.handle_command(self.now, command);
        self.collect();
    }

    fn collect(&mut self) {
        while let Some(output) = self.sfu.poll_output() {
            match output {
                Output::Signal(id, message) => self.inbox.entry(id).or_default().push(message),
                Output::Close(id, code) => {
                    self.closed.insert(id, code);
                }
                Output::Transmit(_) | Output::ConferenceEnded { .. } => {}
            }
        }
    }

    fn take(&mut self, id: ParticipantId) -> Vec<ServerMessage> {
        self.inbox.remove(&id).unwrap_or_default()
    }

    fn join(&mut self, id: ParticipantId, host: bool, email: Option<&str>) {
        let entry = if host {
            Entry::Link(Grant {
                role: LinkRole::Host,
                id: TokenId([id.0 as u8; 16]),
                expires: u64::MAX,
                starts: None,
                needs_password: false,
            })
        } else {
            Entry::Guest
        };
        self.join_with(id, entry, email);
    }

    /// A join to the scenarios' room, coming in as `entry` from an address of its own.
    fn join_with(&mut self, id: ParticipantId, entry: Entry, email: Option<&str>) {
        let address = std::net::IpAddr::from([192, 0, 2, id.0 as u8]);
        self.join_from(id, entry, email, address);
    }

    fn join_from(
        &mut self,
        id: ParticipantId,
        entry: Entry,
        email: Option<&str>,
        address: std::net::IpAddr,
    ) {
        self.join_checked(id, entry, email, address, None);
    }

    /// A join whose password the signaling layer checked against `password_checked`.
    fn join_checked(
        &mut self,
        id: ParticipantId,
        entry: Entry,
        email: Option<&str>,
        address: std::net::IpAddr,
        password_checked: Option<crate::access::PasswordDigest>,
    ) {
        self.command(Command::Join {
            id,
            room: RoomName::parse("beratung").expect("room name"),
            name: DisplayName::parse(&format!("Person {}", id.0)).expect("name"),
            email: email.map(str::to_string),
            media: MediaState::default(),
            entry,
            password_checked,
            resume: format!("resume-{}", id.0),
            address,
        });
    }

    /// The host in the room and the guest admitted from the waiting room.
    fn host_and_guest(guest_email: Option<&str>) -> Scene {
        let mut scene = Scene::new();
        scene.join(HOST, true, None);
        scene.join(GUEST, false, guest_email);
        scene.command(Command::Moderate {
            id: HOST,
            target: GUEST,
            action: ModerationAction::Admit,
        });
        assert!(
            scene
                .take(GUEST)
                .iter()
                .any(|m| matches!(m, ServerMessage::Welcome { .. })),
            "the guest was admitted"
        );
        scene.take(HOST);
        scene
    }

    /// A client on its own loopback address: it offers a microphone and a camera line, as
    /// a browser does first, and its datagrams go through [`Scene::pump`].
    fn connect_client(&mut self, id: ParticipantId) {
        let address: SocketAddr = format!("127.0.0.{}:5000", 10 + id.0)
            .parse()
            .expect("address");
        let mut rtc = Rtc::new(self.now);
        let candidate = Candidate::host(address, "udp").expect("candidate");
        rtc.add_local_candidate(candidate.clone());
        let mut change = rtc.sdp_api();
        change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        change.add_media(MediaKind::Video, Direction::SendOnly, None, None, None);
        let (offer, pending) = change.apply().expect("an offer");
        self.command(Command::Offer {
            id,
            sdp: offer.to_sdp_string(),
        });
        self.command(Command::Candidate {
            id,
            candidate: candidate.to_sdp_string(),
        });
        // The answer; whatever else came (an offer of others' media) stays in the inbox.
        let mut answer = None;
        let mut others = Vec::new();
        for message in self.take(id) {
            match message {
                ServerMessage::Answer { sdp } if answer.is_none() => answer = Some(sdp),
                other => others.push(other),
            }
        }
        self.inbox.insert(id, others);
        let answer = answer.expect("the relay answers");
        rtc.sdp_api()
            .accept_answer(pending, SdpAnswer::from_sdp_string(&answer).expect("SDP"))
            .expect("answer accepted");
        self.clients.insert(id, (rtc, address));
        self.pump();
    }

    /// Datagrams between the clients and the relay, in memory, until all is quiet.
    fn pump(&mut self) {
        let relay: SocketAddr = "127.0.0.1:9".parse().expect("address");
        for _ in 0..200 {
            let mut moved = false;
            for (rtc, address) in self.clients.values_mut() {
                while let Ok(output) = rtc.poll_output() {
                    match output {
                        RtcOutput::Transmit(t) => {
                            moved = true;
                            self.sfu
                                .receive_datagram(self.now, *address, relay, &t.contents);
                        }
                        RtcOutput::Timeout(_) => break,
                        RtcOutput::Event(_) => {}
                    }
                }
            }
            self.sfu.drive_received(self.now);
            self.sfu.handle_timeout(self.now);
            while let Some(output) = self.sfu.poll_output() {
                match output {
                    Output::Transmit(t) => {
                        moved = true;
                        if let Some((rtc, _)) =
                            self.clients.values_mut().find(|(_, a)| *a == t.destination)
                        {
                            let contents = (&*t.contents).try_into().expect("datagram");
                            let input = Input::Receive(
                                self.now,
                                Receive {
                                    proto: Protocol::Udp,
                                    source: relay,
                                    destination: t.destination,
                                    contents,
                                },
                            );
                            let _ = rtc.handle_input(input);
                        }
                    }
                    Output::Signal(id, message) => self.inbox.entry(id).or_default().push(message),
                    Output::Close(id, code) => {
                        self.closed.insert(id, code);
                    }
                    Output::ConferenceEnded { .. } => {}
                }
            }
            self.now += Duration::from_millis(5);
            for (rtc, _) in self.clients.values_mut() {
                let _ = rtc.handle_input(Input::Timeout(self.now));
            }
            if !moved {
                break;
            }
        }
    }

    /// Clients answer every relay offer they were sent (other messages stay in the inbox).
    /// Returns the sizes of the offers.
    fn answer_offers(&mut self) -> Vec<usize> {
        let mut sizes = Vec::new();
        let ids: Vec<ParticipantId> = self.clients.keys().copied().collect();
        for id in ids {
            let messages = self.take(id);
            let mut kept = Vec::new();
            for message in messages {
                let ServerMessage::Offer { sdp, .. } = message else {
                    kept.push(message);
                    continue;
                };
                sizes.push(sdp.len());
                let Some((rtc, _)) = self.clients.get_mut(&id) else {
                    continue;
                };
                let offer = SdpOffer::from_sdp_string(&sdp).expect("relay SDP");
                let answer = rtc.sdp_api().accept_offer(offer).expect("answerable");
                self.command(Command::Answer {
                    id,
                    sdp: answer.to_sdp_string(),
                });
            }
            self.inbox.entry(id).or_default().splice(0..0, kept);
        }
        self.pump();
        sizes
    }

    /// The media path counts as up (what ICE and DTLS would have done).
    fn media_up(&mut self, id: ParticipantId) {
        self.sfu.mark_media_up_for_tests(id, self.now);
    }

    fn moderate(&mut self, target: ParticipantId, action: ModerationAction) {
        self.command(Command::Moderate {
            id: HOST,
            target,
            action,
        });
    }

    fn chat(&mut self, id: ParticipantId, text: &str) {
        self.command(Command::Chat {
            id,
            text: ChatText::parse(text).expect("chat text"),
            to: None,
            time_ms: 0,
        });
    }

    /// The core keeps nothing of anyone but these.
    fn only_known(&self, present: &[ParticipantId]) -> Result<(), String> {
        self.sfu.tables_hold_only_those_present()?;
        if let Some(stray) = self
            .sfu
            .members
            .ids()
            .iter()
            .find(|id| !present.contains(id))
        {
            return Err(format!("{stray} is still kept"));
        }
        Ok(())
    }
}

#[test]
fn a_peer_whose_media_dies_in_the_loop_departs_like_anyone_who_leaves() {
    let mut scene = Scene::host_and_guest(Some("familie@example.org"));
    let contacts = scene.take(HOST);
    assert!(
        contacts.is_empty(),
        "nothing pending for the host: {contacts:?}"
    );
    assert!(scene
        .sfu
        .members
        .get(GUEST)
        .is_some_and(|m| m.email.is_some()));

    // DTLS fails or closes: str0m's session dies and the engine finds out while polling it.
    if let Some(peer) = scene.sfu.members.peer_mut(GUEST) {
        peer.rtc.disconnect();
    }
    scene.now += Duration::from_secs(1);
    scene.sfu.handle_timeout(scene.now);
    scene.collect();

    assert_eq!(
        scene.closed.get(&GUEST),
        Some(&close_code::MEDIA_FAILED),
        "the guest is told and closed"
    );
    let host_saw = scene.take(HOST);
    assert!(
        host_saw
            .iter()
            .any(|m| matches!(m, ServerMessage::ParticipantLeft { participant_id } if *participant_id == GUEST)),
        "the host sees the guest leave: {host_saw:?}"
    );
    assert!(
        host_saw
            .iter()
            .any(|m| matches!(m, ServerMessage::Contacts { contacts } if contacts.is_empty())),
        "the host's contact list loses the guest's address: {host_saw:?}"
    );
    scene
        .only_known(&[HOST])
        .expect("nothing of the guest is kept, the e-mail address least of all");
}

#[test]
fn a_resume_delivers_every_parked_message_in_order() {
    let mut scene = Scene::host_and_guest(None);
    scene.media_up(GUEST);
    assert!(scene.sfu.detach(scene.now, GUEST), "kept for a resume");
    for n in 0..900 {
        scene.chat(HOST, &format!("Nachricht {n}"));
    }
    assert!(
        scene.take(GUEST).is_empty(),
        "nothing goes out while detached"
    );

    let resumed = scene.sfu.resume("resume-2").expect("the session is kept");
    assert_eq!(resumed.id, GUEST);
    let next_secret = match resumed.messages.first() {
        Some(ServerMessage::Resumed {
            participant_id,
            resume,
        }) if *participant_id == GUEST => resume.clone(),
        other => panic!("resumed first, got {other:?}"),
    };
    assert_eq!(next_secret.len(), 32, "a fresh secret");
    assert!(
        scene.sfu.resume("resume-2").is_none(),
        "a secret works once: whoever saw it cannot take the session over later"
    );
    let chats: Vec<String> = resumed
        .messages
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Chat(chat) => Some(chat.text.clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = (0..900).map(|n| format!("Nachricht {n}")).collect();
    assert_eq!(chats, expected, "all 900, in order");

    // Back on a connection: messages go out again at once.
    scene.chat(HOST, "danach");
    assert_eq!(scene.take(GUEST).len(), 1);
    assert!(
        scene.sfu.resume(&next_secret).is_some(),
        "the next secret works"
    );
}

#[test]
fn sent_to_the_waiting_room_and_back_the_old_resume_secret_is_void() {
    let mut scene = Scene::host_and_guest(None);
    scene.moderate(GUEST, ModerationAction::SendToWaitingRoom);
    scene.moderate(GUEST, ModerationAction::Admit);
    scene.media_up(GUEST);
    let welcome_secret = scene.take(GUEST).into_iter().find_map(|m| match m {
        ServerMessage::Welcome { resume, .. } => Some(resume),
        _ => None,
    });
    assert!(scene.sfu.resume("resume-2").is_none());
    let secret = welcome_secret.expect("welcomed again");
    assert_ne!(secret, "resume-2");
    assert!(scene.sfu.resume(&secret).is_some());
}

#[test]
fn more_parked_messages_than_the_limit_end_the_session_visibly() {
    let mut scene = Scene::host_and_guest(None);
    scene.media_up(GUEST);
    assert!(scene.sfu.detach(scene.now, GUEST));
    for n in 0..=PARKED_MAX {
        scene.chat(HOST, &format!("Nachricht {n}"));
    }
    assert!(
        scene.sfu.resume("resume-2").is_none(),
        "a resume that would lose messages fails instead"
    );
    scene.now += Duration::from_millis(10);
    scene.sfu.handle_timeout(scene.now);
    scene.collect();
    assert!(
        scene
            .take(HOST)
            .iter()
            .any(|m| matches!(m, ServerMessage::ParticipantLeft { participant_id } if *participant_id == GUEST)),
        "the guest leaves for the others"
    );
    scene
        .only_known(&[HOST])
        .expect("nothing of the guest kept");
}

#[test]
fn a_resume_sends_the_offer_in_flight_again() {
    let mut scene = Scene::host_and_guest(None);
    scene.connect_client(GUEST);
    scene.connect_client(HOST);
    let offers = |messages: &[ServerMessage]| {
        messages
            .iter()
            .filter(|m| matches!(m, ServerMessage::Offer { .. }))
            .count()
    };
    let guest_got = scene.take(GUEST);
    assert_eq!(
        offers(&guest_got),
        1,
        "the host's tracks are offered to the guest: {guest_got:?}"
    );
    // The connection drops before the answer arrives (or the answer is lost with it).
    assert!(scene.sfu.detach(scene.now, GUEST));
    let resumed = scene.sfu.resume("resume-2").expect("kept");
    assert_eq!(offers(&resumed.messages), 1, "the offer comes again, once");
    let Some(ServerMessage::Offer { streams, .. }) = resumed.messages.last() else {
        panic!("the offer is last: {:?}", resumed.messages);
    };
    assert!(
        streams.iter().all(|s| s.participant_id == HOST) && !streams.is_empty(),
        "it names whose media it carries: {streams:?}"
    );

    // Dropped again before answering: the offer comes again, once.
    let Some(ServerMessage::Resumed { resume: next, .. }) = resumed.messages.first() else {
        panic!("resumed first");
    };
    let next = next.clone();
    assert!(scene.sfu.detach(scene.now, GUEST));
    let resumed = scene.sfu.resume(&next).expect("kept");
    assert_eq!(offers(&resumed.messages), 1);
}

#[test]
fn a_counselors_day_of_visits_keeps_the_session_the_size_of_one_visit() {
    let mut scene = Scene::new();
    scene.join(HOST, true, None);
    scene.connect_client(HOST);
    let mut offer_sizes = Vec::new();
    for visit in 0..50u64 {
        let family = ParticipantId(100 + visit);
        scene.join(family, false, None);
        scene.command(Command::Moderate {
            id: HOST,
            target: family,
            action: ModerationAction::Admit,
        });
        scene.connect_client(family);
        offer_sizes.extend(scene.answer_offers());
        scene.answer_offers();
        let lines = scene.sfu.members.peer(HOST).map(|p| p.line_count());
        assert_eq!(
            lines,
            Some(2),
            "visit {visit}: the family's microphone and camera"
        );
        scene.command(Command::Leave { id: family });
        scene.clients.remove(&family);
        offer_sizes.extend(scene.answer_offers());
    }
    let lines = scene.sfu.members.peer(HOST).map(|p| p.line_count());
    assert_eq!(
        lines,
        Some(2),
        "the lines of the first family served all fifty"
    );
    assert!(
        offer_sizes.len() >= 100,
        "every visit was negotiated: {offer_sizes:?}"
    );
    let first = offer_sizes[0];
    let largest = offer_sizes.iter().copied().max().unwrap_or_default();
    assert!(
        largest < first + 500,
        "the counselor's offers stay the size of one visit: first {first} B, largest {largest} B"
    );
}

#[test]
fn a_newcomer_always_gets_welcome_however_long_the_chat_was() {
    // 30 messages of 10,000 four-byte emoji: 1.2 MB of chat, within the rate limit in
    // about 20 s. The welcome of a host who comes back (a second counselor, or the same
    // after a reload) carries the whole history; it must stay far below a connection's
    // 1 MiB write limit.
    let mut scene = Scene::host_and_guest(None);
    for n in 0..30 {
        scene.chat(GUEST, &format!("{n} {}", "😀".repeat(9_990)));
    }
    scene.join(THIRD, true, None);
    let welcome = scene
        .take(THIRD)
        .into_iter()
        .find(|m| matches!(m, ServerMessage::Welcome { .. }))
        .expect("welcomed");
    let bytes = welcome.to_json().len();
    assert!(bytes < 512 * 1024, "welcome of {bytes} bytes");
    let ServerMessage::Welcome { chat, .. } = welcome else {
        unreachable!("matched above");
    };
    assert!(
        chat.last().is_some_and(|m| m.text.starts_with("29 ")),
        "the newest messages are kept"
    );
}

#[test]
fn the_next_family_reads_nothing_the_last_family_wrote_or_said() {
    let mut scene = Scene::host_and_guest(None);
    scene.chat(GUEST, "Wir wohnen in der Lindenstraße 4");
    scene.chat(HOST, "Danke, Familie Person 2");
    scene.command(Command::Leave { id: GUEST });
    scene.now += Duration::from_secs(2);
    scene.sfu.handle_timeout(scene.now);
    scene.collect();
    scene.join(THIRD, false, None);
    scene.moderate(THIRD, ModerationAction::Admit);
    scene.chat(HOST, "Guten Tag");
    scene.now += Duration::from_secs(2);
    scene.sfu.handle_timeout(scene.now);
    scene.collect();
    let seen = format!("{:?}", scene.take(THIRD));
    assert!(seen.contains("Guten Tag"), "the family's own chat arrives");
    for earlier in ["Lindenstraße", "Familie Person 2", "\"Person 2\""] {
        assert!(
            !seen.contains(earlier),
            "{earlier} reached the next family: {seen}"
        );
    }
    let host_saw = format!("{:?}", scene.take(HOST));
    assert!(
        host_saw.contains("Person 2"),
        "the counselor still sees the earlier visit"
    );
}

#[test]
fn switching_video_off_and_on_fast_does_not_make_senders_spam_keyframes() {
    let mut scene = Scene::host_and_guest(None);
    scene.connect_client(HOST);
    scene.connect_client(GUEST);
    scene.answer_offers();
    scene.answer_offers();
    let asked = |scene: &Scene| {
        scene
            .sfu
            .metrics
            .keyframe_requests_sent
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = asked(&scene);
    let start = scene.now;
    for _ in 0..20 {
        for quality in [ReceiveQuality::AudioOnly, ReceiveQuality::Auto] {
            scene.command(Command::ReceiveQuality { id: GUEST, quality });
            scene.now += Duration::from_millis(150);
            scene.pump();
        }
    }
    let seconds = scene.now.duration_since(start).as_secs();
    let during = asked(&scene) - before;
    assert!(
        during <= seconds / 2 + 1,
        "{during} keyframe requests in {seconds} s of toggling"
    );
}

#[test]
fn all_rooms_chat_together_stays_within_the_relays_share() {
    use crate::sfu::meeting::{CHAT_HISTORY_BYTES, RELAY_CHAT_BYTES};
    let mut scene = Scene::new();
    let message = "😀".repeat(9_990);
    // One poster in each of 200 rooms fills their room's history: 50 MB without a relay cap.
    let rooms = 200u64;
    for n in 0..rooms {
        let id = ParticipantId(1000 + n);
        scene.command(Command::Join {
            id,
            room: RoomName::parse(&format!("raum-{n}")).expect("room"),
            name: DisplayName::parse("Gast").expect("name"),
            email: None,
            media: MediaState::default(),
            entry: Entry::Guest,
            password_checked: None,
            resume: String::new(),
            address: std::net::IpAddr::from([10, 0, (n / 250) as u8, (n % 250) as u8]),
        });
        for _ in 0..(CHAT_HISTORY_BYTES / message.len() + 1) {
            scene.chat(id, &message);
        }
        scene.inbox.clear();
    }
    let total: usize = scene.sfu.meetings.values().map(|m| m.chat_bytes()).sum();
    assert!(total <= RELAY_CHAT_BYTES, "{total} bytes of chat kept");
    assert!(
        total > RELAY_CHAT_BYTES - CHAT_HISTORY_BYTES,
        "the share is used, not wasted"
    );
}
