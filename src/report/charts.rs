//! The report's charts, drawn with `plotters` into SVG strings. plotters escapes the
//! text it draws, so model names from the data are safe inside the SVG.

use std::collections::HashMap;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::rows::ReportRow;
use super::ReportError;
use crate::records::dataset::LicenseFamily;

type Drawn = Result<(), Box<dyn std::error::Error>>;

const FONT: &str = "sans-serif";
const PALETTE: [RGBColor; 4] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(127, 127, 127),
];
const BAR: RGBColor = RGBColor(31, 119, 180);
const FRONTIER: RGBColor = RGBColor(214, 39, 40);

fn family_color(f: LicenseFamily) -> RGBColor {
    match f {
        LicenseFamily::Permissive => PALETTE[0],
        LicenseFamily::Copyleft => PALETTE[2],
        LicenseFamily::RestrictedUse => PALETTE[1],
        LicenseFamily::Unknown => PALETTE[3],
    }
}

/// Draw one chart into an SVG string.
fn svg(
    name: &str,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> Result<String, ReportError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| ReportError::Render {
            chart: name.to_owned(),
            message: e.to_string(),
        })?;
        draw(root).map_err(|e| ReportError::Render {
            chart: name.to_owned(),
            message: e.to_string(),
        })?;
    }
    Ok(out)
}

/// A model that no smaller-or-equal model beats on average score.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontierPoint {
    pub model_id: String,
    pub parameters_b: f64,
    pub average: f64,
}

/// The Pareto frontier of (fewer parameters, higher average): walking up in size, each
/// model that beats every smaller one.
pub fn pareto_frontier(rows: &[ReportRow]) -> Vec<FrontierPoint> {
    let mut points: Vec<FrontierPoint> = rows
        .iter()
        .filter_map(|r| {
            Some(FrontierPoint {
                model_id: r.model_id.to_string(),
                parameters_b: r.parameters_b?,
                average: r.scores.average?,
            })
        })
        .collect();
    points.sort_by(|a, b| {
        a.parameters_b
            .total_cmp(&b.parameters_b)
            .then(b.average.total_cmp(&a.average))
            .then_with(|| a.model_id.cmp(&b.model_id))
    });
    let mut best = f64::NEG_INFINITY;
    points.retain(|p| {
        let on = p.average > best;
        best = best.max(p.average);
        on
    });
    points
}

/// Pixels a side of the cells a scatter chart's points are pooled in: a cell's models
/// of one license family are one mark, named by its most downloaded model, so a chart
/// over every model stays a bounded size at any N (at most a few thousand marks). A
/// mark's colour is its family's class (`f0`…`f3`, in the page's style).
const CELL: i32 = 5;

/// The models a scatter chart marks, pooled by cell and license family, in the order
/// given (most downloaded first): for each mark, its pixel, its family and its
/// hover text.
#[derive(Default)]
struct Marks {
    cells: HashMap<(i32, i32, LicenseFamily), usize>,
    marks: Vec<((i32, i32), LicenseFamily, String, u64)>,
}

impl Marks {
    fn add(&mut self, at: (i32, i32), family: LicenseFamily, name: impl FnOnce() -> String) {
        let key = (at.0 / CELL, at.1 / CELL, family);
        match self.cells.get(&key) {
            Some(&i) => self.marks[i].3 += 1,
            None => {
                self.cells.insert(key, self.marks.len());
                self.marks.push((at, family, name(), 0));
            }
        }
    }

