//! Which IP address a request is logged under: the socket's peer, or the last hop named in
//! `X-Forwarded-For` when (and only when) that peer is a configured trusted proxy; then
//! optionally truncated to /24 (IPv4) or /48 (IPv6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use axum::http::HeaderMap;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum IpMode {
    /// The full address, as the privacy notice states.
    #[default]
    Full,
    /// IPv4 to /24, IPv6 to /48.
    Truncated,
}

#[derive(Debug, Clone, Default)]
pub struct ClientIp {
    pub trusted_proxies: Vec<IpAddr>,
    pub mode: IpMode,
}

impl ClientIp {
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        // Behind a `[::]` listener IPv4 peers arrive as ::ffff:a.b.c.d.
        let peer = peer.to_canonical();
        let trusted = self
            .trusted_proxies
            .iter()
            .any(|proxy| proxy.to_canonical() == peer);
        let ip = if trusted {
            forwarded_for(headers).map_or(peer, |ip| ip.to_canonical())
        } else {
            peer
        };
        match self.mode {
            IpMode::Full => ip,
            IpMode::Truncated => truncate(ip),
        }
    }
}

/// The right-most address in `X-Forwarded-For`: the one our trusted proxy saw.
fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let value = headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?;
    value.rsplit(',').next()?.trim().parse().ok()
}

pub fn truncate(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert("x-forwarded-for", xff.parse().expect("header"));
        map
    }

    #[test]
    fn forwarded_for_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().expect("ip");
        let client: IpAddr = "203.0.113.7".parse().expect("ip");
        let resolver = ClientIp {
            trusted_proxies: vec![proxy],
            mode: IpMode::Full,
        };
        let spoofed = headers("198.51.100.1, 203.0.113.7");
        assert_eq!(resolver.resolve(proxy, &spoofed), client);
        let stranger: IpAddr = "192.0.2.50".parse().expect("ip");
        assert_eq!(
            resolver.resolve(stranger, &spoofed),
            stranger,
            "untrusted peers cannot claim an address"
        );
        assert_eq!(resolver.resolve(proxy, &headers("garbage")), proxy);
        assert_eq!(resolver.resolve(proxy, &HeaderMap::new()), proxy);
    }

    #[test]
    fn a_proxy_seen_through_a_dual_stack_listener_is_still_trusted() {
        let resolver = ClientIp {
            trusted_proxies: vec!["10.0.0.1".parse().expect("ip")],
            mode: IpMode::Full,
        };
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("ip");
        let client: IpAddr = "203.0.113.7".parse().expect("ip");
        assert_eq!(resolver.resolve(mapped, &headers("203.0.113.7")), client);
        let mapped_stranger: IpAddr = "::ffff:192.0.2.50".parse().expect("ip");
        assert_eq!(
            resolver.resolve(mapped_stranger, &headers("203.0.113.7")),
            "192.0.2.50".parse::<IpAddr>().expect("ip"),
            "logged as the IPv4 address it is"
        );
    }

    proptest! {
        #[test]
        fn truncated_v4_keeps_the_network_and_drops_the_host(octets in any::<[u8; 4]>()) {
            let ip = IpAddr::V4(Ipv4Addr::from(octets));
            let IpAddr::V4(cut) = truncate(ip) else { panic!("family changed") };
            prop_assert_eq!(&cut.octets()[..3], &octets[..3]);
            prop_assert_eq!(cut.octets()[3], 0);
            prop_assert_eq!(truncate(IpAddr::V4(cut)), IpAddr::V4(cut), "idempotent");
        }

        #[test]
        fn truncated_v6_keeps_48_bits(segments in any::<[u16; 8]>()) {
            let ip = IpAddr::V6(Ipv6Addr::from(segments));
            let IpAddr::V6(cut) = truncate(ip) else { panic!("family changed") };
            prop_assert_eq!(&cut.segments()[..3], &segments[..3]);
            prop_assert!(cut.segments()[3..].iter().all(|s| *s == 0));
        }

        #[test]
        fn every_address_in_a_slash_24_maps_to_the_same_entry(a in any::<u8>(), b in any::<u8>(), c in any::<u8>(), x in any::<u8>(), y in any::<u8>()) {
            let one = truncate(IpAddr::V4(Ipv4Addr::new(a, b, c, x)));
            let two = truncate(IpAddr::V4(Ipv4Addr::new(a, b, c, y)));
            prop_assert_eq!(one, two);
        }
    }
}
