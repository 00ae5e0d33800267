//! The waiting room, moderation, removal and locking, as scenarios.

use super::*;

/// A guest with an invitation link of its own token id.
fn invited(token: u8) -> crate::access::Entry {
    crate::access::Entry::Link(Grant {
        role: LinkRole::Invited,
        id: TokenId([token; 16]),
        expires: u64::MAX,
        starts: None,
        needs_password: false,
    })
}

/// An invitation made for a meeting with a password.
fn invited_with_password(token: u8) -> crate::access::Entry {
    match invited(token) {
        crate::access::Entry::Link(grant) => crate::access::Entry::Link(Grant {
            needs_password: true,
            ..grant
        }),
        guest => guest,
    }
}

impl Scene {
    /// A guest tries a host's `action` on the host and is refused.
    fn guest_refused(&mut self, action: ModerationAction) -> bool {
        self.command(Command::Moderate {
            id: GUEST,
            target: HOST,
            action,
        });
        self.got(GUEST, |m| {
            matches!(
                m,
                ServerMessage::Error {
                    code: sprechstunde_shared::ErrorCode::NotHost,
                    ..
                }
            )
        })
    }

    fn got(&mut self, id: ParticipantId, what: impl Fn(&ServerMessage) -> bool) -> bool {
        self.take(id).iter().any(what)
    }
}

#[test]
fn a_guest_waits_the_host_sees_them_and_nothing_of_the_room_reaches_them() {
    let mut scene = Scene::new();
    scene.join(HOST, true, None);
    scene.chat(HOST, "vor der Tür nicht lesbar");
    scene.take(HOST);
    scene.join(GUEST, false, Some("eltern@example.org"));
    assert!(scene.got(GUEST, |m| matches!(
        m,
        ServerMessage::Waiting {
            host_present: true,
            ..
        }
    )));
    assert!(
        scene.got(HOST, |m| matches!(m, ServerMessage::Knocked { guest }
            if guest.id == GUEST && guest.email.as_deref() == Some("eltern@example.org"))),
        "the host sees who knocks, with the address given"
    );
    scene.chat(HOST, "noch geheim");
    assert!(
        scene.take(GUEST).is_empty(),
        "nothing of the room while waiting"
    );
    scene.moderate(GUEST, ModerationAction::Deny);
    assert_eq!(scene.closed.get(&GUEST), Some(&close_code::DENIED));
    assert!(scene.got(
        HOST,
        |m| matches!(m, ServerMessage::StoppedWaiting { participant_id } if *participant_id == GUEST)
    ));
    scene
        .only_known(&[HOST])
        .expect("a denied guest leaves nothing behind");
}

#[test]
fn moderation_switches_off_lowers_sends_back_and_hands_over() {
    let mut scene = Scene::host_and_guest(None);
    scene.moderate(GUEST, ModerationAction::Mute);
    let guest_got = scene.take(GUEST);
    assert!(guest_got.iter().any(|m| matches!(
        m,
        ServerMessage::Moderated {
            action: ModerationAction::Mute
        }
    )));
    assert!(guest_got.iter().any(
        |m| matches!(m, ServerMessage::ParticipantUpdated { participant }
        if participant.id == GUEST && !participant.media.mic)
    ));
    assert_eq!(
        scene.sfu.members.peer(GUEST).map(|p| p.sending.mic),
        Some(false),
        "not forwarded"
    );

    scene.command(Command::SetHand {
        id: GUEST,
        raised: true,
    });
    scene.moderate(GUEST, ModerationAction::LowerHand);
    assert_eq!(
        scene.sfu.rooms.participant(GUEST).and_then(|p| p.hand),
        None
    );

    // A guest cannot moderate.
    assert!(scene.guest_refused(ModerationAction::Mute));

    scene.moderate(GUEST, ModerationAction::SendToWaitingRoom);
    assert!(scene.got(GUEST, |m| matches!(m, ServerMessage::Waiting { .. })));
    assert!(
        scene.sfu.members.peer(GUEST).is_none(),
        "no media connection while waiting"
    );
    scene
        .sfu
        .tables_hold_only_those_present()
        .expect("consistent");
    scene.moderate(GUEST, ModerationAction::Admit);
    assert!(scene.got(GUEST, |m| matches!(m, ServerMessage::Welcome { .. })));

    scene.moderate(GUEST, ModerationAction::MakeHost);
    assert!(scene.sfu.is_host(GUEST) && !scene.sfu.is_host(HOST));
}

#[test]
fn a_removed_link_stays_out_and_a_locked_room_lets_nobody_new_in() {
    let mut scene = Scene::new();
    scene.join(HOST, true, None);
    scene.join_with(GUEST, invited(9), None);
    assert!(
        scene.got(GUEST, |m| matches!(m, ServerMessage::Welcome { .. })),
        "invited: no knocking"
    );
    scene.moderate(GUEST, ModerationAction::Remove);
    assert_eq!(scene.closed.get(&GUEST), Some(&close_code::REMOVED));
    scene.only_known(&[HOST]).expect("removed and gone");

    // The same link again, on a new connection: refused.
    scene.join_with(ParticipantId(4), invited(9), None);
    assert_eq!(
        scene.closed.get(&ParticipantId(4)),
        Some(&close_code::REMOVED)
    );
    // Another invitation still works.
    scene.join_with(THIRD, invited(10), None);
    assert!(scene.got(THIRD, |m| matches!(m, ServerMessage::Welcome { .. })));

    scene.command(Command::SetRoomPolicy {
        id: HOST,
        waiting_room: true,
        locked: true,
    });
    scene.join(ParticipantId(5), false, None);
    assert_eq!(
        scene.closed.get(&ParticipantId(5)),
        Some(&close_code::NOT_ALLOWED)
    );
    scene
        .only_known(&[HOST, THIRD])
        .expect("nobody new is kept");
}

