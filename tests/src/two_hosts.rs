//! Two browsers, Anna and Ben, each on a host of its own in the test network, in a call
//! through the relay on 10.77.0.1: for tests that break or narrow the paths between them.

use std::time::Duration;

use anyhow::Result;

use crate::browser::{Browser, Driver, Engine, MediaStats};
use crate::delay::DelayProxy;
use crate::netns::{Host, Network, PROXY_IP, RELAY_IP};
use crate::relay::Relay;
use crate::{free_port, free_udp_port};

pub const ROOM: &str = "verbindung";
pub const MEDIA_TIMEOUT: Duration = Duration::from_secs(30);

/// Frames shown so far of `name`'s camera, and whose participant id the tile has.
pub fn camera_of(stats: &MediaStats, name: &str) -> Option<(String, u64)> {
    stats
        .tile(name, "camera")
        .filter(|t| t.video_width > 0)
        .map(|t| (t.participant.clone(), t.frames_shown))
}

/// Ben sees and hears Anna, and Anna sees Ben.
pub async fn both_see_each_other(anna: &Browser, ben: &Browser, timeout: Duration) -> Result<()> {
    ben.until_stats("Ben to see and hear Anna", timeout, |s| {
        camera_of(s, "Anna").is_some_and(|(_, frames)| frames > 10) && s.audio_packets() > 0
    })
    .await?;
    anna.until_stats("Anna to see Ben", timeout, |s| {
        camera_of(s, "Ben").is_some_and(|(_, frames)| frames > 10)
    })
    .await?;
    Ok(())
}

pub struct TwoHosts {
    // Dropped in this order: browsers, then their drivers, the relay, the hosts, the network.
    pub anna: Browser,
    pub ben: Browser,
    _drivers: (Driver, Driver),
    pub relay: Relay,
    pub http_port: u16,
    pub media_port: u16,
    _delay: Option<DelayProxy>,
    pub anna_host: Host,
    pub ben_host: Host,
    _network: Network,
}

impl TwoHosts {
    /// Anna and Ben in the call. `one_way_delay`: media goes through a proxy on 10.77.0.2
    /// (which the relay advertises) that holds every datagram this long in each direction.
    pub async fn call(one_way_delay: Option<Duration>) -> Result<TwoHosts> {
        let hosts = TwoHosts::ready(one_way_delay).await?;
        hosts.join().await?;
        Ok(hosts)
    }

    /// Everything up, the browsers not yet in the room (to narrow the paths first).
    pub async fn ready(one_way_delay: Option<Duration>) -> Result<TwoHosts> {
        TwoHosts::ready_with(one_way_delay, &[]).await
    }

    /// As [`TwoHosts::ready`], the relay started with `relay_args` besides.
    pub async fn ready_with(
        one_way_delay: Option<Duration>,
        relay_args: &[&str],
    ) -> Result<TwoHosts> {
        TwoHosts::start(one_way_delay, relay_args, Engine::Chromium).await
    }

    /// Anna in Chromium, Ben in Firefox; nothing narrowed, not yet in the room.
    pub async fn chromium_and_firefox() -> Result<TwoHosts> {
        TwoHosts::start(None, &[], Engine::Firefox).await
    }

    async fn start(
        one_way_delay: Option<Duration>,
        relay_args: &[&str],
        ben_engine: Engine,
    ) -> Result<TwoHosts> {
        let network = Network::new()?;
        let (anna_host, ben_host) = (network.host(1)?, network.host(2)?);
        let http_port = free_port()?;
        let media_port = free_udp_port()?;
        let delay = match one_way_delay {
            Some(one_way) => Some(
                DelayProxy::start(
                    (PROXY_IP, media_port).into(),
                    (RELAY_IP, media_port).into(),
                    one_way,
                )
                .await?,
            ),
            None => None,
        };
        let http = format!("{RELAY_IP}:{http_port}");
        let (relay_ip, port, proxy_ip) = (
            RELAY_IP.to_string(),
            media_port.to_string(),
            PROXY_IP.to_string(),
        );
        let mut args = vec![
            "--http",
            &http,
            // A closed test network, not localhost: plain HTTP must be allowed explicitly.
            "--allow-plain-http",
            "true",
            "--media-ip",
            &relay_ip,
            "--media-port",
            &port,
        ];
        if delay.is_some() {
            args.extend(["--media-advertise", proxy_ip.as_str()]);
        }
        args.extend_from_slice(relay_args);
        let relay = Relay::start_with(&args)?;
        let base = format!("http://{http}");
        let ben_driver = match ben_engine {
            Engine::Chromium => Driver::start_in(&ben_host, &base).await?,
            Engine::Firefox => Driver::start_firefox_in(&ben_host, &base).await?,
            Engine::WebKit => anyhow::bail!("WebKit here has no WebRTC: it cannot be in a call"),
        };
        let drivers = (Driver::start_in(&anna_host, &base).await?, ben_driver);
        let anna = drivers.0.browser().await?;
        let ben = drivers.1.browser().await?;
        Ok(TwoHosts {
            anna,
            ben,
            _drivers: drivers,
            relay,
            http_port,
            media_port,
            _delay: delay,
            anna_host,
            ben_host,
            _network: network,
        })
    }

    /// Another browser on Anna's host (her network, her path to the relay).
    pub async fn browser_beside_anna(&self) -> Result<Browser> {
        self._drivers.0.browser().await
    }

    /// Another browser on Anna's host whose camera plays `y4m`.
    pub async fn browser_beside_anna_with_camera(&self, y4m: &std::path::Path) -> Result<Browser> {
        self._drivers.0.browser_with_camera_file(y4m).await
    }

    /// Both join the room and see each other.
    pub async fn join(&self) -> Result<()> {
        let base = format!("http://{RELAY_IP}:{}", self.http_port);
        self.anna.join(&base, ROOM, "Anna").await?;
        self.ben.join(&base, ROOM, "Ben").await?;
        both_see_each_other(&self.anna, &self.ben, MEDIA_TIMEOUT).await
    }
}
