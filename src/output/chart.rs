//! Charts of a run's results (plotters), as PNG and SVG: the response-time distribution by
//! policy, key figures with 95% intervals, and paired differences against the baseline (a
//! forest plot), and utilization by hour when measured. Text renders from DejaVu Sans embedded
//! in the binary, so charts look the same on any machine; colours are the Okabe-Ito palette,
//! which stays distinguishable under the common colour-vision deficiencies.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::sweep::{SweepDocument, SweepPointDocument};
use crate::experiment::Results;
use crate::stats::figures as key;
use crate::stats::{DISTRIBUTION_PERCENTILES, Estimate};

/// Pixel size of every chart.
pub const SIZE: (u32, u32) = (1200, 760);

/// Okabe & Ito (2008), without yellow (too pale on white): a colour-blind-safe palette.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 0, 0),
    RGBColor(230, 159, 0),
    RGBColor(0, 114, 178),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(86, 180, 233),
    RGBColor(204, 121, 167),
];

const FONT: &str = "sans-serif";

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded font failed to load")]
    Font,
    #[error("cannot draw {name}: {message}")]
    Draw { name: String, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// Registers the embedded font (once per process).
pub(crate) fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
    });
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

/// Which chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    ResponseDistribution,
    KeyFigures,
    Differences,
    UtilizationByHour,
    Budget,
}

/// One chart of a run's results; drawn on demand as SVG or PNG.
pub struct Chart<'a> {
    kind: Kind,
    results: &'a Results,
}

/// Something drawable on any plotters backend, under a file stem.
pub trait Drawable {
    fn name(&self) -> &str;
    fn title(&self) -> String;
    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;

    /// The chart as SVG text.
    fn svg(&self) -> Result<String, ChartError> {
        register_font()?;
        let mut text = String::new();
        {
            let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
            self.render(&root)
                .map_err(|message| draw_error(self.name(), message))?;
            root.present()
                .map_err(|e| draw_error(self.name(), e.to_string()))?;
        }
        Ok(text)
    }

    /// Writes `NAME.png` and `NAME.svg` into `dir` (each atomically), returning their paths.
    fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
        let name = self.name();
        let svg_path = dir.join(format!("{name}.svg"));
        let svg = self.svg()?;
        super::write_atomic(&svg_path, svg.as_bytes()).map_err(|source| ChartError::Write {
            path: svg_path.clone(),
            source,
        })?;
        let png_path = dir.join(format!("{name}.png"));
        let (width, height) = SIZE;
        let mut rgb = vec![0u8; width as usize * height as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
            self.render(&root)
                .map_err(|message| draw_error(name, message))?;
            root.present()
                .map_err(|e| draw_error(name, e.to_string()))?;
        }
        // The encoder plotters itself saves with, so the bytes are those it would write; but
        // into an atomic file, so a failed write names the file and leaves nothing behind.
        let write_error = |source| ChartError::Write {
            path: png_path.clone(),
            source,
        };
        let mut file = super::AtomicFile::create(&png_path).map_err(write_error)?;
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut file),
            &rgb,
            width,
            height,
            image::ColorType::Rgb8,
        )
        .map_err(|e| match e {
            image::ImageError::IoError(source) => write_error(source),
            other => write_error(std::io::Error::other(other)),
        })?;
        file.commit().map_err(write_error)?;
        Ok(vec![png_path, svg_path])
    }
}

fn draw_error(name: &str, message: String) -> ChartError {
    ChartError::Draw {
        name: name.to_string(),
        message,
    }
}

impl Drawable for Chart<'_> {
    fn name(&self) -> &str {
        match self.kind {
            Kind::ResponseDistribution => "response_distribution",
            Kind::KeyFigures => "key_figures",
            Kind::Differences => "differences",
            Kind::UtilizationByHour => "utilization_by_hour",
            Kind::Budget => "budget",
        }
    }

    fn title(&self) -> String {
        match self.kind {
            Kind::ResponseDistribution => "Response time distribution by policy".to_string(),
            Kind::KeyFigures => "Key figures by policy (mean and 95% CI)".to_string(),
            Kind::Differences => {
                let baseline = self.results.baseline().name();
                format!("Change against {baseline} (paired, % of {baseline}'s mean, 95% CI)")
            }
            Kind::UtilizationByHour => {
                "Utilization and queue length by hour of day (means over replications)".to_string()
            }
            Kind::Budget => {
                "Public cost a year by policy: fleet, downstream, net (95% CI)".to_string()
            }
        }
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let results = self.results;
        // Each footnote says what the chart's marks are, and only what it has.
        let marks = match self.kind {
            Kind::ResponseDistribution => "curves: mean percentiles over replications",
            Kind::KeyFigures | Kind::Budget => "error bars: 95% CI (Student t)",
            Kind::Differences => "bars: 95% CI of the paired difference (Student t)",
            Kind::UtilizationByHour => "means over replications",
        };
        let body = frame(root, &self.title(), &footnote(results, marks))?;
        match self.kind {
            Kind::ResponseDistribution => draw_response_distribution(&body, results),
            Kind::KeyFigures => draw_key_figures(&body, results),
            Kind::Differences => draw_differences(&body, results),
            Kind::UtilizationByHour => draw_utilization_by_hour(&body, results),
            Kind::Budget => draw_budget(&body, results),
        }
    }
}

/// The legend box every chart uses.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    position: SeriesLabelPosition,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font((FONT, 15))
        .draw()
        .map_err(|e| e.to_string())
}

