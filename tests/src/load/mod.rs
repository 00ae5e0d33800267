//! The load generator: synthetic participants on str0m, in rooms of two or three, that
//! publish a camera-sized video and audio stream each and measure what comes back through
//! the server (our relay or Janus) from outside it: packets, loss, one-way delay. The
//! server's CPU time and memory are read from /proc by [`run_point`].

pub mod janus;
pub mod leg;
pub mod pauses;
pub mod sprechstunde;
pub mod stamp;
pub mod stats;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::bench::{proc, stats as percentiles};
use leg::LegHandle;
pub use leg::MediaProfile;
use stats::Snapshot;
pub use stats::TrackKind;

/// A synthetic participant: its connections, and what keeps its signaling going.
pub struct Participant {
    legs: Vec<LegHandle>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// Tells the server this participant leaves.
    farewell: Option<Box<dyn FnOnce() + Send>>,
    /// Ends after the farewell went out.
    writer: Option<tokio::task::JoinHandle<()>>,
    /// What our relay said it pauses for this participant's link (none for Janus's).
    pauses: Option<std::sync::Arc<std::sync::Mutex<pauses::Pauses>>>,
}

impl Participant {
    /// How many senders this participant has received both audio and video from.
    pub fn senders_heard(&self) -> usize {
        self.legs
            .iter()
            .filter_map(|leg| leg.stats.lock().ok().map(|s| s.senders_heard()))
            .sum()
    }

    /// The senders of whom it received a track of `kind` since the last [`Participant::take`].
    pub fn senders_of(&self, kind: TrackKind) -> std::collections::HashSet<u32> {
        self.legs
            .iter()
            .filter_map(|leg| leg.stats.lock().ok().map(|s| s.senders_of(kind)))
            .flatten()
            .collect()
    }

    /// What its connections counted since the last call.
    pub fn take(&self) -> Snapshot {
        let mut total = Snapshot::default();
        for leg in &self.legs {
            if let Ok(mut stats) = leg.stats.lock() {
                total.add(stats.take());
            }
        }
        total
    }

    /// The senders whose pictures the relay paused for this participant at any moment
    /// since the last call (by sender index).
    pub fn take_paused(&self) -> std::collections::HashSet<u32> {
        self.pauses
            .as_ref()
            .and_then(|p| p.lock().ok().map(|mut p| p.take()))
            .unwrap_or_default()
    }

    pub async fn leave(mut self) {
        if let Some(farewell) = self.farewell.take() {
            farewell();
        }
        if let Some(writer) = self.writer.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
        }
    }
}

impl Drop for Participant {
    fn drop(&mut self) {
        for task in self.tasks.iter().chain(self.writer.iter()) {
            task.abort();
        }
    }
}

/// The server under load.
pub enum Target<'a> {
    /// Our relay at this HTTP address.
    Sprechstunde {
        http: SocketAddr,
        pid: u32,
    },
    Janus(&'a janus::Janus),
}

impl Target<'_> {
    pub fn pid(&self) -> u32 {
        match self {
            Target::Sprechstunde { pid, .. } => *pid,
            Target::Janus(janus) => janus.pid(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Target::Sprechstunde { .. } => "Sprechstunde",
            Target::Janus(_) => "Janus",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub rooms: usize,
    pub room_size: usize,
    pub profile: MediaProfile,
    /// After everyone hears everyone, before counting.
    pub warm_up: Duration,
    pub window: Duration,
}

/// One load, measured.
#[derive(Debug, Clone)]
pub struct Point {
    pub rooms: usize,
    pub room_size: usize,
    pub seconds: f64,
    /// The server's user plus system CPU time in the window.
    pub server_cpu_seconds: f64,
    pub server_rss_kib: u64,
    /// Busy share of all of the machine's cores in the window (0 to 1).
    pub machine_busy: f64,
    pub counts: Snapshot,
    /// How long until every participant heard every other one.
    pub connect_seconds: f64,
}

impl Point {
    pub fn participants(&self) -> usize {
        self.rooms * self.room_size
    }

    /// RTP packets the participants sent to the server, per second.
    pub fn packets_in_per_second(&self) -> f64 {
        self.counts.rtp_sent as f64 / self.seconds
    }

    /// RTP packets that came back out of the server to participants, per second.
    pub fn packets_forwarded_per_second(&self) -> f64 {
        self.counts.rtp_received as f64 / self.seconds
    }

    /// Share of one core the server used.
    pub fn server_cores(&self) -> f64 {
        self.server_cpu_seconds / self.seconds
    }

    pub fn cpu_us_per_forwarded_packet(&self) -> f64 {
        if self.counts.rtp_received == 0 {
            return f64::NAN;
        }
        self.server_cpu_seconds * 1e6 / self.counts.rtp_received as f64
    }

    /// Delay from the sender's stamp to the receiver's frame, in milliseconds: audio and
    /// video together, or `kind` alone.
    pub fn delay_ms(&self, kind: Option<TrackKind>, percentile: f64) -> f64 {
        let (audio, video) = (&self.counts.audio_delays_us, &self.counts.video_delays_us);
        let chosen: Vec<&u32> = match kind {
            None => audio.iter().chain(video).collect(),
            Some(TrackKind::Audio) => audio.iter().collect(),
            Some(TrackKind::Video) => video.iter().collect(),
        };
        let delays: Vec<f64> = chosen.iter().map(|us| f64::from(**us) / 1000.0).collect();
        percentiles::percentile(&delays, percentile).unwrap_or(f64::NAN)
    }
}

/// The loopback address participant `index` connects from (the relay allows a limited number
/// of connections per address, as it should for real clients).
fn loopback_source(index: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        1 + (index / 250) as u8,
        (index % 250) as u8 + 1,
        1,
    ))
}

