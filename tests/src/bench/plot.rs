//! The bench's plot: server CPU over forwarded packets per second, one colour per server,
//! measured loads as points and the fitted line through them (SVG, with plotters).

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use crate::load::Point;

pub struct Series {
    pub name: &'static str,
    /// Forwarded packets per second, server CPU in % of one core.
    pub points: Vec<(f64, f64)>,
    /// µs per packet and µs per second, as fitted.
    pub fit: Option<(f64, f64)>,
}

impl Series {
    pub fn new<'a>(
        name: &'static str,
        points: impl Iterator<Item = &'a Point>,
        fit: Option<(f64, f64)>,
    ) -> Series {
        Series {
            name,
            points: points
                .map(|p| (p.packets_forwarded_per_second(), p.server_cores() * 100.0))
                .collect(),
            fit,
        }
    }
}

const COLOURS: [RGBColor; 2] = [RGBColor(0, 90, 160), RGBColor(200, 80, 0)];

pub fn cpu_per_packet(file: &Path, series: &[Series]) -> Result<()> {
    let max_x = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(1.0, f64::max)
        * 1.05;
    let max_y = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .fold(1.0, f64::max)
        * 1.1;
    let root = SVGBackend::new(file, (800, 500)).into_drawing_area();
    let plot_error = |e: &dyn std::fmt::Display| anyhow!("plot: {e}");
    root.fill(&WHITE).map_err(|e| plot_error(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Server CPU under load (same synthetic rooms)",
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max_x, 0.0..max_y)
        .map_err(|e| plot_error(&e))?;
    chart
        .configure_mesh()
        .x_desc("RTP packets forwarded per second")
        .y_desc("server CPU, % of one core")
        .draw()
        .map_err(|e| plot_error(&e))?;
    for (series, colour) in series.iter().zip(COLOURS) {
        let label = match series.fit {
            Some((slope, _)) => format!("{} ({slope:.1} µs per packet)", series.name),
            None => series.name.to_string(),
        };
        chart
            .draw_series(
                series
                    .points
                    .iter()
                    .map(|p| Circle::new(*p, 4, colour.filled())),
            )
            .map_err(|e| plot_error(&e))?
            .label(label)
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()));
        if let Some((slope, intercept)) = series.fit {
            // µs per second over packets per second, drawn in % of one core.
            let at = |x: f64| (x, (intercept + slope * x) / 1e4);
            chart
                .draw_series(LineSeries::new([at(0.0), at(max_x)], colour))
                .map_err(|e| plot_error(&e))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_error(&e))?;
    root.present().map_err(|e| plot_error(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plot_has_both_series_and_their_lines() {
        let file = std::env::temp_dir().join(format!("sfu-plot-{}.svg", std::process::id()));
        let series = [
            Series {
                name: "A",
                points: vec![(100.0, 1.0), (1000.0, 5.0)],
                fit: Some((44.4, 5_600.0)),
            },
            Series {
                name: "B",
                points: vec![(100.0, 2.0), (1000.0, 9.0)],
                fit: None,
            },
        ];
        cpu_per_packet(&file, &series).expect("plot");
        let svg = std::fs::read_to_string(&file).expect("svg");
        assert!(svg.starts_with("<svg"));
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        assert!(texts.contains(&"A (44.4 µs per packet)") && texts.contains(&"B"));
        assert_eq!(
            svg.matches("<circle").count(),
            4 + 2,
            "four points and two legend marks"
        );
        let fitted = svg
            .lines()
            .filter(|l| l.starts_with("<polyline") && l.contains("stroke=\"#005AA0\""))
            .count();
        assert_eq!(fitted, 1, "one fitted line, in A's colour");
        let _ = std::fs::remove_file(&file);
    }
}
