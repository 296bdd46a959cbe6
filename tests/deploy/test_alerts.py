"""The alert rules: promtool checks the file and runs each alert in its scenario
(tests/deploy/alerts/*.test.yml), each alert's runbook is a section of
docs/operations.md, and the YAML is lint-clean."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from promharness import REPORT, ROOT, RULES, promtool

SCENARIOS = sorted((Path(__file__).resolve().parent / "alerts").glob("*.test.yml"))
REQUIRED = {
    "HfharvestNoRecentSuccess",
    "HfharvestLastRunFailed",
    "HfharvestLookupErrorRatioHigh",
    "HfharvestRateLimitWaitsSustained",
    "HfharvestBrowserSessionRestartStorm",
}


def rules() -> list[dict]:
    return [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]


def test_promtool_checks_the_rule_file() -> None:
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules())} rules found" in checked.stdout


def test_each_alert_fires_in_its_scenario_and_is_quiet_after_a_good_night() -> None:
    assert SCENARIOS
    for scenario in SCENARIOS:
        ran = promtool("test", "rules", scenario.name, cwd=scenario.parent)
        assert ran.returncode == 0, ran.stdout + ran.stderr
    tested = set()
    cases = 0
    for scenario in SCENARIOS:
        for test in yaml.safe_load(scenario.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                cases += 1
                if case["exp_alerts"]:
                    tested.add(case["alertname"])
    assert tested == {r["alert"] for r in rules()}, "every alert is seen firing"
    REPORT.append(f"promtool test rules: {len(rules())} alert rules, {cases} alert checks in "
                  f"{sum(len(yaml.safe_load(s.read_text())['tests']) for s in SCENARIOS)} scenarios")


def github_anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alert_links_its_runbook_in_the_operations_docs() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    anchors = {github_anchor(h) for h in re.findall(r"^#+ (.+)$", operations, re.M)}
    alerts = rules()
    assert {r["alert"] for r in alerts} == REQUIRED
    for rule in alerts:
        notes = rule["annotations"]
        assert notes["summary"] and notes["description"], rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        url = notes["runbook_url"]
        assert url.startswith("https://github.com/hfharvest/hfharvest/blob/main/docs/operations.md#"), url
        anchor = url.split("#", 1)[1]
        assert anchor == rule["alert"].lower()
        assert anchor in anchors, f"docs/operations.md has no section {rule['alert']}"


def test_yamllint_rules_and_scenarios() -> None:
    config = ("{extends: default, rules: {document-start: disable, line-length: {max: 200}, "
              "comments: {min-spaces-from-content: 1}}}")
    ran = subprocess.run(["yamllint", "-s", "-d", config, str(RULES), *map(str, SCENARIOS)],
                         capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