/// The footnote every chart carries: where the numbers came from, and what its marks are.
fn footnote(results: &Results, marks: &str) -> String {
    format!(
        "Scenario: {} · {} replications · seed {} · {} measured days · {marks} · crisis-sim {}",
        results.scenario.name,
        results.replications.len(),
        results.seed,
        results.scenario.horizon_days - results.scenario.warmup_days,
        env!("CARGO_PKG_VERSION")
    )
}

/// Title at the top, footnote at the bottom; returns the area between.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    footnote: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (top, rest) = root.split_vertically(56);
    top.titled(title, (FONT, 30).into_font())
        .map_err(|e| e.to_string())?;
    let (body, bottom) = rest.split_vertically(SIZE.1 - 56 - 34);
    bottom
        .draw(&Text::new(
            footnote.to_string(),
            (12, 10),
            (FONT, 14).into_font().color(&RGBColor(80, 80, 80)),
        ))
        .map_err(|e| e.to_string())?;
    Ok(body)
}

/// The largest magnitude a chart plots: far past any figure of a real city (a fleet cost of a
/// billion billion dollars), and small enough that plotters can tick the axis. A hand-edited
/// `results.json` holding 1e308 made plotters' tick computation spin forever.
pub const MAX_PLOTTED: f64 = 1e15;

/// The value, if a chart can plot it (finite, within [`MAX_PLOTTED`]); otherwise it is left
/// out, as an undefined figure is.
fn finite(value: f64) -> Option<f64> {
    plottable(value).then_some(value)
}

fn plottable(value: f64) -> bool {
    value.is_finite() && value.abs() <= MAX_PLOTTED
}

/// An axis range plotters can tick: finite, within ±[`MAX_PLOTTED`], in order, and wider than
/// rounding at its magnitude (a zero or near-zero width also made its ticks spin).
fn axis(low: f64, high: f64) -> std::ops::Range<f64> {
    let clamp = |v: f64| {
        if v.is_finite() {
            v.clamp(-MAX_PLOTTED, MAX_PLOTTED)
        } else {
            0.0
        }
    };
    let (low, high) = (clamp(low), clamp(high));
    let (low, high) = if low <= high {
        (low, high)
    } else {
        (high, low)
    };
    let min_width = (low.abs().max(high.abs()) * 1e-6).max(1e-9);
    if high - low < min_width {
        let mid = low / 2.0 + high / 2.0;
        return (mid - min_width / 2.0)..(mid + min_width / 2.0);
    }
    low..high
}

/// The charts of a run's results, in report order.
pub fn results_charts(results: &Results) -> Vec<Chart<'_>> {
    let chart = |kind| Chart { kind, results };
    let mut charts = vec![chart(Kind::ResponseDistribution), chart(Kind::KeyFigures)];
    if results.policies.len() > 1 {
        charts.push(chart(Kind::Differences));
    }
    if results
        .figures
        .iter()
        .any(|f| f.key.contains(".utilization_by_hour."))
    {
        charts.push(chart(Kind::UtilizationByHour));
    }
    if results.figure_index(key::NET_PUBLIC_COST).is_some() {
        charts.push(chart(Kind::Budget));
    }
    charts
}

/// The tick under policy `x` of an axis with one slot per policy: its label, or its number
/// (from 1) when `numbered`; nothing between slots.
fn policy_tick(results: &Results, x: f64, numbered: bool) -> String {
    let i = x.round();
    match results.policies.get(i as usize) {
        Some(policy) if (x - i).abs() < 1e-6 && i >= 0.0 => {
            if numbered {
                (i as usize + 1).to_string()
            } else {
                policy.name().to_string()
            }
        }
        _ => String::new(),
    }
}

/// A number on an axis: whole numbers without a decimal point (`2`, not `2.0`), thousands
/// grouped (`60,000`), small ones with the decimals they need (`0.25`).
fn number_tick(value: f64) -> String {
    let decimals = if value == value.round() {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = crate::output::format_number(value, decimals);
    // 1.60 and 1 on one axis read as two kinds of number: trailing zeros go.
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Dollars on an axis: `$1.2M`, `$850k`, `$0`.
fn money_tick(dollars: f64) -> String {
    let sign = if dollars < 0.0 { "-" } else { "" };
    let a = dollars.abs();
    if a >= 1e9 {
        format!("{sign}${:.1}B", a / 1e9)
    } else if a >= 1e6 {
        format!("{sign}${:.1}M", a / 1e6)
    } else if a >= 1e3 {
        format!("{sign}${:.0}k", a / 1e3)
    } else {
        format!("{sign}${a:.0}")
    }
}

/// The budget chart: per policy, the fleet's cost, the downstream cost (costed lines) and the
/// net public cost a year, as bars from zero (an uncut axis, so sizes compare honestly) with
/// their 95% intervals.
fn draw_budget<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    results: &Results,
) -> Result<(), String> {
    const LINES: [(&str, &str); 3] = [
        (key::ANNUAL_COST, "Fleet"),
        (key::DOWNSTREAM_COST, "Downstream (costed lines)"),
        (key::NET_PUBLIC_COST, "Net public cost"),
    ];
    const BAR_COLOURS: [usize; 3] = [2, 1, 0];
    let n = results.policies.len();
    let mut bars = Vec::new();
    for (line, (figure, _)) in LINES.iter().enumerate() {
        let Some(f) = results.figure_index(figure) else {
            continue;
        };
        for (p, policy) in results.policies.iter().enumerate() {
            let e = policy.estimates[f];
            if let Some(mean) = finite(e.mean) {
                let (low, high) = match (finite(e.ci_low), finite(e.ci_high)) {
                    (Some(low), Some(high)) => (low, high),
                    _ => (mean, mean),
                };
                bars.push((line, p, mean, low, high));
            }
        }
    }
    let high = bars
        .iter()
        .map(|&(_, _, mean, _, high)| mean.max(high))
        .fold(0.0f64, f64::max);
    let low = bars
        .iter()
        .map(|&(_, _, mean, low, _)| mean.min(low))
        .fold(0.0f64, f64::min);
    let pad = (high - low).max(1.0) * 0.12;
    let mut chart = ChartBuilder::on(body)
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(90)
        .build_cartesian_2d(-0.5..(n as f64 - 0.5), axis(low.min(0.0), high + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| policy_tick(results, *x, false))
        .y_label_formatter(&|y| money_tick(*y))
        .y_desc("dollars a year")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(|e| e.to_string())?;
    let width = 0.26;
    for (line, (_, label)) in LINES.iter().enumerate() {
        let fill = colour(BAR_COLOURS[line]);
        let offset = (line as f64 - 1.0) * width;
        let mine: Vec<_> = bars.iter().filter(|b| b.0 == line).copied().collect();
        chart
            .draw_series(mine.iter().map(|&(_, p, mean, _, _)| {
                let x = p as f64 + offset;
                Rectangle::new(
                    [(x - width * 0.45, 0.0), (x + width * 0.45, mean)],
                    fill.mix(0.75).filled(),
                )
            }))
            .map_err(|e| e.to_string())?
            .label(*label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], fill.filled()));
        chart
            .draw_series(mine.iter().map(|&(_, p, mean, low, high)| {
                ErrorBar::new_vertical(p as f64 + offset, low, mean, high, BLACK.filled(), 14)
            }))
            .map_err(|e| e.to_string())?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// The axes of a response-time distribution: minutes across, the cumulative share up.
fn response_cdf_axes<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
) -> Result<(), String> {
    chart
        .configure_mesh()
        .x_desc("Minutes from call received to first unit on scene")
        .x_label_formatter(&|x| number_tick(*x))
        .y_desc("Share of calls (cumulative)")
        .y_label_formatter(&|y| number_tick(*y))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| e.to_string())
}

