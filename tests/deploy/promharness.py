"""Helpers for the dashboard and alert tests: the dashboards' queries as Grafana would send
them, promtool, and a real Prometheus (Debian's `prometheus` package) on 127.0.0.1 over a
TSDB backfilled from OpenMetrics text."""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
RULES = ROOT / "alerts" / "hfharvest.rules.yml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# Lines for the end of the pytest run (conftest.py prints them, passing or not).
REPORT: list[str] = []


@dataclass
class Target:
    dashboard: str
    panel_id: int
    title: str
    kind: str
    ref: str
    expr: str
    unit: str
    interval: str
    no_value: str

    @property
    def name(self) -> str:
        return f"{self.dashboard}#{self.panel_id}{self.ref}"


def dashboards() -> dict[str, dict]:
    return {f.stem: json.loads(f.read_text()) for f in sorted(DASHBOARDS.glob("*.json"))}


def targets() -> list[Target]:
    out = []
    for uid, board in dashboards().items():
        for panel in board["panels"]:
            defaults = panel.get("fieldConfig", {}).get("defaults", {})
            for t in panel.get("targets", []):
                out.append(Target(uid, panel["id"], panel["title"], panel["type"], t["refId"], t["expr"],
                                  defaults.get("unit", ""), panel.get("interval", ""), defaults.get("noValue", "")))
    return out


def variable_defaults(uid: str) -> dict[str, str]:
    """The current value of each custom variable, as the dashboard opens."""
    out = {}
    for var in dashboards()[uid]["templating"]["list"]:
        if var["type"] == "custom":
            out[var["name"]] = var["current"]["value"]
    return out


def seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total = 0.0
    for n, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration):
        total += int(n) * units[unit]
    return total


def substitute(target: Target, job: str = ".*") -> str:
    """The query Grafana sends: the dashboard's variables at their defaults, `$job` the
    regex that "All" expands to, `$__interval` the panel's (its minimum, 1d, for a week)."""
    values = {**variable_defaults(target.dashboard), "job": job, "__interval": target.interval or "1m",
              "__rate_interval": "5m", "__range": "7d"}
    expr = target.expr
    for name in sorted(values, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    assert "$" not in expr, f"{target.name}: a variable is left in {expr}"
    return expr


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openmetrics_timestamps(path: Path, metric: str = "") -> list[float]:
    """The sample timestamps in an OpenMetrics file (of one metric family's samples, if named)."""
    out = []
    for line in path.read_text().splitlines():
        if not line or line.startswith("#") or (metric and not line.startswith(metric)):
            continue
        parts = line.rsplit(" ", 2)
        if len(parts) == 3 and "}" not in parts[2]:
            out.append(float(parts[2]))
    return out


def run_end(path: Path) -> float:
    """The run's end: the last report of hfharvest_run_info (the job records it at exit)."""
    return max(openmetrics_timestamps(path, "hfharvest_run_info") or openmetrics_timestamps(path))


class Prometheus:
    """`prometheus` on 127.0.0.1 over a TSDB backfilled from an OpenMetrics file with
    `promtool tsdb create-blocks-from openmetrics`. It scrapes nothing."""

    def __init__(self, openmetrics: Path, workdir: Path):
        self.data = workdir / "data"
        made = promtool("tsdb", "create-blocks-from", "openmetrics", str(openmetrics), str(self.data))
        assert made.returncode == 0, made.stdout + made.stderr
        self.blocks = promtool("tsdb", "list", str(self.data)).stdout
        config = workdir / "prometheus.yml"
        config.write_text("global: {scrape_interval: 1m}\nscrape_configs: []\n")
        self.port = free_port()
        self.log = workdir / "prometheus.log"
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.data}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--storage.tsdb.retention.time=100y"],
            stdout=subprocess.DEVNULL, stderr=self.log.open("w"),
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert self.process.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "prometheus did not get ready: " + self.log.read_text()
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, **params) -> dict:
        query = urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=60) as r:
                body = json.load(r)
        except urllib.error.HTTPError as e:
            body = json.load(e)
        assert body["status"] == "success", f"{path} {params}: {body}"
        return body["data"]

    def query(self, expr: str, at: float) -> list[dict]:
        data = self.api("query", query=expr, time=at)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        return data["result"]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict]:
        return self.api("query_range", query=expr, start=start, end=end, step=step)["result"]

    def job_regex(self, at: float) -> str:
        """What the `job` variable's "All" expands to: label_values(hfharvest_run_info, job)
        over the dashboard's 7 days."""
        jobs = self.api("label/job/values", **{"match[]": "hfharvest_run_info", "start": at - 7 * 86400, "end": at})
        return "(" + "|".join(re.escape(j) for j in jobs) + ")" if jobs else ".*"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def show(value: float, unit: str) -> str:
    """A value as the panel shows it, roughly."""
    if math.isnan(value):
        return "NaN"
    if value > 1e12:  # a time in milliseconds (the runs' last reports)
        return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(value / 1000))
    if unit == "s" and value < 60:
        return f"{value:.2f}s"
    if unit == "s":
        d, rest = divmod(round(value), 86400)
        h, rest = divmod(rest, 3600)
        return (f"{d}d " if d else "") + f"{h}h {rest // 60:02d}m"
    if unit == "percentunit":
        return f"{value * 100:.1f}%"
    if unit == "bytes":
        return f"{value / 1e6:.1f} MB"
    return f"{int(value):,}" if value.is_integer() else f"{value:g}"


def describe(result: list[dict], target: Target, limit: int = 4) -> str:
    if not result:
        return f"({target.no_value or 'No data'})"
    parts = []
    for series in result[:limit]:
        labels = {k: v for k, v in series["metric"].items() if k not in {"job", "__name__", "trace_id"}}
        name = " ".join(v for v in labels.values() if v)
        value = show(float(series["value"][1]), target.unit)
        parts.append(f"{name}: {value}" if name else value)
    more = f" (+{len(result) - limit} more)" if len(result) > limit else ""
    return "; ".join(parts) + more
