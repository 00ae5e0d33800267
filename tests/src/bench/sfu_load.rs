//! The SFU under load, side by side: the same synthetic rooms through our relay and through
//! Janus's VideoRoom, swept upwards until loss passes 1 % or the machine is saturated. What
//! is compared is the marginal cost (a line fitted over several loads), not one point.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;

use super::plot;
use super::proc;
use crate::load::{fit_line, run_point, Load, MediaProfile, Point, Target, TrackKind};

/// Which loads to run: numbers of rooms of two, then of three.
pub struct Plan {
    pub pairs: Vec<usize>,
    pub trios: Vec<usize>,
    pub warm_up: Duration,
    pub window: Duration,
}

impl Plan {
    pub fn quick() -> Plan {
        Plan {
            pairs: vec![1, 4, 8],
            trios: vec![2],
            warm_up: Duration::from_secs(1),
            window: Duration::from_secs(4),
        }
    }

    pub fn full() -> Plan {
        Plan {
            pairs: vec![1, 5, 10, 15, 20, 30, 40, 50, 60, 80, 100],
            trios: vec![2, 5, 10],
            warm_up: Duration::from_secs(2),
            window: Duration::from_secs(10),
        }
    }
}

/// Loss above this, or the machine this busy, ends a sweep.
const MAX_LOSS: f64 = 0.01;
const MAX_MACHINE_BUSY: f64 = 0.95;

pub struct Sweep {
    pub system: &'static str,
    pub idle_rss_kib: u64,
    pub pairs: Vec<Point>,
    pub trios: Vec<Point>,
    pub stopped: Option<String>,
}

impl Sweep {
    pub fn new(system: &'static str) -> Sweep {
        Sweep {
            system,
            idle_rss_kib: 0,
            pairs: Vec::new(),
            trios: Vec::new(),
            stopped: None,
        }
    }

    /// Loads of pairs under 1 % loss on a machine not saturated: the fits use only these
    /// (an overloaded server's queues say nothing about its cost per packet or participant).
    fn clean_pairs(&self) -> impl Iterator<Item = &Point> {
        self.pairs
            .iter()
            .filter(|p| p.counts.loss() <= MAX_LOSS && p.machine_busy <= MAX_MACHINE_BUSY)
    }

    /// Server CPU µs per forwarded packet at the margin, and the fixed CPU share (µs per s).
    pub fn cpu_fit(&self) -> Option<(f64, f64)> {
        let points: Vec<(f64, f64)> = self
            .clean_pairs()
            .map(|p| (p.packets_forwarded_per_second(), p.server_cores() * 1e6))
            .collect();
        fit_line(&points)
    }

    /// Resident memory per participant (KiB), fitted over the sweep of pairs.
    pub fn memory_per_participant_kib(&self) -> Option<f64> {
        let mut points: Vec<(f64, f64)> = vec![(0.0, self.idle_rss_kib as f64)];
        points.extend(
            self.clean_pairs()
                .map(|p| (p.participants() as f64, p.server_rss_kib as f64)),
        );
        fit_line(&points).map(|(slope, _)| slope)
    }

    /// One-to-one sessions one core carries, from the marginal cost and the packets one
    /// session has forwarded.
    pub fn sessions_per_core(&self) -> Option<f64> {
        let (us_per_packet, _) = self.cpu_fit()?;
        let largest = self.largest_clean()?;
        let per_session = largest.packets_forwarded_per_second() / largest.rooms as f64;
        (us_per_packet > 0.0).then(|| 1e6 / (us_per_packet * per_session))
    }

    /// The largest load of pairs under 1 % loss on a machine not saturated.
    pub fn largest_clean(&self) -> Option<&Point> {
        self.clean_pairs().last()
    }

