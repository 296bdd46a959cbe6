#!/usr/bin/env python3
"""Writes dashboards/hfharvest-ops.json and dashboards/hfharvest-data.json with
grafana-foundation-sdk (pinned in scripts/test-requirements.txt).

The job is a nightly batch: a pod that lives for minutes pushes its metrics over OTLP
while it runs and once more at exit, and nothing for the rest of the day. A plain
instant query looks back 5 minutes, so it would find nothing most of the day. Every
query here therefore reads a window longer than the schedule:

- "last run" panels take each series' last value in `$lookback` (26h by default: one
  night and slack for a late run; widen it to see the last run after missed nights);
- counters are cumulative from the pod's start, so a pod's total is its last value
  (`last_over_time`), not an `increase()`, which loses a short-lived pod's first sample;
- history panels plot, hour by hour, what the last-run panels showed then: a step per night;
- "time since the last success" looks back 30 days and, with no success in that
  time, shows 30 days in red ("none in 30 days") instead of No data.

Run it after changing a panel (`python3 scripts/gen-dashboards.py`); tests/deploy checks
that the committed JSON is what it writes, that every query parses, and evaluates every
query against a real Prometheus. tests/telemetry.rs checks that each metric a query names
is one the job emits."""

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, common, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

OUT = Path(__file__).resolve().parents[1] / "dashboards"
DS = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
SEL = 'job=~"$job"'
LAST = "$lookback"
# The job's own threshold for "a night was missed": the schedule (24h) and 2h of slack.
STALE_SECONDS = 26 * 3600
NEVER_WINDOW, NEVER_SECONDS = "30d", 30 * 86400
NO_RUN = "no run in the lookback window"
LOOKUPS = 'stage=~"scores|evals"'
COLLECTED = 'stage="models", outcome=~"collected|resumed"'
QUARANTINED = 'stage="models", outcome="quarantined"'
MODELS = 'stage="models"'
AVERAGE = 'benchmark="average"'


def last(metric: str, matchers: str = "", window: str = LAST) -> str:
    """Each series' last value in the window. Over `$lookback`, only the series of the
    metric's latest report (within 5 minutes of its newest sample): a window longer than a
    night can hold the night before too, whose series tonight's run did not report (an
    outcome no model had, a model that left the top, a counter of an earlier pod) would
    otherwise add last night's numbers to tonight's."""
    sel = SEL + (", " + matchers if matchers else "")
    values = f"last_over_time({metric}{{{sel}}}[{window}])"
    if window != LAST:
        return values
    reported = f"max_over_time(timestamp({metric}{{{sel}}})[{window}:5m])"
    latest = f"max by (job) (max_over_time(timestamp({metric}{{{SEL}}})[{window}:5m]))"
    return f"({values} and {reported} >= on (job) group_left () ({latest} - 300))"


def share(num: str, den: str, by: str = "") -> str:
    """num / den, and 0 (not No data) when num has no series: the manifest leaves an
    outcome out when no model had it."""
    agg = f"sum by ({by}) " if by else "sum"
    return f"({agg}({num}) or {agg}({den}) * 0) / {agg}({den})"


def last_report(window: str) -> str:
    """Per run_info series (one per run and status), the time of its last sample.
    timestamp() of a selector is the sample's own time, and the subquery's 5m step is no
    longer than the 5m lookback, so no sample is missed."""
    return f"max_over_time(timestamp(hfharvest_run_info{{{SEL}}})[{window}:5m])"


def query(expr: str, legend: str = "", instant: bool = True, table_format: bool = False) -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).legend_format(legend).datasource(DS)
    q = q.instant() if instant else q.range()
    if table_format:
        q = q.format(pm.PromQueryFormat.TABLE)
    return q


def thresholds(*steps: tuple) -> dashboard.ThresholdsConfig:
    return dashboard.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=v, color=c) for v, c in steps]
    )


def fixed_color(color: str) -> dm.DynamicConfigValue:
    return dm.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": color})


def place(panel, pid: int, title: str, description: str, targets: list, w: int, h: int):
    panel = panel.id(pid).title(title).description(description).datasource(DS).span(w).height(h)
    for i, target in enumerate(targets):
        panel = panel.with_target(target.ref_id(chr(ord("A") + i)))
    return panel


