//! CSV output shared by every stage: RFC 4180 via the `csv` crate, and text cells
//! neutralised against spreadsheet formula injection.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

/// Characters that make a spreadsheet treat a cell as a formula.
const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Prefix a text cell that a spreadsheet would execute with `'`, which the
/// spreadsheet shows as text. Only text cells go through this: a negative number is data.
/// A text that already begins with `'` and then a trigger (or another `'`) is prefixed
/// too, so that [`restore`] gives back exactly what was written.
pub fn neutralize(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_TRIGGERS) || is_prefixed(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The inverse of [`neutralize`], for stages that read our own CSVs back.
pub fn restore(cell: &str) -> &str {
    if is_prefixed(cell) {
        &cell[1..]
    } else {
        cell
    }
}

/// `'` followed by a trigger or another `'`: what [`neutralize`] makes of a cell.
fn is_prefixed(cell: &str) -> bool {
    cell.strip_prefix('\'')
        .is_some_and(|rest| rest.starts_with(FORMULA_TRIGGERS) || rest.starts_with('\''))
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
    let mut out = RowWriter::new(Vec::with_capacity(rows.len() * 400), extra);
    for row in rows {
        out.write(row, &cells(row))?;
    }
    out.finish()
}

/// A CSV of ours that does not read back: which file, which row, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} row {row}: {message}")]
pub struct CsvReadError {
    pub key: String,
    /// The 1-based line where the row starts, the header being line 1.
    pub row: u64,
    pub message: String,
}

/// A row of one of our CSVs that did not read as its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// The 1-based line where the row starts, the header being line 1.
    pub line: u64,
    /// The row's `model_id` cell, when the file has that column and the row that cell.
    pub model_id: Option<String>,
    pub message: String,
}

/// A CSV of ours read back: the rows that read, and the ones that did not.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadBack<T> {
    pub key: String,
    pub rows: Vec<T>,
    /// The line where each of `rows` starts.
    pub lines: Vec<u64>,
    pub bad: Vec<BadRow>,
}

impl<T> ReadBack<T> {
    /// The rows, or an error naming the first bad row when not one row read: a file
    /// with nothing usable in it is not data with a few bad records.
    pub fn usable(self) -> Result<Self, CsvReadError> {
        match self.bad.first() {
            Some(first) if self.rows.is_empty() => Err(CsvReadError {
                key: self.key.clone(),
                row: first.line,
                message: first.message.clone(),
            }),
            _ => Ok(self),
        }
    }

    /// The rows, or an error naming the first bad row if there is one.
    pub fn strict(self) -> Result<Vec<T>, CsvReadError> {
        match self.bad.first() {
            Some(first) => Err(CsvReadError {
                key: self.key,
                row: first.line,
                message: first.message.clone(),
            }),
            None => Ok(self.rows),
        }
    }
}

/// Read every row of one of our CSVs. A row that does not read is set aside in
/// [`ReadBack::bad`] with its line, and the others are read on.
pub fn read_rows<T: DeserializeOwned>(body: &[u8], key: &str) -> ReadBack<T> {
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    let bad = each_row(body, |row, line| {
        rows.push(row);
        lines.push(line);
    });
    ReadBack {
        key: key.to_owned(),
        rows,
        lines,
        bad,
    }
}

/// Read one of our CSVs row by row from `input` (a file, however large), handing each
/// row that reads to `each` with its line, so memory holds one row at a time. The rows
/// that do not read come back, with their lines.
pub fn each_row<T: DeserializeOwned>(
    input: impl std::io::Read,
    mut each: impl FnMut(T, u64),
) -> Vec<BadRow> {
    let window = std::rc::Rc::new(std::cell::RefCell::new(Window::default()));
    let mut reader = csv::Reader::from_reader(Tee {
        inner: input,
        window: window.clone(),
    });
    let mut bad = Vec::new();
    let headers = match reader.byte_headers() {
        Ok(headers) => headers.clone(),
        Err(e) => {
            bad.push(BadRow {
                line: 1,
                model_id: None,
                message: format!("header: {e}"),
            });
            return bad;
        }
    };
    let id_column = headers.iter().position(|h| h == b"model_id");
    let line_at = |byte: u64| window.borrow_mut().line_at(byte);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(p.byte()));
                bad.push(BadRow {
                    line,
                    model_id: None,
                    message: e.to_string(),
                });
                // A reader error that is not about one record (I/O) would repeat.
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::UnequalLengths { .. } | csv::ErrorKind::Utf8 { .. }
                ) {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        match record.deserialize(Some(&headers)) {
            Ok(row) => each(row, line),
            Err(e) => bad.push(BadRow {
                line,
                model_id: id_column
                    .and_then(|i| record.get(i))
                    .map(|cell| restore(&String::from_utf8_lossy(cell)).to_owned()),
                message: e.to_string(),
            }),
        }
    }
    bad
}

/// The reader `csv` reads from, keeping in [`Window`] the bytes it has read that the
/// line count has not reached yet.
struct Tee<R> {
    inner: R,
    window: std::rc::Rc<std::cell::RefCell<Window>>,
}