    /// The marks as SVG circles, each with its model's name as a tooltip (`<title>`).
    fn svg(&self) -> String {
        let mut out = String::from(r#"<g class="points">"#);
        for ((x, y), family, name, more) in &self.marks {
            let class = LicenseFamily::ALL
                .iter()
                .position(|f| f == family)
                .unwrap_or(3);
            let more = match more {
                0 => String::new(),
                n => format!(" (+{n} here)"),
            };
            let _ = std::fmt::Write::write_fmt(
                &mut out,
                format_args!(
                    r#"<circle class="pt f{class}" cx="{x}" cy="{y}" r="3"><title>{}{}</title></circle>"#,
                    super::escape(name),
                    more
                ),
            );
        }
        out.push_str("</g>");
        out
    }
}

/// Put the marks into a chart's SVG, above what plotters drew.
fn with_marks(mut svg: String, marks: &Marks) -> String {
    match svg.rfind("</svg>") {
        Some(end) => svg.insert_str(end, &marks.svg()),
        None => svg.push_str(&marks.svg()),
    }
    svg
}

/// Rows most downloaded first, so a cell's mark is named by its most downloaded model.
fn by_downloads(rows: &[ReportRow]) -> Vec<&ReportRow> {
    let mut sorted: Vec<&ReportRow> = rows.iter().collect();
    sorted.sort_by_key(|r| r.rank);
    sorted
}

fn short_name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

pub fn score_vs_parameters(
    rows: &[ReportRow],
    frontier: &[FrontierPoint],
) -> Result<String, ReportError> {
    let ranked = by_downloads(rows);
    let points: Vec<(f64, f64, LicenseFamily, &str)> = ranked
        .iter()
        .filter_map(|r| {
            Some((
                r.parameters_b?,
                r.scores.average?,
                r.license_family,
                &*r.model_id,
            ))
        })
        .collect();
    let mut marks = Marks::default();
    let (lo, hi) = points.iter().fold((f64::MAX, f64::MIN), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });
    let (x_lo, x_hi) = if points.is_empty() {
        (0.1, 1000.0)
    } else {
        (lo / 1.5, hi * 1.5)
    };
    let y_hi = points.iter().map(|p| p.1).fold(10.0_f64, f64::max) * 1.1;
    let drawn = svg("score-params", (680, 440), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption("Average score vs parameters (log scale)", (FONT, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..y_hi)?;
        chart
            .configure_mesh()
            .x_desc("Parameters (billions, log scale)")
            .y_desc("Average score (0-100)")
            .x_label_formatter(&|v| {
                format!("{v:.3}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_owned()
            })
            .draw()?;
        for p in &points {
            marks.add(chart.backend_coord(&(p.0, p.1)), p.2, || {
                format!("{} ({}B, average {:.2})", p.3, p.0, p.1)
            });
        }
        for family in LicenseFamily::ALL {
            let color = family_color(family);
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(family.label())
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
        }
        chart
            .draw_series(LineSeries::new(
                frontier.iter().map(|p| (p.parameters_b, p.average)),
                FRONTIER.stroke_width(2),
            ))?
            .label("Pareto frontier")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], FRONTIER.stroke_width(2)));
        let label_style = TextStyle::from((FONT, 11)).color(&FRONTIER);
        chart.draw_series(frontier.iter().map(|p| {
            EmptyElement::at((p.parameters_b, p.average))
                + Circle::new((0, 0), 4, FRONTIER.filled())
                + Text::new(
                    truncate(short_name(&p.model_id), 28),
                    (6, -12),
                    label_style.clone(),
                )
        }))?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        root.present()?;
        Ok(())
    })?;
    Ok(with_marks(drawn, &marks))
}

