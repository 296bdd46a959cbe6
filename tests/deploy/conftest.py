"""Prints what the dashboard and alert tests measured (panels and rules checked, each
panel's value against a real Prometheus) and what the container test ran (the pods'
summaries, the files on the volume, the minutes), at the end of the run, in CI's log too."""

from containers import CONTAINER_REPORT
from promharness import REPORT


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.section("dashboards and alerts")
        for line in REPORT:
            terminalreporter.write_line(line)
    if CONTAINER_REPORT:
        terminalreporter.section("the image and the chart's pod, in a private Docker")
        for line in CONTAINER_REPORT:
            terminalreporter.write_line(line)
