//! The report page: one self-contained HTML file (inline CSS, inline SVG, a small inline
//! script for table sorting; nothing is fetched). Every value from the data is escaped.

use std::fmt::Write;

use super::charts::{self, FrontierPoint, Series};
use super::ReportError;
use crate::records::dataset::BENCHMARKS;
use crate::records::{DatasetRow, QualityReport};

/// What the page shows besides the rows.
#[derive(Debug, Clone, Default)]
pub struct ReportMeta {
    pub run_id: String,
    /// When the run started (RFC 3339).
    pub run_date: String,
    /// Run parameters to show, as (name, value).
    pub parameters: Vec<(String, String)>,
    /// The night of the run's snapshot (UTC), and the top models' downloads over the
    /// nights before it, from the history, this run's last.
    pub snapshot_at: Option<chrono::DateTime<chrono::Utc>>,
    pub trends: Vec<Series>,
}

/// How many nights the trend charts look back over.
pub const TREND_NIGHTS: u32 = 30;

/// Escape text for HTML content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2327;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
main{padding:18px 28px;max-width:1560px}
section{background:#fff;border:1px solid #dde1e6;border-radius:6px;padding:14px 18px;margin-bottom:18px}
h2{font-size:17px;margin:0 0 10px}
.facts{display:flex;flex-wrap:wrap;gap:10px}
.fact{background:#eef2f7;border-radius:5px;padding:6px 12px;min-width:110px}
.fact b{display:block;font-size:20px}
.grid{display:flex;flex-wrap:wrap;gap:14px}
figure{margin:0}
figure svg{max-width:100%;height:auto;border:1px solid #eef0f3}
dl.params{display:grid;grid-template-columns:max-content auto;gap:2px 14px;margin:0}
dl.params dt{color:#57606a}
table{border-collapse:collapse;font-size:12.5px;width:100%}
th,td{padding:4px 7px;border-bottom:1px solid #e5e8eb;text-align:left;white-space:nowrap}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#eef2f7;position:sticky;top:0;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \25B2"}
th[aria-sort=descending]::after{content:" \25BC"}
.table-wrap{max-height:640px;overflow:auto}
ol.frontier{margin:6px 0 0;columns:2;font-size:13px}
"#;

/// Sorts the summary table by the clicked column. Numeric columns sort by `data-v`;
/// empty cells go last in either direction.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  var table = document.getElementById("summary");
  if (!table) { return; }
  var headers = table.tHead.rows[0].cells;
  function key(row, i, numeric) {
    var cell = row.cells[i];
    if (numeric) {
      var v = cell.getAttribute("data-v");
      return v === null || v === "" ? null : parseFloat(v);
    }
    var t = cell.textContent.trim().toLowerCase();
    return t === "" ? null : t;
  }
  function sortBy(i) {
    var th = headers[i];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    for (var h = 0; h < headers.length; h++) { headers[h].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (r, n) { return { r: r, k: key(r, i, numeric), n: n }; });
    keyed.sort(function (a, b) {
      if (a.k === null || b.k === null) {
        return (a.k === null) - (b.k === null) || a.n - b.n;
      }
      var c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
      return (ascending ? c : -c) || a.n - b.n;
    });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (e) { frag.appendChild(e.r); });
    body.appendChild(frag);
  }
  Array.prototype.forEach.call(headers, function (th, i) {
    th.addEventListener("click", function () { sortBy(i); });
    th.setAttribute("title", "Sort by " + th.textContent);
  });
})();
"#;

fn num(v: Option<f64>, decimals: usize) -> (String, String) {
    match v {
        Some(x) => (format!("{x}"), format!("{x:.decimals$}")),
        None => (String::new(), String::new()),
    }
}

fn fact(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = write!(
        out,
        r#"<div class="fact"><b>{}</b>{}</div>"#,
        escape(&value.to_string()),
        escape(label)
    );
}

fn figure(out: &mut String, id: &str, svg: &str) {
    let _ = write!(out, r#"<figure id="chart-{id}">{svg}</figure>"#);
}

fn summary_table(out: &mut String, rows: &[DatasetRow]) {
    let mut columns: Vec<(&str, bool)> = vec![
        ("Rank", true),
        ("Model", false),
        ("Org", false),
        ("Params (B)", true),
        ("Size", false),
        ("License", false),
        ("Relation", false),
        ("Leaderboard", false),
        ("Scores", false),
        ("Average", true),
    ];
    columns.extend(BENCHMARKS.iter().map(|(_, label)| (*label, true)));
    columns.extend([
        ("Downloads (30d)", true),
        ("Likes", true),
        ("Δ downloads", true),
        ("Δ 7 nights", true),
        ("Δ 30 nights", true),
        ("Age (days)", true),
    ]);
    out.push_str(r#"<div class="table-wrap"><table id="summary"><thead><tr>"#);
    for (label, numeric) in &columns {
        let kind = if *numeric { "num" } else { "text" };
        let _ = write!(
            out,
            r#"<th data-type="{kind}" scope="col">{}</th>"#,
            escape(label)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        let numeric = |out: &mut String, v: Option<f64>, decimals: usize| {
            let (raw, shown) = num(v, decimals);
            let _ = write!(out, r#"<td class="n" data-v="{raw}">{shown}</td>"#);
        };
        let text = |out: &mut String, s: &str| {
            let _ = write!(out, "<td>{}</td>", escape(s));
        };
        numeric(out, Some(r.rank as f64), 0);
        text(out, &r.model_id);
        text(out, &r.org);
        numeric(out, r.parameters_b, 2);
        text(out, r.size_class.map(|s| s.label()).unwrap_or(""));
        let _ = write!(
            out,
            r#"<td title="{}">{}</td>"#,
            escape(&r.license),
            escape(r.license_family.label())
        );
        text(out, r.relation.label());
        text(out, r.join_status.label());
        text(out, &r.score_source.to_string());
        numeric(out, r.average, 2);
        for (column, _) in BENCHMARKS {
            numeric(out, r.benchmark(column), 1);
        }
        numeric(out, r.downloads.map(|d| d as f64), 0);
        numeric(out, r.likes.map(|d| d as f64), 0);
        numeric(out, r.downloads_delta_1d.map(|d| d as f64), 0);
        numeric(out, r.downloads_delta_7d.map(|d| d as f64), 0);
        numeric(out, r.downloads_delta_30d.map(|d| d as f64), 0);
        numeric(out, r.age_days.map(|d| d as f64), 0);
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

fn frontier_list(out: &mut String, frontier: &[FrontierPoint]) {
    if frontier.is_empty() {
        out.push_str("<p>No model has both a parameter count and an average score.</p>");
        return;
    }
    out.push_str(r#"<p>Pareto frontier (no smaller model scores higher):</p><ol class="frontier" id="frontier">"#);
    for p in frontier {
        let _ = write!(
            out,
            "<li>{} &mdash; {:.2}B, average {:.2}</li>",
            escape(&p.model_id),
            p.parameters_b,
            p.average
        );
    }
    out.push_str("</ol>");
}

/// How many models matched the leaderboard, and what the checks did.
fn coverage_section(out: &mut String, rows: &[DatasetRow], quality: Option<&QualityReport>) {
    out.push_str(r#"<section id="coverage"><h2>Coverage</h2><div class="facts">"#);
    let scored = rows.iter().filter(|r| r.average.is_some()).count();
    fact(out, "models", rows.len());
    if let Some(q) = quality {
        let c = &q.coverage;
        let share = if c.models > 0 {
            100.0 * c.found as f64 / c.models as f64
        } else {
            0.0
        };
        fact(
            out,
            "matched the leaderboard",
            format!("{} ({share:.0}%)", c.found),
        );
        fact(out, "not found", c.not_found);
        fact(out, "mismatch", c.mismatch);
        fact(out, "lookup errors", c.error);
        fact(out, "not looked up", c.not_looked_up);
        fact(out, "scores inherited from base", c.with_inherited_scores);
        fact(out, "rows dropped by checks", q.dropped.len());
        fact(out, "values fixed by checks", q.fixed.len());
    }
    fact(out, "with an average score", scored);
    out.push_str("</div></section>");
}

/// Scores by source: the leaderboard (archived March 2025), the Hub's results, Every
/// Eval Ever and OpenEvals; "leaderboard or Hub" is the coverage without the last two.
fn sources_section(out: &mut String, quality: Option<&QualityReport>) {
    if let Some(q) = quality.filter(|q| q.score_coverage.models > 0) {
        let c = &q.score_coverage;
        let pct = |n: u64| 100.0 * n as f64 / c.models as f64;
        out.push_str(r#"<section id="sources"><h2>Scores by source</h2><div class="facts">"#);
        for (label, n) in [
            ("any score", c.models - c.none),
            ("leaderboard v2", c.leaderboard),
            ("Hub evaluation results", c.hub_eval_results),
            ("model cards", c.model_card),
            ("Every Eval Ever", c.every_eval_ever),
            ("OpenEvals", c.open_evals),
            ("leaderboard or Hub", c.leaderboard_or_hub),
            ("a verified or third-party score", c.verified),
            ("leaderboard only", c.leaderboard_only),
            ("Hub only", c.hub_only),
            ("both", c.both),
            ("none", c.none),
        ] {
            fact(out, label, format!("{n} ({:.0}%)", pct(n)));
        }
        out.push_str("</div>");
        if !q.hub_benchmark_columns.is_empty() {
            out.push_str(
                "<p>The run's most common Hub benchmarks, as columns of dataset.csv:</p><ul>",
            );
            for col in &q.hub_benchmark_columns {
                let _ = write!(
                    out,
                    "<li><code>{}</code>: {}{} ({} models)</li>",
                    escape(&col.column),
                    escape(&col.benchmark),
                    if col.task.is_empty() {
                        String::new()
                    } else {
                        format!(" / {}", escape(&col.task))
                    },
                    col.models
                );
            }
            out.push_str("</ul>");
        }
        if !q.skipped_evals.is_empty() {
            let _ = write!(
                out,
                "<p>{} evaluation result(s) skipped; quality.json says why.</p>",
                q.skipped_evals.len()
            );
        }
        out.push_str("</section>");
    }
}

/// The run and the settings of the command that wrote the report.
fn parameters_section(out: &mut String, quality: Option<&QualityReport>, meta: &ReportMeta) {
    out.push_str(r#"<section id="parameters"><h2>Run</h2><dl class="params">"#);
    let mut params: Vec<(String, String)> = vec![
        ("run id".into(), meta.run_id.clone()),
        ("run date".into(), meta.run_date.clone()),
    ];
    if let Some(q) = quality {
        params.push((
            "previous run (deltas)".into(),
            q.previous_run.clone().unwrap_or_else(|| "none".into()),
        ));
        params.push((
            "canonical leaderboard row".into(),
            q.canonical_row_rule.clone(),
        ));
    }
    if !meta.parameters.is_empty() {
        params.push((
            "settings below".into(),
            "those of the command that wrote this report".into(),
        ));
    }
    params.extend(meta.parameters.iter().cloned());
    for (k, v) in &params {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(v));
    }
    out.push_str("</dl></section>");
}

/// The charts, the Pareto frontier and the benchmark distributions.
fn charts_section(
    out: &mut String,
    rows: &[DatasetRow],
    frontier: &[charts::FrontierPoint],
    meta: &ReportMeta,
) -> Result<(), ReportError> {
    out.push_str(r#"<section id="charts"><h2>Charts</h2><div class="grid">"#);
    figure(
        out,
        "score-params",
        &charts::score_vs_parameters(rows, frontier)?,
    );
    figure(out, "downloads-score", &charts::downloads_vs_score(rows)?);
    figure(out, "license", &charts::license_breakdown(rows)?);
    figure(out, "authors", &charts::top_authors(rows, 15)?);
    match meta.snapshot_at {
        Some(last) if meta.trends.iter().any(|s| s.points.len() > 1) => figure(
            out,
            "trends",
            &charts::downloads_trends(&meta.trends, TREND_NIGHTS, last)?,
        ),
        _ => out.push_str(
            r#"<p id="no-history">No earlier complete run in the history, so no trends yet.</p>"#,
        ),
    }
    for nights in [7, 30] {
        match charts::risers_and_fallers(rows, nights, 8) {
            Some(svg) => figure(out, &format!("movers-{nights}d"), &svg?),
            None => {
                let _ = write!(
                    out,
                    r#"<p id="no-movers-{nights}d">No complete run {nights} nights back yet, so no risers and fallers over {nights} nights.</p>"#
                );
            }
        }
    }
    out.push_str("</div>");
    frontier_list(out, frontier);
    out.push_str(r#"<h2>Benchmark distributions</h2><div class="grid">"#);
    for (column, label) in BENCHMARKS {
        figure(
            out,
            &format!("dist-{column}"),
            &charts::distribution(rows, column, label)?,
        );
    }
    out.push_str("</div></section>");
    Ok(())
}

/// Render the whole page.
pub fn render(
    rows: &[DatasetRow],
    quality: Option<&QualityReport>,
    meta: &ReportMeta,
) -> Result<String, ReportError> {
    let frontier = charts::pareto_frontier(rows);
    let mut out = String::with_capacity(400_000 + rows.len() * 900);
    let title = format!("hfharvest report: run {}", meta.run_id);
    let run_date = chrono::DateTime::parse_from_rfc3339(&meta.run_date)
        .map(|t| t.to_utc().format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|_| meta.run_date.clone());
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{STYLE}</style></head><body><header><h1>{}</h1><div id="run-date">Run date: {}</div></header><main>"#,
        escape(&title),
        escape(&title),
        escape(&run_date)
    );

    coverage_section(&mut out, rows, quality);
    sources_section(&mut out, quality);
    parameters_section(&mut out, quality, meta);
    charts_section(&mut out, rows, &frontier, meta)?;
    out.push_str(r#"<section id="models"><h2>Models</h2><p>Click a column header to sort.</p>"#);
    summary_table(&mut out, rows);
    out.push_str("</section>");
    let _ = write!(out, "</main><script>{SCRIPT}</script></body></html>");
    Ok(out)
}