pub fn downloads_vs_score(rows: &[ReportRow]) -> Result<String, ReportError> {
    let ranked = by_downloads(rows);
    let points: Vec<(f64, f64, LicenseFamily, &str)> = ranked
        .iter()
        .filter_map(|r| {
            Some((
                r.scores.average?,
                r.downloads? as f64,
                r.license_family,
                &*r.model_id,
            ))
        })
        .map(|(a, d, f, id)| (a, d.max(1.0), f, id))
        .collect();
    let mut marks = Marks::default();
    let x_hi = points.iter().map(|p| p.0).fold(10.0_f64, f64::max) * 1.1;
    let y_hi = points.iter().map(|p| p.1).fold(10.0_f64, f64::max) * 2.0;
    let y_lo = (points.iter().map(|p| p.1).fold(f64::MAX, f64::min) / 2.0).clamp(1.0, y_hi / 10.0);
    let drawn = svg("downloads-score", (680, 440), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption("Downloads (30 days) vs average score", (FONT, 18))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_hi, (y_lo..y_hi).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("Average score (0-100)")
            .y_desc("Downloads, last 30 days (log)")
            .y_label_formatter(&|v| human(*v))
            .draw()?;
        for p in &points {
            marks.add(chart.backend_coord(&(p.0, p.1)), p.2, || {
                format!("{} (average {:.2}, {} downloads)", p.3, p.0, human(p.1))
            });
        }
        for family in LicenseFamily::ALL {
            let color = family_color(family);
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(family.label())
                .legend(move |(x, y)| Circle::new((x + 6, y), 4, color.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        root.present()?;
        Ok(())
    })?;
    Ok(with_marks(drawn, &marks))
}

/// `12.3k`, `4.5M`: compact numbers for axes and labels.
pub fn human(v: f64) -> String {
    let a = v.abs();
    let (x, unit) = if a >= 1e9 {
        (v / 1e9, "B")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let s = format!("{x:.1}");
    format!("{}{unit}", s.trim_end_matches(".0"))
}

/// Horizontal bars, one per (label, value), top to bottom in the given order.
pub fn horizontal_bars(
    name: &str,
    title: &str,
    x_desc: &str,
    items: &[(String, f64)],
) -> Result<String, ReportError> {
    let n = items.len().max(1);
    let lo = items.iter().map(|i| i.1).fold(0.0_f64, f64::min);
    let hi = items.iter().map(|i| i.1).fold(0.0_f64, f64::max);
    let span = (hi - lo).max(1.0);
    let (x_lo, x_hi) = (
        if lo < 0.0 { lo - span * 0.05 } else { 0.0 },
        hi + span * 0.05,
    );
    let labels: Vec<String> = items.iter().map(|i| truncate(&i.0, 34)).collect();
    let height = 90 + 26 * n as u32;
    svg(name, (680, height), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(210)
            .build_cartesian_2d(x_lo..x_hi, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .x_desc(x_desc)
            .x_label_formatter(&|v| human(*v))
            .y_label_formatter(&|v| match v {
                // Row 0 is drawn at the top.
                SegmentValue::CenterOf(i) if *i < labels.len() => {
                    labels[labels.len() - 1 - *i].clone()
                }
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, v))| {
            let slot = n - 1 - i;
            let color = if *v < 0.0 { FRONTIER } else { BAR };
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(slot)),
                    (*v, SegmentValue::Exact(slot + 1)),
                ],
                color.mix(0.8).filled(),
            );
            bar.set_margin(3, 3, 0, 0);
            bar
        }))?;
        root.present()?;
        Ok(())
    })
}

pub fn license_breakdown(rows: &[ReportRow]) -> Result<String, ReportError> {
    let items: Vec<(String, f64)> = LicenseFamily::ALL
        .iter()
        .map(|f| {
            (
                f.label().to_owned(),
                rows.iter().filter(|r| r.license_family == *f).count() as f64,
            )
        })
        .collect();
    horizontal_bars("license", "Models by license family", "Models", &items)
}

pub fn top_authors(rows: &[ReportRow], top: usize) -> Result<String, ReportError> {
    let mut by_org: HashMap<&str, u64> = HashMap::new();
    for r in rows {
        *by_org.entry(&*r.org).or_default() += r.downloads.unwrap_or(0);
    }
    let mut orgs: Vec<(&str, u64)> = by_org.into_iter().collect();
    orgs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let items: Vec<(String, f64)> = orgs
        .into_iter()
        .take(top)
        .map(|(o, d)| (o.to_owned(), d as f64))
        .collect();
    horizontal_bars(
        "authors",
        &format!("Top {top} authors by downloads (30 days)"),
        "Downloads",
        &items,
    )
}