/// Chart 1: the response-time distribution (mean percentiles over replications) by policy,
/// for all calls and for care-eligible calls, with the 90th percentile marked.
fn draw_response_distribution<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    results: &Results,
) -> Result<(), String> {
    let panels = body.split_evenly((1, 2));
    for (panel, (prefix, label)) in panels
        .iter()
        .zip([("", "All calls"), (key::ELIGIBLE, "Care-eligible calls")])
    {
        let curves: Vec<(String, Vec<(f64, f64)>)> = results
            .policies
            .iter()
            .map(|policy| {
                let points = DISTRIBUTION_PERCENTILES
                    .iter()
                    .filter_map(|&p| {
                        let f = results.figure_index(&key::response_percentile(prefix, p))?;
                        finite(policy.estimates[f].mean).map(|m| (m, f64::from(p) / 100.0))
                    })
                    .collect();
                (policy.name().to_string(), points)
            })
            .collect();
        let max_x = curves
            .iter()
            .flat_map(|(_, points)| points.iter().map(|p| p.0))
            .fold(1.0f64, f64::max)
            * 1.05;
        let mut chart = ChartBuilder::on(panel)
            .caption(label, (FONT, 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(axis(0.0, max_x), 0.0..1.0)
            .map_err(|e| e.to_string())?;
        response_cdf_axes(&mut chart)?;
        // The 90th percentile, where city dashboards read response targets.
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.9), (max_x, 0.9)],
                RGBColor(150, 150, 150).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label("90th percentile")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(150, 150, 150)));
        for (i, (name, points)) in curves.iter().enumerate() {
            let style = colour(i).stroke_width(3);
            chart
                .draw_series(LineSeries::new(points.iter().copied(), style))
                .map_err(|e| e.to_string())?
                .label(name.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour(i).stroke_width(3))
                });
            if let Some(&p90) = points.iter().find(|p| (p.1 - 0.9).abs() < 1e-9) {
                chart
                    .draw_series([Circle::new(p90, 6, colour(i).filled())])
                    .map_err(|e| e.to_string())?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    }
    Ok(())
}

/// The figures charts 2 and 3 show: key, short title, unit.
const KEY_FIGURES: [(&str, &str, &str); 5] = [
    (key::RESPONSE_MEDIAN, "Median response", "minutes"),
    (key::RESPONSE_P90, "90th-percentile response", "minutes"),
    (
        key::POLICE_HOURS_ON_ELIGIBLE,
        "Police hours on eligible calls",
        "unit-hours a year",
    ),
    (key::FORCE_PER_1000, "Uses of force", "per 1,000 calls"),
    (key::ANNUAL_COST, "Annual fleet cost", "dollars a year"),
];

fn scaled(figure: &str, value: f64) -> f64 {
    if figure == key::ANNUAL_COST {
        value / 1e6
    } else {
        value
    }
}

