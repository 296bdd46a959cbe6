//! Progress on long work: on a terminal, a bar below the log lines; otherwise periodic
//! log lines.
//!
//! A bar is a span that carries `indicatif.pb_show`, which the logging set-up's
//! `tracing-indicatif` layer draws (and which traces leave out). The layer is there
//! only on a terminal, so this module asks the subscriber rather than the terminal:
//! no layer, no bars, and the periodic lines instead. The bar is cleared when its
//! [`Progress`] is finished or dropped, on every path, so none is left behind.
//!
//! A wait (a `Retry-After`, a rate-limit window, a WebDriver getting ready, a lock
//! held by a crashed run) shows on the newest bar with its time left, or on a line of
//! its own when no bar is up: see [`waiting`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressState, ProgressStyle};
use tracing::Span;
use tracing_indicatif::span_ext::IndicatifSpanExt;

const LOG_EVERY: Duration = Duration::from_secs(5);
const TICKS: &str = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ";

/// Whether the logging set-up draws bars (it does on a terminal only).
fn bars_on() -> bool {
    tracing_indicatif::writer::get_indicatif_stderr_writer().is_some()
}

/// Progress of one stage over a known number of models.
#[derive(Debug)]
pub struct Progress {
    stage: &'static str,
    total: u64,
    done: AtomicU64,
    bar: Mutex<Option<Bar>>,
    last_log: Mutex<Instant>,
}

#[derive(Debug)]
struct Bar {
    span: Span,
    waits: Arc<Waits>,
    id: u64,
}

impl Progress {
    pub fn new(stage: &'static str, total: u64) -> Self {
        let bar = bars_on().then(|| {
            let waits = Arc::new(Waits::default());
            let template = format!(
                "{stage:>7} [{{bar:30.cyan/blue}}] {{pos:>5}}/{{len:<5}} {{rate:>7}} eta {{eta:<4}} {{msg}}{{wait}}"
            );
            let style = ProgressStyle::with_template(&template)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ")
                .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let rate = state.per_sec();
                    let _ = if rate < 10.0 {
                        write!(w, "{rate:.1}/s")
                    } else {
                        write!(w, "{rate:.0}/s")
                    };
                })
                .with_key("wait", waits.key());
            let span = bar_span(stage);
            span.pb_set_style(&style);
            span.pb_set_length(total);
            span.pb_start();
            let id = register(&waits);
            Bar { span, waits, id }
        });
        Self {
            stage,
            total,
            done: AtomicU64::new(0),
            bar: Mutex::new(bar),
            last_log: Mutex::new(Instant::now()),
        }
    }

    pub fn inc(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(bar) = lock(&self.bar).as_ref() {
            bar.span.pb_set_position(done);
            return;
        }
        let mut last = lock(&self.last_log);
        if last.elapsed() >= LOG_EVERY {
            *last = Instant::now();
            tracing::info!(stage = self.stage, done, total = self.total, "progress");
        }
    }

    /// A note after the bar's figures: `browser, 2 sessions`, `rows 300/4497`.
    pub fn set_message(&self, message: &str) {
        if let Some(bar) = lock(&self.bar).as_ref() {
            bar.span.pb_set_message(&printable(message));
        }
    }

    /// A line under the bar for one worker (a browser session), gone when dropped.
    pub fn lane(&self, name: &str) -> Lane {
        let span = lock(&self.bar).as_ref().map(|bar| {
            let span = tracing::info_span!(
                target: "hfharvest::progress",
                parent: &bar.span,
                "lane",
                indicatif.pb_show = tracing::field::Empty
            );
            let style = ProgressStyle::with_template(&format!("{name:>11} {{spinner}} {{msg}}"))
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .tick_chars(TICKS);
            span.pb_set_style(&style);
            span.pb_start();
            span
        });
        Lane { span }
    }

    /// Clear the bar (the stage's log line says how it ended).
    pub fn finish(&self) {
        if let Some(bar) = lock(&self.bar).take() {
            unregister(bar.id);
            drop(bar.span);
            drop(bar.waits);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One worker's line under a bar; see [`Progress::lane`].
#[derive(Debug)]
pub struct Lane {
    span: Option<Span>,
}

impl Lane {
    pub fn set(&self, message: &str) {
        if let Some(span) = &self.span {
            span.pb_set_message(&printable(message));
        }
    }
}

/// Text from outside (a model id) without the control characters that would move the
/// cursor or recolour the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

fn bar_span(stage: &'static str) -> Span {
    // No parent: a bar is not part of the trace (and traces leave it out anyway).
    tracing::info_span!(
        target: "hfharvest::progress",
        parent: None,
        "progress",
        stage,
        indicatif.pb_show = tracing::field::Empty
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The bars up now, oldest first, so a wait can show on the newest.
static BARS: Mutex<Vec<(u64, Arc<Waits>)>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn register(waits: &Arc<Waits>) -> u64 {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    lock(&BARS).push((id, waits.clone()));
    id
}

fn unregister(id: u64) {
    lock(&BARS).retain(|(bar, _)| *bar != id);
}

/// The waits showing on one bar; the one that ends last is shown.
#[derive(Debug, Default)]
struct Waits {
    active: Mutex<Vec<(u64, String, Instant)>>,
}

impl Waits {
    /// The bar's `{wait}` key: redrawn at every tick, so the time left counts down.
    fn key(
        self: &Arc<Self>,
    ) -> impl Fn(&ProgressState, &mut dyn std::fmt::Write) + Clone + Send + Sync + 'static {
        let waits = self.clone();
        move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let active = lock(&waits.active);
            if let Some((_, what, until)) = active.iter().max_by_key(|(_, _, until)| *until) {
                let left = until.saturating_duration_since(Instant::now());
                let _ = write!(w, " waiting: {what}, {} left", short_duration(left));
            }
        }
    }
}

/// `2s`, `1m05s`, `1h02m`.
pub fn short_duration(d: Duration) -> String {
    let secs = d.as_secs() + u64::from(d.subsec_millis() >= 500);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs % 3600 / 60),
    }
}