/// The `top` biggest risers, then the `top` biggest fallers, by the change in 30-day
/// downloads over `nights` nights (`downloads_delta_7d` or `_30d`); `None` when no
/// model has moved over that span (no run that many nights back yet).
pub fn risers_and_fallers(
    rows: &[ReportRow],
    nights: u32,
    top: usize,
) -> Option<Result<String, ReportError>> {
    let delta = |r: &ReportRow| match nights {
        7 => r.downloads_delta_7d,
        30 => r.downloads_delta_30d,
        _ => r.downloads_delta_1d,
    };
    let mut moved: Vec<(&str, i64)> = rows
        .iter()
        .filter_map(|r| Some((&*r.model_id, delta(r)?)))
        .filter(|(_, d)| *d != 0)
        .collect();
    if moved.is_empty() {
        return None;
    }
    moved.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let risers = moved.iter().filter(|m| m.1 > 0).take(top);
    let fallers = moved.iter().rev().filter(|m| m.1 < 0).take(top);
    let items: Vec<(String, f64)> = risers
        .chain(fallers)
        .map(|(m, d)| ((*m).to_owned(), *d as f64))
        .collect();
    Some(horizontal_bars(
        &format!("movers-{nights}d"),
        &format!("Biggest risers and fallers over {nights} nights (30-day downloads)"),
        "Change in downloads",
        &items,
    ))
}

/// One model's downloads, night by night: (days before the run's snapshot, downloads).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub model_id: String,
    pub points: Vec<(f64, u64)>,
}

/// Small multiples: each series its own panel, downloads against the night, over the
/// last `nights` nights up to the run's snapshot (`last`, day 0).
pub fn downloads_trends(
    series: &[Series],
    nights: u32,
    last: chrono::DateTime<chrono::Utc>,
) -> Result<String, ReportError> {
    let columns = 5usize;
    let panels = series.len().max(1);
    let rows = panels.div_ceil(columns);
    // Day 0 is this run; the first night of the window starts at most `nights` days before.
    let span = f64::from(nights.max(1));
    svg("trends", (1020, 40 + 190 * rows as u32), |root| {
        let root = root.titled(
            &format!("Downloads (30 days) of the top models, over the last {nights} nights"),
            (FONT, 18),
        )?;
        let areas = root.split_evenly((rows, columns));
        for (area, s) in areas.iter().zip(series) {
            let hi = s.points.iter().map(|p| p.1).max().unwrap_or(1) as f64;
            let lo = s.points.iter().map(|p| p.1).min().unwrap_or(0) as f64;
            let pad = ((hi - lo) * 0.15).max(hi * 0.02).max(1.0);
            let mut chart = ChartBuilder::on(area)
                .caption(truncate(short_name(&s.model_id), 26), (FONT, 12))
                .margin(6)
                .x_label_area_size(22)
                .y_label_area_size(44)
                .build_cartesian_2d(-span..0.5, (lo - pad).max(0.0)..hi + pad)?;
            chart
                .configure_mesh()
                .x_labels(3)
                .y_labels(4)
                .x_label_formatter(&|v| {
                    let at = last + chrono::Duration::seconds((v * 86_400.0).round() as i64);
                    at.format("%m-%d").to_string()
                })
                .y_label_formatter(&|v| human(*v))
                .label_style((FONT, 10))
                .draw()?;
            let points: Vec<(f64, f64)> = s.points.iter().map(|(d, v)| (*d, *v as f64)).collect();
            chart.draw_series(LineSeries::new(points.iter().copied(), BAR.stroke_width(2)))?;
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 2, BAR.filled())))?;
        }
        root.present()?;
        Ok(())
    })
}

/// A histogram of one benchmark over 10-point bins.
pub fn distribution(rows: &[ReportRow], column: &str, label: &str) -> Result<String, ReportError> {
    let mut bins = [0u32; 10];
    for v in rows.iter().filter_map(|r| r.benchmark(column)) {
        bins[((v / 10.0).floor() as usize).min(9)] += 1;
    }
    let top = bins.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.1;
    svg(column, (370, 250), |root| {
        let mut chart = ChartBuilder::on(&root)
            .caption(label, (FONT, 16))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..100.0, 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("Score (0-100)")
            .y_desc("Models")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart.draw_series(bins.iter().enumerate().map(|(i, c)| {
            let x = i as f64 * 10.0;
            Rectangle::new(
                [(x + 0.5, 0.0), (x + 9.5, *c as f64)],
                BAR.mix(0.8).filled(),
            )
        }))?;
        root.present()?;
        Ok(())
    })
}
