//! The room state machine driven by arbitrary sequences of commands from six participants
//! in two rooms (hosts, invited and plain guests, moderation, chat, garbage SDP, leaving,
//! time passing). After every step, everything the SFU says is checked:
//! - nothing of one room reaches a participant of the other;
//! - a chat message names its real sender, and a private one reaches only its two ends;
//! - someone not (or no longer) admitted gets nothing of the room but their waiting state;
//! - and, implicitly, nothing panics.
//!
//! The same driver runs under `cargo fuzz` (`fuzz/fuzz_targets/room_state.rs`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sprechstunde_shared::{
    ChatText, DisplayName, MediaState, ModerationAction, ParticipantId, RoomName, ServerMessage,
};

use super::{Command, Output, Sfu};
use crate::access::token::{Grant, LinkRole, TokenId};
use crate::access::Entry;
use crate::sfu::meeting::MeetingInfo;

pub const PARTICIPANTS: u8 = 6;
const MODERATION: [ModerationAction; 11] = [
    ModerationAction::Admit,
    ModerationAction::Deny,
    ModerationAction::SendToWaitingRoom,
    ModerationAction::Mute,
    ModerationAction::StopCamera,
    ModerationAction::StopScreen,
    ModerationAction::LowerHand,
    ModerationAction::Remove,
    ModerationAction::MakeHost,
    ModerationAction::MarkInterpreter,
    ModerationAction::UnmarkInterpreter,
];

/// One thing a participant (1 to 6; 1-3 belong to room A, 4-6 to room B) does, or time
/// passing.
#[derive(Debug, Clone)]
pub enum Step {
    Join {
        who: u8,
        role: u8,
    },
    Chat {
        who: u8,
        to: Option<u8>,
    },
    Hand {
        who: u8,
        raised: bool,
    },
    Media {
        who: u8,
        mic: bool,
        camera: bool,
    },
    RoomInfo {
        who: u8,
    },
    Policy {
        who: u8,
        waiting_room: bool,
        locked: bool,
    },
    WaitingMessage {
        who: u8,
    },
    Moderate {
        who: u8,
        target: u8,
        action: u8,
    },
    End {
        who: u8,
    },
    Offer {
        who: u8,
    },
    Candidate {
        who: u8,
    },
    Leave {
        who: u8,
    },
    Wait {
        ms: u16,
    },
}

impl Step {
    /// A step from fuzzer bytes (each step takes four).
    pub fn from_bytes(bytes: [u8; 4]) -> Step {
        let who = bytes[1] % PARTICIPANTS + 1;
        let other = bytes[2] % PARTICIPANTS + 1;
        let flag = |bit: u8| bytes[3] & (1 << bit) != 0;
        match bytes[0] % 13 {
            0 => Step::Join {
                who,
                role: bytes[2],
            },
            1 => Step::Chat {
                who,
                to: flag(0).then_some(other),
            },
            2 => Step::Hand {
                who,
                raised: flag(0),
            },
            3 => Step::Media {
                who,
                mic: flag(0),
                camera: flag(1),
            },
            4 => Step::RoomInfo { who },
            5 => Step::Policy {
                who,
                waiting_room: flag(0),
                locked: flag(1),
            },
            6 => Step::WaitingMessage { who },
            7 => Step::Moderate {
                who,
                target: other,
                action: bytes[3],
            },
            8 => Step::End { who },
            9 => Step::Offer { who },
            10 => Step::Candidate { who },
            11 => Step::Leave { who },
            _ => Step::Wait {
                ms: u16::from_be_bytes([bytes[2], bytes[3]]),
            },
        }
    }
}

fn room_of(who: u8) -> &'static str {
    if who <= PARTICIPANTS / 2 {
        "ROOMA"
    } else {
        "ROOMB"
    }
}

fn id(who: u8) -> ParticipantId {
    ParticipantId(u64::from(who))
}

/// Runs steps against a fresh SFU and checks every output; `Err` names the broken rule.
pub struct Driver {
    sfu: Sfu,
    now: Instant,
    /// Participants with a connection (joined and not closed).
    connected: HashMap<u8, ()>,
    /// Participants who got a welcome and were not sent back or closed since.
    admitted: HashMap<u8, bool>,
    chats: u64,
}

impl Default for Driver {
    fn default() -> Self {
        Driver {
            sfu: Sfu::for_tests(),
            now: Instant::now(),
            connected: HashMap::new(),
            admitted: HashMap::new(),
            chats: 0,
        }
    }
}