#[test]
fn turning_the_waiting_room_off_admits_everyone_waiting_in_order() {
    let mut scene = Scene::new();
    scene.join(HOST, true, None);
    scene.join(GUEST, false, None);
    scene.join(THIRD, false, None);
    scene.take(GUEST);
    scene.take(THIRD);
    scene.command(Command::SetRoomPolicy {
        id: HOST,
        waiting_room: false,
        locked: false,
    });
    for id in [GUEST, THIRD] {
        assert!(
            scene.got(id, |m| matches!(m, ServerMessage::Welcome { .. })),
            "{id} admitted"
        );
    }
    let in_room = scene.sfu.rooms.members_with(HOST);
    assert_eq!(in_room, vec![HOST, GUEST, THIRD]);
    scene
        .sfu
        .tables_hold_only_those_present()
        .expect("consistent");
}

#[test]
fn ending_the_meeting_closes_everyone_in_the_room_and_waiting() {
    let mut scene = Scene::host_and_guest(Some("a@example.org"));
    scene.join(THIRD, false, None);
    scene.command(Command::EndMeeting { id: HOST });
    for id in [HOST, GUEST, THIRD] {
        assert_eq!(
            scene.closed.get(&id),
            Some(&close_code::MEETING_ENDED),
            "{id}"
        );
    }
    scene.only_known(&[]).expect("nothing of anyone is kept");
}

#[test]
fn a_host_hears_each_knock_once_not_the_whole_list_again() {
    let mut scene = Scene::new();
    scene.join(HOST, true, None);
    for n in 10..15u64 {
        scene.join(ParticipantId(n), false, Some("eltern@example.org"));
    }
    scene.take(HOST);
    // One guest comes and goes a hundred times while four others wait.
    for round in 0..100u64 {
        let id = ParticipantId(100 + round);
        scene.join_from(
            id,
            Entry::Guest,
            None,
            std::net::IpAddr::from([198, 51, 100, 1]),
        );
        scene.command(Command::Leave { id });
    }
    let got = scene.take(HOST);
    assert_eq!(got.len(), 200, "one message per knock and per leave");
    let bytes: usize = got.iter().map(|m| m.to_json().len()).sum();
    assert!(bytes < 200 * 120, "{bytes} bytes for 200 small changes");
    assert!(
        got.iter().all(|m| !format!("{m:?}").contains("eltern@")),
        "the others' addresses are not sent again"
    );
}

#[test]
fn a_host_ends_someones_screen_share_and_nobody_else_can() {
    let mut scene = Scene::host_and_guest(None);
    let sharing = MediaState {
        mic: true,
        camera: true,
        screen: true,
    };
    scene.command(Command::SetMedia {
        id: GUEST,
        media: sharing,
    });
    scene.take(HOST);
    scene.take(GUEST);
    assert!(scene.guest_refused(ModerationAction::StopScreen));
    scene.moderate(GUEST, ModerationAction::StopScreen);
    assert!(scene.got(GUEST, |m| matches!(
        m,
        ServerMessage::Moderated {
            action: ModerationAction::StopScreen
        }
    )));
    assert!(scene.got(
        HOST,
        |m| matches!(m, ServerMessage::ParticipantUpdated { participant }
        if participant.id == GUEST && !participant.media.screen && participant.media.camera)
    ));
    assert_eq!(
        scene.sfu.members.peer(GUEST).map(|p| p.sending.screen),
        Some(false),
        "the relay stops forwarding the screen, whatever the client keeps sending"
    );
}

#[test]
fn an_invitation_made_with_a_password_knocks_until_the_host_set_it_then_comes_straight_in() {
    let waited = |m: &ServerMessage| matches!(m, ServerMessage::Waiting { .. });
    let welcomed = |m: &ServerMessage| matches!(m, ServerMessage::Welcome { .. });
    let address = |n: u8| std::net::IpAddr::from([192, 0, 2, n]);

    // Before the counselor: it knocks, although the policy lets guests in without a host.
    let mut scene = Scene::new();
    scene.sfu.policy.guests_wait_for_host = false;
    scene.join_with(GUEST, invited_with_password(9), None);
    assert!(scene.got(GUEST, waited), "a leaked link cannot walk in");
    // A plain invitation still walks in.
    scene.join_with(THIRD, invited(10), None);
    assert!(scene.got(THIRD, welcomed));

    // The counselor comes and sets the password: brought along, the invitation walks in.
    scene.join(HOST, true, None);
    let digest = crate::access::PasswordDigest::of("Sonnenblume").expect("hash");
    scene.command(Command::SetPassword {
        id: HOST,
        digest: Some(digest.clone()),
    });
    let family = ParticipantId(6);
    scene.join_checked(
        family,
        invited_with_password(11),
        None,
        address(6),
        Some(digest),
    );
    assert!(scene.got(family, welcomed), "password given: no knocking");
    // Without it: refused (the signaling layer asks for it first).
    let stranger = ParticipantId(7);
    scene.join_checked(stranger, invited_with_password(12), None, address(7), None);
    assert_eq!(scene.closed.get(&stranger), Some(&close_code::NOT_ALLOWED));
}
