//! Reading the leaderboard app's table from its HTML, by header text (not position).
//!
//! The app's table (LB/components/Table/Table.js and LB/utils/columnUtils.js in its
//! source) starts with an unlabelled pin column, then `Rank`, `Type`, `Model`,
//! `Average`, the scores as `33.03 %` or `-`, and any columns its URL asked for. It is
//! virtualised: padding rows (`td[colspan]`) stand for the rows out of view, so only
//! rows with a model link are rows. The name is the link's title (`View ORG/NAME on
//! Hugging Face Hub`), not its text, which search highlighting splits into spans; the
//! type is the type cell's `aria-label` (its text is an emoji).

use scraper::{ElementRef, Html, Selector};

use crate::run::RecordFault;
use crate::scores::rows::{Column, ScoreRow, REQUIRED};

/// One row as read: the app's rank (unique per row) and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub rank: Option<u64>,
    pub row: ScoreRow,
}

/// The rows of one read of the table, each checked: those that name a model by its id,
/// and those refused, with their rank in the app (else their place in the read, from 1)
/// and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedTable {
    pub rows: Vec<TableRow>,
    pub refused: Vec<(u64, RecordFault)>,
}

const LINK_TITLE: (&str, &str) = ("View ", " on Hugging Face Hub");

fn selector(css: &str) -> Result<Selector, String> {
    Selector::parse(css).map_err(|e| format!("invalid selector `{css}`: {e}"))
}

fn text(e: ElementRef) -> String {
    e.text().collect::<String>().trim().to_owned()
}

/// The rows of the first table in `html` (a page, or the table's scroll container).
/// A missing required header is an error naming the headers seen; a row whose name is
/// not a model id is refused on its own.
pub fn parse_table(html: &str, row_link_selector: &str) -> Result<ParsedTable, String> {
    let document = Html::parse_fragment(html);
    let table = document
        .select(&selector("table")?)
        .next()
        .ok_or("the table vanished")?;
    let headers: Vec<String> = table.select(&selector("thead th")?).map(text).collect();
    let columns: Vec<Option<Column>> = headers.iter().map(|h| Column::from_header(h)).collect();
    for (column, label) in REQUIRED {
        if !columns.contains(&Some(column)) {
            return Err(format!(
                "header `{label}` missing (headers seen: {})",
                headers.join(" | ")
            ));
        }
    }
    let link = selector(row_link_selector)?;
    let labelled = selector("[aria-label]")?;
    let cell = selector("td")?;
    let mut parsed = ParsedTable::default();
    for (place, tr) in table.select(&selector("tbody tr")?).enumerate() {
        let Some(anchor) = tr.select(&link).next() else {
            continue; // a padding row, or a skeleton
        };
        let mut row = ScoreRow::default();
        let mut rank = None;
        for (i, td) in tr.select(&cell).enumerate() {
            let Some(Some(column)) = columns.get(i) else {
                continue;
            };
            match column {
                Column::Rank => rank = text(td).parse().ok(),
                Column::Name => row.name = model_name(anchor),
                Column::ModelType => {
                    let raw = td
                        .select(&labelled)
                        .next()
                        .and_then(|e| e.value().attr("aria-label"))
                        .map(str::to_owned)
                        .unwrap_or_else(|| text(td));
                    row.set(*column, &raw);
                }
                other => row.set(*other, &text(td)),
            }
        }
        match row.checked() {
            Ok(row) => parsed.rows.push(TableRow { rank, row }),
            Err(fault) => parsed
                .refused
                .push((rank.unwrap_or(place as u64 + 1), fault)),
        }
    }
    Ok(parsed)
}

