//! The pre-join connection check ("Verbindung prüfen"): a short media connection with no
//! room behind it, so that a family learns before knocking whether media gets through, and
//! how (UDP, or TCP on the web port). The client offers one receive-only audio line; the
//! relay sends nothing on it. ICE and DTLS coming up is the whole test.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use sprechstunde_shared::ParticipantId;
use str0m::{Input, Output as RtcOutput};

use super::{Output, Sfu};
use crate::sfu::peer::{isolated, Peer, PeerError};

/// A check ends by itself after this long, connected or not.
pub const PROBE_LIFETIME: Duration = Duration::from_secs(20);
/// Checks running at once on the relay (each is a DTLS certificate and an ICE agent).
pub const PROBES_MAX: usize = 32;
/// Checks running at once from one address (`limits::address_key`).
pub const PROBES_PER_ADDRESS: usize = 2;

pub(crate) struct Probe {
    peer: Peer,
    address: IpAddr,
    until: Instant,
}

#[derive(Default)]
pub(crate) struct Probes(HashMap<ParticipantId, Probe>);

#[derive(Debug)]
pub enum ProbeRefusal {
    /// Too many checks running, on the relay or from this address.
    Busy,
    /// The connection already ran a check.
    Repeated,
    Offer(PeerError),
}

impl Probes {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl Sfu {
    /// Start a check for connection `id`; returns the relay's answer to the client's offer,
    /// and whether admitted participants get a TURN server (which the check does not get).
    pub fn start_probe(
        &mut self,
        now: Instant,
        id: ParticipantId,
        sdp: &str,
        address: IpAddr,
    ) -> Result<(String, bool), ProbeRefusal> {
        let address = crate::limits::address_key(address);
        if self.probes.0.contains_key(&id) {
            return Err(ProbeRefusal::Repeated);
        }
        let from_address = self
            .probes
            .0
            .values()
            .filter(|p| p.address == address)
            .count();
        if self.probes.0.len() >= PROBES_MAX || from_address >= PROBES_PER_ADDRESS {
            return Err(ProbeRefusal::Busy);
        }
        let mut peer = Peer::new(now, &self.local_candidates);
        let answer = peer.accept_offer(sdp).map_err(ProbeRefusal::Offer)?;
        self.probes.0.insert(
            id,
            Probe {
                peer,
                address,
                until: now + PROBE_LIFETIME,
            },
        );
        self.drive_probe(id);
        Ok((answer, self.turn.is_some()))
    }

    /// The check's connection closed: its media connection goes with it.
    pub fn end_probe(&mut self, id: ParticipantId) {
        if let Some(mut probe) = self.probes.0.remove(&id) {
            probe.peer.rtc.disconnect();
        }
    }

    /// Hand `input` to the check it belongs to, if any. Returns whether one took it.
    pub(super) fn probe_receives(&mut self, input: Input) -> bool {
        let Some(id) = self
            .probes
            .0
            .iter()
            .find(|(_, p)| p.peer.rtc.accepts(&input))
            .map(|(id, _)| *id)
        else {
            return false;
        };
        if let Some(probe) = self.probes.0.get_mut(&id) {
            let rtc = &mut probe.peer.rtc;
            if !matches!(isolated(|| rtc.handle_input(input)), Some(Ok(()))) {
                probe.peer.failed = true;
            }
        }
        self.drive_probe(id);
        true
    }

    /// Run the checks' timers; drop those past their time.
    pub(super) fn probe_timeouts(&mut self, now: Instant) {
        self.probes.0.retain(|_, probe| probe.until > now);
        let due: Vec<ParticipantId> = self
            .probes
            .0
            .iter()
            .filter(|(_, p)| p.peer.next_timeout <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(probe) = self.probes.0.get_mut(&id) {
                let rtc = &mut probe.peer.rtc;
                if !matches!(
                    isolated(|| rtc.handle_input(Input::Timeout(now))),
                    Some(Ok(()))
                ) {
                    probe.peer.failed = true;
                }
            }
            self.drive_probe(id);
        }
    }

