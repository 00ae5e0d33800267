//! Media through the engine: datagrams to their owners, str0m polled, tracks published and
//! forwarded, keyframes asked for.

use std::net::SocketAddr;
use std::time::Instant;

use sprechstunde_shared::ParticipantId;
use str0m::bwe::{Bitrate, BweKind};
use str0m::media::{KeyframeRequestKind, MediaKind, Mid, Rid};
use str0m::net::{Protocol, Receive};
use str0m::{Event, IceConnectionState, Input, Output as RtcOutput};
use tracing::debug;

use super::keyframes::LayerKey;
use super::{meeting_of, Departure, Output, Sfu};
use crate::metrics;
use crate::sfu::allocation;
use crate::sfu::peer::isolated;
use crate::sfu::rooms::{TrackKey, TrackKind};
use crate::sfu::simulcast;
use sprechstunde_shared::{ReceiveQuality, ServerMessage};

/// The most immediate timeouts served in one poll of a connection: a bound so that one
/// connection cannot hold the loop, far above what a pacer's burst needs (its 40 ms of debt
/// are a few dozen packets).
const PACED_PER_POLL: usize = 256;

impl Sfu {
    /// Poll everyone [`Sfu::receive_datagram`] gave datagrams to, once each. Datagrams that
    /// arrive together (a video frame's packets come in a burst) are taken in first and their
    /// owners polled after: a str0m poll costs about as much as taking in a packet.
    pub fn drive_received(&mut self, now: Instant) {
        let owners = std::mem::take(&mut self.received_by);
        self.drive(now, owners);
    }

    /// Hand a UDP datagram to the participant it belongs to, without polling it yet: call
    /// [`Sfu::drive_received`] after the last datagram of a batch.
    pub fn receive_datagram(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        bytes: &[u8],
    ) {
        self.receive(now, Protocol::Udp, source, destination, bytes);
    }

