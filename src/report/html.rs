//! The report page: one self-contained HTML file (inline CSS, inline SVG, the models'
//! data compressed inline, a small inline script that draws their table; nothing is
//! fetched). Every value from the data is escaped, or set as text by the script.

use std::fmt::Write;

use super::charts::{self, FrontierPoint, Series};
use super::rows::ReportRow;
use super::ReportError;
use crate::records::dataset::{ScoreProvenance, BENCHMARKS};
use crate::records::QualityReport;

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
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px;font-size:13px}
.controls input[type=search]{min-width:260px}
#table-status{color:#57606a}
figure svg .pt{fill-opacity:.55}
figure svg .f0{fill:#1f77b4}figure svg .f1{fill:#2ca02c}figure svg .f2{fill:#d62728}figure svg .f3{fill:#7f7f7f}
ol.frontier{margin:6px 0 0;columns:2;font-size:13px}
"#;

/// Draws the table of every model from the embedded data (`#models-data`, gzip and
/// base64, read with the browser's own `DecompressionStream`): a search over ids,
/// filters, sorting by any column (numbers by value, empty cells last either way) and
/// pages of 100 rows. Each id links to its Hub page. When the rows are drawn the table
/// carries `data-ready`.
const SCRIPT: &str = r#"
(function () {
  "use strict";
  var holder = document.getElementById("models-data");
  var table = document.getElementById("summary");
  var status = document.getElementById("table-status");
  if (!holder || !table) { return; }
  var PAGE = 100;
  function bytes(text) {
    var bin = atob(text.trim()), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function fail(e) { status.textContent = "The table could not be read: " + e; }
  try {
    var stream = new Blob([bytes(holder.textContent)]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    new Response(stream).text().then(function (t) { start(JSON.parse(t)); }).catch(fail);
  } catch (e) { fail(e); }

  function undiff(a) {
    var out = new Array(a.length), last = 0;
    for (var i = 0; i < a.length; i++) {
      if (a[i] === null) { out[i] = null; } else { last += a[i]; out[i] = last; }
    }
    return out;
  }
  function start(d) {
    var n = d.n;
    d.id = new Array(n);
    for (var r = 0; r < n; r++) {
      var owner = d.owner.labels[d.owner.codes[r]], name = d.name.labels[d.name.codes[r]];
      d.id[r] = owner === "" ? name : owner + "/" + name;
    }
    d.rank = undiff(d.rank_diff);
    d.downloads = undiff(d.downloads_diff);
    function source(i) {
      var kind = d.source_kind.labels[d.source_kind.codes[i]], base = d.base[i];
      if (base === null) { return kind; }
      return kind + ":" + (typeof base === "number" ? d.id[base] : base);
    }
    function plain(a) { return function (i) { return a[i]; }; }
    function coded(c) {
      return function (i) { var l = c.labels[c.codes[i]]; return l === "" ? null : l; };
    }
    function org(i) { var id = d.id[i], k = id.indexOf("/"); return k < 0 ? null : id.slice(0, k); }
    var cols = [
      { v: plain(d.rank), dp: 0 }, { v: plain(d.id), link: true }, { v: org },
      { v: plain(d.params), dp: 2 }, { v: coded(d.size) },
      { v: coded(d.family), title: coded(d.license) }, { v: coded(d.relation) },
      { v: coded(d.join) }, { v: source }, { v: plain(d.average), dp: 2 }
    ];
    d.benchmarks.forEach(function (b) { cols.push({ v: plain(b), dp: 1 }); });
    [d.downloads, d.likes, d.d1, d.d7, d.d30, d.age].forEach(function (a) {
      cols.push({ v: plain(a), dp: 0 });
    });
    var headers = table.tHead.rows[0].cells;
    var body = table.tBodies[0];
    var search = document.getElementById("model-search");
    var filters = [
      [document.getElementById("filter-family"), d.family],
      [document.getElementById("filter-source"), d.source_kind],
      [document.getElementById("filter-size"), d.size]
    ];
    filters.forEach(function (f) {
      f[1].labels.forEach(function (label, code) {
        if (label === "") { return; }
        var o = document.createElement("option");
        o.value = String(code); o.textContent = label; f[0].appendChild(o);
      });
    });
    var scored = document.getElementById("filter-scored");
    var sorted = [];
    for (var i = 0; i < n; i++) { sorted.push(i); }
    sorted.sort(function (a, b) { return d.rank[a] - d.rank[b]; });
    var shown = sorted, page = 0;

    function applyFilters() {
      var q = search.value.trim().toLowerCase();
      var wanted = filters.map(function (f) { return f[0].value === "" ? -1 : +f[0].value; });
      shown = sorted.filter(function (i) {
        if (q && d.id[i].toLowerCase().indexOf(q) < 0) { return false; }
        for (var k = 0; k < filters.length; k++) {
          if (wanted[k] >= 0 && filters[k][1].codes[i] !== wanted[k]) { return false; }
        }
        return !scored.checked || d.average[i] !== null;
      });
      page = 0;
      draw();
    }
    function sortBy(c) {
      var th = headers[c];
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      for (var h = 0; h < headers.length; h++) { headers[h].removeAttribute("aria-sort"); }
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var get = cols[c].v, numeric = th.getAttribute("data-type") === "num";
      var keys = new Array(n);
      for (var i = 0; i < n; i++) {
        var v = get(i);
        keys[i] = v === null || v === undefined ? null : numeric ? v : String(v).toLowerCase();
      }
      sorted.sort(function (a, b) {
        var x = keys[a], y = keys[b];
        if (x === null || y === null) {
          return (x === null) - (y === null) || d.rank[a] - d.rank[b];
        }
        var o = x < y ? -1 : x > y ? 1 : 0;
        return (ascending ? o : -o) || d.rank[a] - d.rank[b];
      });
      applyFilters();
    }
    function draw() {
      var pages = Math.max(1, Math.ceil(shown.length / PAGE));
      page = Math.min(page, pages - 1);
      var frag = document.createDocumentFragment();
      shown.slice(page * PAGE, (page + 1) * PAGE).forEach(function (i) {
        var tr = document.createElement("tr");
        cols.forEach(function (c) {
          var td = document.createElement("td"), v = c.v(i);
          if (c.dp !== undefined) {
            td.className = "n";
            td.setAttribute("data-v", v === null ? "" : String(v));
            td.textContent = v === null ? "" : v.toFixed(c.dp);
          } else if (c.link) {
            var a = document.createElement("a");
            a.href = "https://huggingface.co/" + encodeURI(v);
            a.textContent = v;
            td.appendChild(a);
          } else {
            td.textContent = v === null ? "" : v;
            if (c.title) { td.title = c.title(i) || ""; }
          }
          tr.appendChild(td);
        });
        frag.appendChild(tr);
      });
      body.textContent = "";
      body.appendChild(frag);
      status.textContent = shown.length === 0 ? "No model matches." :
        "Models " + (page * PAGE + 1) + "–" + Math.min(shown.length, (page + 1) * PAGE) +
        " of " + shown.length + (shown.length < n ? " (of " + n + ")" : "");
      document.getElementById("page-prev").disabled = page === 0;
      document.getElementById("page-next").disabled = page >= pages - 1;
      table.setAttribute("data-ready", "1");
    }
    Array.prototype.forEach.call(headers, function (th, c) {
      th.addEventListener("click", function () { sortBy(c); });
      th.setAttribute("title", "Sort by " + th.textContent);
    });
    search.addEventListener("input", applyFilters);
    filters.forEach(function (f) { f[0].addEventListener("change", applyFilters); });
    scored.addEventListener("change", applyFilters);
    document.getElementById("page-prev").addEventListener("click", function () { page--; draw(); });
    document.getElementById("page-next").addEventListener("click", function () { page++; draw(); });
    draw();
  }
})();
"#;

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

/// The table's columns, as the page shows them: (label, numeric).
fn table_columns() -> Vec<(&'static str, bool)> {
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
    columns
}

/// A column of labels, as codes into its own list of distinct labels.
#[derive(Default)]
struct Coded {
    labels: Vec<String>,
    index: std::collections::HashMap<String, u32>,
    codes: Vec<u32>,
}

impl Coded {
    fn push(&mut self, label: &str) {
        let code = match self.index.get(label) {
            Some(&code) => code,
            None => {
                let code = self.labels.len() as u32;
                self.index.insert(label.to_owned(), code);
                self.labels.push(label.to_owned());
                code
            }
        };
        self.codes.push(code);
    }

    /// `"name":{"labels":[…],"codes":[…]}`.
    fn write(&self, json: &mut JsonWriter<impl std::io::Write>, name: &str) -> std::io::Result<()> {
        json.key(name)?;
        json.raw("{")?;
        json.key_first("labels")?;
        json.strings(self.labels.iter().map(String::as_str))?;
        json.raw(",")?;
        json.key_first("codes")?;
        json.ints(self.codes.iter().map(|&c| Some(i64::from(c))))?;
        json.raw("}")
    }
}

/// The embedded table's JSON, written column by column straight into the compressor
/// (no tree of values in memory). Numbers are as short as JSON allows: `null` when
/// unknown, `12` for a whole number, the shortest text that reads back otherwise.
struct JsonWriter<W> {
    out: W,
}

impl<W: std::io::Write> JsonWriter<W> {
    fn raw(&mut self, text: &str) -> std::io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    fn string(&mut self, text: &str) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, text).map_err(std::io::Error::other)
    }

    /// `"name":` after the object's first member.
    fn key(&mut self, name: &str) -> std::io::Result<()> {
        self.raw(",")?;
        self.key_first(name)
    }

    fn key_first(&mut self, name: &str) -> std::io::Result<()> {
        self.string(name)?;
        self.raw(":")
    }

    fn int(&mut self, v: Option<i64>) -> std::io::Result<()> {
        match v {
            None => self.raw("null"),
            Some(v) => write!(self.out, "{v}"),
        }
    }

    /// A number with at most `decimals` decimals.
    fn number(&mut self, v: Option<f64>, decimals: i32) -> std::io::Result<()> {
        let scale = 10f64.powi(decimals);
        match v
            .map(|x| (x * scale).round() / scale)
            .filter(|x| x.is_finite())
        {
            None => self.raw("null"),
            // A whole number is written without a fraction (`12`, not `12.0`).
            Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => self.int(Some(x as i64)),
            // The shortest text that reads back as the rounded value (`23.76`).
            Some(x) => serde_json::to_writer(&mut self.out, &x).map_err(std::io::Error::other),
        }
    }

    fn array<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        mut each: impl FnMut(&mut Self, T) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        self.raw("[")?;
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.raw(",")?;
            }
            each(self, item)?;
        }
        self.raw("]")
    }

    fn strings<'s>(&mut self, items: impl IntoIterator<Item = &'s str>) -> std::io::Result<()> {
        self.array(items, |w, s| w.string(s))
    }

    fn ints(&mut self, items: impl IntoIterator<Item = Option<i64>>) -> std::io::Result<()> {
        self.array(items, |w, v| w.int(v))
    }

    fn numbers(
        &mut self,
        items: impl IntoIterator<Item = Option<f64>>,
        decimals: i32,
    ) -> std::io::Result<()> {
        self.array(items, |w, v| w.number(v, decimals))
    }
}