async fn join_room(target: &Target<'_>, room: usize, load: Load) -> Result<Vec<Participant>> {
    let indices: Vec<u32> = (0..load.room_size)
        .map(|m| (room * load.room_size + m) as u32)
        .collect();
    match target {
        Target::Sprechstunde { http, .. } => {
            let mut participants = Vec::new();
            for index in indices {
                participants.push(
                    sprechstunde::join(
                        *http,
                        loopback_source(index as usize),
                        &format!("last-{room}"),
                        index,
                        load.profile,
                    )
                    .await?,
                );
            }
            Ok(participants)
        }
        Target::Janus(janus) => janus::join_room(janus, &indices, load.profile).await,
    }
}

/// Everyone joins (rooms side by side), media flows, then one window is counted.
pub async fn run_point(target: &Target<'_>, load: Load) -> Result<Point> {
    let started = Instant::now();
    let mut participants = Vec::new();
    // A few rooms at a time: the server should not have to take a stampede of joins.
    for rooms in (0..load.rooms).collect::<Vec<_>>().chunks(4) {
        let joins = rooms.iter().map(|room| join_room(target, *room, load));
        for room in futures_util::future::join_all(joins).await {
            participants.extend(room.context("joining a room")?);
        }
    }
    let everyone_heard = |participants: &[Participant]| {
        participants
            .iter()
            .all(|p| p.senders_heard() >= load.room_size - 1)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !everyone_heard(&participants) {
        if Instant::now() > deadline {
            let deaf = participants
                .iter()
                .filter(|p| p.senders_heard() < load.room_size - 1)
                .count();
            anyhow::bail!(
                "{} of {} participants heard nobody after 30 s ({})",
                deaf,
                participants.len(),
                target.name()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connect_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(load.warm_up).await;
    for participant in &participants {
        participant.take();
    }
    let pid = target.pid();
    let (cpu_before, machine_before, window_start) = (
        proc::cpu_ticks(pid)?,
        proc::machine_ticks()?,
        Instant::now(),
    );
    tokio::time::sleep(load.window).await;
    let mut counts = Snapshot::default();
    for participant in &participants {
        counts.add(participant.take());
    }
    let seconds = window_start.elapsed().as_secs_f64();
    let (cpu_after, machine_after) = (proc::cpu_ticks(pid)?, proc::machine_ticks()?);
    let server_rss_kib = proc::rss_kib(pid)?;
    for participant in participants {
        participant.leave().await;
    }
    Ok(Point {
        rooms: load.rooms,
        room_size: load.room_size,
        seconds,
        server_cpu_seconds: cpu_after.saturating_sub(cpu_before) as f64
            / proc::TICKS_PER_SECOND as f64,
        server_rss_kib,
        machine_busy: machine_after.busy_share_since(&machine_before),
        counts,
        connect_seconds,
    })
}

/// Least-squares line through `(x, y)`: slope and intercept.
pub fn fit_line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    Some((slope, mean_y - slope * mean_x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_fitted_through_its_points() {
        let points = [(1.0, 12.0), (2.0, 14.0), (4.0, 18.0)];
        let (slope, intercept) = fit_line(&points).expect("fit");
        assert!((slope - 2.0).abs() < 1e-9 && (intercept - 10.0).abs() < 1e-9);
        assert!(fit_line(&points[..1]).is_none());
        assert!(fit_line(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }

    #[test]
    fn every_participant_gets_its_own_loopback_address() {
        let addresses: std::collections::HashSet<IpAddr> = (0..600).map(loopback_source).collect();
        assert_eq!(addresses.len(), 600);
        assert!(addresses.iter().all(IpAddr::is_loopback));
    }
}