/// Chart 2: key figures by policy, each mean with its 95% interval.
fn draw_key_figures<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    results: &Results,
) -> Result<(), String> {
    let panels = body.split_evenly((2, 3));
    let n = results.policies.len();
    for (panel, (key, label, unit)) in panels.iter().zip(KEY_FIGURES) {
        let Some(f) = results.figure_index(key) else {
            continue;
        };
        let bars: Vec<(usize, Estimate)> = results
            .policies
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.estimates[f]))
            .collect();
        let (low, high) =
            bars.iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, e)| {
                    let (a, b) = (scaled(key, e.ci_low), scaled(key, e.ci_high));
                    let (a, b) = if plottable(a) {
                        (a, b)
                    } else {
                        (scaled(key, e.mean), scaled(key, e.mean))
                    };
                    (lo.min(a), hi.max(b))
                });
        let (low, high) = if plottable(low) {
            (low, high)
        } else {
            (0.0, 1.0)
        };
        // From zero (an axis cut short makes a small change look large), unless a value is
        // negative.
        let pad = ((high - low.min(0.0)) * 0.12).max(1e-9);
        let y_low = if low >= 0.0 { 0.0 } else { low - pad };
        let mut chart = ChartBuilder::on(panel)
            .caption(label, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(78)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), axis(y_low, high + pad))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            // Numbers when names would collide; the last panel is the key.
            .x_label_formatter(&|x| policy_tick(results, *x, n > 3))
            .y_label_formatter(&|y| {
                if key == key::ANNUAL_COST {
                    money_tick(*y * 1e6)
                } else {
                    number_tick(*y)
                }
            })
            .y_desc(unit)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, e) in &bars {
            let (mean, low, high) = (
                scaled(key, e.mean),
                scaled(key, e.ci_low),
                scaled(key, e.ci_high),
            );
            if !plottable(mean) {
                continue;
            }
            let (low, high) = if plottable(low) {
                (low, high)
            } else {
                (mean, mean)
            };
            let x = *i as f64;
            chart
                .draw_series([ErrorBar::new_vertical(
                    x,
                    low,
                    mean,
                    high,
                    colour(*i).filled(),
                    16,
                )])
                .map_err(|e| e.to_string())?;
            chart
                .draw_series([Circle::new((x, mean), 6, colour(*i).filled())])
                .map_err(|e| e.to_string())?;
        }
    }
    // The sixth panel: which colour (and number) is which policy.
    if let Some(key_panel) = panels.get(KEY_FIGURES.len()) {
        for (i, policy) in results.policies.iter().enumerate() {
            let y = 60 + 34 * i as i32;
            key_panel
                .draw(&Circle::new((40, y), 8, colour(i).filled()))
                .map_err(|e| e.to_string())?;
            key_panel
                .draw(&Text::new(
                    format!("{}  {}", i + 1, policy.name()),
                    (58, y - 9),
                    (FONT, 18).into_font(),
                ))
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Chart 3: each policy's paired difference from the baseline, as a % of the baseline's mean,
/// with its 95% interval: a forest plot.
fn draw_differences<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    results: &Results,
) -> Result<(), String> {
    let baseline = results.baseline().name().to_string();
    // Rows: figure by figure, one per non-baseline policy.
    let mut rows: Vec<(String, usize, f64, f64, f64)> = Vec::new();
    for (key, label, _) in KEY_FIGURES {
        let Some(f) = results.figure_index(key) else {
            continue;
        };
        let base = results.baseline().estimates[f].mean;
        for (i, policy) in results.policies.iter().enumerate().skip(1) {
            let Some(d) = policy.differences.as_ref().map(|d| d[f]) else {
                continue;
            };
            if !(plottable(base) && base != 0.0 && plottable(d.mean)) {
                continue;
            }
            let pct = |v: f64| {
                if plottable(v) {
                    v / base.abs() * 100.0
                } else {
                    d.mean / base.abs() * 100.0
                }
            };
            rows.push((
                label.to_string(),
                i,
                pct(d.mean),
                pct(d.ci_low),
                pct(d.ci_high),
            ));
        }
    }
    let extent = rows
        .iter()
        .flat_map(|r| [r.2.abs(), r.3.abs(), r.4.abs()])
        .fold(5.0f64, f64::max)
        * 1.1;
    let count = rows.len().max(1);
    let mut chart = ChartBuilder::on(body)
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(330)
        .build_cartesian_2d(axis(-extent, extent), -0.5..(count as f64 - 0.5))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(count)
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < rows.len() {
                let row = &rows[rows.len() - 1 - i as usize];
                format!("{} · {}", row.0, results.policies[row.1].name())
            } else {
                String::new()
            }
        })
        .x_desc(format!("Change from {baseline} (%)"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, -0.5), (0.0, count as f64 - 0.5)],
            BLACK.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?;
    for (k, (_, i, mean, low, high)) in rows.iter().enumerate() {
        let y = (rows.len() - 1 - k) as f64;
        chart
            .draw_series([ErrorBar::new_horizontal(
                y,
                *low,
                *mean,
                *high,
                colour(*i).filled(),
                12,
            )])
            .map_err(|e| e.to_string())?;
        chart
            .draw_series([Circle::new((*mean, y), 6, colour(*i).filled())])
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Chart 5: utilization by hour of day per pool and policy, and queue length by hour per
/// policy (with `--hourly`).
fn draw_utilization_by_hour<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    results: &Results,
) -> Result<(), String> {
    let pools: Vec<String> = results
        .figures
        .iter()
        .filter_map(|f| {
            f.key
                .strip_suffix(".utilization_by_hour.00")
                .map(str::to_string)
        })
        .collect();
    let (left, right) = body.split_horizontally(SIZE.0 / 2);
    draw_queue_by_hour(&right, results)?;
    let mut chart = ChartBuilder::on(&left)
        .caption("Utilization per pool", (FONT, 21))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..24.0, 0.0..1.05)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("Hour of day")
        .x_label_formatter(&|x| number_tick(*x))
        .y_desc("Utilization (busy / on duty)")
        .y_label_formatter(&|y| number_tick(*y))
        .x_labels(13)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| e.to_string())?;
    let mut series = 0;
    for pool in &pools {
        for policy in &results.policies {
            let points: Vec<(f64, f64)> = (0..24)
                .filter_map(|h| {
                    let f = results.figure_index(&format!("{pool}.utilization_by_hour.{h:02}"))?;
                    finite(policy.estimates[f].mean).map(|m| (h as f64 + 0.5, m))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            let i = series;
            series += 1;
            chart
                .draw_series(LineSeries::new(points, colour(i).stroke_width(3)))
                .map_err(|e| e.to_string())?
                .label(format!("{pool} under {}", policy.name()))
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour(i).stroke_width(3))
                });
        }
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    Ok(())
}