/// Say on the terminal that the job is waiting, and for how long, until the guard is
/// dropped. Without bars it does nothing: the caller's own log line says it.
pub fn waiting(what: impl Into<String>, left: Duration) -> Waiting {
    if !bars_on() {
        return Waiting { shown: None };
    }
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let until = Instant::now() + left;
    let what = printable(&what.into());
    let newest = lock(&BARS).last().map(|(_, waits)| waits.clone());
    let (waits, own_line) = match newest {
        Some(waits) => (waits, None),
        None => {
            // No bar is up (the run lock is taken before any stage): a line of its own.
            let waits = Arc::new(Waits::default());
            let style = ProgressStyle::with_template("{spinner}{wait}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .tick_chars(TICKS)
                .with_key("wait", waits.key());
            let span = tracing::info_span!(
                target: "hfharvest::progress",
                parent: None,
                "waiting",
                indicatif.pb_show = tracing::field::Empty
            );
            span.pb_set_style(&style);
            span.pb_start();
            (waits, Some(span))
        }
    };
    lock(&waits.active).push((id, what, until));
    Waiting {
        shown: Some((waits, id, own_line)),
    }
}

/// Shows a wait until dropped; see [`waiting`].
#[derive(Debug)]
#[must_use = "the wait shows only while the guard lives"]
pub struct Waiting {
    shown: Option<(Arc<Waits>, u64, Option<Span>)>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some((waits, id, _line)) = self.shown.take() {
            lock(&waits.active).retain(|(wait, _, _)| *wait != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_short() {
        assert_eq!(short_duration(Duration::from_millis(400)), "0s");
        assert_eq!(short_duration(Duration::from_secs(42)), "42s");
        assert_eq!(short_duration(Duration::from_secs(65)), "1m05s");
        assert_eq!(short_duration(Duration::from_secs(7322)), "2h02m");
    }

    #[test]
    fn without_bars_progress_and_waits_do_nothing_on_screen() {
        let progress = Progress::new("models", 10);
        progress.inc(3);
        progress.set_message("x");
        let lane = progress.lane("session 1");
        lane.set("y");
        let wait = waiting("Retry-After", Duration::from_secs(3));
        assert!(wait.shown.is_none());
        assert_eq!(progress.done.load(Ordering::Relaxed), 3);
        progress.finish();
    }
}
