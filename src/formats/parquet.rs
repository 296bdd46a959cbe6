//! Parquet output shared by the stages, beside [`crate::formats::csv`]: a [`Table`] is a list
//! of typed columns, each read from a stage's own row type, so a file's types come from
//! the rows (a count is an integer, a `;`-joined CSV cell a list), never from strings.
//!
//! Every column is nullable, so a table may only ever grow by new nullable columns and
//! old files still read (DuckDB `union_by_name`, Polars `diagonal` concat). Pages are
//! zstd-compressed with dictionary encoding, and the same rows always give the same
//! bytes (no time or host is written), so `prepare` stays reproducible.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::Value;

/// A table that could not be written or read: which file, and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ParquetError {
    pub file: String,
    pub message: String,
}

impl ParquetError {
    fn new(file: &str, message: impl std::fmt::Display) -> Self {
        Self {
            file: file.to_owned(),
            message: message.to_string(),
        }
    }
}

type Getter<R, T> = Box<dyn Fn(&R) -> Option<T> + Send + Sync>;
type TextGetter<R> = Box<dyn for<'a> Fn(&'a R) -> Option<Cow<'a, str>> + Send + Sync>;
type ListGetter<R> = Box<dyn for<'a> Fn(&'a R) -> Vec<&'a str> + Send + Sync>;

enum Get<R> {
    Int(Getter<R, i64>),
    Float(Getter<R, f64>),
    Bool(Getter<R, bool>),
    Text(TextGetter<R>),
    /// Milliseconds since the epoch, UTC.
    Timestamp(Getter<R, i64>),
    /// A list of text; an empty list, not a null, when the row has none.
    List(ListGetter<R>),
    /// The same text in every row (the run id in a history file).
    ConstText(String),
    ConstTimestamp(Option<i64>),
}

struct Column<R> {
    name: String,
    get: Get<R>,
}

/// The columns of a Parquet file over rows of type `R`, in order.
pub struct Table<R> {
    columns: Vec<Column<R>>,
}

impl<R> Default for Table<R> {
    fn default() -> Self {
        Self {
            columns: Vec::new(),
        }
    }
}

impl<R> std::fmt::Debug for Table<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.columns.iter().map(|c| &c.name))
            .finish()
    }
}

impl<R> Table<R> {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(mut self, name: impl Into<String>, get: Get<R>) -> Self {
        self.columns.push(Column {
            name: name.into(),
            get,
        });
        self
    }

    /// A 64-bit signed integer (counts, ranks, deltas: signed, so Spark and pandas
    /// read them without an unsigned type).
    pub fn int(self, name: &str, get: impl Fn(&R) -> Option<i64> + Send + Sync + 'static) -> Self {
        self.push(name, Get::Int(Box::new(get)))
    }

    pub fn float(
        self,
        name: &str,
        get: impl Fn(&R) -> Option<f64> + Send + Sync + 'static,
    ) -> Self {
        self.push(name, Get::Float(Box::new(get)))
    }

    pub fn bool(
        self,
        name: &str,
        get: impl Fn(&R) -> Option<bool> + Send + Sync + 'static,
    ) -> Self {
        self.push(name, Get::Bool(Box::new(get)))
    }