/// The right half of chart 5: mean calls waiting for a unit, by hour, per policy.
fn draw_queue_by_hour<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    results: &Results,
) -> Result<(), String> {
    let curves: Vec<Vec<(f64, f64)>> = results
        .policies
        .iter()
        .map(|policy| {
            (0..24)
                .filter_map(|h| {
                    let f = results.figure_index(&format!("queue_length_by_hour.{h:02}"))?;
                    finite(policy.estimates[f].mean).map(|m| (h as f64 + 0.5, m))
                })
                .collect()
        })
        .collect();
    let top = curves.iter().flatten().map(|p| p.1).fold(0.5f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .caption("Calls waiting for a unit", (FONT, 21))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..24.0, axis(0.0, top))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("Hour of day")
        .x_label_formatter(&|x| number_tick(*x))
        .y_desc("Mean calls in queue")
        .y_label_formatter(&|y| number_tick(*y))
        .x_labels(13)
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, (policy, points)) in results.policies.iter().zip(curves).enumerate() {
        chart
            .draw_series(LineSeries::new(points, colour(i).stroke_width(3)))
            .map_err(|e| e.to_string())?
            .label(policy.name().to_string())
            .legend(move |(x, y)| {
                PathElement::new([(x, y), (x + 20, y)], colour(i).stroke_width(3))
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    Ok(())
}

/// Writes every chart of `results` into `dir`; returns the files written.
pub fn write_results_charts(results: &Results, dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    let mut written = Vec::new();
    for chart in results_charts(results) {
        written.extend(Drawable::write(&chart, dir)?);
    }
    Ok(written)
}

/// One swept policy's series over the sweep's points.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSeries {
    pub label: String,
    /// Per point: mean, CI low, CI high of eligible-call p90 response (minutes).
    pub p90: Vec<(f64, f64, f64)>,
    /// Per point: annual fleet cost ($ millions).
    pub cost: Vec<(f64, f64, f64)>,
    pub recommended: Option<usize>,
}

/// Chart 4: a sweep's answer, from `sweep.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepChart {
    pub title: String,
    pub x_name: String,
    pub xs: Vec<f64>,
    pub series: Vec<SweepSeries>,
    /// Targets on the plotted figure: `(text, value)`.
    pub p90_targets: Vec<(String, f64)>,
    pub footnote: String,
    /// The sweep had targets and no point met them all: the chart says so.
    pub no_point_meets: bool,
}

/// How a person reads a `--vary` setting on an axis: `care.count` is "Units in care
/// (care.count)", `facility.crisis_center.beds` "Beds at crisis_center".
pub fn setting_name(setting: &str) -> String {
    let parts: Vec<&str> = setting.split('.').collect();
    let named = match parts.as_slice() {
        [pool, "count"] => format!("Units in {pool}"),
        [pool, "shifts"] => format!("Shift pattern of {pool}"),
        ["facility", .., "beds"] => format!("Beds at {}", parts[1..parts.len() - 1].join(".")),
        ["facility", .., "length_of_stay_hours"] => {
            format!(
                "Mean stay at {} (hours)",
                parts[1..parts.len() - 1].join(".")
            )
        }
        ["facility", .., "handover_minutes"] => {
            format!(
                "Mean handover at {} (minutes)",
                parts[1..parts.len() - 1].join(".")
            )
        }
        ["outcome_time", kind, outcome] => {
            format!("Mean {} time, {kind} (minutes)", outcome.replace('_', " "))
        }
        ["costs", field] => format!("Cost: {}", field.replace('_', " ")),
        _ => return setting.to_string(),
    };
    format!("{named} ({setting})")
}

