"""Prints what the dashboard and alert tests measured (panels and rules checked, each
panel's value against a real Prometheus) at the end of the run, in CI's log too."""

from promharness import REPORT


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("dashboards and alerts")
        for line in REPORT:
            terminalreporter.write_line(line)