    /// Text; `None` is a null. An empty string is kept as one: the CSV cannot tell the
    /// two apart, so callers say which they mean (see [`non_empty`]).
    pub fn text(
        self,
        name: &str,
        get: impl for<'a> Fn(&'a R) -> Option<&'a str> + Send + Sync + 'static,
    ) -> Self {
        self.push(
            name,
            Get::Text(Box::new(move |r| get(r).map(Cow::Borrowed))),
        )
    }

    /// A text column of a typed value, written as its words (`own`, `inherited:<id>`).
    pub fn words<T: std::fmt::Display>(
        self,
        name: &str,
        get: impl Fn(&R) -> Option<&T> + Send + Sync + 'static,
    ) -> Self {
        self.push(
            name,
            Get::Text(Box::new(move |r| get(r).map(|v| Cow::Owned(v.to_string())))),
        )
    }

    /// A UTC timestamp in milliseconds (see [`timestamp_ms`] to parse one).
    pub fn timestamp(
        self,
        name: &str,
        get: impl Fn(&R) -> Option<i64> + Send + Sync + 'static,
    ) -> Self {
        self.push(name, Get::Timestamp(Box::new(get)))
    }

    /// A list of text, for a cell the CSV joins with `;` (see [`split_list`]).
    pub fn list(
        self,
        name: &str,
        get: impl for<'a> Fn(&'a R) -> Vec<&'a str> + Send + Sync + 'static,
    ) -> Self {
        self.push(name, Get::List(Box::new(get)))
    }

    /// The same text in every row.
    pub fn constant_text(self, name: &str, value: &str) -> Self {
        self.push(name, Get::ConstText(value.to_owned()))
    }

    /// The same timestamp in every row.
    pub fn constant_timestamp(self, name: &str, value: Option<i64>) -> Self {
        self.push(name, Get::ConstTimestamp(value))
    }

    /// This table's columns, then `other`'s.
    pub fn extend(mut self, other: Table<R>) -> Self {
        self.columns.extend(other.columns);
        self
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The rows as one Arrow batch.
    pub fn batch(&self, rows: &[R]) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter()
            .map(|c| column_array(&c.get, rows))
            .collect();
        let fields: Vec<Field> = self
            .columns
            .iter()
            .zip(&arrays)
            .map(|(c, a)| Field::new(&c.name, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
    }

    /// The rows as a whole Parquet file, with `metadata` as its key-value metadata.
    /// `file` names it in errors.
    pub fn write(
        &self,
        file: &str,
        rows: &[R],
        metadata: &[(&str, &str)],
    ) -> Result<Vec<u8>, ParquetError> {
        let mut writer = self.writer(file, Vec::with_capacity(64 * 1024), metadata);
        writer.write(rows)?;
        writer.finish()
    }

    /// A Parquet file written a slice of rows at a time, each slice its own row group,
    /// so a file of any length is written holding one slice.
    pub fn writer<'t, W: std::io::Write + Send>(
        &'t self,
        file: &str,
        out: W,
        metadata: &[(&str, &str)],
    ) -> TableWriter<'t, R, W> {
        TableWriter {
            table: self,
            file: file.to_owned(),
            metadata: metadata
                .iter()
                .map(|(k, v)| KeyValue::new((*k).to_owned(), (*v).to_owned()))
                .collect(),
            out: Some(out),
            writer: None,
        }
    }
}

/// A Parquet file being written: see [`Table::writer`].
pub struct TableWriter<'t, R, W: std::io::Write + Send> {
    table: &'t Table<R>,
    file: String,
    metadata: Vec<KeyValue>,
    /// The output until the first rows come, which give the schema.
    out: Option<W>,
    writer: Option<ArrowWriter<W>>,
}

impl<R, W: std::io::Write + Send> TableWriter<'_, R, W> {
    /// The rows as the next row group.
    pub fn write(&mut self, rows: &[R]) -> Result<(), ParquetError> {
        let file = self.file.as_str();
        let batch = self
            .table
            .batch(rows)
            .map_err(|e| ParquetError::new(file, e))?;
        if self.writer.is_none() {
            let zstd = ZstdLevel::try_new(3).map_err(|e| ParquetError::new(file, e))?;
            let metadata = std::mem::take(&mut self.metadata);
            let properties = WriterProperties::builder()
                .set_compression(Compression::ZSTD(zstd))
                .set_key_value_metadata((!metadata.is_empty()).then_some(metadata))
                .build();
            let Some(out) = self.out.take() else {
                return Err(ParquetError::new(file, "written after it was finished"));
            };
            self.writer = Some(
                ArrowWriter::try_new(out, batch.schema(), Some(properties))
                    .map_err(|e| ParquetError::new(file, e))?,
            );
        }
        let Some(writer) = self.writer.as_mut() else {
            return Err(ParquetError::new(file, "no writer"));
        };
        writer
            .write(&batch)
            .map_err(|e| ParquetError::new(file, e))?;
        writer.flush().map_err(|e| ParquetError::new(file, e))
    }

    /// The file's footer written: the output back. A file with no rows still has its
    /// columns.
    pub fn finish(mut self) -> Result<W, ParquetError> {
        if self.writer.is_none() {
            self.write(&[])?;
        }
        let file = self.file;
        let writer = self
            .writer
            .ok_or_else(|| ParquetError::new(&file, "no writer"))?;
        writer.into_inner().map_err(|e| ParquetError::new(&file, e))
    }
}

fn column_array<R>(get: &Get<R>, rows: &[R]) -> ArrayRef {
    match get {
        Get::Int(f) => {
            let mut b = Int64Builder::with_capacity(rows.len());
            rows.iter().for_each(|r| b.append_option(f(r)));
            Arc::new(b.finish())
        }
        Get::Float(f) => {
            let mut b = Float64Builder::with_capacity(rows.len());
            rows.iter().for_each(|r| b.append_option(f(r)));
            Arc::new(b.finish())
        }
        Get::Bool(f) => {
            let mut b = BooleanBuilder::with_capacity(rows.len());
            rows.iter().for_each(|r| b.append_option(f(r)));
            Arc::new(b.finish())
        }
        Get::Text(f) => {
            let mut b = StringBuilder::new();
            rows.iter().for_each(|r| b.append_option(f(r).as_deref()));
            Arc::new(b.finish())
        }
        Get::Timestamp(f) => {
            let mut b = TimestampMillisecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
            rows.iter().for_each(|r| b.append_option(f(r)));
            Arc::new(b.finish())
        }
        Get::List(f) => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for r in rows {
                for item in f(r) {
                    b.values().append_value(item);
                }
                b.append(true);
            }
            Arc::new(b.finish())
        }
        Get::ConstText(v) => {
            let mut b = StringBuilder::new();
            rows.iter().for_each(|_| b.append_value(v));
            Arc::new(b.finish())
        }
        Get::ConstTimestamp(v) => {
            let mut b = TimestampMillisecondBuilder::with_capacity(rows.len()).with_timezone("UTC");
            rows.iter().for_each(|_| b.append_option(*v));
            Arc::new(b.finish())
        }
    }
}