impl SweepChart {
    /// The chart of a sweep, from its document (as written to, or read from, `sweep.json`).
    pub fn of(sweep: &SweepDocument) -> Result<Self, String> {
        let max = crate::scenario::MAX_NAME_CHARS;
        super::json::check_name("the scenario name", &sweep.scenario.name, max)?;
        for text in sweep.varies.iter().chain(&sweep.targets) {
            super::json::check_name("a setting or target", text, 3 * max)?;
        }
        for label in &sweep.swept_policies {
            super::json::check_name("a policy label", label, max)?;
        }
        for name in sweep
            .points
            .iter()
            .flat_map(|p| &p.policies)
            .filter_map(|q| q.name.as_deref())
        {
            super::json::check_name("a policy name", name, max)?;
        }
        let x_name = sweep
            .varies
            .first()
            .ok_or("sweep.json has no varies")?
            .clone();
        let xs: Vec<f64> = sweep
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                p.settings
                    .get(&x_name)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(i as f64)
            })
            .collect();
        let nan = (f64::NAN, f64::NAN, f64::NAN);
        let triple = |e: Option<&Estimate>, scale: f64| {
            e.map_or(nan, |e| {
                (e.mean / scale, e.ci_low / scale, e.ci_high / scale)
            })
        };
        let series = sweep
            .swept_policies
            .iter()
            .map(|label| {
                let estimate = |p: &SweepPointDocument, key: &str| {
                    p.policies
                        .iter()
                        .find(|q| &q.label == label)
                        .and_then(|q| q.estimates.get(key))
                        .copied()
                };
                let recommended = sweep
                    .recommendations
                    .iter()
                    .find(|r| &r.policy == label)
                    .and_then(|r| r.point);
                // The name the scenario gives the policy, if any point's document has one.
                let name = sweep
                    .points
                    .iter()
                    .flat_map(|p| &p.policies)
                    .find(|q| &q.label == label)
                    .and_then(|q| q.name.clone())
                    .unwrap_or_else(|| label.clone());
                SweepSeries {
                    label: name,
                    p90: sweep
                        .points
                        .iter()
                        .map(|p| triple(estimate(p, key::ELIGIBLE_RESPONSE_P90).as_ref(), 1.0))
                        .collect(),
                    cost: sweep
                        .points
                        .iter()
                        .map(|p| triple(estimate(p, key::ANNUAL_COST).as_ref(), 1e6))
                        .collect(),
                    recommended,
                }
            })
            .collect();
        let p90_targets = sweep
            .targets
            .iter()
            .filter(|t| t.trim_start().starts_with(key::ELIGIBLE_RESPONSE_P90))
            .filter_map(|t| {
                let value = t.split_whitespace().last()?.parse().ok()?;
                Some((t.to_string(), value))
            })
            .collect();
        let no_point_meets =
            !sweep.targets.is_empty() && sweep.recommendations.iter().all(|r| r.point.is_none());
        Ok(Self {
            no_point_meets,
            title: format!(
                "Sweep of {}: eligible-call response and cost",
                setting_name(&x_name)
            ),
            footnote: format!(
                "Scenario: {} · {} replications per point · seed {} · bands: 95% CI · ringed: recommended point · crisis-sim {}",
                sweep.scenario.name,
                sweep.replications,
                sweep.seed,
                env!("CARGO_PKG_VERSION")
            ),
            x_name,
            xs,
            series,
            p90_targets,
        })
    }
}

/// One policy's curve on a sweep panel: the 95% band, the line and points of the means, and a
/// ring around the recommended point.
fn sweep_series<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    xs: &[f64],
    data: &[(f64, f64, f64)],
    i: usize,
    series: &SweepSeries,
) -> Result<(), String> {
    let band: Vec<(f64, f64)> = xs
        .iter()
        .zip(data)
        .filter(|(_, t)| plottable(t.1))
        .map(|(&x, t)| (x, t.2))
        .chain(
            xs.iter()
                .zip(data)
                .rev()
                .filter(|(_, t)| plottable(t.1))
                .map(|(&x, t)| (x, t.1)),
        )
        .collect();
    if band.len() > 2 {
        chart
            .draw_series([Polygon::new(band, colour(i + 1).mix(0.2).filled())])
            .map_err(|e| e.to_string())?;
    }
    let line: Vec<(f64, f64)> = xs
        .iter()
        .zip(data)
        .filter(|(_, t)| plottable(t.0))
        .map(|(&x, t)| (x, t.0))
        .collect();
    chart
        .draw_series(LineSeries::new(line.clone(), colour(i + 1).stroke_width(3)))
        .map_err(|e| e.to_string())?
        .label(series.label.clone())
        .legend(move |(x, y)| {
            PathElement::new([(x, y), (x + 20, y)], colour(i + 1).stroke_width(3))
        });
    chart
        .draw_series(
            line.iter()
                .map(|&p| Circle::new(p, 4, colour(i + 1).filled())),
        )
        .map_err(|e| e.to_string())?;
    if let Some(x) = series.recommended
        && let (Some(&px), Some(t)) = (xs.get(x), data.get(x))
        && plottable(t.0)
    {
        // The recommended point: a ring around it.
        chart
            .draw_series([
                Circle::new((px, t.0), 13, BLACK.stroke_width(3)),
                Circle::new((px, t.0), 7, colour(i + 1).filled()),
            ])
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

impl Drawable for SweepChart {
    fn name(&self) -> &str {
        "sweep"
    }

    fn title(&self) -> String {
        self.title.clone()
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = frame(root, &self.title, &self.footnote)?;
        let panels = body.split_evenly((1, 2));
        let x_min = self.xs.iter().copied().fold(f64::INFINITY, f64::min);
        let x_max = self.xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let pad = ((x_max - x_min) * 0.05).max(0.5);
        for (panel, (caption, unit, pick)) in panels.iter().zip([
            (
                "Eligible-call response, 90th percentile",
                "minutes",
                (|s: &SweepSeries| &s.p90) as fn(&SweepSeries) -> &Vec<(f64, f64, f64)>,
            ),
            ("Annual fleet cost", "dollars a year", |s: &SweepSeries| {
                &s.cost
            }),
        ]) {
            let values: Vec<f64> = self
                .series
                .iter()
                .flat_map(|s| pick(s).iter().flat_map(|t| [t.0, t.1, t.2]))
                .filter(|v| plottable(*v))
                .chain(if unit == "minutes" {
                    self.p90_targets.iter().map(|t| t.1).collect::<Vec<_>>()
                } else {
                    Vec::new()
                })
                .collect();
            let low = values.iter().copied().fold(f64::INFINITY, f64::min);
            let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (low, high) = if plottable(low) {
                (low, high)
            } else {
                (0.0, 1.0)
            };
            // From zero: an axis cut short makes a small change look large.
            let y_pad = ((high - low.min(0.0)) * 0.1).max(0.5);
            let whole_xs = self.xs.iter().all(|x| x.fract() == 0.0);
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, (FONT, 21))
                .margin(16)
                .x_label_area_size(48)
                .y_label_area_size(80)
                .build_cartesian_2d(
                    axis(x_min - pad, x_max + pad),
                    axis(low.min(0.0), high + y_pad),
                )
                .map_err(|e| e.to_string())?;
            let x_name = setting_name(&self.x_name);
            chart
                .configure_mesh()
                .x_desc(&x_name)
                // Counts tick as counts: 2, 4, not 2.0, 4.0 (and no ticks between them).
                .x_label_formatter(&|x| {
                    if whole_xs && x.fract() != 0.0 {
                        String::new()
                    } else {
                        number_tick(*x)
                    }
                })
                .y_label_formatter(&|y| {
                    if unit == "dollars a year" {
                        money_tick(*y * 1e6)
                    } else {
                        number_tick(*y)
                    }
                })
                .y_desc(unit)
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 17))
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, series) in self.series.iter().enumerate() {
                sweep_series(&mut chart, &self.xs, pick(series), i, series)?;
            }
            if unit == "minutes" {
                // A target is a limit, not data: dashed grey, unlike every data line.
                let target_style = RGBColor(110, 110, 110).stroke_width(2);
                for (text, value) in &self.p90_targets {
                    chart
                        .draw_series(DashedLineSeries::new(
                            [(x_min - pad, *value), (x_max + pad, *value)],
                            10,
                            8,
                            target_style,
                        ))
                        .map_err(|e| e.to_string())?
                        .label(format!("target: {text}"))
                        .legend(move |(x, y)| {
                            DashedPathElement::new([(x, y), (x + 24, y)], 6, 4, target_style)
                        });
                }
                if self.no_point_meets {
                    panel
                        .draw(&Text::new(
                            "No point meets every target",
                            (90, 60),
                            (FONT, 22).into_font().color(&RGBColor(213, 94, 0)),
                        ))
                        .map_err(|e| e.to_string())?;
                }
            }
            legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}