/// The model a row's link names: its title, else its whole text.
fn model_name(anchor: ElementRef) -> String {
    anchor
        .value()
        .attr("title")
        .and_then(|t| t.strip_prefix(LINK_TITLE.0))
        .and_then(|t| t.strip_suffix(LINK_TITLE.1))
        .map(str::to_owned)
        .unwrap_or_else(|| text(anchor))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = r#"a[title$=" on Hugging Face Hub"]"#;

    /// The real app's row, as it was seen in headless Chromium (its cells, in order).
    #[test]
    fn reads_the_apps_table() {
        let html = r#"<div class="MuiTableContainer-root"><table class="MuiTable-root">
          <thead><tr><th><span></span></th><th><p class="header-label" aria-label="Rank">Rank</p></th>
            <th><p aria-label="Type">Type</p></th><th><p>Model</p></th><th><p aria-label="Average">Average</p></th>
            <th><p>IFEval</p></th><th><p>MATH</p></th><th><p>Precision</p></th><th><p>Chat Template</p></th><th><p>CO₂ Cost</p></th></tr></thead>
          <tbody>
            <tr><td colspan="10" style="height: 450px"></td></tr>
            <tr class="MuiTableRow-root"><td><svg data-testid="PushPinOutlinedIcon"></svg></td><td><p>1905</p></td>
              <td><p aria-label="chatmodels">💬</p></td>
              <td><a href="https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct" title="View meta-llama/Llama-3.1-8B-Instruct on Hugging Face Hub">meta-<span class="highlight">llama/Llama-3.1</span>-8B-Instruct<svg></svg></a>
                  <a title="View detailed evaluation results for meta-llama/Llama-3.1-8B-Instruct"><svg></svg></a></td>
              <td><p>23.76<span> %</span></p></td><td><p>49.22<span> %</span></p></td><td><p>-</p></td>
              <td><span aria-label="bfloat16">bfloat16</span></td><td><p>Yes</p></td><td><p>2.11<span> kg</span></p></td></tr>
          </tbody></table></div>"#;
        let rows = parse_table(html, LINK).unwrap().rows;
        assert_eq!(rows.len(), 1, "the padding row is not a row");
        let TableRow { rank, row } = &rows[0];
        assert_eq!(*rank, Some(1905));
        assert_eq!(row.name, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(row.model_type, "chatmodels");
        assert_eq!(row.average, Some(23.76));
        assert_eq!(row.ifeval, Some(49.22));
        assert_eq!(row.math_lvl5, None);
        assert_eq!(row.precision, "bfloat16");
        assert_eq!(row.chat_template, Some(true));
    }

    #[test]
    fn older_labels_still_read_and_a_missing_header_is_named() {
        let html = r#"<table><thead><tr><th>T</th><th>Average ⬆️</th><th>Model</th><th>IFEval</th><th>Precision</th></tr></thead>
            <tbody><tr><td>💬</td><td>27.905</td><td><a href="x" title="View meta-llama/Llama-3.1-8B-Instruct on Hugging Face Hub">x</a></td><td>78.56</td><td>bfloat16</td></tr></tbody></table>"#;
        let rows = parse_table(html, LINK).unwrap().rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row.name, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(rows[0].row.average, Some(27.91));
        assert_eq!(rows[0].row.ifeval, Some(78.56));
        let missing =
            "<table><thead><tr><th>Model</th><th>Score</th></tr></thead><tbody></tbody></table>";
        let error = parse_table(missing, LINK).unwrap_err();
        assert!(error.contains("header `Average` missing"), "{error}");
        assert!(error.contains("Model | Score"), "{error}");
    }

    #[test]
    fn rows_without_a_model_id_are_refused_by_rank() {
        let row = |rank: u32, title: &str| {
            format!(
                r#"<tr><td>{rank}</td><td><a title="View {title} on Hugging Face Hub">x</a></td><td>1</td></tr>"#
            )
        };
        let html = format!(
            "<table><thead><tr><th>Rank</th><th>Model</th><th>Average</th></tr></thead><tbody>{}{}{}{}</tbody></table>",
            row(7, "org/good"),
            row(8, "org/bad/name"),
            row(9, " "),
            row(10, "org/good-2"),
        );
        let parsed = parse_table(&html, LINK).unwrap();
        let names: Vec<&str> = parsed.rows.iter().map(|r| r.row.name.as_str()).collect();
        assert_eq!(names, ["org/good", "org/good-2"]);
        let refused: Vec<(u64, Option<&str>)> =
            parsed.refused.iter().map(|(p, f)| (*p, f.id())).collect();
        assert_eq!(refused, [(8, Some("org/bad/name")), (9, None)]);
    }
}