/// Differences from the value before (`null` stays `null` and does not move the base),
/// which the page adds back up (`undiff`).
fn differences(values: impl Iterator<Item = Option<i64>>) -> impl Iterator<Item = Option<i64>> {
    values.scan(0i64, |last, v| {
        Some(v.map(|v| {
            let diff = v.wrapping_sub(*last);
            *last = v;
            diff
        }))
    })
}

/// Every model of the run, column by column, gzip-compressed and base64-encoded into
/// the page: the script draws the table from it (search, filters, sorting, pages), so
/// the page stays a few bytes a model at any N. Rows go in rank order, so ranks and
/// downloads go as differences; an id goes as its
/// owner's and its name's codes (owners and names repeat across the catalogue); a score
/// inherited from a base model names the base by its row when the base is in the run.
fn models_data(rows: &[ReportRow], out: &mut String) -> Result<(), ReportError> {
    let failed = |e: std::io::Error| ReportError::Render {
        chart: "models table".into(),
        message: e.to_string(),
    };
    let mut order: Vec<&ReportRow> = rows.iter().collect();
    order.sort_by(|a, b| a.rank.cmp(&b.rank).then(a.model_id.cmp(&b.model_id)));
    let rows: &[&ReportRow] = &order;
    let row_of: std::collections::HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.model_id.trim().to_lowercase(), i))
        .collect();
    let mut coded: [Coded; 8] = Default::default();
    for r in rows {
        let (owner, name) = match r.model_id.split_once('/') {
            Some((owner, name)) => (owner, name),
            None => ("", &*r.model_id),
        };
        coded[0].push(owner);
        coded[1].push(name);
        coded[2].push(r.size_class.map(|s| s.label()).unwrap_or(""));
        coded[3].push(r.license_family.label());
        coded[4].push(&r.license);
        coded[5].push(r.relation.label());
        coded[6].push(r.join_status.label());
        coded[7].push(match r.score_source {
            ScoreProvenance::Own => "own",
            ScoreProvenance::Inherited(_) => "inherited",
            ScoreProvenance::None => "none",
        });
    }
    let base64 = base64::write::EncoderStringWriter::from_consumer(
        std::mem::take(out),
        &base64::engine::general_purpose::STANDARD,
    );
    let gz = flate2::write::GzEncoder::new(base64, flate2::Compression::best());
    let mut json = JsonWriter {
        out: std::io::BufWriter::with_capacity(64 * 1024, gz),
    };
    let written: std::io::Result<()> = (|| {
        json.raw("{")?;
        json.key_first("n")?;
        json.int(Some(rows.len() as i64))?;
        for (name, column) in [
            "owner",
            "name",
            "size",
            "family",
            "license",
            "relation",
            "join",
            "source_kind",
        ]
        .into_iter()
        .zip(&coded)
        {
            column.write(&mut json, name)?;
        }
        json.key("rank_diff")?;
        json.ints(differences(rows.iter().map(|r| Some(r.rank as i64))))?;
        json.key("base")?;
        json.array(rows, |w, r| match &r.score_source {
            ScoreProvenance::Inherited(base) => match row_of.get(&base.trim().to_lowercase()) {
                Some(&row) => w.int(Some(row as i64)),
                None => w.string(base),
            },
            _ => w.raw("null"),
        })?;
        json.key("params")?;
        json.numbers(rows.iter().map(|r| r.parameters_b), 2)?;
        json.key("average")?;
        json.numbers(rows.iter().map(|r| r.scores.average), 2)?;
        json.key("benchmarks")?;
        json.array(BENCHMARKS, |w, (column, _)| {
            w.numbers(rows.iter().map(|r| r.benchmark(column)), 1)
        })?;
        json.key("downloads_diff")?;
        json.ints(differences(
            rows.iter()
                .map(|r| r.downloads.and_then(|d| i64::try_from(d).ok())),
        ))?;
        let signed = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
        json.key("likes")?;
        json.ints(rows.iter().map(|r| signed(r.likes)))?;
        json.key("d1")?;
        json.ints(rows.iter().map(|r| r.downloads_delta_1d))?;
        json.key("d7")?;
        json.ints(rows.iter().map(|r| r.downloads_delta_7d))?;
        json.key("d30")?;
        json.ints(rows.iter().map(|r| r.downloads_delta_30d))?;
        json.key("age")?;
        json.ints(rows.iter().map(|r| r.age_days))?;
        json.raw("}")
    })();
    written.map_err(failed)?;
    let gz = json.out.into_inner().map_err(|e| failed(e.into_error()))?;
    *out = gz.finish().map_err(failed)?.into_inner();
    Ok(())
}

