#!/usr/bin/env python3
"""Writes dashboards/hfharvest-ops.json and dashboards/hfharvest-data.json.

The dashboards are generated so that every panel follows one pattern (a Prometheus
datasource variable, no hard-coded uid) and the PromQL stays readable here. Run it
after changing a panel; tests/telemetry.rs checks that each metric a query names is
one the job emits."""

import json
from pathlib import Path

DS = {"type": "prometheus", "uid": "${datasource}"}
OUT = Path(__file__).resolve().parents[1] / "dashboards"


def target(expr, legend="", instant=False, fmt=None):
    t = {"datasource": DS, "expr": expr, "refId": "A", "legendFormat": legend}
    if instant:
        t["instant"] = True
        t["range"] = False
    if fmt:
        t["format"] = fmt
    return t


def panel(pid, title, kind, grid, targets, description="", unit=None, extra=None):
    p = {
        "id": pid,
        "title": title,
        "type": kind,
        "description": description,
        "datasource": DS,
        "gridPos": dict(zip("xywh", grid)),
        "targets": [dict(t, refId=chr(65 + i)) for i, t in enumerate(targets)],
        "fieldConfig": {"defaults": {}, "overrides": []},
        "options": {},
    }
    if unit:
        p["fieldConfig"]["defaults"]["unit"] = unit
    if extra:
        for k, v in extra.items():
            p[k] = v
    return p


def dashboard(uid, title, description, panels, extra_vars=()):
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["hfharvest"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "5m",
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                },
                {
                    "name": "job",
                    "label": "Service",
                    "type": "query",
                    "datasource": DS,
                    "query": "label_values(hfharvest_run_duration_seconds, job)",
                    "refresh": 2,
                    "includeAll": True,
                    "multi": True,
                    "current": {},
                },
                *extra_vars,
            ]
        },
        "annotations": {"list": []},
        "panels": panels,
    }


SEL = 'job=~"$job"'

ops = dashboard(
    "hfharvest-ops",
    "hfharvest: operations",
    "The nightly job's health: from the OpenTelemetry metrics the job exports (Prometheus names).",
    [
        panel(1, "Time since last successful run", "stat", (0, 0, 6, 4),
              [target(f"time() - max(hfharvest_run_last_success_timestamp_seconds{{{SEL}}})", instant=True)],
              "Seconds since a run last completed. Above a day and a bit, a night was missed.", "s",
              {"options": {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background"},
               "fieldConfig": {"defaults": {"unit": "s", "thresholds": {"mode": "absolute", "steps": [
                   {"color": "green", "value": None}, {"color": "orange", "value": 93600},
                   {"color": "red", "value": 180000}]}}, "overrides": []}}),
        panel(2, "Last run duration", "stat", (6, 0, 6, 4),
              [target(f"max(hfharvest_run_duration_seconds{{{SEL}}})", instant=True)],
              "Wall time of the last run, all stages.", "s"),
        panel(3, "Models per stage and outcome (last 24h)", "bargauge", (12, 0, 12, 8),
              [target(f"sum by (stage, outcome) (increase(hfharvest_models_processed_total{{{SEL}}}[24h]))",
                      "{{stage}} {{outcome}}", instant=True)],
              "ok / not_found / mismatch / error per stage."),
        panel(4, "Run duration", "timeseries", (0, 4, 12, 8),
              [target(f"max by (job) (hfharvest_run_duration_seconds{{{SEL}}})", "{{job}}")], "", "s"),
        panel(5, "HTTP p95 latency per host", "timeseries", (0, 12, 12, 8),
              [target("histogram_quantile(0.95, sum by (le, server_address) "
                      f"(rate(http_client_request_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))",
                      "{{server_address}}")],
              "Each attempt is one request, retries included.", "s"),
        panel(6, "HTTP 429 per host", "timeseries", (12, 8, 12, 8),
              [target("sum by (server_address) (increase(http_client_request_duration_seconds_count"
                      f'{{{SEL}, http_response_status_code="429"}}[$__rate_interval]))', "{{server_address}}")],
              "Throttled responses; the job waits them out (Retry-After / RateLimit)."),
        panel(7, "Retries and rate-limit waits", "timeseries", (0, 20, 12, 8),
              [target(f"sum by (server_address) (increase(hfharvest_http_retries_total{{{SEL}}}[$__rate_interval]))",
                      "retries {{server_address}}"),
               target(f"sum(increase(hfharvest_http_rate_limit_waits_total{{{SEL}}}[$__rate_interval]))",
                      "rate-limit waits")]),
        panel(8, "Browser session restarts, checkpoints", "timeseries", (12, 16, 12, 8),
              [target(f"sum(increase(hfharvest_browser_session_restarts_total{{{SEL}}}[$__rate_interval]))",
                      "session restarts"),
               target(f"sum(increase(hfharvest_checkpoints_written_total{{{SEL}}}[$__rate_interval]))",
                      "checkpoints written"),
               target(f"sum(increase(hfharvest_checkpoints_resumed_total{{{SEL}}}[$__rate_interval]))",
                      "checkpoints resumed")]),
        panel(9, "Bytes published", "timeseries", (0, 28, 12, 8),
              [target(f"sum(increase(hfharvest_publish_bytes_total{{{SEL}}}[$__rate_interval]))", "bytes")],
              "Output written to the folder or bucket.", "bytes"),
        panel(10, "Recent failed runs", "table", (12, 24, 12, 12),
              [target(f'max by (run_id, error_type, trace_id) (last_over_time(hfharvest_run_info{{{SEL}, status="failed"}}[7d]))',
                      instant=True, fmt="table")],
              "One row per failed run in the last 7 days, from the run-info gauge (labels: run id, error type, "
              "trace id). The trace id links to the run's trace in the tracing datasource chosen above.",
              extra={"fieldConfig": {"defaults": {}, "overrides": [{
                  "matcher": {"id": "byName", "options": "trace_id"},
                  "properties": [{"id": "links", "value": [{
                      "title": "Open trace",
                      "url": "/explore?left=" + json.dumps({"datasource": "${tracing}", "queries": [
                          {"refId": "A", "queryType": "traceql", "query": "${__value.raw}"}]}),
                  }]}]}]},
                  "transformations": [{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True}}}]}),
    ],
    extra_vars=[{"name": "tracing", "label": "Traces", "type": "datasource", "query": "tempo", "current": {}, "hide": 0}],
)