impl<R: std::io::Read> std::io::Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.window.borrow_mut().bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// The line a record starts on, from its byte offset. `csv` puts a record's start at
/// the end of the line before (on the `\n` of a CRLF), so line ends there are skipped.
/// Offsets only grow, so the count goes on from the last one, and the bytes before it
/// are let go: the window holds about one read buffer, whatever the file's size.
#[derive(Default)]
struct Window {
    /// The bytes read from offset `at` on.
    bytes: Vec<u8>,
    at: u64,
    /// The line at `at`, less one (0 before the first line is counted).
    newlines: u64,
}

impl Window {
    fn line_at(&mut self, byte: u64) -> u64 {
        let end = self.at + self.bytes.len() as u64;
        let mut start = byte.clamp(self.at, end);
        let at = |w: &Self, offset: u64| w.bytes[(offset - w.at) as usize];
        while start < end && matches!(at(self, start), b'\r' | b'\n') {
            start += 1;
        }
        let upto = (start - self.at) as usize;
        self.newlines += self.bytes[..upto].iter().filter(|&&b| b == b'\n').count() as u64;
        self.bytes.drain(..upto);
        self.at = start;
        self.newlines + 1
    }
}

/// A CSV writer for rows with `extra` columns after the struct's own (the Hub's
/// benchmark columns of `dataset.csv`): one row at a time, into any writer.
pub struct RowWriter<W: std::io::Write> {
    out: csv::Writer<W>,
    extra: Vec<String>,
    rows: u64,
}

impl<W: std::io::Write> RowWriter<W> {
    pub fn new(out: W, extra: &[String]) -> Self {
        Self {
            out: writer(out),
            extra: extra.to_vec(),
            rows: 0,
        }
    }

    /// Write a row and its extra cells (text, neutralised like any text cell). The
    /// header comes with the first row, as `csv` writes it.
    pub fn write<T: Serialize>(&mut self, row: &T, cells: &[String]) -> Result<(), csv::Error> {
        let first = self.rows == 0;
        self.rows += 1;
        if self.extra.is_empty() {
            return self.out.serialize(row);
        }
        // The row through serde on its own, then the extra cells appended to its record.
        let mut one = csv::WriterBuilder::new()
            .has_headers(first)
            .from_writer(Vec::new());
        one.serialize(row)?;
        let bytes = one
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let mut records = reader.byte_records();
        if first {
            if let Some(header) = records.next() {
                let mut header = header?;
                for name in &self.extra {
                    header.push_field(name.as_bytes());
                }
                self.out.write_byte_record(&header)?;
            }
        }
        for record in records {
            let mut record = record?;
            for cell in cells {
                record.push_field(neutralize(cell).as_bytes());
            }
            self.out.write_byte_record(&record)?;
        }
        Ok(())
    }

    /// The underlying writer, flushed.
    pub fn finish(self) -> Result<W, csv::Error> {
        self.out.into_inner().map_err(|e| e.into_error().into())
    }
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

    #[test]
    fn every_text_reads_back_as_written() {
        // A text that already began with ' and a trigger lost its ' on the way back.
        for cell in [
            "'=x", "''", "'''=", "'", "'quoted", "''x", "'-1", "=x", "", "plain",
        ] {
            assert_eq!(restore(&neutralize(cell)), cell, "{cell:?}");
        }
        assert_eq!(neutralize("'=x"), "''=x");
    }

    #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
    struct Row {
        model_id: String,
        n: u32,
    }

    #[test]
    fn bad_rows_are_set_aside_with_their_line_and_the_rest_read_on() {
        let body =
            "model_id,n\r\na/b,1\r\n'=c/d,many\r\n\"multi\nline\",2\r\ne/f,3,extra\r\ng/h,4\r\n";
        let back: ReadBack<Row> = read_rows(body.as_bytes(), "runs/x/models.csv");
        let ids: Vec<&str> = back.rows.iter().map(|r| r.model_id.as_str()).collect();
        assert_eq!(ids, ["a/b", "multi\nline", "g/h"]);
        assert_eq!(back.lines, [2, 4, 7]);
        assert_eq!(back.bad.len(), 2, "{:?}", back.bad);
        assert_eq!(back.bad[0].line, 3);
        assert_eq!(back.bad[0].model_id.as_deref(), Some("=c/d"));
        assert_eq!(back.bad[1].line, 6, "lines count the multi-line cell");
        let err = back.clone().strict().unwrap_err();
        assert_eq!(
            err.to_string().split(':').next(),
            Some("runs/x/models.csv row 3")
        );
        assert_eq!(back.usable().unwrap().rows.len(), 3);

        let nothing: ReadBack<Row> = read_rows(b"model_id,n\r\nx,y\r\n", "k");
        assert!(nothing.usable().is_err());
        let empty: ReadBack<Row> = read_rows(b"", "k");
        assert!(empty.rows.is_empty() && empty.bad.is_empty());
        let not_utf8: ReadBack<Row> = read_rows(b"model_id,n\r\n\xff\xfe,1\r\na/b,2\r\n", "k");
        assert_eq!(not_utf8.rows.len(), 1);
        assert_eq!(not_utf8.bad.len(), 1);
    }
}

/// `#[serde(with = "crate::formats::csv::text")]`: neutralise on write, restore on read.
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