/// The items of a `;`-joined CSV cell; none for an empty cell.
pub fn split_list(cell: &str) -> Vec<&str> {
    cell.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// `None` for an empty cell: in the CSVs, an empty cell means "not known".
pub fn non_empty(s: &str) -> Option<&str> {
    (!s.trim().is_empty()).then_some(s)
}

/// Milliseconds since the epoch for an RFC 3339 time (`2026-05-07T23:25:30.000Z`) or a
/// bare date (`2024-06-26`, midnight UTC); `None` for anything else.
pub fn timestamp_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

/// Some columns of a Parquet file, read back.
#[derive(Debug, Clone)]
pub struct ReadTable {
    batches: Vec<RecordBatch>,
    metadata: HashMap<String, String>,
    file: String,
}

/// Read only `columns` of a Parquet file (all of them when empty). `file` names it in
/// errors.
pub fn read(file: &str, body: Bytes, columns: &[&str]) -> Result<ReadTable, ParquetError> {
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(body).map_err(|e| ParquetError::new(file, e))?;
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .filter_map(|k| Some((k.key.clone(), k.value.clone()?)))
                .collect()
        })
        .unwrap_or_default();
    let builder = if columns.is_empty() {
        builder
    } else {
        let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
        builder.with_projection(mask)
    };
    let batches = builder
        .build()
        .map_err(|e| ParquetError::new(file, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ParquetError::new(file, e))?;
    Ok(ReadTable {
        batches,
        metadata,
        file: file.to_owned(),
    })
}

impl ReadTable {
    pub fn len(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A key of the file's key-value metadata.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    fn arrays(&self, name: &str) -> Result<Vec<&ArrayRef>, ParquetError> {
        self.batches
            .iter()
            .map(|b| {
                b.column_by_name(name)
                    .ok_or_else(|| ParquetError::new(&self.file, format!("no column {name}")))
            })
            .collect()
    }

    /// A text column, nulls as `None`.
    pub fn texts(&self, name: &str) -> Result<Vec<Option<String>>, ParquetError> {
        let mut out = Vec::with_capacity(self.len());
        for array in self.arrays(name)? {
            let a = array
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| ParquetError::new(&self.file, format!("{name} is not text")))?;
            out.extend(a.iter().map(|v| v.map(str::to_owned)));
        }
        Ok(out)
    }

    /// An integer column, nulls as `None`.
    pub fn ints(&self, name: &str) -> Result<Vec<Option<i64>>, ParquetError> {
        let mut out = Vec::with_capacity(self.len());
        for array in self.arrays(name)? {
            let a = array.as_any().downcast_ref::<Int64Array>().ok_or_else(|| {
                ParquetError::new(&self.file, format!("{name} is not an integer"))
            })?;
            out.extend(a.iter());
        }
        Ok(out)
    }

    /// The column names and types, as `name: type` (for tests and messages).
    pub fn schema_lines(&self) -> Vec<String> {
        self.batches
            .first()
            .map(|b| {
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| format!("{}: {}", f.name(), f.data_type()))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Run a read of a parquet file, its panic caught and returned as the file's error.
///
/// The parquet and arrow crates still panic on some malformed files instead of returning
/// an error (our `leaderboard_parquet` fuzz target met `offset + len out of bounds` in
/// arrow-buffer 60.1; apache/arrow-rs#10107, #9705 and #11121 are the same kind), so a
/// corrupt download fails the read with a message, never the process.
pub fn guarded<T>(read: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    READING_PARQUET.with(|reading| reading.set(true));
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    READING_PARQUET.with(|reading| reading.set(false));
    decoded.unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Err(format!(
            "a malformed parquet file (the parquet reader failed: {reason})"
        ))
    })
}