data = dashboard(
    "hfharvest-data",
    "hfharvest: models and scores",
    "What the latest run found. Read from the job's metrics, not from the published CSV: "
    "the job exports a bounded gauge per top model (hfharvest_model_*, the top "
    "telemetry.top_models by downloads), so the dashboard needs only the Prometheus "
    "datasource its operators already have, and no plugin or bucket credentials in "
    "Grafana. The full dataset stays in dataset.csv and report.html.",
    [
        panel(1, "Models collected (last run)", "stat", (0, 0, 6, 4),
              [target(f'max(hfharvest_run_models{{{SEL}, stage="models"}})', instant=True)]),
        panel(2, "Leaderboard coverage (last run)", "stat", (6, 0, 6, 4),
              [target(f'max(hfharvest_run_models{{{SEL}, stage="scores", outcome="found"}}) / '
                      f'max(hfharvest_run_models{{{SEL}, stage="models"}})', instant=True)],
              "Share of models with leaderboard scores.", "percentunit"),
        panel(3, "Top models by downloads (30 days)", "bargauge", (0, 4, 12, 14),
              [target(f"topk(25, max by (model_id) (hfharvest_model_downloads{{{SEL}}}))", "{{model_id}}",
                      instant=True)],
              extra={"options": {"displayMode": "gradient", "orientation": "horizontal"}}),
        panel(4, "Average score of the top models", "bargauge", (12, 4, 12, 14),
              [target(f'topk(25, max by (model_id) (hfharvest_model_score{{{SEL}, benchmark="average"}}))',
                      "{{model_id}}", instant=True)],
              "Open LLM Leaderboard average (0-100); models without a row are absent.",
              extra={"options": {"displayMode": "gradient", "orientation": "horizontal"}}),
        panel(5, "Scores by benchmark", "table", (0, 18, 24, 12),
              [target(f"max by (model_id, benchmark) (hfharvest_model_score{{{SEL}}})", instant=True,
                      fmt="table")],
              extra={"transformations": [
                  {"id": "groupingToMatrix", "options": {"columnField": "benchmark", "rowField": "model_id",
                                                         "valueField": "Value"}}]}),
    ],
)

OUT.mkdir(exist_ok=True)
for d in (ops, data):
    (OUT / f"{d['uid']}.json").write_text(json.dumps(d, indent=2, ensure_ascii=False) + "\n")
    print("wrote", OUT / f"{d['uid']}.json")
