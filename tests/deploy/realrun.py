"""The metrics a real run exports, captured: the job (this repository's binary) runs
against the fake Hub (`fakehf`'s binary) with its OTLP metrics sent to
scripts/otlp-to-openmetrics, which writes them as OpenMetrics text with the Prometheus
names, as a collector with a Prometheus exporter would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {within} s")


def built_binaries() -> Path:
    """The folder with the `hfharvest` and `fakehf` binaries `cargo test --workspace`
    built (scripts/test runs it first; fakehf's tests/binary.rs makes it build fakehf's).
    `cargo build` would rebuild much of the tree, since without dev-dependencies the
    feature set differs; only when one is missing is it built here."""
    binaries = _target_dir() / "debug"
    if not all((binaries / name).exists() for name in ("hfharvest", "fakehf")):
        subprocess.run(
            ["cargo", "build", "--quiet", "--bin", "hfharvest", "--bin", "fakehf", "--workspace"],
            cwd=ROOT,
            check=True,
        )
    return binaries


def capture(workdir: Path) -> Path:
    """Two runs, a failed one and then a good one, their metrics in one OpenMetrics file."""
    binaries = built_binaries()
    fake = subprocess.Popen(
        [str(binaries / "fakehf"), "--models", "300"], stdout=subprocess.PIPE, text=True
    )
    receiver = None
    try:
        url = fake.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        port = _free_port()
        out = workdir / "run.om"
        receiver = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "otlp-to-openmetrics"), "--listen", f"127.0.0.1:{port}", "--out", str(out)]
        )
        _wait_for_port(port, 30)
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "HF_ENDPOINT": url,
            "HFHARVEST__LEADERBOARD__FORMATTED_URL": f"{url}/api/leaderboard/formatted",
            "HFHARVEST__OUTPUT__LOCK_TTL_SECS": "3",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": f"http://127.0.0.1:{port}/v1/metrics",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "K8S_POD_NAME": "hfharvest-night-pod",
        }
        job = [str(binaries / "hfharvest"), "run", "--limit", "60", "--out", str(workdir / "data")]
        # A night whose leaderboard data is gone (the JSON API answers 404): the scores
        # stage fails mid-run. (A WebDriver that never comes is found by the check before
        # the run now, exit 2, and records no stage.)
        failed = subprocess.run(
            job + ["--run-id", "night-failed", "--leaderboard-source", "datasets"],
            env={
                **env,
                "HFHARVEST__LEADERBOARD__DATASETS_API": "formatted",
                "HFHARVEST__LEADERBOARD__FORMATTED_URL": f"{url}/api/leaderboard/gone",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert failed.returncode == 1, failed.stderr
        good = subprocess.run(job + ["--run-id", "night-good"], env=env, capture_output=True, text=True, timeout=300)
        assert good.returncode == 0, good.stderr
    finally:
        if receiver is not None:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(timeout=30)
        fake.kill()
        fake.wait()
    assert out.stat().st_size > 0, "no metrics captured"
    return out
