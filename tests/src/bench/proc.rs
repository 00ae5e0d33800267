//! Readings of a process from /proc: resident memory and CPU time.

use anyhow::{Context, Result};

/// Resident set size in KiB, from the `VmRSS:` line of `/proc/PID/status`.
pub fn parse_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
}

/// User plus system CPU time in clock ticks, from `/proc/PID/stat` (fields 14 and 15; the
/// command name in parentheses may contain spaces).
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_rss_kib(&status).context("no VmRSS in /proc status")
}

pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat).context("unexpected /proc stat")
}

/// The machine's CPU time over all cores, from the first line of `/proc/stat`.
#[derive(Debug, Clone, Copy)]
pub struct MachineTicks {
    busy: u64,
    total: u64,
}

impl MachineTicks {
    /// Busy share of all cores between `before` and this reading (0 to 1).
    pub fn busy_share_since(&self, before: &MachineTicks) -> f64 {
        let total = self.total.saturating_sub(before.total);
        if total == 0 {
            return 0.0;
        }
        self.busy.saturating_sub(before.busy) as f64 / total as f64
    }
}

/// `cpu  user nice system idle iowait irq softirq steal ...`: idle and iowait are not busy.
pub fn parse_machine_ticks(stat: &str) -> Option<MachineTicks> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    let total: u64 = values.iter().sum();
    let idle = values.get(3)? + values.get(4)?;
    Some(MachineTicks {
        busy: total - idle,
        total,
    })
}

pub fn machine_ticks() -> Result<MachineTicks> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    parse_machine_ticks(&stat).context("unexpected /proc/stat")
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
pub const TICKS_PER_SECOND: u64 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_comes_from_the_vmrss_line() {
        let status =
            "Name:\tsprechstunde-re\nVmPeak:\t  20000 kB\nVmRSS:\t    9876 kB\nThreads:\t3\n";
        assert_eq!(parse_rss_kib(status), Some(9876));
        assert_eq!(parse_rss_kib("Name: x\n"), None);
    }

    #[test]
    fn cpu_ticks_survive_a_name_with_spaces_and_parentheses() {
        let stat =
            "4242 (relay (main) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 1 2 3";
        assert_eq!(parse_cpu_ticks(stat), Some(325));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[test]
    fn machine_busy_share_leaves_out_idle_and_iowait() {
        let before =
            parse_machine_ticks("cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n").expect("before");
        let after = parse_machine_ticks("cpu  250 0 150 850 150 0 0 0 0 0\n").expect("after");
        // 200 busy of 400 ticks.
        assert!((after.busy_share_since(&before) - 0.5).abs() < 1e-9);
        assert!(parse_machine_ticks("intr 1 2 3").is_none());
    }

    #[test]
    fn this_process_can_be_read() {
        let me = std::process::id();
        assert!(rss_kib(me).expect("rss") > 0);
        cpu_ticks(me).expect("ticks");
    }
}