    /// A UDP datagram or an ICE-TCP frame, as [`Sfu::receive_datagram`].
    pub fn receive(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        bytes: &[u8],
    ) {
        metrics::add(&self.metrics.datagrams_received, 1);
        let Ok(contents) = bytes.try_into() else {
            metrics::add(&self.metrics.datagrams_dropped, 1);
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto,
                source,
                destination,
                contents,
            },
        );
        let cached = self.by_source.get(&source).copied().filter(|id| {
            self.members
                .peer(*id)
                .is_some_and(|p| p.rtc.accepts(&input))
        });
        let owner = cached.or_else(|| {
            self.members
                .peers()
                .find(|(_, p)| p.rtc.accepts(&input))
                .map(|(id, _)| id)
        });
        let Some(id) = owner else {
            if !self.probe_receives(input) {
                metrics::add(&self.metrics.datagrams_dropped, 1);
            }
            return;
        };
        self.by_source.insert(source, id);
        if let Some(peer) = self.members.peer_mut(id) {
            peer.last_heard = now;
            peer.over_tcp = proto == Protocol::Tcp;
            let rtc = &mut peer.rtc;
            match isolated(|| rtc.handle_input(input)) {
                Some(Ok(())) => {}
                Some(Err(_)) => peer.rtc.disconnect(),
                None => peer.failed = true,
            }
        }
        if !self.received_by.contains(&id) {
            self.received_by.push(id);
        }
    }

    /// Poll every participant in `work` (and those their events touch) until idle.
    pub(super) fn drive(&mut self, now: Instant, mut work: Vec<ParticipantId>) {
        while let Some(id) = work.pop() {
            let Some(peer) = self.members.peer_mut(id) else {
                continue;
            };
            if let Some((sdp, streams)) = peer.create_offer_if_needed() {
                self.signal(id, ServerMessage::Offer { sdp, streams });
            }
            let (events, alive) = self.poll_peer(now, id);
            for event in events {
                self.handle_event(now, id, event, &mut work);
            }
            if !alive {
                self.depart(now, id, Departure::MediaFailed, &mut work);
            }
        }
    }

    /// Take everything `id`'s connection has to give now. str0m's pacer hands out one packet
    /// per timeout and asks for an immediate one after it: that is served here at once, up
    /// to [`PACED_PER_POLL`], not on the next wake-up of the loop (which would send one
    /// packet per wake-up, less than a full room's audio alone).
    pub(super) fn poll_peer(&mut self, now: Instant, id: ParticipantId) -> (Vec<Event>, bool) {
        let mut events = Vec::new();
        let Some(peer) = self.members.peer_mut(id) else {
            return (events, true);
        };
        let mut immediate_timeouts = 0;
        let mut sent = false;
        loop {
            if peer.failed || !peer.rtc.is_alive() {
                return (events, false);
            }
            let rtc = &mut peer.rtc;
            let Some(output) = isolated(|| rtc.poll_output()) else {
                peer.failed = true;
                return (events, false);
            };
            match output {
                Ok(RtcOutput::Timeout(at)) => {
                    if sent && at <= now && immediate_timeouts < PACED_PER_POLL {
                        immediate_timeouts += 1;
                        sent = false;
                        let rtc = &mut peer.rtc;
                        match isolated(|| rtc.handle_input(Input::Timeout(now))) {
                            Some(Ok(())) => continue,
                            Some(Err(_)) => {
                                peer.rtc.disconnect();
                                return (events, false);
                            }
                            None => {
                                peer.failed = true;
                                return (events, false);
                            }
                        }
                    }
                    peer.next_timeout = at;
                    return (events, true);
                }
                Ok(RtcOutput::Transmit(transmit)) => {
                    sent = true;
                    self.outputs.push_back(Output::Transmit(transmit));
                }
                Ok(RtcOutput::Event(event)) => events.push(event),
                Err(_) => {
                    peer.rtc.disconnect();
                    return (events, false);
                }
            }
        }
    }

    pub(super) fn handle_event(
        &mut self,
        now: Instant,
        id: ParticipantId,
        event: Event,
        work: &mut Vec<ParticipantId>,
    ) {
        match event {
            Event::MediaAdded(added) if added.direction.is_receiving() => {
                debug!(participant = %id, mid = %added.mid, kind = ?added.kind, "publishes a track");
                let key = TrackKey {
                    origin: id,
                    mid: added.mid,
                };
                let Some(kind) = self.rooms.classify(id, added.kind == MediaKind::Video) else {
                    debug!(participant = %id, mid = %added.mid, "extra media line not forwarded");
                    return;
                };
                if let Some(simulcast) = &added.simulcast {
                    let rids = simulcast.recv.iter().chain(&simulcast.send);
                    self.sent_layers.declare(key, rids.map(|layer| layer.rid));
                }
                for receiver in self.rooms.publish(key, kind) {
                    if let Some(peer) = self.members.peer_mut(receiver) {
                        peer.offer_track(key, kind);
                        work.push(receiver);
                    }
                }
            }
            Event::MediaData(data) => {
                metrics::add(&self.metrics.media_samples_received, 1);
                let key = TrackKey {
                    origin: id,
                    mid: data.mid,
                };
                let kind = self.rooms.track_kind(&key);
                let layer = LayerKey {
                    track: key,
                    rid: data.rid,
                };
                if kind.is_some_and(TrackKind::is_video) {
                    self.keyframe_requests.frame(&layer, data.is_keyframe());
                }
                if kind.is_some() {
                    self.sent_layers.frame(key, data.rid, data.data.len(), now);
                }
                if kind.is_some_and(TrackKind::is_video) && data.is_keyframe() {
                    self.sent_layers.keyframe(&key, data.rid, &data.data);
                }
                if !data.contiguous && kind.is_some_and(TrackKind::is_video) {
                    self.request_layer_keyframe(now, layer, KeyframeRequestKind::Fir);
                    work.push(id);
                }
                if kind == Some(TrackKind::Audio) {
                    if let Some(meeting) = meeting_of(&self.rooms, &mut self.meetings, id) {
                        meeting.audio(now, id, data.ext_vals.audio_level);
                    }
                }
                let is_video = kind.is_some_and(TrackKind::is_video);
                // What the sender switched off (or a host switched off for them) is not
                // forwarded, whatever its client keeps sending.
                let sending = self.members.peer(id).map(|p| p.sending).unwrap_or_default();
                let switched_on = match kind {
                    Some(TrackKind::Audio) => sending.mic,
                    Some(TrackKind::Video) => sending.camera,
                    Some(TrackKind::Screen) => sending.screen,
                    None => true,
                };
                if !switched_on {
                    return;
                }
                let live = match data.rid {
                    Some(_) => self.sent_layers.live(&key, now),
                    None => Vec::new(),
                };
                let mut keyframes_wanted = Vec::new();
                let Sfu {
                    rooms,
                    members,
                    metrics,
                    ..
                } = self;
                for (receiver, out_mid) in rooms.forwards(&key) {
                    let Some(peer) = members
                        .peer_mut(*receiver)
                        .filter(|p| p.receive != ReceiveQuality::AudioOnly || !is_video)
                    else {
                        continue;
                    };
                    let (mut time, mut arrived) = (data.time, data.network_time);
                    if is_video && data.rid.is_none() {
                        let allotted = peer.layers.get(&key).map(|c| c.allotted);
                        if allotted == Some(simulcast::Allotted::Paused) {
                            continue;
                        }
                    }
                    if let Some(rid) = data.rid {
                        let choice = peer.layers.of(key);
                        let target = choice.target(peer.receive, &live);
                        let was = choice.current();
                        let forwarded = choice.forward(
                            rid,
                            data.is_keyframe(),
                            data.time,
                            data.network_time,
                            target,
                        );
                        if was != choice.current() {
                            debug!(%receiver, origin = %id, from = ?was, to = ?choice.current(), "layer switched");
                        }
                        if let Some(wanted) = target.filter(|t| choice.current() != Some(*t)) {
                            keyframes_wanted.push(wanted);
                        }
                        match forwarded {
                            Some(forward) => (time, arrived) = (forward.time, forward.arrived),
                            None => continue,
                        }
                    }
                    let Some(writer) = peer.rtc.writer(*out_mid) else {
                        continue;
                    };
                    let Some(pt) = writer.match_params(data.params) else {
                        continue;
                    };
                    let bytes = data.data.len() as u64;
                    match writer.write(pt, arrived, time, data.data.clone()) {
                        Ok(()) => {
                            metrics::add(&metrics.media_samples_forwarded, 1);
                            metrics::add(&metrics.media_bytes_forwarded, bytes);
                        }
                        Err(e) => debug!(%receiver, origin = %id, "not forwarded: {e}"),
                    }
                    work.push(*receiver);
                }
                // A receiver waits for the keyframe of the layer it should switch to.
                keyframes_wanted.sort_by_key(|rid| rid.to_string());
                keyframes_wanted.dedup();
                for rid in keyframes_wanted {
                    let layer = LayerKey {
                        track: key,
                        rid: Some(rid),
                    };
                    self.request_layer_keyframe(now, layer, KeyframeRequestKind::Pli);
                    work.push(id);
                }
            }
            Event::KeyframeRequest(request) => {
                let Some(peer) = self.members.peer(id) else {
                    return;
                };
                let Some(key) = peer.track_on(request.mid) else {
                    return;
                };
                // The layer this receiver gets; before it gets one, what it waits for.
                match peer.layers.current(&key) {
                    Some(rid) => {
                        let layer = LayerKey {
                            track: key,
                            rid: Some(rid),
                        };
                        self.request_layer_keyframe(now, layer, request.kind);
                    }
                    None => self.request_keyframe(now, key, request.kind),
                }
                work.push(key.origin);
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                // Maybe only for a moment (a network change): the client asks for an ICE
                // restart; `check_presence` decides when it is gone for good.
                if let Some(peer) = self.members.peer_mut(id) {
                    peer.ice_lost_since.get_or_insert(now);
                }
            }
            Event::IceConnectionStateChange(
                IceConnectionState::Connected | IceConnectionState::Completed,
            ) => {
                if let Some(peer) = self.members.peer_mut(id) {
                    peer.media_connected = true;
                    peer.ice_lost_since = None;
                }
            }
            Event::EgressBitrateEstimate(BweKind::Twcc { estimate, .. }) => {
                self.bandwidth_estimated(now, id, estimate.as_u64(), work);
            }
            Event::PeerStats(stats) => {
                // Once a second: layers started or stopped, rates changed.
                self.allocate_for(now, id, work);
                let quality = super::super::link_quality::classify(&stats);
                let told = self
                    .members
                    .peer_mut(id)
                    .and_then(|peer| peer.link.report(quality));
                if let Some(quality) = told {
                    debug!(participant = %id, ?quality, "connection quality");
                    if let Some((participant, members)) = self
                        .rooms
                        .update_participant(id, |p| p.connection = quality)
                    {
                        self.tell_all(&members, ServerMessage::ParticipantUpdated { participant });
                    }
                }
            }
            Event::Connected => {
                // DTLS is up: only now can video reach this participant. A keyframe asked for
                // when its lines were agreed may have gone out before and been lost; without
                // a new one its first picture waits for the browser's own request.
                let tracks = self
                    .members
                    .peer(id)
                    .map(|p| p.open_video_tracks())
                    .unwrap_or_default();
                for key in tracks {
                    self.keyframe_requests.ask_afresh(&key);
                    self.request_keyframe(now, key, KeyframeRequestKind::Pli);
                    work.push(key.origin);
                }
            }
            Event::Closed => {
                if let Some(peer) = self.members.peer_mut(id) {
                    peer.rtc.disconnect();
                }
            }
            _ => {}
        }
    }

    /// A new estimate of what the link to `id` carries: the pictures it gets follow it.
    fn bandwidth_estimated(
        &mut self,
        now: Instant,
        id: ParticipantId,
        estimate: u64,
        work: &mut Vec<ParticipantId>,
    ) {
        if let Some(peer) = self.members.peer_mut(id) {
            peer.egress_estimate = Some(estimate);
        }
        self.allocate_for(now, id, work);
    }

    /// Share the link to `receiver` among the pictures it gets ([`allocation`]): each
    /// picture's layer, which are paused (it is told), and what the estimator is to keep up
    /// and probe toward.
    pub(super) fn allocate_for(
        &mut self,
        now: Instant,
        receiver: ParticipantId,
        work: &mut Vec<ParticipantId>,
    ) {
        let Some(peer) = self.members.peer(receiver) else {
            return;
        };
        let mut tracks = peer.open_tracks();
        tracks.sort_by_key(|(key, _)| (key.origin, key.mid));
        let mut voices = Vec::new();
        let mut pictures = Vec::new();
        let mut keys = Vec::new();
        for (key, kind) in tracks {
            if kind == TrackKind::Audio {
                voices.push((key, self.sent_layers.single_bitrate(&key, now).unwrap_or(0)));
                continue;
            }
            let allotted = peer.layers.get(&key).map(|c| c.allotted);
            let (layers, current) = if self.sent_layers.is_simulcast(&key) {
                let layers = self
                    .sent_layers
                    .live(&key, now)
                    .into_iter()
                    .map(|l| allocation::Layer {
                        rid: Some(l.rid),
                        bitrate: simulcast::bitrate_or_expected(l.bitrate, Some(l.rid)),
                        height: l.height,
                    })
                    .collect();
                (layers, peer.layers.current(&key).map(Some))
            } else {
                let layers: Vec<_> = self
                    .sent_layers
                    .single_live(&key, now)
                    .map(|(bitrate, height)| allocation::Layer {
                        rid: None,
                        bitrate: simulcast::bitrate_or_expected(bitrate, None),
                        height,
                    })
                    .into_iter()
                    .collect();
                let shown = !layers.is_empty() && allotted != Some(simulcast::Allotted::Paused);
                (layers, shown.then_some(None))
            };
            let last_voice = self
                .rooms
                .room_name(key.origin)
                .and_then(|room| self.meetings.get(room))
                .and_then(|meeting| meeting.last_voice(key.origin));
            pictures.push(allocation::Picture {
                screen: kind == TrackKind::Screen,
                last_voice,
                shown_height: peer
                    .tile_heights
                    .get(&(key.origin, kind == TrackKind::Screen))
                    .copied(),
                layers,
                current,
            });
            keys.push((key, kind));
        }
        // Over TCP the delay the estimator reads is TCP's own (its buffering and resends):
        // on an open path the estimates fell to 60-250 kbit/s and paused every picture. There
        // TCP's congestion control sets the pace, and the pictures follow only the receive
        // setting and the tiles' sizes.
        let estimate = peer.link_estimate();
        let payloads: Vec<u64> = voices.iter().map(|(_, bitrate)| *bitrate).collect();
        let audio = allocation::audio(estimate, &payloads, peer.redundant_audio);
        let budget = estimate.map(|estimate| allocation::budget(estimate, audio.bits_per_second));
        let quality = peer.receive;
        let shared = allocation::allocate(quality, budget, &pictures);
        debug!(participant = %receiver, ?budget, audio = audio.bits_per_second, red = audio.redundant, minimum = shared.minimum, desired = shared.desired, "pictures allotted");
        let mut told = Vec::new();
        let mut resumed = Vec::new();
        let Some(peer) = self.members.peer_mut(receiver) else {
            return;
        };
        peer.redundant_audio = audio.redundant;
        for (key, _) in &voices {
            if let Some(line) = peer.line_of(*key) {
                if peer.rtc.direct_api().set_red_send(line, audio.redundant) {
                    debug!(%receiver, origin = %key.origin, red = audio.redundant, "redundant audio switched");
                }
            }
        }
        for (((key, kind), picture), pick) in keys.iter().zip(&pictures).zip(&shared.picks) {
            let choice = peer.layers.of(*key);
            let mut allotted = match pick {
                Some(rid) => simulcast::Allotted::Layer(*rid),
                None if picture.layers.is_empty() || quality == ReceiveQuality::AudioOnly => {
                    simulcast::Allotted::Unset
                }
                None => simulcast::Allotted::Paused,
            };
            // A shown picture keeps its smallest layer while the link is short for less
            // than `PAUSE_AFTER`.
            match (allotted, picture.current, picture.layers.first()) {
                (simulcast::Allotted::Paused, Some(_), Some(smallest)) => {
                    let since = *choice.short_since.get_or_insert(now);
                    if now.duration_since(since) < allocation::PAUSE_AFTER {
                        allotted = simulcast::Allotted::Layer(smallest.rid);
                    }
                }
                (simulcast::Allotted::Paused, _, _) => {}
                _ => choice.short_since = None,
            }
            let paused = allotted == simulcast::Allotted::Paused;
            if choice.allotted == simulcast::Allotted::Paused
                && !paused
                && picture.current.is_none()
            {
                resumed.push(*key);
            }
            choice.allotted = allotted;
            // Told per participant: their camera's picture.
            if paused != choice.paused && *kind == TrackKind::Video {
                told.push((key.origin, paused));
            }
            choice.paused = paused;
        }
        let (minimum, desired) = allocation::link_targets(audio, &shared);
        peer.rtc
            .bwe()
            .set_bitrate(Bitrate::bps(minimum), Bitrate::bps(desired));
        for (origin, paused) in told {
            debug!(%receiver, %origin, paused, "video paused for a weak link");
            self.signal(
                receiver,
                ServerMessage::VideoPaused {
                    participant_id: origin,
                    paused,
                },
            );
        }
        // A picture that comes back starts with a keyframe, not with a frozen one.
        for key in resumed {
            self.request_keyframe(now, key, KeyframeRequestKind::Pli);
            work.push(key.origin);
        }
        work.push(receiver);
    }

    /// Ask the sender of `key` for a keyframe of each layer its receivers get or wait for.
    pub(super) fn request_keyframe(
        &mut self,
        now: Instant,
        key: TrackKey<Mid>,
        kind: KeyframeRequestKind,
    ) {
        for rid in self.layers_wanted(&key, now) {
            self.request_layer_keyframe(now, LayerKey { track: key, rid }, kind);
        }
    }

    /// The layers of `key` its receivers get or should switch to; all it declares while
    /// none is known yet. `[None]` for a track sent in one layer.
    fn layers_wanted(&self, key: &TrackKey<Mid>, now: Instant) -> Vec<Option<Rid>> {
        let declared = self.sent_layers.declared(key);
        if declared.is_empty() {
            return vec![None];
        }
        let live = self.sent_layers.live(key, now);
        let mut wanted: Vec<Rid> = Vec::new();
        for (receiver, _) in self.rooms.forwards(key) {
            let Some(peer) = self.members.peer(*receiver) else {
                continue;
            };
            let current = peer.layers.current(key);
            let target = match peer.layers.get(key) {
                Some(choice) => choice.target(peer.receive, &live),
                None => simulcast::default_layer(peer.receive, &live),
            };
            let layers = [current, target];
            for rid in layers.into_iter().flatten() {
                if !wanted.contains(&rid) {
                    wanted.push(rid);
                }
            }
        }
        if wanted.is_empty() && live.is_empty() {
            wanted = declared;
        }
        wanted.into_iter().map(Some).collect()
    }

    pub(super) fn request_layer_keyframe(
        &mut self,
        now: Instant,
        layer: LayerKey,
        kind: KeyframeRequestKind,
    ) {
        if !self.keyframe_requests.may_ask(&layer, now) {
            return;
        }
        let Some(mut writer) = self
            .members
            .peer_mut(layer.track.origin)
            .and_then(|p| p.rtc.writer(layer.track.mid))
        else {
            return;
        };
        let asked = writer.request_keyframe(layer.rid, kind);
        debug!(origin = %layer.track.origin, mid = %layer.track.mid, rid = ?layer.rid, ?asked, "keyframe asked");
        if asked.is_ok() {
            self.keyframe_requests.asked(layer, now);
            metrics::add(&self.metrics.keyframe_requests_sent, 1);
        }
    }
}
