//! Reading the leaderboard's table from the page's HTML, by header text.

use scraper::{ElementRef, Html, Selector};

use crate::leaderboard::rows::{Column, ScoreRow, REQUIRED};

/// Read a leaderboard table by its header texts (not positions).
pub fn parse_table(html: &str, table_selector: &str) -> Result<Vec<ScoreRow>, String> {
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
    let mut rows = Vec::new();
    for tr in table.select(&selector("tbody tr")?) {
        let mut row = ScoreRow::default();
        for (i, td) in tr.select(&cell).enumerate() {
            if let Some(Some(column)) = columns.get(i) {
                row.set(*column, &text(td));
            }
        }
        if !row.name.is_empty() {
            row.fill_eval_name();
            rows.push(row);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_columns_by_header_text() {
        let html = r#"<table><thead><tr><th>T</th><th>Average ⬆️</th><th>Model</th><th>IFEval</th><th>Precision</th></tr></thead>
            <tbody><tr><td>💬</td><td>27.905</td><td><a href="x">meta-llama/Llama-3.1-8B-Instruct</a></td><td>78.56</td><td>bfloat16</td></tr></tbody></table>"#;
        let rows = parse_table(html, "table").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(rows[0].average, Some(27.91));
        assert_eq!(rows[0].ifeval, Some(78.56));
        let missing = "<table><thead><tr><th>Model</th></tr></thead><tbody></tbody></table>";
        assert!(parse_table(missing, "table")
            .unwrap_err()
            .contains("header `Average ⬆️` missing"));
    }
}
