//! Several hosts on one machine: network namespaces joined by veth pairs, made and removed
//! by the tests themselves (which run as root inside the loopback-only namespace that
//! `cargo xtask test` creates). Nothing leaves the machine: every address is in 10.77.0.0/16.
//!
//! The relay listens on 10.77.0.1 (an address on the test namespace's loopback); each host
//! N gets its own namespace with 10.77.N.2, routed through 10.77.N.1 on the test side. Paths
//! are broken with nftables rules inside a host's namespace (this kernel has no netem).

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The relay's address, reachable from every host.
pub const RELAY_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
/// A second address on the test side, for a proxy in front of the relay's media port.
pub const PROXY_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
const NFT: &str = "/usr/sbin/nft";
/// Hosts made by this test process so far (for unique names).
static HOSTS_MADE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
const TABLE: &str = "sprechstunde_test";

fn run(program: &str, args: &[&str]) -> Result<()> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// The relay's side: the address on loopback, removed again on drop.
pub struct Network {
    _private: (),
}

impl Network {
    pub fn new() -> Result<Network> {
        crate::ensure_isolated_network()?;
        run("ip", &["link", "set", "lo", "up"])?;
        for ip in [RELAY_IP, PROXY_IP] {
            // Left over from a test that crashed: take it away first.
            let _ = run("ip", &["addr", "del", &format!("{ip}/32"), "dev", "lo"]);
            run("ip", &["addr", "add", &format!("{ip}/32"), "dev", "lo"])?;
        }
        Ok(Network { _private: () })
    }

    /// Host `index` (1-200) in a namespace of its own.
    pub fn host(&self, index: u8) -> Result<Host> {
        // Names unique per host made, not per index: a namespace whose processes are still
        // exiting keeps its veth pair a moment after the previous test dropped it.
        let serial = HOSTS_MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pid = std::process::id() % 10_000;
        let ns = format!("sp{}h{serial}", std::process::id());
        let outside = format!("sv{serial}o{pid}");
        let inside = format!("sv{serial}i{pid}");
        let _ = run("ip", &["netns", "del", &ns]);
        run("ip", &["netns", "add", &ns])?;
        let host = Host {
            ns,
            address: Ipv4Addr::new(10, 77, index, 2),
            gateway: Ipv4Addr::new(10, 77, index, 1),
            outside: outside.clone(),
        };
        run(
            "ip",
            &[
                "link", "add", &outside, "type", "veth", "peer", "name", &inside,
            ],
        )?;
        run("ip", &["link", "set", &inside, "netns", &host.ns])?;
        run(
            "ip",
            &[
                "addr",
                "add",
                &format!("{}/24", host.gateway),
                "dev",
                &outside,
            ],
        )?;
        run("ip", &["link", "set", &outside, "up"])?;
        host.exec("ip", &["link", "set", "lo", "up"])?;
        host.exec(
            "ip",
            &[
                "addr",
                "add",
                &format!("{}/24", host.address),
                "dev",
                &inside,
            ],
        )?;
        host.exec("ip", &["link", "set", &inside, "up"])?;
        host.exec(
            "ip",
            &["route", "add", "default", "via", &host.gateway.to_string()],
        )?;
        host.exec(NFT, &["add", "table", "inet", TABLE])?;
        for (chain, hook) in [("in", "input"), ("out", "output")] {
            host.exec(
                NFT,
                &[
                    "add",
                    "chain",
                    "inet",
                    TABLE,
                    chain,
                    &format!("{{ type filter hook {hook} priority 0 ; }}"),
                ],
            )?;
        }
        Ok(host)
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        for ip in [RELAY_IP, PROXY_IP] {
            let _ = run("ip", &["addr", "del", &format!("{ip}/32"), "dev", "lo"]);
        }
    }
}

/// One machine of the test network (its own namespace, removed on drop with its veth pair).
pub struct Host {
    pub ns: String,
    pub address: Ipv4Addr,
    /// The test namespace's end of the veth pair.
    pub gateway: Ipv4Addr,
    /// That end's interface name.
    outside: String,
}