/// Writes a sweep's charts into `dir`: `sweep` and, for a care program, `sweep_tradeoff`.
pub fn write_sweep_charts(sweep: &SweepDocument, dir: &Path) -> Result<Vec<PathBuf>, ChartError> {
    let chart = SweepChart::of(sweep).map_err(|message| ChartError::Draw {
        name: "sweep".to_string(),
        message,
    })?;
    let mut written = chart.write(dir)?;
    if let Some(trade_off) = TradeOffChart::of(sweep) {
        written.extend(trade_off.write(dir)?);
    }
    Ok(written)
}

/// One policy's points on the trade-off chart, in grid order: its cost a year (dollars), the
/// share of eligible calls care handles and the police hours freed (mean, CI low, CI high),
/// and the point's setting.
#[derive(Clone, Debug, PartialEq)]
pub struct TradeOffSeries {
    pub label: String,
    pub cost: Vec<f64>,
    pub share: Vec<(f64, f64, f64)>,
    pub hours: Vec<(f64, f64, f64)>,
    pub tags: Vec<String>,
}

/// What each step of a sweep buys: cost a year against the share of eligible calls care
/// handles and against the police hours freed, one curve per swept policy (`sweep_tradeoff`).
#[derive(Clone, Debug, PartialEq)]
pub struct TradeOffChart {
    pub cost_name: String,
    pub series: Vec<TradeOffSeries>,
    pub footnote: String,
}

impl TradeOffChart {
    /// The chart of a sweep whose points measure care coverage (a program with care teams);
    /// `None` otherwise. Its names were checked by [`SweepChart::of`].
    pub fn of(sweep: &SweepDocument) -> Option<Self> {
        let has_net = sweep.figures.iter().any(|f| f.key == key::NET_PUBLIC_COST);
        let cost_key = if has_net {
            key::NET_PUBLIC_COST
        } else {
            key::ANNUAL_COST
        };
        let x_name = sweep.varies.first()?;
        let series: Vec<TradeOffSeries> = sweep
            .swept_policies
            .iter()
            .filter_map(|label| {
                let mut s = TradeOffSeries {
                    label: label.clone(),
                    cost: Vec::new(),
                    share: Vec::new(),
                    hours: Vec::new(),
                    tags: Vec::new(),
                };
                for point in &sweep.points {
                    let policy = point.policies.iter().find(|q| &q.label == label)?;
                    if let Some(name) = &policy.name {
                        s.label.clone_from(name);
                    }
                    let e = |k: &str| policy.estimates.get(k).copied();
                    let triple = |e: Option<Estimate>| {
                        e.map_or((f64::NAN, f64::NAN, f64::NAN), |e| {
                            (e.mean, e.ci_low, e.ci_high)
                        })
                    };
                    s.cost.push(e(cost_key).map_or(f64::NAN, |e| e.mean));
                    s.share.push(triple(e(key::ELIGIBLE_CARE_SHARE)));
                    s.hours.push(triple(e(key::POLICE_HOURS_FREED)));
                    s.tags
                        .push(point.settings.get(x_name).cloned().unwrap_or_default());
                }
                s.share
                    .iter()
                    .any(|t| plottable(t.0) && t.0 > 0.0)
                    .then_some(s)
            })
            .collect();
        if series.is_empty() {
            return None;
        }
        Some(Self {
            cost_name: if has_net {
                "Net public cost a year".to_string()
            } else {
                "Fleet cost a year".to_string()
            },
            series,
            footnote: format!(
                "Scenario: {} · {} replications per point · seed {} · points labelled by {} · error bars: 95% CI · crisis-sim {}",
                sweep.scenario.name,
                sweep.replications,
                sweep.seed,
                x_name,
                env!("CARGO_PKG_VERSION")
            ),
        })
    }
}

impl Drawable for TradeOffChart {
    fn name(&self) -> &str {
        "sweep_tradeoff"
    }