/// The table of every model: its header and controls here, its rows drawn by the
/// script from the embedded data.
fn summary_table(out: &mut String, rows: &[ReportRow]) -> Result<(), ReportError> {
    let columns = table_columns();
    out.push_str(
        r#"<div class="controls"><input id="model-search" type="search" placeholder="Search model ids" aria-label="Search model ids"> <select id="filter-family" aria-label="License"><option value="">Any license</option></select> <select id="filter-source" aria-label="Scores"><option value="">Any scores</option></select> <select id="filter-size" aria-label="Size"><option value="">Any size</option></select> <label><input id="filter-scored" type="checkbox"> with an average score</label> <span id="table-status">Reading the table…</span> <button id="page-prev" type="button">&larr; previous</button> <button id="page-next" type="button">next &rarr;</button></div>"#,
    );
    out.push_str(r#"<div class="table-wrap"><table id="summary"><thead><tr>"#);
    for (label, numeric) in &columns {
        let kind = if *numeric { "num" } else { "text" };
        let _ = write!(
            out,
            r#"<th data-type="{kind}" scope="col">{}</th>"#,
            escape(label)
        );
    }
    out.push_str("</tr></thead><tbody></tbody></table></div>");
    let _ = write!(
        out,
        r#"<script type="application/octet-stream" id="models-data" data-encoding="gzip+base64" data-models="{}">"#,
        rows.len(),
    );
    models_data(rows, out)?;
    out.push_str("</script>");
    Ok(())
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
fn coverage_section(out: &mut String, rows: &[ReportRow], quality: Option<&QualityReport>) {
    out.push_str(r#"<section id="coverage"><h2>Coverage</h2><div class="facts">"#);
    let scored = rows.iter().filter(|r| r.scores.average.is_some()).count();
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
    rows: &[ReportRow],
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
    rows: &[ReportRow],
    quality: Option<&QualityReport>,
    meta: &ReportMeta,
) -> Result<String, ReportError> {
    let frontier = charts::pareto_frontier(rows);
    let mut out = String::with_capacity(400_000 + rows.len() * 24);
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
    out.push_str(r#"<section id="models"><h2>Models</h2><p>Every model of the run: search its id, filter, click a column header to sort; each id links to its Hub page.</p>"#);
    summary_table(&mut out, rows)?;
    out.push_str("</section>");
    let _ = write!(out, "</main><script>{SCRIPT}</script></body></html>");
    Ok(out)
}