impl Driver {
    pub fn run(&mut self, steps: &[Step]) -> Result<(), String> {
        for step in steps {
            self.step(step.clone());
            self.check()?;
        }
        Ok(())
    }

    fn command(&mut self, command: Command) {
        self.sfu.handle_command(self.now, command);
    }

    fn step(&mut self, step: Step) {
        let joined = |who: &u8| self.connected.contains_key(who);
        match step {
            Step::Join { who, role } => {
                if joined(&who) {
                    return;
                }
                let room = room_of(who).to_ascii_lowercase();
                let entry = match role % 4 {
                    0 => Entry::Guest,
                    r => Entry::Link(Grant {
                        role: match r {
                            1 => LinkRole::Host,
                            2 => LinkRole::Invited,
                            _ => LinkRole::Interpreter,
                        },
                        id: TokenId([who; 16]),
                        expires: u64::MAX,
                        starts: None,
                        needs_password: false,
                    }),
                };
                let (Ok(room), Ok(name)) = (
                    RoomName::parse(&room),
                    DisplayName::parse(&format!("{}-p{who}", room_of(who))),
                ) else {
                    return;
                };
                self.connected.insert(who, ());
                self.command(Command::Join {
                    id: id(who),
                    room,
                    name,
                    email: None,
                    media: MediaState::default(),
                    entry,
                    password_checked: None,
                    resume: format!("resume-{who}"),
                    address: std::net::IpAddr::from([192, 0, 2, who]),
                });
            }
            Step::Chat { who, to } if joined(&who) => {
                self.chats += 1;
                let text = format!("{}-from{who}-{}", room_of(who), self.chats);
                if let Ok(text) = ChatText::parse(&text) {
                    self.command(Command::Chat {
                        id: id(who),
                        text,
                        to: to.map(id),
                        time_ms: 0,
                    });
                }
            }
            Step::Hand { who, raised } if joined(&who) => self.command(Command::SetHand {
                id: id(who),
                raised,
            }),
            Step::Media { who, mic, camera } if joined(&who) => self.command(Command::SetMedia {
                id: id(who),
                media: MediaState {
                    mic,
                    camera,
                    ..MediaState::default()
                },
            }),
            Step::RoomInfo { who } if joined(&who) => self.command(Command::SetRoomInfo {
                id: id(who),
                info: MeetingInfo {
                    topic: Some(format!("{}-topic", room_of(who))),
                    description: Some(format!("{}-description", room_of(who))),
                },
            }),
            Step::Policy {
                who,
                waiting_room,
                locked,
            } if joined(&who) => self.command(Command::SetRoomPolicy {
                id: id(who),
                waiting_room,
                locked,
            }),
            Step::WaitingMessage { who } if joined(&who) => {
                self.command(Command::SetWaitingMessage {
                    id: id(who),
                    text: Some(format!("{}-message", room_of(who))),
                })
            }
            Step::Moderate {
                who,
                target,
                action,
            } if joined(&who) => self.command(Command::Moderate {
                id: id(who),
                target: id(target),
                action: MODERATION[usize::from(action) % MODERATION.len()],
            }),
            Step::End { who } if joined(&who) => self.command(Command::EndMeeting { id: id(who) }),
            Step::Offer { who } if joined(&who) => self.command(Command::Offer {
                id: id(who),
                sdp: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 x".into(),
            }),
            Step::Candidate { who } if joined(&who) => self.command(Command::Candidate {
                id: id(who),
                candidate: "candidate:1 1 udp 1 127.0.0.1 1 typ host".into(),
            }),
            Step::Leave { who } if joined(&who) => {
                self.command(Command::Leave { id: id(who) });
                self.connected.remove(&who);
                self.admitted.remove(&who);
            }
            Step::Wait { ms } => {
                self.now += Duration::from_millis(u64::from(ms));
                self.sfu.handle_timeout(self.now);
            }
            // Commands of someone without a connection cannot reach the SFU.
            _ => {}
        }
    }

    fn check(&mut self) -> Result<(), String> {
        while let Some(output) = self.sfu.poll_output() {
            match output {
                Output::Signal(to, message) => self.check_signal(to, &message)?,
                Output::Close(to, _) => {
                    if let Ok(who) = u8::try_from(to.0) {
                        self.connected.remove(&who);
                        self.admitted.remove(&who);
                    }
                }
                Output::Transmit(_) | Output::ConferenceEnded { .. } => {}
            }
        }
        self.sfu.tables_hold_only_those_present()
    }

