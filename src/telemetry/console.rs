//! The log format for a person at a terminal: the time of day, the level when it is not
//! INFO, the stage, then the message and its fields. No span path, no module path; a
//! long URL is cut to its host and path, and every event stays on one line.
//!
//! ```text
//! 09:41:07 models  collecting model metadata limit=1000 endpoint=huggingface.co
//! 09:41:08 models  WARN retrying url=huggingface.co/api/models?… attempt=1 delay_ms=1000
//! ```

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The stage column's width: the longest stage name (`prepare`, `publish`).
const STAGE_WIDTH: usize = 7;
/// A field value longer than this is cut, with `…`: the JSON logs keep it whole.
const MAX_VALUE_CHARS: usize = 240;
/// A URL longer than this, or with a query, is shown as its host and path.
const MAX_URL_CHARS: usize = 48;

/// Formats one event as one short line (see the module's example).
#[derive(Debug, Clone, Copy)]
pub struct HumanFormat {
    pub ansi: bool,
}

/// Keeps, of a span's fields, only its `stage` (the stage span's), which is all the
/// human format shows of the spans an event is in.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageOnly;

impl<'writer> FormatFields<'writer> for StageOnly {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        let mut visitor = StageVisitor(None);
        fields.record(&mut visitor);
        match visitor.0 {
            Some(stage) => writer.write_str(&stage),
            None => Ok(()),
        }
    }
}

struct StageVisitor(Option<String>);

impl Visit for StageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "stage" {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "stage" {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }
}

impl<S> FormatEvent<S, StageOnly> for HumanFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, StageOnly>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let time = chrono::Local::now().format("%H:%M:%S");
        let paint = |code: &str, text: &str| {
            if self.ansi {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        write!(writer, "{}", paint("2", &time.to_string()))?;
        // The innermost span that names a stage.
        let stage = ctx
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
            .filter_map(|span| {
                span.extensions()
                    .get::<FormattedFields<StageOnly>>()
                    .map(|f| f.fields.clone())
                    .filter(|f| !f.is_empty())
            })
            .last()
            .unwrap_or_default();
        write!(writer, " {stage:<STAGE_WIDTH$} ")?;
        let level = *event.metadata().level();
        if level != Level::INFO {
            let shown = match level {
                Level::ERROR => paint("1;31", "ERROR"),
                Level::WARN => paint("1;33", "WARN"),
                Level::DEBUG => paint("2", "DEBUG"),
                _ => paint("2", "TRACE"),
            };
            write!(writer, "{shown} ")?;
        }
        let mut fields = EventFields::default();
        event.record(&mut fields);
        writer.write_str(&fields.message)?;
        for (name, value) in &fields.rest {
            let value = if value.contains(' ') && !value.starts_with(['{', '[', '(', '"']) {
                format!("\"{value}\"")
            } else {
                value.clone()
            };
            write!(writer, " {}{value}", paint("2", &format!("{name}=")))?;
        }
        writeln!(writer)
    }
}

/// An event's message and other fields, each already made fit for one line.
#[derive(Default)]
struct EventFields {
    message: String,
    rest: Vec<(&'static str, String)>,
}

impl Visit for EventFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.record(field, format!("{value:?}"));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.record(field, short_float(value));
    }
}

/// `2.4720501` → `2.472`; `3.0` → `3`: a person reads three decimals at most.
fn short_float(value: f64) -> String {
    let shown = format!("{value:.3}");
    match shown.trim_end_matches('0').trim_end_matches('.') {
        "-0" => "0".into(),
        trimmed => trimmed.to_owned(),
    }
}

impl EventFields {
    fn record(&mut self, field: &Field, value: String) {
        let value = one_line(&value);
        if value.is_empty() && field.name() != "message" {
            return;
        }
        if field.name() == "message" {
            self.message = value;
        } else if !field.name().starts_with("otel.") {
            self.rest.push((field.name(), value));
        }
    }
}

/// One line: line breaks become ` | `, long URLs are shortened, a long value is cut.
pub(crate) fn one_line(text: &str) -> String {
    let joined = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    // Control characters from outside (a model id, a page's text) are shown escaped,
    // never sent to the terminal, where they could move the cursor or recolour it.
    let joined = escape_controls(&joined);
    let shortened = joined
        .split(' ')
        .map(short_url)
        .collect::<Vec<_>>()
        .join(" ");
    if shortened.chars().count() <= MAX_VALUE_CHARS {
        return shortened;
    }
    let mut cut: String = shortened.chars().take(MAX_VALUE_CHARS).collect();
    cut.push('…');
    cut
}

/// The text with every control character written as an escape (`\u{1b}`).
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `https://huggingface.co/api/models?limit=1000&expand[]=…` → `huggingface.co/api/models?…`.
/// Anything that is not a long http(s) URL (or one with a query) is left as it is.
fn short_url(word: &str) -> String {
    let trimmed = word.trim_end_matches([',', ';', ':', ')']);
    let tail = &word[trimmed.len()..];
    let Some(rest) = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
    else {
        return word.to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((head, _)) => (head, true),
        None => (rest, false),
    };
    if !query && trimmed.len() <= MAX_URL_CHARS {
        return word.to_owned();
    }
    let mut out = before_query.trim_end_matches('/').to_owned();
    if query {
        out.push_str("?…");
    }
    out.push_str(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_urls_lose_scheme_and_query() {
        assert_eq!(
            one_line("GET https://huggingface.co/api/models?limit=1000&expand[]=author: HTTP 503"),
            "GET huggingface.co/api/models?…: HTTP 503"
        );
        assert_eq!(
            short_url("http://127.0.0.1:5555/api/models?a=1"),
            "127.0.0.1:5555/api/models?…"
        );
        // Short and without a query: as it is.
        assert_eq!(short_url("http://127.0.0.1:4444"), "http://127.0.0.1:4444");
        assert_eq!(short_url("not-a-url"), "not-a-url");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            one_line("evil\u{1b}[2Jmodel\ttab"),
            "evil\\u{1b}[2Jmodel\\ttab"
        );
    }

    #[test]
    fn floats_keep_three_decimals_at_most() {
        assert_eq!(short_float(2.4720501009999998), "2.472");
        assert_eq!(short_float(3.0), "3");
        assert_eq!(short_float(0.1), "0.1");
        assert_eq!(short_float(-0.0001), "0");
    }

    #[test]
    fn one_line_joins_lines_and_cuts_long_values() {
        assert_eq!(one_line("a\n  b\n\nc"), "a | b | c");
        let long = "x".repeat(1000);
        let cut = one_line(&long);
        assert_eq!(cut.chars().count(), MAX_VALUE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