    /// Rooms of `size` (2 or 3), as many as the plan says, on a freshly started server
    /// (memory is a high-water mark: an earlier, larger load would hide a smaller one's).
    /// Ends early where loss passes 1 % or the machine is saturated.
    pub async fn run(
        &mut self,
        target: &Target<'_>,
        size: usize,
        plan: &Plan,
        profile: MediaProfile,
    ) -> Result<()> {
        let loads = if size == 2 { &plan.pairs } else { &plan.trios };
        if size == 2 {
            self.idle_rss_kib = proc::rss_kib(target.pid())?;
        }
        for rooms in loads {
            let load = Load {
                rooms: *rooms,
                room_size: size,
                profile,
                warm_up: plan.warm_up,
                window: plan.window,
            };
            eprintln!("bench: {} with {rooms} rooms of {size}", target.name());
            let point = match run_point(target, load).await {
                Ok(point) => point,
                Err(e) => {
                    self.stopped = Some(format!("{rooms} rooms of {size}: {e:#}"));
                    return Ok(());
                }
            };
            let over = if point.counts.loss() > MAX_LOSS {
                Some(format!(
                    "{rooms} rooms of {size}: loss {:.1} %",
                    point.counts.loss() * 100.0
                ))
            } else if point.machine_busy > MAX_MACHINE_BUSY {
                Some(format!(
                    "{rooms} rooms of {size}: the machine {:.0} % busy",
                    point.machine_busy * 100.0
                ))
            } else {
                None
            };
            if size == 2 {
                self.pairs.push(point);
            } else {
                self.trios.push(point);
            }
            if let Some(reason) = over {
                self.stopped.get_or_insert(reason);
                return Ok(());
            }
            // Let the server see the last participants go before the next load.
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
        Ok(())
    }
}

fn table(sweep: &Sweep, report: &mut String) -> Result<()> {
    writeln!(report, "**{}**\n", sweep.system)?;
    writeln!(
        report,
        "| rooms | people | packets in/s | forwarded/s | server CPU (one core) | µs per forwarded packet | audio delay p50 / p99 | video frame delay p50 / p99 | loss | server memory | machine busy |"
    )?;
    writeln!(
        report,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for point in sweep.pairs.iter().chain(&sweep.trios) {
        writeln!(
            report,
            "| {} × {} | {} | {:.0} | {:.0} | {:.1} % | {:.1} | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {:.2} % | {:.1} MiB | {:.0} % |",
            point.rooms,
            point.room_size,
            point.participants(),
            point.packets_in_per_second(),
            point.packets_forwarded_per_second(),
            point.server_cores() * 100.0,
            point.cpu_us_per_forwarded_packet(),
            point.delay_ms(Some(TrackKind::Audio), 50.0),
            point.delay_ms(Some(TrackKind::Audio), 99.0),
            point.delay_ms(Some(TrackKind::Video), 50.0),
            point.delay_ms(Some(TrackKind::Video), 99.0),
            point.counts.loss() * 100.0,
            point.server_rss_kib as f64 / 1024.0,
            point.machine_busy * 100.0,
        )?;
    }
    if let Some(reason) = &sweep.stopped {
        writeln!(
            report,
            "\nSweep ended at {reason}. The fits leave out loads above 1 % loss or on a saturated machine."
        )?;
    }
    writeln!(report)?;
    Ok(())
}

fn summary_row(
    what: &str,
    ours: Option<f64>,
    janus: Option<f64>,
    unit: &str,
    digits: usize,
) -> String {
    let show = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.digits$} {unit}"));
    let ratio = match (ours, janus) {
        (Some(o), Some(j)) if o > 0.0 => format!("{:.1}×", j / o),
        _ => "–".into(),
    };
    format!("| {what} | {} | {} | {ratio} |", show(ours), show(janus))
}

/// The report section, and the plot beside `out`. `simulcast`: our relay again, with every
/// camera sent in three layers.
pub fn write(
    ours: &Sweep,
    simulcast: &Sweep,
    janus: Result<&Sweep, &str>,
    plan: &Plan,
    plot_file: &Path,
    report: &mut String,
) -> Result<()> {
    writeln!(report, "## SFU under load\n")?;
    writeln!(
        report,
        "Synthetic participants on str0m (`tests/src/load/`) in rooms of two and three; each publishes video at about 1.5 Mbit/s (30 frames/s, a keyframe every 3 s) and Opus-sized audio every 20 ms, and receives everyone else. Every frame carries its sender, number and send time, so loss and delay are measured at the receivers, outside the server. Server CPU and memory come from `/proc` of the server process. Each load: join, wait until everyone receives everyone, {} s warm-up, {} s counted. Rooms of two and of three are swept on freshly started servers (resident memory only grows). The load generator shares the machine's cores with the server.\n",
        plan.warm_up.as_secs(),
        plan.window.as_secs()
    )?;
    let janus_sweep = janus.ok();
    let fit = |s: Option<&Sweep>| s.and_then(Sweep::cpu_fit).map(|(slope, _)| slope);
    let memory = |s: Option<&Sweep>| {
        s.and_then(Sweep::memory_per_participant_kib)
            .map(|k| k / 1024.0)
    };
    writeln!(
        report,
        "| what | Sprechstunde | Janus 1.1.2 | Janus ÷ Sprechstunde |\n|---|---:|---:|---:|"
    )?;
    writeln!(
        report,
        "{}",
        summary_row(
            "CPU per forwarded packet (slope over the sweep)",
            fit(Some(ours)),
            fit(janus_sweep),
            "µs",
            1
        )
    )?;
    writeln!(
        report,
        "{}",
        summary_row(
            "memory per participant (slope)",
            memory(Some(ours)),
            memory(janus_sweep),
            "MiB",
            2
        )
    )?;
    writeln!(
        report,
        "{}",
        summary_row(
            "1:1 sessions per core (from the slope)",
            ours.sessions_per_core(),
            janus_sweep.and_then(Sweep::sessions_per_core),
            "",
            0
        )
    )?;
    writeln!(
        report,
        "{}",
        summary_row(
            "CPU per forwarded packet, cameras in three layers (simulcast; Janus not measured so)",
            fit(Some(simulcast)),
            None,
            "µs",
            1
        )
    )?;
    let largest = |s: Option<&Sweep>| s.and_then(Sweep::largest_clean).map(|p| p.rooms as f64);
    writeln!(
        report,
        "{}",
        summary_row(
            "largest load measured under 1 % loss, machine not saturated (1:1 rooms)",
            largest(Some(ours)),
            largest(janus_sweep),
            "",
            0
        )
    )?;
    writeln!(
        report,
        "\nTargets: CPU per forwarded packet at most half of Janus's; delay p99 under 2 ms at half the capacity; under 1 MB per participant. The delays are from the sender's stamp to the receiver's complete frame, so they include both participants' str0m stacks and the generator's share of the cores (the server adds only part of them); video frames of about five packets, keyframes of about twenty.\n"
    )?;
    if let Err(why) = janus {
        writeln!(report, "Janus not measured: {why}.\n")?;
    }
    table(ours, report)?;
    writeln!(
        report,
        "With simulcast each camera arrives in three layers (about 150, 500 and 1500 kbit/s, as Chromium sends them at \"Hoch\") and each receiver gets the one its link's estimate carries, so more packets come in than go out.\n"
    )?;
    table(simulcast, report)?;
    if let Some(janus) = janus_sweep {
        table(janus, report)?;
    }
    let mut series = vec![plot::Series::new(
        ours.system,
        ours.pairs.iter().chain(&ours.trios),
        ours.cpu_fit(),
    )];
    series.push(plot::Series::new(
        simulcast.system,
        simulcast.pairs.iter(),
        simulcast.cpu_fit(),
    ));
    if let Some(janus) = janus_sweep {
        series.push(plot::Series::new(
            janus.system,
            janus.pairs.iter().chain(&janus.trios),
            janus.cpu_fit(),
        ));
    }
    plot::cpu_per_packet(plot_file, &series)?;
    if let Some(name) = plot_file.file_name() {
        writeln!(
            report,
            "![Server CPU over forwarded packets per second, with the fitted lines]({})\n",
            name.to_string_lossy()
        )?;
    }
    Ok(())
}
