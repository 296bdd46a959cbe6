"""Every dashboard query and the alert rules against a real Prometheus, over the metrics a
run exports: the OpenMetrics text is backfilled into a TSDB (promtool tsdb
create-blocks-from openmetrics), Prometheus (Debian's package) serves it on 127.0.0.1, and
each panel's query is evaluated through the HTTP API as Grafana sends it, 1 hour and
12 hours after the run's end, and after two days with no run.

The input is tests/deploy/fixtures/two-nights.hand-written.om (hand-written, see the
README there). HFHARVEST_METRICS_CAPTURE=FILE runs the same checks on metrics captured
from a real run instead (scripts/otlp-to-openmetrics writes such a file from a collector's
log); HFHARVEST_PROMETHEUS_REPORT=FILE also writes the table of values there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from promharness import FIXTURES, REPORT, RULES, Prometheus, Target, describe, run_end, seconds, substitute, targets

import realrun

HAND_WRITTEN = FIXTURES / "two-nights.hand-written.om"
HOUR, DAY = 3600, 86400
AFTER = {"+1h": HOUR, "+12h": 12 * HOUR, "+2d, no run": 2 * DAY}
# Each panel's window reaches back at least a night: at +1h and +12h every query has data.
WITH_DATA = ["+1h", "+12h"]


@pytest.fixture(scope="module", params=["hand-written", "captured from a real run"])
def capture(request, tmp_path_factory) -> Path:
    """The hand-written two nights, whose values the tests know; and the metrics two real
    runs exported (a failed night, then a good one), captured over OTLP."""
    if request.param == "hand-written":
        return Path(os.environ.get("HFHARVEST_METRICS_CAPTURE") or HAND_WRITTEN)
    return realrun.capture(tmp_path_factory.mktemp("realrun"))


@pytest.fixture(scope="module")
def prometheus(capture: Path, tmp_path_factory):
    server = Prometheus(capture, tmp_path_factory.mktemp("prometheus"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def end(capture: Path) -> float:
    return run_end(capture)


@pytest.fixture(scope="module")
def evaluated(prometheus: Prometheus, end: float) -> dict[tuple[str, str], list]:
    """Each target's instant result at each time; for time series panels the range
    Grafana would draw (the dashboard's 7 days, a step of the panel's interval) too."""
    out = {}
    for label, offset in AFTER.items():
        at = end + offset
        job = prometheus.job_regex(at)
        for t in targets():
            expr = substitute(t, job)
            out[(t.name, label)] = prometheus.query(expr, at)
            if t.kind == "timeseries":
                step = seconds(t.interval)
                points = prometheus.query_range(expr, (at - 7 * DAY) // step * step, at // step * step, step)
                out[(t.name, label + " range")] = points
    return out


def test_prometheus_loaded_the_run(prometheus: Prometheus, end: float) -> None:
    assert prometheus.query("count(hfharvest_run_info)", end)[0]["value"][1] != "0"


@pytest.mark.parametrize("when", WITH_DATA)
def test_every_panel_has_data_after_the_run(evaluated, when: str) -> None:
    empty = [t.name + " " + t.title for t in targets() if not evaluated[(t.name, when)]]
    assert not empty, f"No data at {when}: {empty}"


def test_after_two_days_with_no_run_time_since_success_is_large_and_red(evaluated, end: float) -> None:
    (since,) = [t for t in targets() if t.title == "Time since the last successful run"]
    for label, offset in AFTER.items():
        (value,) = evaluated[(since.name, label)]
        seconds = float(value["value"][1])
        assert offset < seconds < offset + 6 * HOUR, f"{label}: {seconds}"
    assert float(evaluated[(since.name, "+2d, no run")][0]["value"][1]) > 26 * HOUR, "past the red threshold"
    # The history panels still show the nights that ran.
    for t in targets():
        if t.kind == "timeseries":
            assert evaluated[(t.name, "+2d, no run range")], t.name


def test_the_run_reads_right(evaluated, capture: Path) -> None:
    """The values a person would read 12 hours after the run: the hand-written fixture's
    exactly; a real run's, what it did (60 models, a failed night then a good one)."""
    by_title = {t.title + " " + t.ref: t for t in targets()}
    if capture != HAND_WRITTEN:
        t = by_title["Models collected (last run) A"]
        (collected,) = evaluated[(t.name, "+12h")]
        assert float(collected["value"][1]) == 60
        (runs,) = [t for t in targets() if t.title == "Runs in the last 7 days"]
        statuses = sorted((s["metric"]["run_id"], s["metric"]["status"]) for s in evaluated[(runs.name, "+12h")])
        assert statuses == [("night-failed", "failed"), ("night-good", "complete")], statuses
        return
    by_title = {t.title + " " + t.ref: t for t in targets()}

    def value(title: str, when: str = "+12h") -> dict[str, float]:
        t = by_title[title]
        return {",".join(v for k, v in sorted(s["metric"].items()) if k != "job"): float(s["value"][1])
                for s in evaluated[(t.name, when)]}

    assert value("Last run A") == {"hfharvest-29924790,complete,0af7651916cd43dd8448eb211c80319c": 1795489540000}
    assert value("Last run duration A") == {"": 2125}
    assert value("Lookup error ratio (last run) A") == {"scores": 12 / 998, "evals": 0}
    assert value("Models collected (last run) A") == {"": 998}
    assert value("HTTP 429 responses per host (last run) A") == {
        "huggingface.co": 3, "open-llm-leaderboard-open-llm-leaderboard.hf.space": 0}
    # Counters from the last pod: the whole night's, not an increase() that loses its first sample.
    assert value("Retries and rate-limit waits (last run) B") == {"": 3}
    (runs,) = [t for t in targets() if t.title == "Runs in the last 7 days"]
    rows = sorted(evaluated[(runs.name, "+12h")], key=lambda s: float(s["value"][1]))
    assert [(s["metric"]["run_id"][-4:], s["metric"]["status"], s["metric"].get("error_type")) for s in rows] == [
        ("3350", "failed", "scores"), ("3350", "complete", None), ("4790", "complete", None)]
    assert all(len(s["metric"]["trace_id"]) == 32 for s in rows), "each row links its trace"


