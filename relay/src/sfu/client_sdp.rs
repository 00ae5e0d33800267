//! What the relay accepts of a client's SDP and ICE candidates: one offer with at most the
//! three lines the protocol names (microphone, camera, screen) and no data channel, a
//! bounded number of candidates, and only candidates the relay may send connectivity checks
//! to: public addresses, and loopback or private ones only when the relay's own media
//! addresses are of that kind. A relay on the internet thus never probes the network
//! behind it for someone who names an internal address.

use std::net::IpAddr;

/// Lines a client's offer may have.
pub const MAX_CLIENT_LINES: usize = 3;
/// Candidates one participant may give (trickled and in SDP together).
pub const MAX_REMOTE_CANDIDATES: usize = 32;

/// Why an offer is refused.
pub fn offer_problem(sdp: &str) -> Option<&'static str> {
    let lines: Vec<&str> = sdp.lines().filter(|l| l.starts_with("m=")).collect();
    if lines.iter().any(|l| l.starts_with("m=application")) {
        return Some("data channels are not part of the protocol");
    }
    if lines.len() > MAX_CLIENT_LINES {
        return Some("at most three lines: microphone, camera, screen");
    }
    None
}

/// The kinds of address the relay's media sockets have, and so may check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CandidateScope {
    loopback: bool,
    private: bool,
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_private() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

fn never(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast() || v4.is_link_local()
        }
        IpAddr::V6(v6) => {
            v6.is_unspecified() || v6.is_multicast() || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

impl CandidateScope {
    pub fn of(local: impl IntoIterator<Item = IpAddr>) -> CandidateScope {
        local
            .into_iter()
            .fold(CandidateScope::default(), |scope, ip| CandidateScope {
                loopback: scope.loopback || ip.is_loopback(),
                private: scope.private || is_private(ip),
            })
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        if never(ip) {
            return false;
        }
        if ip.is_loopback() {
            return self.loopback;
        }
        if is_private(ip) {
            return self.private;
        }
        true
    }
}

/// The address of an SDP candidate line (`candidate:… <address> <port> typ …`).
pub fn candidate_address(line: &str) -> Option<IpAddr> {
    let line = line.strip_prefix("a=").unwrap_or(line);
    line.split_whitespace().nth(4)?.parse().ok()
}

/// The offer without candidate lines the scope does not allow, and without any beyond
/// [`MAX_REMOTE_CANDIDATES`]; returns it and how many candidates it kept.
pub fn keep_allowed_candidates(sdp: &str, scope: CandidateScope) -> (String, usize) {
    let mut kept = 0;
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        if line.starts_with("a=candidate:") {
            let allowed = candidate_address(line).is_some_and(|ip| scope.allows(ip));
            if !allowed || kept >= MAX_REMOTE_CANDIDATES {
                continue;
            }
            kept += 1;
        }
        out.push_str(line);
    }
    (out, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn a_public_relay_never_checks_addresses_behind_it() {
        let public = CandidateScope::of([ip("203.0.113.10")]);
        assert!(
            public.allows(ip("198.51.100.7")),
            "a family on the internet"
        );
        assert!(public.allows(ip("2001:db8::7")));
        for internal in [
            "10.0.0.5",
            "192.168.1.1",
            "172.16.0.1",
            "100.64.0.1",
            "127.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "169.254.1.1",
            "0.0.0.0",
            "224.0.0.1",
            "::ffff:10.0.0.5",
        ] {
            assert!(!public.allows(ip(internal)), "{internal}");
        }
        let office = CandidateScope::of([ip("192.168.1.10")]);
        assert!(
            office.allows(ip("192.168.1.23")),
            "a tablet in the office LAN"
        );
        assert!(!office.allows(ip("127.0.0.1")));
        let test = CandidateScope::of([ip("127.0.0.1")]);
        assert!(test.allows(ip("127.0.0.2")));
        assert!(!test.allows(ip("10.0.0.5")));
    }

    #[test]
    fn offers_with_a_data_channel_or_too_many_lines_are_refused() {
        let line = |kind: &str| format!("m={kind} 9 UDP/TLS/RTP/SAVPF 96\r\n");
        let browser = format!("v=0\r\n{}{}{}", line("audio"), line("video"), line("video"));
        assert_eq!(offer_problem(&browser), None);
        assert!(offer_problem(&format!(
            "{browser}m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
        ))
        .is_some());
        assert!(offer_problem(&format!("{browser}{}", line("video"))).is_some());
    }

    #[test]
    fn only_allowed_candidates_stay_in_an_offer_and_only_so_many() {
        let scope = CandidateScope::of([ip("203.0.113.10")]);
        let mut sdp = String::from("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
        sdp.push_str("a=candidate:1 1 udp 2122260223 10.0.0.5 22 typ host\r\n");
        for n in 0..100 {
            sdp.push_str(&format!(
                "a=candidate:{n} 1 udp 1 198.51.100.{n} 5000 typ host\r\n"
            ));
        }
        let (kept, count) = keep_allowed_candidates(&sdp, scope);
        assert_eq!(count, MAX_REMOTE_CANDIDATES);
        assert!(!kept.contains("10.0.0.5"));
        assert!(kept.contains("m=audio"));
    }
}
