"""The Dockerfile, linted with hadolint (no Docker engine here) and checked for what
the image promises: a cached dependency layer, a small non-root runtime, a batch
entrypoint with no HEALTHCHECK, and OCI labels."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def test_hadolint_reports_nothing() -> None:
    ran = subprocess.run(
        ["hadolint", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0 and not ran.stdout.strip(), ran.stdout + ran.stderr


def test_image_shape() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    assert len(stages) >= 3, "multi-stage"
    assert "cargo chef cook" in text, "dependencies are built in their own cached layer"
    runtime = stages[-1][0]
    assert runtime.startswith("gcr.io/distroless/cc") and runtime.endswith(":nonroot")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert not re.search(r"^HEALTHCHECK", text, re.M), "a batch job, not a service"
    assert re.search(r'^ENTRYPOINT \["/usr/local/bin/hfharvest"\]', text, re.M)
    for label in ["title", "source", "version", "licenses"]:
        assert f"org.opencontainers.image.{label}=" in text


def test_dockerignore_keeps_the_context_small_but_buildable() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "target/" in ignored and ".git/" in ignored and ".env" in ignored
    # The workspace needs these to resolve and build.
    for needed in ["src/", "fakehf/", "benches/", "tests/", "Cargo.toml", "Cargo.lock"]:
        assert needed not in ignored