def test_the_alerts_are_quiet_after_a_good_night_and_fire_after_two_days_without_one(prometheus, end, capture) -> None:
    rules = {r["alert"]: r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    for label, offset in AFTER.items():
        firing = sorted(name for name, expr in rules.items() if prometheus.query(expr, end + offset))
        REPORT.append(f"alert expressions at the run's end {label} ({capture.name}): {', '.join(firing) or 'none'}")
        expected = ["HfharvestNoRecentSuccess"] if offset > 26 * HOUR else []
        assert firing == expected, label


def test_report(evaluated, prometheus: Prometheus, capture: Path) -> None:
    """The table of what each panel shows, in the run's log (and HFHARVEST_PROMETHEUS_REPORT)."""
    all_targets: list[Target] = targets()
    panels = {(t.dashboard, t.panel_id) for t in all_targets}
    lines = [
        f"real Prometheus: {len(all_targets)} queries of {len(panels)} panels, over {capture.name} "
        f"({prometheus.blocks.count(chr(10)) - 1} blocks), at the run's end + 1h, + 12h and + 2 days with no run",
        "",
        "| panel | " + " | ".join(AFTER) + " |",
        "|---|" + "---|" * len(AFTER),
    ]
    for t in all_targets:
        cells = []
        for label in AFTER:
            cell = describe(evaluated[(t.name, label)], t)
            if t.kind == "timeseries":
                points = sum(len(s["values"]) for s in evaluated[(t.name, label + " range")])
                cell += f" (7 days: {points} points)"
            cells.append(cell.replace("|", "/"))
        lines.append(f"| {t.dashboard} {t.panel_id}{t.ref} {t.title} | " + " | ".join(cells) + " |")
    REPORT.extend(lines)
    if out := os.environ.get("HFHARVEST_PROMETHEUS_REPORT"):
        with open(out, "a") as f:
            f.write("\n".join(lines) + "\n\n")