    /// When a check next needs its timer run, or ends.
    pub(super) fn next_probe_timeout(&self) -> Option<Instant> {
        self.probes
            .0
            .values()
            .map(|p| p.peer.next_timeout.min(p.until))
            .min()
    }

    /// Take what the check's ICE agent wants sent; a failed one is dropped.
    fn drive_probe(&mut self, id: ParticipantId) {
        let Some(probe) = self.probes.0.get_mut(&id) else {
            return;
        };
        loop {
            if probe.peer.failed || !probe.peer.rtc.is_alive() {
                self.probes.0.remove(&id);
                return;
            }
            let rtc = &mut probe.peer.rtc;
            match isolated(|| rtc.poll_output()) {
                Some(Ok(RtcOutput::Timeout(at))) => {
                    probe.peer.next_timeout = at;
                    return;
                }
                Some(Ok(RtcOutput::Transmit(transmit))) => {
                    self.outputs.push_back(Output::Transmit(transmit));
                }
                // Nothing is sent or received on a check: its events do not matter.
                Some(Ok(RtcOutput::Event(_))) => {}
                Some(Err(_)) | None => probe.peer.failed = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a browser offers for the check: one receive-only audio line.
    fn check_offer() -> String {
        crate::sfu::test_offer::audio_offer("recvonly")
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn a_check_is_answered_and_ends_by_itself() {
        let mut sfu = Sfu::for_tests();
        let now = Instant::now();
        let (answer, turn) = sfu
            .start_probe(now, ParticipantId(1), &check_offer(), ip(1))
            .expect("an answer");
        assert!(!turn);
        assert!(answer.contains("a=candidate"), "{answer}");
        assert_eq!(sfu.probes.len(), 1);
        assert!(sfu.next_timeout(now) <= now + PROBE_LIFETIME);
        sfu.handle_timeout(now + PROBE_LIFETIME);
        assert_eq!(sfu.probes.len(), 0, "the check is gone after its time");
    }

    #[test]
    fn checks_are_limited_per_address_per_connection_and_in_all() {
        let mut sfu = Sfu::for_tests();
        let now = Instant::now();
        let mut next = 0;
        let mut start = |sfu: &mut Sfu, from: IpAddr| {
            next += 1;
            sfu.start_probe(now, ParticipantId(next), &check_offer(), from)
        };
        assert!(start(&mut sfu, ip(1)).is_ok());
        assert!(start(&mut sfu, ip(1)).is_ok());
        assert!(matches!(start(&mut sfu, ip(1)), Err(ProbeRefusal::Busy)));
        assert!(matches!(
            sfu.start_probe(now, ParticipantId(1), &check_offer(), ip(2)),
            Err(ProbeRefusal::Repeated)
        ));
        for n in 2..=(PROBES_MAX / 2) as u8 {
            assert!(start(&mut sfu, ip(n)).is_ok());
            assert!(start(&mut sfu, ip(n)).is_ok());
        }
        assert_eq!(sfu.probes.len(), PROBES_MAX);
        assert!(matches!(start(&mut sfu, ip(200)), Err(ProbeRefusal::Busy)));
        // A check that ends makes room.
        sfu.end_probe(ParticipantId(1));
        assert!(start(&mut sfu, ip(200)).is_ok());
    }

    #[test]
    fn an_offer_with_a_data_channel_is_refused() {
        let mut sfu = Sfu::for_tests();
        let offer = check_offer().replace(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111",
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        );
        let refused = sfu.start_probe(Instant::now(), ParticipantId(1), &offer, ip(1));
        assert!(
            matches!(refused, Err(ProbeRefusal::Offer(_))),
            "{refused:?}"
        );
        assert_eq!(sfu.probes.len(), 0);
    }
}