thread_local! {
    static READING_PARQUET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside [`guarded`], whose panics are caught and become the
/// file's error: a panic hook need not report them (the binary's does not).
pub fn reading_parquet() -> bool {
    READING_PARQUET.with(std::cell::Cell::get)
}

/// Every row of a parquet file, each as a map from column name to value, as the
/// datasets-server `/rows` API gives the same rows: strings, numbers, booleans, nulls.
/// A file that panics the parquet reader is this read's error
/// ([`guarded`]), never the process's.
pub fn parquet_rows(body: bytes::Bytes) -> Result<Vec<serde_json::Map<String, Value>>, String> {
    guarded(|| decode_parquet_rows(body))
}

fn decode_parquet_rows(body: bytes::Bytes) -> Result<Vec<serde_json::Map<String, Value>>, String> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
    use arrow_array::Array;
    use arrow_schema::DataType;

    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(body)
        .map_err(|e| format!("not a parquet file: {e}"))?
        .build()
        .map_err(|e| format!("reading the parquet file: {e}"))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| format!("reading the parquet file: {e}"))?;
        let schema = batch.schema();
        let mut rows = vec![serde_json::Map::new(); batch.num_rows()];
        for (field, column) in schema.fields().iter().zip(batch.columns()) {
            for (i, row) in rows.iter_mut().enumerate() {
                let value = if column.is_null(i) {
                    Value::Null
                } else {
                    match column.data_type() {
                        DataType::Utf8 => Value::from(column.as_string::<i32>().value(i)),
                        DataType::LargeUtf8 => Value::from(column.as_string::<i64>().value(i)),
                        DataType::Float64 => serde_json::Number::from_f64(
                            column.as_primitive::<Float64Type>().value(i),
                        )
                        .map_or(Value::Null, Value::Number),
                        DataType::Float32 => serde_json::Number::from_f64(f64::from(
                            column.as_primitive::<Float32Type>().value(i),
                        ))
                        .map_or(Value::Null, Value::Number),
                        DataType::Int64 => Value::from(column.as_primitive::<Int64Type>().value(i)),
                        DataType::Int32 => Value::from(column.as_primitive::<Int32Type>().value(i)),
                        DataType::Boolean => Value::from(column.as_boolean().value(i)),
                        // A column of another type is none the source reads.
                        _ => Value::Null,
                    }
                };
                row.insert(field.name().clone(), value);
            }
        }
        out.extend(rows);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Row {
        rank: u64,
        id: String,
        score: Option<f64>,
        chat: Option<bool>,
        created: String,
        tags: String,
    }

    fn table() -> Table<Row> {
        Table::new()
            .constant_text("run_id", "r1")
            .int("rank", |r: &Row| Some(r.rank as i64))
            .text("model_id", |r: &Row| Some(&r.id))
            .float("score", |r: &Row| r.score)
            .bool("chat_template", |r: &Row| r.chat)
            .timestamp("created_at", |r: &Row| timestamp_ms(&r.created))
            .list("tags", |r: &Row| split_list(&r.tags))
    }

    fn rows() -> Vec<Row> {
        vec![
            Row {
                rank: 1,
                id: "a/b".into(),
                score: Some(1.5),
                chat: Some(true),
                created: "2026-05-07T23:25:30.000Z".into(),
                tags: "x;y".into(),
            },
            Row {
                rank: 2,
                id: "=c/d".into(),
                score: None,
                chat: None,
                created: "2024-06-26".into(),
                tags: String::new(),
            },
        ]
    }

    #[test]
    fn typed_columns_round_trip() {
        let body = table().write("t.parquet", &rows(), &[("k", "v")]).unwrap();
        assert_eq!(&body[..4], b"PAR1");
        let read = read("t.parquet", body.into(), &[]).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read.metadata("k"), Some("v"));
        assert_eq!(
            read.schema_lines(),
            [
                "run_id: Utf8",
                "rank: Int64",
                "model_id: Utf8",
                "score: Float64",
                "chat_template: Boolean",
                "created_at: Timestamp(ms, \"UTC\")",
                "tags: List(Utf8)",
            ]
        );
        assert_eq!(
            read.texts("model_id").unwrap(),
            [Some("a/b".into()), Some("=c/d".into())],
            "no spreadsheet prefix in Parquet"
        );
        assert_eq!(read.ints("rank").unwrap(), [Some(1), Some(2)]);
        assert!(read.texts("rank").is_err());
    }

    #[test]
    fn projection_and_same_bytes_every_time() {
        let a = table().write("t", &rows(), &[]).unwrap();
        assert_eq!(a, table().write("t", &rows(), &[]).unwrap());
        let read = read("t", a.into(), &["model_id"]).unwrap();
        assert_eq!(read.schema_lines(), ["model_id: Utf8"]);
    }

    #[test]
    fn times_and_lists() {
        assert_eq!(timestamp_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(timestamp_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(timestamp_ms("yesterday"), None);
        assert_eq!(split_list(" a; b;;"), ["a", "b"]);
        assert!(split_list("").is_empty());
    }
}
