//! Limits on signaling connections: the Origin must be the relay's own, one address may hold
//! only so many connections, and one connection may send only so many messages per second.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::http::HeaderValue;

/// Connections one address may hold at once (an office behind one NAT has several tablets).
pub const MAX_CONNECTIONS_PER_IP: usize = 50;
/// Token bucket per connection: a burst of this many messages ...
pub const MESSAGE_BURST: f64 = 40.0;
/// ... refilled at this rate per second.
pub const MESSAGES_PER_SECOND: f64 = 20.0;

/// A browser always sends `Origin`; it must name this relay: the configured public URL when
/// there is one (so a rebound DNS name on a LAN set-up cannot pass), else the `Host` asked
/// for. Clients that send none (not browsers) cannot be used for cross-site requests and pass.
pub fn origin_allowed(
    origin: Option<&HeaderValue>,
    host: Option<&HeaderValue>,
    public_origin: Option<&str>,
) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if let Some(public_origin) = public_origin {
        return origin.eq_ignore_ascii_case(public_origin);
    }
    let Some(Ok(host)) = host.map(|h| h.to_str()) else {
        return false;
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// The origin (scheme and authority) of a public URL such as `https://beratung.example/`.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// The address limits count under: one IPv4 address, or one IPv6 /64 (what one household
/// or one host gets; counting each /128 would give one IPv6 host unlimited places).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// Open connections per address (an IPv4 address or an IPv6 /64), up to a limit.
#[derive(Clone)]
pub struct ConnectionCounter {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    limit: usize,
}

impl Default for ConnectionCounter {
    /// For signaling connections.
    fn default() -> Self {
        ConnectionCounter::with_limit(MAX_CONNECTIONS_PER_IP)
    }
}

/// Held for the life of a connection; frees its place when dropped.
pub struct ConnectionSlot {
    ip: IpAddr,
    counter: ConnectionCounter,
}

impl ConnectionCounter {
    pub fn with_limit(limit: usize) -> ConnectionCounter {
        ConnectionCounter {
            open: Arc::default(),
            limit,
        }
    }

    pub fn acquire(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let ip = address_key(ip);
        let mut open = self.open.lock().ok()?;
        let count = open.entry(ip).or_insert(0);
        if *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(ConnectionSlot {
            ip,
            counter: self.clone(),
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.counter.open.lock() {
            if let Some(count) = open.get_mut(&self.ip) {
                *count -= 1;
                if *count == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

pub struct RateLimiter {
    tokens: f64,
    last: Instant,
    burst: f64,
    per_second: f64,
}

/// Chat messages a participant may send at once, and then per second.
pub const CHAT_BURST: f64 = 10.0;
pub const CHAT_PER_SECOND: f64 = 1.0;

impl RateLimiter {
    /// For all signaling messages of a connection.
    pub fn new(now: Instant) -> RateLimiter {
        RateLimiter::with_rate(now, MESSAGE_BURST, MESSAGES_PER_SECOND)
    }

    /// For chat messages: a few in a row, then about one a second.
    pub fn chat(now: Instant) -> RateLimiter {
        RateLimiter::with_rate(now, CHAT_BURST, CHAT_PER_SECOND)
    }

    /// For setting a meeting password (an argon2 hash each): a few, then one per 10 s.
    pub fn password(now: Instant) -> RateLimiter {
        RateLimiter::with_rate(now, 3.0, 0.1)
    }

    fn with_rate(now: Instant, burst: f64, per_second: f64) -> RateLimiter {
        RateLimiter {
            tokens: burst,
            last: now,
            burst,
            per_second,
        }
    }

    /// Whether one more message may pass at `now`.
    pub fn allow(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_the_relays_own_origin_passes() {
        let host = HeaderValue::from_static("beratung.example:8443");
        let check = |origin: &'static str| {
            origin_allowed(Some(&HeaderValue::from_static(origin)), Some(&host), None)
        };
        assert!(check("https://beratung.example:8443"));
        assert!(check("http://Beratung.example:8443"));
        assert!(!check("https://evil.example"));
        assert!(!check("https://beratung.example:8443.evil.example"));
        assert!(!check("null"));
        assert!(
            origin_allowed(None, Some(&host), None),
            "non-browser clients send no Origin"
        );
        assert!(!origin_allowed(
            Some(&HeaderValue::from_static("https://x")),
            None,
            None
        ));
    }

    #[test]
    fn with_a_public_url_only_its_origin_passes_whatever_host_is_asked_for() {
        let public = origin_of("https://beratung.example/termine").expect("origin");
        assert_eq!(public, "https://beratung.example");
        // DNS rebinding: the attacker's name now points at the relay, and the browser sends
        // the attacker's name as both Origin and Host.
        let rebound = HeaderValue::from_static("rebind.evil.example");
        let check = |origin: &'static str, host: &HeaderValue| {
            origin_allowed(
                Some(&HeaderValue::from_static(origin)),
                Some(host),
                Some(&public),
            )
        };
        assert!(!check("http://rebind.evil.example", &rebound));
        let own = HeaderValue::from_static("beratung.example");
        assert!(check("https://beratung.example", &own));
        assert!(!check("http://beratung.example", &own), "scheme counts");
    }

    #[test]
    fn connections_per_address_are_capped_and_freed() {
        let counter = ConnectionCounter::default();
        let ip: IpAddr = "203.0.113.1".parse().expect("ip");
        let slots: Vec<ConnectionSlot> = (0..MAX_CONNECTIONS_PER_IP)
            .map(|_| counter.acquire(ip).expect("slot"))
            .collect();
        assert!(counter.acquire(ip).is_none());
        assert!(counter
            .acquire("203.0.113.2".parse().expect("ip"))
            .is_some());
        drop(slots);
        assert!(counter.acquire(ip).is_some());
    }

    #[test]
    fn one_ipv6_host_counts_as_one_address_whatever_its_interface_id() {
        let counter = ConnectionCounter::default();
        let slots: Vec<ConnectionSlot> = (0..MAX_CONNECTIONS_PER_IP)
            .map(|i| {
                let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().expect("ip");
                counter.acquire(ip).expect("slot")
            })
            .collect();
        let same_64: IpAddr = "2001:db8:1:2:ffff::1".parse().expect("ip");
        assert!(counter.acquire(same_64).is_none());
        let next_64: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert!(counter.acquire(next_64).is_some());
        drop(slots);
        assert_eq!(
            address_key("::ffff:192.0.2.1".parse().expect("ip")),
            "192.0.2.1".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn bursts_pass_floods_do_not_and_time_refills() {
        let start = Instant::now();
        let mut limiter = RateLimiter::new(start);
        let passed = (0..100).filter(|_| limiter.allow(start)).count();
        assert_eq!(passed, MESSAGE_BURST as usize);
        assert!(
            limiter.allow(start + Duration::from_millis(100)),
            "2 tokens back after 100 ms"
        );
    }
}
