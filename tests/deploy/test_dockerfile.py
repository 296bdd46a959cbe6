"""The Dockerfile, linted with hadolint and checked for what the image promises: a
cached dependency layer, a small non-root runtime, a batch entrypoint with no
HEALTHCHECK, and OCI labels. test_container.py builds its runtime stage and runs it;
scripts/build-image-offline builds the whole of it."""

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


def test_it_builds_without_a_registry() -> None:
    # A `# syntax=` line makes BuildKit pull its frontend from Docker Hub first, which
    # fails where no registry can be reached (CONTAINERS.md); the built-in one does.
    assert not re.search(r"^#\s*syntax=", DOCKERFILE.read_text(), re.M | re.I)


def test_data_keeps_its_mode_through_the_copy() -> None:
    """COPY of a folder copies what is in it and makes the target 0755, so /data is an
    entry of the copied /out/rootfs. test_container.py's stand-in builder stage makes
    this same /out (the binary and rootfs/data) and checks /data in the image."""
    text = DOCKERFILE.read_text()
    assert "install -D -m 0755 target/release/hfharvest /out/hfharvest" in text
    assert "install -d -m 0750 -o 65532 -g 65532 /out/rootfs/data" in text
    assert re.search(r"^COPY --from=builder /out/hfharvest /usr/local/bin/hfharvest$", text, re.M)
    assert re.search(r"^COPY --from=builder --chown=65532:65532 /out/rootfs/ /$", text, re.M)