    fn check_signal(&mut self, to: ParticipantId, message: &ServerMessage) -> Result<(), String> {
        let who = u8::try_from(to.0)
            .ok()
            .filter(|w| (1..=PARTICIPANTS).contains(w))
            .ok_or_else(|| format!("a message to an unknown participant {to:?}"))?;
        let json = serde_json::to_string(message).unwrap_or_default();
        let other_room = if room_of(who) == "ROOMA" {
            "ROOMB"
        } else {
            "ROOMA"
        };
        if json.contains(other_room) {
            return Err(format!("{other_room} leaked to participant {who}: {json}"));
        }
        match message {
            ServerMessage::Welcome { chat, .. } => {
                self.admitted.insert(who, true);
                for line in chat {
                    check_chat(who, line)?;
                }
            }
            ServerMessage::Waiting { .. } => {
                self.admitted.insert(who, false);
            }
            ServerMessage::Chat(line) => check_chat(who, line)?,
            _ => {}
        }
        let admitted = self.admitted.get(&who).copied().unwrap_or(false);
        let room_data = !matches!(
            message,
            ServerMessage::Welcome { .. }
                | ServerMessage::Waiting { .. }
                | ServerMessage::Error { .. }
                | ServerMessage::Pong
                | ServerMessage::Resumed { .. }
                | ServerMessage::Moderated { .. }
        );
        if room_data && !admitted {
            return Err(format!("participant {who} is not admitted but got {json}"));
        }
        Ok(())
    }
}

/// A chat line names its real sender, and a private one goes only to its two ends.
fn check_chat(recipient: u8, line: &sprechstunde_shared::ChatMessage) -> Result<(), String> {
    let claimed = line
        .text
        .split('-')
        .nth(1)
        .and_then(|part| part.strip_prefix("from"))
        .and_then(|n| n.parse::<u64>().ok());
    if claimed != Some(line.from.0) {
        return Err(format!(
            "chat {:?} is shown as from {:?}",
            line.text, line.from
        ));
    }
    if let Some(private_to) = line.to {
        if private_to.0 != u64::from(recipient) && line.from.0 != u64::from(recipient) {
            return Err(format!(
                "private chat {:?} from {:?} to {private_to:?} reached {recipient}",
                line.text, line.from
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn step() -> impl Strategy<Value = Step> {
        any::<[u8; 4]>().prop_map(Step::from_bytes)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn rooms_stay_apart_and_only_the_admitted_hear_the_room(
            steps in proptest::collection::vec(step(), 1..120)
        ) {
            let mut driver = Driver::default();
            if let Err(broken) = driver.run(&steps) {
                return Err(TestCaseError::fail(broken));
            }
        }
    }

    #[test]
    fn the_checks_catch_a_leak_and_a_forged_sender() {
        let mut driver = Driver::default();
        let leak = ServerMessage::Error {
            code: sprechstunde_shared::ErrorCode::Malformed,
            message: "ROOMB-p4".into(),
        };
        assert!(driver.check_signal(id(1), &leak).is_err());
        let forged = sprechstunde_shared::ChatMessage {
            id: 1,
            time_ms: 0,
            from: id(2),
            from_name: String::new(),
            to: None,
            to_name: None,
            text: "ROOMA-from1-1".into(),
        };
        assert!(check_chat(3, &forged).is_err());
        let private = sprechstunde_shared::ChatMessage {
            from: id(1),
            to: Some(id(2)),
            text: "ROOMA-from1-1".into(),
            ..forged
        };
        assert!(check_chat(3, &private).is_err());
        assert!(check_chat(2, &private).is_ok());
        let not_admitted = ServerMessage::ParticipantLeft {
            participant_id: id(2),
        };
        assert!(driver.check_signal(id(3), &not_admitted).is_err());
    }

    #[test]
    fn a_plain_call_passes_the_checks() {
        let steps = [
            Step::Join { who: 1, role: 1 },
            Step::Join { who: 2, role: 0 },
            Step::Moderate {
                who: 1,
                target: 2,
                action: 0,
            },
            Step::Chat { who: 2, to: None },
            Step::Chat {
                who: 1,
                to: Some(2),
            },
            Step::Join { who: 4, role: 1 },
            Step::Chat { who: 4, to: None },
            Step::Join { who: 3, role: 2 },
            Step::Wait { ms: 1500 },
            Step::Leave { who: 2 },
        ];
        let mut driver = Driver::default();
        assert_eq!(driver.run(&steps), Ok(()));
        assert!(
            driver.admitted.get(&3).copied().unwrap_or(false),
            "the invited guest got in"
        );
    }
}
