//! Reading the leaderboard's table from the page's HTML, by header text.

use scraper::{ElementRef, Html, Selector};

use crate::leaderboard::rows::{Column, ParsedRows, ScoreRow, REQUIRED};

/// Read a leaderboard table by its header texts (not positions). Each body row is
/// checked on its own: one whose model name is not a model id is refused with its
/// place (from 1); a row with no text at all (a spacer) is skipped.
pub fn parse_table(html: &str, table_selector: &str) -> Result<ParsedRows, String> {
    let document = Html::parse_document(html);
    let selector =
        |css: &str| Selector::parse(css).map_err(|e| format!("invalid selector `{css}`: {e}"));
    let table = document
        .select(&selector(table_selector)?)
        .next()
        .ok_or_else(|| format!("table `{table_selector}` vanished"))?;
    let text = |e: ElementRef| e.text().collect::<String>().trim().to_owned();
    let headers: Vec<String> = table.select(&selector("thead th")?).map(text).collect();
    let headers = if headers.is_empty() {
        table.select(&selector("tr th")?).map(text).collect()
    } else {
        headers
    };
    let columns: Vec<Option<Column>> = headers.iter().map(|h| Column::from_header(h)).collect();
    for (column, label) in REQUIRED {
        if !columns.contains(&Some(column)) {
            return Err(format!(
                "header `{label}` missing (headers seen: {})",
                headers.join(" | ")
            ));
        }
    }
    let cell = selector("td")?;
    let mut parsed = ParsedRows::default();
    for (position, tr) in table.select(&selector("tbody tr")?).enumerate() {
        let cells: Vec<String> = tr.select(&cell).map(text).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let mut row = ScoreRow::default();
        for (i, cell) in cells.iter().enumerate() {
            if let Some(Some(column)) = columns.get(i) {
                row.set(*column, cell);
            }
        }
        match row.checked() {
            Ok(row) => parsed.rows.push(row),
            Err(fault) => parsed.refused.push((position as u64 + 1, fault)),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_header_text() {
        let html = r#"<table><thead><tr><th>T</th><th>Average ⬆️</th><th>Model</th><th>IFEval</th><th>Precision</th></tr></thead>
            <tbody><tr><td>💬</td><td>27.905</td><td><a href="x">meta-llama/Llama-3.1-8B-Instruct</a></td><td>78.56</td><td>bfloat16</td></tr></tbody></table>"#;
        let rows = parse_table(html, "table").unwrap().rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(rows[0].average, Some(27.91));
        assert_eq!(rows[0].ifeval, Some(78.56));
        let missing = "<table><thead><tr><th>Model</th></tr></thead><tbody></tbody></table>";
        assert!(parse_table(missing, "table")
            .unwrap_err()
            .contains("header `Average ⬆️` missing"));
    }

    #[test]
    fn rows_without_a_model_id_are_refused_and_spacers_skipped() {
        let html = r#"<table><thead><tr><th>Model</th><th>Average ⬆️</th></tr></thead><tbody>
            <tr><td></td><td></td></tr>
            <tr><td>org/good</td><td>1</td></tr>
            <tr><td></td><td>2</td></tr>
            <tr><td>org/bad/name</td><td>3</td></tr>
            <tr><td>org/good-2</td><td>4</td></tr></tbody></table>"#;
        let parsed = parse_table(html, "table").unwrap();
        let names: Vec<&str> = parsed.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["org/good", "org/good-2"]);
        let refused: Vec<(u64, Option<&str>)> =
            parsed.refused.iter().map(|(p, f)| (*p, f.name())).collect();
        assert_eq!(refused, [(3, None), (4, Some("org/bad/name"))]);
    }
}