impl Host {
    /// Run a program inside this host's namespace.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<()> {
        let mut full = vec!["netns", "exec", self.ns.as_str(), program];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// A command that runs in this host's namespace (to spawn long-running programs).
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.ns, program]);
        command
    }

    fn rule(&self, chain: &str, rule: &str) -> Result<()> {
        let mut args = vec!["add", "rule", "inet", TABLE, chain];
        args.extend(rule.split_whitespace());
        self.exec(NFT, &args)
    }

    /// Drop TCP to and from the relay's port `port` (its signaling): nothing gets through, but
    /// no connection is closed either.
    pub fn cut_tcp(&self, port: u16) -> Result<()> {
        self.rule("out", &format!("ip daddr {RELAY_IP} tcp dport {port} drop"))?;
        self.rule("in", &format!("ip saddr {RELAY_IP} tcp sport {port} drop"))
    }

    /// Drop UDP to and from the relay's media port.
    pub fn cut_udp(&self, port: u16) -> Result<()> {
        self.rule("out", &format!("ip daddr {RELAY_IP} udp dport {port} drop"))?;
        self.rule("in", &format!("ip saddr {RELAY_IP} udp sport {port} drop"))
    }

    /// Drop every UDP packet to and from the relay's side (a network that blocks UDP).
    pub fn block_udp(&self) -> Result<()> {
        for ip in [RELAY_IP, PROXY_IP] {
            self.rule("out", &format!("ip daddr {ip} meta l4proto udp drop"))?;
            self.rule("in", &format!("ip saddr {ip} meta l4proto udp drop"))?;
        }
        Ok(())
    }

    /// Let nothing through to the relay's side but TCP to `port` (a network that allows only
    /// the web port).
    pub fn only_tcp_to(&self, port: u16) -> Result<()> {
        for ip in [RELAY_IP, PROXY_IP] {
            self.rule("out", &format!("ip daddr {ip} tcp dport != {port} drop"))?;
            self.rule("out", &format!("ip daddr {ip} meta l4proto != tcp drop"))?;
            self.rule("in", &format!("ip saddr {ip} tcp sport != {port} drop"))?;
            self.rule("in", &format!("ip saddr {ip} meta l4proto != tcp drop"))?;
        }
        Ok(())
    }

    /// Let only the web through: TCP to `port`, and there nothing that looks like ICE
    /// (a middlebox that inspects the first bytes: framed STUN, whose magic cookie sits at
    /// byte 6 of the payload, is dropped). Pages and signaling work; no media path does.
    pub fn only_web_to(&self, port: u16) -> Result<()> {
        self.only_tcp_to(port)?;
        for ip in [RELAY_IP, PROXY_IP] {
            self.rule(
                "out",
                &format!("ip daddr {ip} tcp dport {port} @ih,48,32 0x2112a442 drop"),
            )?;
        }
        Ok(())
    }

    /// Web traffic only to the relay (as [`Host::only_web_to`]), and TCP to the TURN server
    /// on the proxy address's `turn_port`: only TURN over TCP can carry media.
    pub fn only_web_and_turn_over_tcp(&self, port: u16, turn_port: u16) -> Result<()> {
        for (ip, allowed) in [(RELAY_IP, port), (PROXY_IP, turn_port)] {
            self.rule("out", &format!("ip daddr {ip} meta l4proto != tcp drop"))?;
            self.rule("out", &format!("ip daddr {ip} tcp dport != {allowed} drop"))?;
            self.rule("in", &format!("ip saddr {ip} meta l4proto != tcp drop"))?;
            self.rule("in", &format!("ip saddr {ip} tcp sport != {allowed} drop"))?;
        }
        self.rule(
            "out",
            &format!("ip daddr {RELAY_IP} tcp dport {port} @ih,48,32 0x2112a442 drop"),
        )
    }

    /// Lose `percent` % of the UDP packets arriving from the relay, at random.
    pub fn lose_incoming_udp(&self, percent: u8) -> Result<()> {
        self.rule(
            "in",
            &format!("ip saddr {RELAY_IP} meta l4proto udp numgen random mod 100 < {percent} drop"),
        )
    }

    /// Let at most `kbit` kbit/s of UDP (media) reach this host, as on weak mobile data: a
    /// token bucket on the network's end of its link whose queue holds 200 ms and drops the
    /// rest. TCP (the test's WebDriver commands, signaling) is left alone. (HTB: this kernel
    /// has no prio qdisc.)
    pub fn limit_incoming(&self, kbit: u32) -> Result<()> {
        let dev = self.outside.as_str();
        let _ = run("tc", &["qdisc", "del", "dev", dev, "root"]);
        let tc = |args: &str| {
            let args: Vec<&str> = args.split_whitespace().collect();
            run("tc", &args)
        };
        tc(&format!(
            "qdisc add dev {dev} root handle 1: htb default 10"
        ))?;
        tc(&format!(
            "class add dev {dev} parent 1: classid 1:10 htb rate 10gbit"
        ))?;
        tc(&format!(
            "class add dev {dev} parent 1: classid 1:30 htb rate {kbit}kbit ceil {kbit}kbit burst 16kb"
        ))?;
        // 200 ms at the rate, and the bucket's burst besides (as `tbf latency 200ms` would).
        let queue_bytes = kbit as u64 * 1000 / 8 / 5 + 16_000;
        tc(&format!(
            "qdisc add dev {dev} parent 1:30 handle 30: bfifo limit {queue_bytes}"
        ))?;
        tc(&format!(
            "filter add dev {dev} parent 1: protocol ip u32 match ip protocol 17 0xff flowid 1:30"
        ))
    }

    /// Lift [`Host::limit_incoming`].
    pub fn unlimit_incoming(&self) -> Result<()> {
        run("tc", &["qdisc", "del", "dev", &self.outside, "root"])
    }

    /// Remove every rule: the paths work again.
    pub fn heal(&self) -> Result<()> {
        for chain in ["in", "out"] {
            self.exec(NFT, &["flush", "chain", "inet", TABLE, chain])?;
        }
        Ok(())
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the veth pair, and with it the other, once
        // the last process in it (a Chromium still exiting) is gone. Wait for that, so the
        // next test's host with the same addresses finds the way clear.
        let _ = run("ip", &["netns", "del", &self.ns]);
        for _ in 0..100 {
            if run("ip", &["link", "show", &self.outside]).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = run("ip", &["link", "del", &self.outside]);
    }
}