    fn title(&self) -> String {
        "What each step buys: cost against care coverage and police hours freed".to_string()
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = frame(root, &self.title(), &self.footnote)?;
        let panels = body.split_evenly((1, 2));
        let costs: Vec<f64> = self
            .series
            .iter()
            .flat_map(|s| s.cost.iter().copied())
            .filter(|c| plottable(*c))
            .collect();
        let x_low = costs.iter().copied().fold(f64::INFINITY, f64::min);
        let x_high = costs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (x_low, x_high) = if plottable(x_low) {
            (x_low, x_high)
        } else {
            (0.0, 1.0)
        };
        let x_pad = ((x_high - x_low) * 0.08).max(1.0);
        for (panel, (caption, unit, pick)) in panels.iter().zip([
            (
                "Eligible calls handled by care",
                "share of eligible calls",
                (|s: &TradeOffSeries| &s.share) as fn(&TradeOffSeries) -> &Vec<(f64, f64, f64)>,
            ),
            (
                "Police unit-hours freed",
                "unit-hours a year",
                |s: &TradeOffSeries| &s.hours,
            ),
        ]) {
            let high = self
                .series
                .iter()
                .flat_map(|s| pick(s).iter().map(|t| t.2.max(t.0)))
                .filter(|v| plottable(*v))
                .fold(0.0f64, f64::max);
            let high = if unit.starts_with("share") {
                high.clamp(0.1, 1.0) * 1.08
            } else {
                high.max(1.0) * 1.1
            };
            let mut chart = ChartBuilder::on(panel)
                .caption(caption, (FONT, 21))
                .margin(16)
                .x_label_area_size(48)
                .y_label_area_size(80)
                .build_cartesian_2d(axis(x_low - x_pad, x_high + x_pad), axis(0.0, high))
                .map_err(|e| e.to_string())?;
            chart
                .configure_mesh()
                .x_desc(&self.cost_name)
                .y_desc(unit)
                .x_labels(5)
                .x_label_formatter(&|x| money_tick(*x))
                .y_label_formatter(&|y| number_tick(*y))
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 17))
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, series) in self.series.iter().enumerate() {
                let points: Vec<(f64, (f64, f64, f64), &String)> = series
                    .cost
                    .iter()
                    .zip(pick(series))
                    .zip(&series.tags)
                    .filter(|((c, t), _)| plottable(**c) && plottable(t.0))
                    .map(|((c, t), tag)| (*c, *t, tag))
                    .collect();
                let style = colour(i + 1);
                chart
                    .draw_series(LineSeries::new(
                        points.iter().map(|p| (p.0, p.1.0)),
                        style.stroke_width(3),
                    ))
                    .map_err(|e| e.to_string())?
                    .label(series.label.clone())
                    .legend(move |(x, y)| {
                        PathElement::new([(x, y), (x + 20, y)], style.stroke_width(3))
                    });
                for (cost, (mean, low, high), tag) in &points {
                    let (low, high) = if plottable(*low) && plottable(*high) {
                        (*low, *high)
                    } else {
                        (*mean, *mean)
                    };
                    chart
                        .draw_series([ErrorBar::new_vertical(
                            *cost,
                            low,
                            *mean,
                            high,
                            style.filled(),
                            10,
                        )])
                        .map_err(|e| e.to_string())?;
                    chart
                        .draw_series([Circle::new((*cost, *mean), 5, style.filled())])
                        .map_err(|e| e.to_string())?;
                    chart
                        .draw_series([Text::new(
                            (*tag).clone(),
                            (*cost, *mean),
                            (FONT, 15).into_font().color(&BLACK),
                        )])
                        .map_err(|e| e.to_string())?;
                }
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}

/// The back-test's chart: the log's response-time distribution (received to first arrival,
/// 911 calls) against the simulation's, pooled over replications.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestChart {
    /// Sorted minutes.
    pub observed: Vec<f64>,
    pub simulated: Vec<f64>,
    pub footnote: String,
}

/// At most this many points draw a distribution (the plot needs no more).
const CDF_POINTS: usize = 400;

/// The empirical CDF of sorted values, thinned to at most [`CDF_POINTS`] points.
fn cdf_points(sorted: &[f64]) -> Vec<(f64, f64)> {
    let n = sorted.len();
    let step = (n / CDF_POINTS).max(1);
    (0..n)
        .step_by(step)
        .chain(n.checked_sub(1))
        .filter_map(|i| finite(sorted[i]).map(|x| (x, (i + 1) as f64 / n as f64)))
        .collect()
}

impl Drawable for BacktestChart {
    fn name(&self) -> &str {
        "backtest"
    }

    fn title(&self) -> String {
        "Response time: the log against the simulation".to_string()
    }

    fn render<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = frame(root, &self.title(), &self.footnote)?;
        // To the 99th percentile of either: the last 1% would squeeze the rest.
        let p99 = |v: &[f64]| v.get(v.len() * 99 / 100).copied().unwrap_or(1.0);
        let max_x = p99(&self.observed).max(p99(&self.simulated)).max(1.0) * 1.05;
        let mut chart = ChartBuilder::on(&body)
            .margin(20)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(axis(0.0, max_x), 0.0..1.0)
            .map_err(|e| e.to_string())?;
        response_cdf_axes(&mut chart)?;
        for (i, (label, values)) in [
            ("The log", &self.observed),
            ("The simulation", &self.simulated),
        ]
        .into_iter()
        .enumerate()
        {
            let style = colour(i).stroke_width(3);
            let points: Vec<(f64, f64)> = cdf_points(values)
                .into_iter()
                .filter(|p| p.0 <= max_x)
                .collect();
            chart
                .draw_series(LineSeries::new(points, style))
                .map_err(|e| e.to_string())?
                .label(format!("{label} ({} calls)", values.len()))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight)
    }
}
