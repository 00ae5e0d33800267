//! Nobody keeps the counselor or the family out by holding places.

use std::net::IpAddr;

use sprechstunde_shared::ErrorCode;

use super::*;
use crate::sfu::engine::places::{
    GUESTS_PER_ADDRESS_IN_ROOM, MEDIA_SETUP_GRACE, REMOVAL_BAN, WAITING_PER_ADDRESS,
    WAITING_PER_ROOM,
};

const ATTACKER: [u8; 4] = [203, 0, 113, 9];

fn welcomed(scene: &mut Scene, id: ParticipantId) -> bool {
    scene
        .take(id)
        .iter()
        .any(|m| matches!(m, ServerMessage::Welcome { .. }))
}

fn invited(token: u64) -> Entry {
    Entry::Link(Grant {
        role: LinkRole::Invited,
        id: TokenId([token as u8; 16]),
        expires: u64::MAX,
        starts: None,
        needs_password: false,
    })
}

#[test]
fn idle_sockets_from_one_address_cannot_fill_a_room() {
    let mut scene = Scene::new();
    scene.join(HOST, true, None);
    scene.command(Command::SetRoomPolicy {
        id: HOST,
        waiting_room: false,
        locked: false,
    });
    let mut inside = 0;
    for n in 10..30 {
        let id = ParticipantId(n);
        scene.join_from(id, Entry::Guest, None, IpAddr::from(ATTACKER));
        if welcomed(&mut scene, id) {
            inside += 1;
        } else {
            assert_eq!(scene.closed.get(&id), Some(&close_code::FULL));
        }
    }
    assert_eq!(inside, GUESTS_PER_ADDRESS_IN_ROOM);
    scene.join(GUEST, false, None);
    assert!(welcomed(&mut scene, GUEST), "the family gets in");
}

#[test]
fn the_waiting_room_has_a_size_per_room_and_per_address() {
    let mut scene = Scene::new();
    scene.join(HOST, true, None);
    let waits = |scene: &mut Scene, id| {
        scene
            .take(id)
            .iter()
            .any(|m| matches!(m, ServerMessage::Waiting { .. }))
    };
    let mut from_one = 0;
    for n in 10..20 {
        scene.join_from(ParticipantId(n), Entry::Guest, None, IpAddr::from(ATTACKER));
        from_one += usize::from(waits(&mut scene, ParticipantId(n)));
    }
    assert_eq!(from_one, WAITING_PER_ADDRESS);
    let mut waiting = from_one;
    for n in 100..130u64 {
        let address = IpAddr::from([198, 51, 100, n as u8]);
        scene.join_from(ParticipantId(n), Entry::Guest, None, address);
        waiting += usize::from(waits(&mut scene, ParticipantId(n)));
    }
    assert_eq!(waiting, WAITING_PER_ROOM);
    assert!(
        scene.sfu.members.len() <= WAITING_PER_ROOM + 1,
        "the refused are not kept"
    );
}

#[test]
fn a_host_always_gets_into_their_own_room() {
    let mut scene = Scene::new();
    // Twenty invited guests from twenty addresses fill the room (capacity 20).
    for n in 10..30u64 {
        let id = ParticipantId(n);
        scene.join_from(id, invited(n), None, IpAddr::from([198, 51, 100, n as u8]));
        assert!(welcomed(&mut scene, id));
    }
    scene.join(ParticipantId(31), false, None);
    assert_eq!(
        scene.closed.get(&ParticipantId(31)),
        Some(&close_code::FULL)
    );
    scene.join(HOST, true, None);
    assert!(
        welcomed(&mut scene, HOST),
        "the counselor is not locked out"
    );
}

#[test]
fn a_place_without_media_is_given_up_and_one_with_media_kept() {
    let mut scene = Scene::host_and_guest(None);
    scene.media_up(HOST);
    scene.now += MEDIA_SETUP_GRACE - Duration::from_secs(1);
    scene.sfu.handle_timeout(scene.now);
    scene.collect();
    assert!(
        scene.closed.is_empty(),
        "nobody leaves before the grace runs out"
    );
    scene.now += Duration::from_secs(2);
    scene.sfu.handle_timeout(scene.now);
    scene.collect();
    assert_eq!(
        scene.closed.get(&GUEST),
        Some(&close_code::MEDIA_UNREACHABLE)
    );
    assert!(!scene.closed.contains_key(&HOST));
    let to_guest = scene.take(GUEST);
    assert!(
        to_guest.iter().any(|m| matches!(
            m,
            ServerMessage::Error {
                code: ErrorCode::MediaUnreachable,
                ..
            }
        )),
        "the family is told why: {to_guest:?}"
    );
    let to_host = scene.take(HOST);
    assert!(to_host.iter().any(
        |m| matches!(m, ServerMessage::ParticipantLeft { participant_id } if *participant_id == GUEST)
    ));
    let told: Vec<&ServerMessage> = to_host
        .iter()
        .filter(|m| matches!(m, ServerMessage::MediaUnreachable { .. }))
        .collect();
    assert!(
        matches!(told.as_slice(), [ServerMessage::MediaUnreachable { participant_id, name }]
            if *participant_id == GUEST && !name.is_empty()),
        "the host is told once, with the name: {told:?}"
    );
    scene.only_known(&[HOST]).expect("the idle place is freed");
}

#[test]
fn a_guest_sees_nothing_of_another_guests_unreachable_media() {
    let mut scene = Scene::host_and_guest(None);
    scene.join(THIRD, false, None);
    scene.moderate(THIRD, ModerationAction::Admit);
    scene.media_up(HOST);
    scene.media_up(THIRD);
    scene.now += MEDIA_SETUP_GRACE + Duration::from_secs(1);
    scene.sfu.handle_timeout(scene.now);
    scene.collect();
    assert_eq!(
        scene.closed.get(&GUEST),
        Some(&close_code::MEDIA_UNREACHABLE)
    );
    assert!(!scene
        .take(THIRD)
        .iter()
        .any(|m| matches!(m, ServerMessage::MediaUnreachable { .. })));
}

#[test]
fn a_removed_guest_cannot_knock_again_from_the_same_address_for_a_while() {
    let mut scene = Scene::host_and_guest(None);
    scene.moderate(GUEST, ModerationAction::Remove);
    assert_eq!(scene.closed.get(&GUEST), Some(&close_code::REMOVED));
    let same_place = IpAddr::from([192, 0, 2, GUEST.0 as u8]);
    scene.join_from(THIRD, Entry::Guest, None, same_place);
    assert_eq!(scene.closed.get(&THIRD), Some(&close_code::REMOVED));
    assert!(
        scene
            .take(HOST)
            .iter()
            .all(|m| !matches!(m, ServerMessage::Knocked { .. })),
        "the host is not bothered by the knock"
    );
    // Someone the host invites from the same network still comes in.
    scene.join_from(ParticipantId(5), invited(5), None, same_place);
    assert!(welcomed(&mut scene, ParticipantId(5)));
    scene.now += REMOVAL_BAN;
    scene.join_from(ParticipantId(4), Entry::Guest, None, same_place);
    assert!(scene
        .take(ParticipantId(4))
        .iter()
        .any(|m| matches!(m, ServerMessage::Waiting { .. })));
}
