"""The Grafana dashboards: the committed JSON is the generator's output, every query
parses (promtool) and reads a window longer than the nightly schedule, and the panels
keep the datasource variable and the trace link."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import yaml

from promharness import DASHBOARDS, REPORT, ROOT, Target, promtool, seconds, substitute, targets


def generator():
    spec = importlib.util.spec_from_file_location("gen_dashboards", ROOT / "scripts" / "gen-dashboards.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    generated = generator().dashboards()
    committed = {f.name: f.read_text() for f in DASHBOARDS.glob("*.json")}
    assert set(committed) == set(generated), "dashboards/ holds exactly the generated files"
    for name, text in generated.items():
        assert committed[name] == text, f"dashboards/{name} is stale: run python3 scripts/gen-dashboards.py"


def test_every_panel_query_parses(tmp_path: Path) -> None:
    """Each query, its variables as Grafana fills them, as a recording rule for promtool,
    which parses it with Prometheus's own parser."""
    all_targets = targets()
    rules = [{"record": f"dashboard:{t.dashboard.replace('-', '_')}:panel{t.panel_id}{t.ref}", "expr": substitute(t)}
             for t in all_targets]
    path = tmp_path / "panels.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    checked = promtool("check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules)} rules found" in checked.stdout
    panels = {(t.dashboard, t.panel_id) for t in all_targets}
    REPORT.append(f"promtool parsed {len(rules)} queries of {len(panels)} panels in {len(set(t.dashboard for t in all_targets))} dashboards")


SELECTOR = re.compile(r"\b((?:hfharvest|http_client)_[a-z0-9_]+)\{[^}]*\}(\)?)(\[[^\]]+\])?")


def window_ok(target: Target, window: str) -> bool:
    body = window.strip("[]").split(":")[0]
    if body == "$lookback":
        return True  # a custom variable whose options are all 26h or more (checked below)
    return seconds(body) >= 26 * 3600


def test_every_query_reads_a_window_longer_than_the_schedule() -> None:
    """The job pushes for minutes once a night: an instant selector (5 minutes' lookback),
    rate() or increase() over minutes would show No data most of the day."""
    for t in targets():
        selectors = SELECTOR.findall(t.expr)
        assert selectors, f"{t.name} names a job metric"
        for metric, closing, window in selectors:
            assert window, f"{t.name}: {metric} read without a range window: {t.expr}"
            assert window_ok(t, window), f"{t.name}: {metric}{window} is shorter than a night"
        assert not re.search(r"\b(rate|irate|increase)\(", t.expr), f"{t.name}: rate/increase lose a short pod's first sample"
    for board in json.loads((DASHBOARDS / "hfharvest-ops.json").read_text()), json.loads(
            (DASHBOARDS / "hfharvest-data.json").read_text()):
        (lookback,) = [v for v in board["templating"]["list"] if v["name"] == "lookback"]
        assert all(seconds(o) >= 26 * 3600 for o in lookback["query"].split(","))
        assert lookback["current"]["value"] == "26h"


def test_datasource_variable_no_hard_coded_uid_and_the_trace_link() -> None:
    for f in DASHBOARDS.glob("*.json"):
        board = json.loads(f.read_text())
        names = {v["name"]: v for v in board["templating"]["list"]}
        assert names["datasource"]["type"] == "datasource" and names["datasource"]["query"] == "prometheus"
        uids = set(re.findall(r'"uid": "([^"]*)"', f.read_text())) - {board["uid"]}
        assert uids == {"${datasource}"}, f"{f.name}: only the variable as datasource uid, got {uids}"
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == "${datasource}"
            assert all(t["refId"] for t in panel["targets"])
    ops = json.loads((DASHBOARDS / "hfharvest-ops.json").read_text())
    assert any(v["name"] == "tracing" for v in ops["templating"]["list"])
    (runs,) = [p for p in ops["panels"] if p["title"] == "Runs in the last 7 days"]
    links = [prop for o in runs["fieldConfig"]["overrides"] if o["matcher"]["options"] == "trace_id"
             for prop in o["properties"] if prop["id"] == "links"]
    assert "${tracing}" in links[0]["value"][0]["url"] and "${__value.raw}" in links[0]["value"][0]["url"]
    assert 'status' in runs["targets"][0]["expr"], "failed runs show with their status"
