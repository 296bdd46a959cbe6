//! CSV output shared by every stage: RFC 4180 via the `csv` crate, and text cells
//! neutralised against spreadsheet formula injection.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

/// Characters that make a spreadsheet treat a cell as a formula.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Prefix a text cell that a spreadsheet would execute with `'`, which the
/// spreadsheet shows as text. Only text cells go through this: a negative number is data.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some(c) if FORMULA_TRIGGERS.contains(&c) => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The inverse of [`neutralize`], for stages that read our own CSVs back.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_TRIGGERS) => rest,
        _ => cell,
    }
}

/// A text cell that is neutralised when serialised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&neutralize(&self.0))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// A CSV writer with our settings: a header row, CRLF line ends (RFC 4180), quoting only where needed.
pub fn writer<W: std::io::Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .has_headers(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// A CSV of `rows` with `extra` columns after the struct's own: the extra cells, from
/// `cells`, are text and are neutralised like any text cell.
pub fn write_with_extra<T: Serialize>(
    rows: &[T],
    extra: &[String],
    cells: impl Fn(&T) -> Vec<String>,
) -> Result<Vec<u8>, csv::Error> {
    let mut out = writer(Vec::with_capacity(rows.len() * 400));
    if extra.is_empty() {
        for row in rows {
            out.serialize(row)?;
        }
        return out.into_inner().map_err(|e| e.into_error().into());
    }
    // Each row through serde on its own, then the extra cells appended to its record.
    let record_of = |row: &T, headers: bool| -> Result<Vec<csv::ByteRecord>, csv::Error> {
        let mut one = csv::WriterBuilder::new()
            .has_headers(headers)
            .from_writer(Vec::new());
        one.serialize(row)?;
        let bytes = one
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        reader.byte_records().collect()
    };
    for (i, row) in rows.iter().enumerate() {
        let records = record_of(row, i == 0)?;
        let mut records = records.into_iter();
        if i == 0 {
            if let Some(mut header) = records.next() {
                for name in extra {
                    header.push_field(name.as_bytes());
                }
                out.write_byte_record(&header)?;
            }
        }
        for mut record in records {
            for cell in cells(row) {
                record.push_field(neutralize(&cell).as_bytes());
            }
            out.write_byte_record(&record)?;
        }
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// A CSV of ours that does not read back: which file, which row, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} row {row}: {message}")]
pub struct CsvReadError {
    pub key: String,
    /// The 1-based line of the row, the header being line 1.
    pub row: u64,
    pub message: String,
}

/// Read every row of one of our CSVs; the first bad row is an error naming it.
pub fn read_rows<T: DeserializeOwned>(body: &[u8], key: &str) -> Result<Vec<T>, CsvReadError> {
    csv::Reader::from_reader(body)
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| CsvReadError {
                key: key.to_owned(),
                row: i as u64 + 2,
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises_formula_cells_and_restores_them() {
        for cell in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-cmd",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            let safe = neutralize(cell);
            assert!(safe.starts_with('\''), "{cell:?}");
            assert_eq!(restore(&safe), cell);
        }
        assert_eq!(neutralize("apache-2.0"), "apache-2.0");
        assert_eq!(restore("'quoted"), "'quoted");
    }
}

/// `#[serde(with = "crate::csvout::text")]`: neutralise on write, restore on read.
pub mod text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::neutralize(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(super::restore(&raw).to_owned())
    }
}