def last_run_stat(pid, title, description, targets, unit="", w=6, h=4, steps=((None, "blue"),)):
    return (
        place(stat.Panel(), pid, title, description, targets, w, h)
        .unit(unit)
        .no_value(NO_RUN)
        .thresholds(thresholds(*steps))
        .color_mode(cm.BigValueColorMode.BACKGROUND)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def last_run_bars(pid, title, description, targets, unit="", w=12, h=8):
    return (
        place(bargauge.Panel(), pid, title, description, targets, w, h)
        .unit(unit)
        .no_value(NO_RUN)
        .display_mode(cm.BarGaugeDisplayMode.BASIC)
        .orientation(cm.VizOrientation.HORIZONTAL)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def history(pid, title, description, targets, unit="", w=12, h=8):
    """The last run's values through the week: each hourly point is the last run's value
    as the last-run panels showed it then, so each night's run is a step."""
    return (
        place(timeseries.Panel(), pid, title, description, targets, w, h)
        .interval("1h")
        .unit(unit)
        .line_interpolation(cm.LineInterpolation.STEP_AFTER)
        .fill_opacity(10)
    )


def variables(board: dashboard.Dashboard, tracing: bool = False) -> dashboard.Dashboard:
    board = (
        board.with_variable(dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
        .with_variable(
            dashboard.QueryVariable("job")
            .label("Service")
            .datasource(DS)
            .query("label_values(hfharvest_run_info, job)")
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .include_all(True)
            .multi(True)
            .current(dm.VariableOption(text="All", value="$__all", selected=True))
        )
        .with_variable(
            dashboard.CustomVariable("lookback")
            .label("Last run within")
            .description("How far back the last-run panels look. 26h is one night and some slack; "
                         "widen it after missed nights to see the last run that reported.")
            .values("26h,3d,8d")
            .current(dm.VariableOption(text="26h", value="26h", selected=True))
        )
    )
    if tracing:
        board = board.with_variable(dashboard.DatasourceVariable("tracing").label("Traces").type("tempo"))
    return board


def board(uid: str, title: str, description: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["hfharvest"])
        .timezone("utc")
        .editable()
        .time("now-7d", "now")
        .refresh("5m")
    )


def ops() -> dashboard.Dashboard:
    trace_link = "/explore?left=" + json.dumps(
        {"datasource": "${tracing}", "queries": [{"refId": "A", "queryType": "traceql", "query": "${__value.raw}"}]}
    )
    b = variables(board(
        "hfharvest-ops",
        "hfharvest: operations",
        "The nightly job's health, from the OpenTelemetry metrics it pushes (Prometheus names). "
        "Last-run panels show the last run within the 'Last run within' window; history panels show "
        "one bar per night.",
    ), tracing=True)
    b = b.with_panel(
        last_run_stat(
            1, "Time since the last successful run",
            "Since a run last completed every stage. Red above 26h: a night was missed or failed "
            "(alert HfharvestNoRecentSuccess). With no success in 30 days it shows 'none in 30 days'.",
            [query(f"time() - max(max_over_time(hfharvest_run_last_success_timestamp_seconds{{{SEL}}}"
                   f"[{NEVER_WINDOW}])) or vector({NEVER_SECONDS})")],
            unit="s", steps=((None, "green"), (STALE_SECONDS, "red")),
        ).mappings([dm.RangeMap(options=dm.DashboardRangeMapOptions(
            from_val=NEVER_SECONDS, to=1e12, result=dm.ValueMappingResult(text="none in 30 days", color="red")))])
    )
    b = b.with_panel(
        last_run_stat(
            2, "Last run",
            "The latest run: its status and id, and when it last reported.",
            [query(f"1000 * ({last_report(LAST)} == scalar(max({last_report(LAST)})))",
                   "{{status}} {{run_id}} {{error_type}}")],
            unit="dateTimeFromNow",
        ).text_mode(cm.BigValueTextMode.VALUE_AND_NAME)
        .override_by_regexp("^failed.*", [fixed_color("red")])
        .override_by_regexp("^complete.*", [fixed_color("green")])
    )
    b = b.with_panel(
        last_run_stat(
            3, "Last run duration", "Wall time of the last run, all stages.",
            [query(f"max({last('hfharvest_run_duration_seconds')})")], unit="s",
        )
    )
    b = b.with_panel(
        last_run_stat(
            4, "Lookup error ratio (last run)",
            "Share of the scores and evals lookups whose outcome was error (the page or API was not "
            "as configured, or timed out). Red above 5% (alert HfharvestLookupErrorRatioHigh).",
            [query(share(last("hfharvest_run_models", 'stage=~"scores|evals", outcome="error"'),
                         last("hfharvest_run_models", 'stage=~"scores|evals"'), by="stage"), "{{stage}}")],
            unit="percentunit", steps=((None, "green"), (0.05, "red")),
        )
    )
    b = b.with_panel(
        last_run_bars(
            5, "Models per stage and outcome (last run)",
            "The run manifest's counts: models collected / resumed / quarantined; scores and evals "
            "found / not_found / mismatch / error / resumed.",
            [query(f"sum by (stage, outcome) ({last('hfharvest_run_models')})", "{{stage}} {{outcome}}")],
        )
    )
    b = b.with_panel(
        last_run_bars(
            6, "HTTP p95 latency per host (last run)",
            "From the run's whole request-duration histogram; each attempt is one request, retries included.",
            [query("histogram_quantile(0.95, sum by (le, server_address) "
                   f"({last('http_client_request_duration_seconds_bucket')}))", "{{server_address}}")],
            unit="s",
        )
    )
    throttled = last("http_client_request_duration_seconds_count", 'http_response_status_code="429"')
    b = b.with_panel(
        last_run_bars(
            7, "HTTP 429 responses per host (last run)",
            "Throttled responses, 0 for hosts that never throttled; the job waits them out "
            "(Retry-After, RateLimit).",
            [query(f"sum by (server_address) ({throttled})"
                   f" or sum by (server_address) ({last('http_client_request_duration_seconds_count')}) * 0",
                   "{{server_address}}")],
        )
    )
    b = b.with_panel(
        last_run_bars(
            8, "Retries and rate-limit waits (last run)",
            "Requests retried after a transient failure, per host, and waits for a rate-limit window "
            "(alert HfharvestRateLimitWaitsSustained).",
            [query(f"sum by (server_address) ({last('hfharvest_http_retries_total')})", "retries {{server_address}}"),
             query(f"sum({last('hfharvest_http_rate_limit_waits_total')})", "rate-limit waits")],
        )
    )
    b = b.with_panel(
        last_run_bars(
            9, "Browser session restarts and checkpoints (last run)",
            "WebDriver sessions replaced after dying (alert HfharvestBrowserSessionRestartStorm), and "
            "checkpoints written per stage.",
            [query(f"sum({last('hfharvest_browser_session_restarts_total')})", "session restarts"),
             query(f"sum by (stage) ({last('hfharvest_checkpoints_written_total')})", "checkpoints {{stage}}")],
        )
    )
    b = b.with_panel(
        last_run_stat(
            10, "Bytes published (last run)", "Output written to the folder or bucket.",
            [query(f"sum({last('hfharvest_publish_bytes_total')})")], unit="bytes", w=12, h=8,
        )
    )
    b = b.with_panel(
        place(table.Panel(), 11, "Runs in the last 7 days",
              "One row per run and status (a retried pod that failed has its own row), newest first. "
              "The trace id opens the run's trace in the tracing datasource chosen above.",
              [query(f"1000 * max by (run_id, status, error_type, trace_id) ({last_report('7d')})",
                     table_format=True)], 24, 8)
        .sort_by([common.TableSortByFieldState().display_name("last report").desc(True)])
        .with_transformation(dm.DataTransformerConfig(id_val="organize", options={
            "excludeByName": {"Time": True},
            "indexByName": {"Value": 0, "run_id": 1, "status": 2, "error_type": 3, "trace_id": 4},
            "renameByName": {"Value": "last report"},
        }))
        .override_by_name("last report", [dm.DynamicConfigValue(id_val="unit", value="dateTimeAsIso")])
        .override_by_name("status", [
            dm.DynamicConfigValue(id_val="mappings", value=[{"type": "value", "options": {
                "complete": {"color": "green", "index": 0}, "failed": {"color": "red", "index": 1}}}]),
            dm.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"}),
        ])
        .override_by_name("trace_id", [dm.DynamicConfigValue(id_val="links", value=[
            {"title": "Open trace", "url": trace_link}])])
    )
    b = b.with_panel(
        history(12, "Run duration, night by night", "Each step is a run.", [query(
            f"max({last('hfharvest_run_duration_seconds')})", "duration", instant=False)],
            unit="s")
    )
    b = b.with_panel(
        history(13, "Lookup outcomes, night by night", "Scores and evals outcomes, from each run's manifest.",
                [query(f"sum by (stage, outcome) ({last('hfharvest_run_models', LOOKUPS)})",
                       "{{stage}} {{outcome}}", instant=False)])
    )
    b = b.with_panel(
        history(14, "Retries, rate-limit waits and session restarts, night by night", "", [
            query(f"sum({last('hfharvest_http_retries_total')})", "retries", instant=False),
            query(f"sum({last('hfharvest_http_rate_limit_waits_total')})", "rate-limit waits",
                  instant=False),
            query(f"sum({last('hfharvest_browser_session_restarts_total')})", "session restarts",
                  instant=False),
        ], w=24)
    )
    return b


def data() -> dashboard.Dashboard:
    found = 'stage="scores", outcome="found"'
    b = variables(board(
        "hfharvest-data",
        "hfharvest: models and scores",
        "What the last run found. Read from the job's metrics, not from the published CSV: the job "
        "exports a bounded gauge per top model (hfharvest_model_*, the top telemetry.top_models by "
        "downloads), so the dashboard needs only the Prometheus datasource its operators already have, "
        "and no plugin or bucket credentials in Grafana. The full dataset stays in dataset.csv and "
        "report.html.",
    ))
    b = b.with_panel(
        last_run_stat(1, "Models collected (last run)", "Collected from the Hub, or resumed from a checkpoint.",
                      [query(f"sum({last('hfharvest_run_models', COLLECTED)})")])
    )
    b = b.with_panel(
        last_run_stat(2, "Leaderboard coverage (last run)",
                      "Models found on the leaderboard, of those looked up in this run (resumed ones left out).",
                      [query(share(last("hfharvest_run_models", found),
                                   last("hfharvest_run_models", 'stage="scores", outcome!="resumed"')))],
                      unit="percentunit")
    )
    b = b.with_panel(
        last_run_stat(3, "Evaluations found (last run)",
                      "Models whose evaluation details were found, of those looked up in this run.",
                      [query(share(last("hfharvest_run_models", 'stage="evals", outcome="found"'),
                                   last("hfharvest_run_models", 'stage="evals", outcome!="resumed"')))],
                      unit="percentunit")
    )
    b = b.with_panel(
        last_run_stat(4, "Models quarantined (last run)",
                      "Hub records the job could not use; the reasons are in quality.json.",
                      [query(f"sum({last('hfharvest_run_models', QUARANTINED)})"
                             f" or sum({last('hfharvest_run_models', MODELS)}) * 0")],
                      steps=((None, "green"), (1, "orange")))
    )
    b = b.with_panel(
        last_run_bars(5, "Top models by downloads (30 days)", "",
                      [query(f"topk(25, max by (model_id) ({last('hfharvest_model_downloads')}))", "{{model_id}}")],
                      h=14).display_mode(cm.BarGaugeDisplayMode.GRADIENT)
    )
    b = b.with_panel(
        last_run_bars(6, "Average score of the top models",
                      "Open LLM Leaderboard average (0-100); models without a row are absent.",
                      [query(f"topk(25, max by (model_id) ({last('hfharvest_model_score', AVERAGE)}))",
                             "{{model_id}}")],
                      h=14).display_mode(cm.BarGaugeDisplayMode.GRADIENT)
    )
    b = b.with_panel(
        place(table.Panel(), 7, "Scores by benchmark", "",
              [query(f"max by (model_id, benchmark) ({last('hfharvest_model_score')})", table_format=True)], 24, 12)
        .no_value(NO_RUN)
        .with_transformation(dm.DataTransformerConfig(id_val="groupingToMatrix", options={
            "columnField": "benchmark", "rowField": "model_id", "valueField": "Value"}))
    )
    b = b.with_panel(
        history(8, "Models collected and found on the leaderboard, night by night", "", [
            query(f"sum({last('hfharvest_run_models', COLLECTED)})",
                  "collected", instant=False),
            query(f"sum({last('hfharvest_run_models', found)})", "found on the leaderboard",
                  instant=False),
        ], w=24)
    )
    b = b.with_panel(
        last_run_bars(9, "Models with a score, by source (last run)",
                      "Of the run's models, those with a value from each source: the leaderboard v2 (their own or "
                      "their base model's), the Hub's evaluation results, model cards, Every Eval Ever and OpenEvals; "
                      "any: from any of them. quality.json's score_coverage has the same counts.",
                      [query(f"max by (source) ({last('hfharvest_models_scored')})", "{{source}}")],
                      w=24)
    )
    return b


def render(b: dashboard.Dashboard) -> str:
    return JSONEncoder(sort_keys=True, indent=2, ensure_ascii=False).encode(b.build()) + "\n"


def dashboards() -> dict[str, str]:
    """File name → JSON text, as committed."""
    return {f"{b.build().uid}.json": render(b) for b in (ops(), data())}


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, text in dashboards().items():
        (OUT / name).write_text(text)
        print("wrote", OUT / name, file=sys.stderr)


if __name__ == "__main__":
    main()
