"""The image, built and run as the chart runs it, on a private Docker engine with no
registry (shared/realdata/2026/CONTAINERS.md has the facts this relies on).

The runtime stage of the Dockerfile is built as it is, over the `hfharvest` binary the
test build made, on a distroless-like base made from Debian packages under the FROM name
the Dockerfile uses. The whole Dockerfile, toolchain and all, is built by
scripts/build-image-offline, which is not run in CI; HFHARVEST_CONTAINER_IMAGE_TAR=<its
--save tar> runs these tests with that image instead. The chart is rendered with Helm's
SDK and its CronJob's pod is run as tests/deploy/pod.py describes: the rendered security
context, environment, volumes and mounts, the containers sharing one network namespace.
In that namespace the fake Hub (`fakehf`, in a container on the same base) stands for
the internet, and for the browser source a Chromium + chromedriver sidecar made from
Debian packages stands for Selenium's image.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from containers import (
    CONTAINER_REPORT,
    Dockerd,
    distroless_cc_image,
    image_tree,
    import_image,
    mmdebstrap,
    poll,
    private_dockerd,
)
from pod import Pod, job_name, render, volume_listing
from realrun import ROOT, built_binaries

DOCKERFILE = ROOT / "Dockerfile"
REALDATA = Path(os.environ.get("HFHARVEST_REALDATA") or ROOT.parent / "shared" / "realdata")
# The fake Hub inside the pod: fakehf binds 127.0.0.1, which every container of the pod
# shares.
FAKE_PORT = 8080
FAKE = f"http://127.0.0.1:{FAKE_PORT}"
FAKE_IMAGE = "localhost/hfharvest-test/fakehf:bookworm"
SIDECAR_IMAGE = "localhost/hfharvest-test/chromium-webdriver:bookworm"
LIMIT = 60
# Scheduled 02:30 UTC on 2026-11-24, as the chart's schedule would.
NIGHT = 1795488600.0


def report(line: str) -> None:
    CONTAINER_REPORT.append(line)


@dataclass
class Images:
    job: str
    fake: str


# --- images --------------------------------------------------------------------------


def runtime_stage() -> tuple[str, str]:
    """The Dockerfile's last stage (its text from its FROM line) and its base image."""
    text = DOCKERFILE.read_text()
    starts = [m for m in re.finditer(r"^FROM\s+(\S+).*$", text, re.M)]
    last = starts[-1]
    return text[last.start():], last.group(1)


def build_runtime_stage(docker: Dockerd, binary: Path, tag: str, work: Path) -> None:
    """The runtime stage exactly as the Dockerfile has it, its `builder` being a stage
    that holds what the real builder stage leaves in /out (the release binary and
    rootfs/data, 0750, owned by 65532: see the builder's last RUN) made from the test
    build's binary instead."""
    stage, _ = runtime_stage()
    context = work / "runtime-context"
    (context / "out" / "rootfs").mkdir(parents=True)
    shutil.copy(binary, context / "out" / "hfharvest")
    (context / "out" / "hfharvest").chmod(0o755)
    data = context / "out" / "rootfs" / "data"
    data.mkdir(mode=0o750)
    data.chmod(0o750)
    os.chown(data, 65532, 65532)
    (context / "Dockerfile").write_text("FROM scratch AS builder\nCOPY out/ /out/\n\n" + stage)
    docker("build", "--quiet", "--tag", tag, str(context), timeout=900)
    shutil.rmtree(context)


def build_fake_image(docker: Dockerd, binary: Path, base: str, work: Path) -> None:
    context = work / "fake-context"
    context.mkdir()
    shutil.copy(binary, context / "fakehf")
    (context / "Dockerfile").write_text(
        f"FROM {base}\n"
        "COPY fakehf /usr/local/bin/fakehf\n"
        "USER 65532:65532\n"
        'ENTRYPOINT ["/usr/local/bin/fakehf"]\n'
    )
    docker("build", "--quiet", "--tag", FAKE_IMAGE, str(context), timeout=900)
    shutil.rmtree(context)


def build_sidecar_image(docker: Dockerd, work: Path) -> str:
    """Chromium and chromedriver from Debian, serving WebDriver on 4444 as Selenium's
    image does, as its user (seluser, 1200:1201) with a home of its own, under tini as
    Selenium's image is: a process 1 without a handler never sees the SIGTERM that
    stops a sidecar, and would be killed at the end of the grace period."""
    tar = mmdebstrap(
        work / "chromium.tar",
        ["chromium", "chromium-driver", "tini"],
        hooks=[
            'chroot "$1" groupadd --gid 1201 seluser',
            'chroot "$1" useradd --uid 1200 --gid 1201 --create-home --home-dir /home/seluser seluser',
        ],
    )
    import_image(
        docker,
        tar,
        SIDECAR_IMAGE,
        [
            "USER 1200:1201",
            "ENV HOME=/home/seluser",
            "WORKDIR /home/seluser",
            "EXPOSE 4444",
            'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/bin/chromedriver", "--port=4444"]',
        ],
    )
    tar.unlink()
    return SIDECAR_IMAGE


@pytest.fixture(scope="module")
def docker():
    with private_dockerd() as daemon:
        yield daemon


@pytest.fixture(scope="module")
def images(docker: Dockerd, tmp_path_factory) -> Images:
    work = tmp_path_factory.mktemp("images")
    _, base = runtime_stage()
    assert base == "gcr.io/distroless/cc-debian12:nonroot", base
    started = time.monotonic()
    distroless_cc_image(docker, work, base)
    binaries = built_binaries()
    (job,) = [c["image"] for c in _job_containers(render({}))]
    whole = os.environ.get("HFHARVEST_CONTAINER_IMAGE_TAR")
    if whole:
        # The whole Dockerfile's image, as scripts/build-image-offline --save wrote it.
        loaded = docker.out("load", "--input", whole, timeout=900)
        docker("tag", loaded.rsplit("Loaded image: ", 1)[1].strip(), job)
        report(f"images: the job's is {whole} (the whole Dockerfile's build)")
    else:
        build_runtime_stage(docker, binaries / "hfharvest", job, work)
    build_fake_image(docker, binaries / "fakehf", base, work)
    report(f"images: distroless-like base, runtime stage and fakehf built in {time.monotonic() - started:.0f} s")
    return Images(job=job, fake=FAKE_IMAGE)


@pytest.fixture(scope="module")
def sidecar(docker: Dockerd, tmp_path_factory) -> str:
    started = time.monotonic()
    name = build_sidecar_image(docker, tmp_path_factory.mktemp("sidecar"))
    size = int(docker.out("image", "inspect", "-f", "{{.Size}}", name))
    report(f"sidecar: Chromium + chromedriver from Debian, {size / 1e6:.0f} MB, built in {time.monotonic() - started:.0f} s")
    return name


def _job_containers(docs: list[dict]) -> list[dict]:
    (cronjob,) = [d for d in docs if d["kind"] == "CronJob"]
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]


# --- the pod ---------------------------------------------------------------------------


def fake_hub(images: Images, *flags: str) -> list[str]:
    """`docker run` options and arguments for the fake Hub as the pod's infra container,
    locked down like the job."""
    assert (REALDATA / "README.md").exists(), f"no realdata at {REALDATA}"
    return [
        "--read-only", "--user", "65532:65532", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges",
        "--volume", f"{REALDATA}:/realdata:ro", "--env", "HFHARVEST_REALDATA=/realdata",
        images.fake, "--port", str(FAKE_PORT), "--models", "300", *flags,
    ]


def values(source: str, **leaderboard) -> dict:
    """The chart's values pointed at the fake Hub, as an operator would point them at a
    mirror: every URL is a setting of the job's config."""
    return {
        "config": {
            "hub": {"endpoint": FAKE, "limit": LIMIT},
            "leaderboard": {
                "source": source,
                "formatted_url": f"{FAKE}/api/leaderboard/formatted",
                "datasets_server_url": FAKE,
                **leaderboard,
            },
            # A killed pod's lock runs out soon, so its retry does not wait ten minutes.
            "output": {"dir": "/data", "lock_ttl_secs": 5},
        },
    }


def claims(docs: list[dict], root: Path) -> dict[str, Path]:
    """The chart's claim as a folder: a new volume's root, owned by root, 0755."""
    (claim,) = [d for d in docs if d["kind"] == "PersistentVolumeClaim"]
    folder = root / "pv"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    return {claim["metadata"]["name"]: folder}


def start_pod(docker: Dockerd, docs: list[dict], job: str, volumes: dict[str, Path], work: Path, infra: list[str]) -> Pod:
    pod = Pod(docker, docs, job, volumes, work)
    pod.start(infra, infra_ready=f"{FAKE}\n")
    return pod


def json_lines(text: str) -> list[dict]:
    lines = []
    for line in text.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return lines


def summary(logs: str) -> dict:
    """The job's last line, `run <id> complete: …`, with its fields."""
    done = [l["fields"] for l in json_lines(logs) if re.match(r"run \S+ complete", l.get("fields", {}).get("message", ""))]
    assert done, logs[-3000:]
    return done[-1]


def checkpoint_counts(volume: Path, run: str) -> dict[str, int]:
    folder = volume / "runs" / run / "checkpoints"
    return {d.name: sum(1 for _ in d.iterdir()) for d in sorted(folder.iterdir())} if folder.is_dir() else {}


def manifest(volume: Path, run: str) -> dict:
    return json.loads((volume / "runs" / run / "manifest.json").read_text())


RUN_FILES = [
    "models.csv", "models.jsonl", "leaderboard.csv", "evals.csv", "evals.parquet",
    "dataset.csv", "dataset.parquet", "quality.json", "quarantine.json", "report.html",
    "manifest.json",
]


def assert_written_by_the_job(volume: Path) -> None:
    """Every file the job wrote is its user's, on a volume the fsGroup owns."""
    root = volume.stat()
    assert root.st_gid == 65532 and root.st_mode & 0o2070 == 0o2070, oct(root.st_mode)
    for path in volume.rglob("*"):
        info = path.lstat()
        assert (info.st_uid, info.st_gid) == (65532, 65532), (path, info.st_uid, info.st_gid)


def report_volume(volume: Path, runs: list[str]) -> None:
    """The volume as `ls -ln` would show it, without the per-model checkpoints."""
    report(f"files on the volume (mode uid:gid bytes path), {sum(1 for _ in volume.rglob('*'))} in all:")
    for line in volume_listing(volume):
        path = line.split(" ", 3)[3].strip().split()[-1]
        if "/checkpoints/" in path:
            continue
        report("  " + line)
    for run in runs:
        report(f"  runs/{run}/checkpoints: {checkpoint_counts(volume, run)} files")


# --- the tests -------------------------------------------------------------------------


def test_the_runtime_image_is_what_the_dockerfile_promises(docker: Dockerd, images: Images) -> None:
    """Non-root, no shell, /data 0750 owned by the job's user, the binary root's."""
    config = json.loads(docker.out("image", "inspect", "-f", "{{json .Config}}", images.job))
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["/usr/local/bin/hfharvest"] and config["Cmd"] == ["run"]
    assert config["WorkingDir"] == "/data"
    assert "HFHARVEST__OUTPUT__DIR=/data" in config["Env"]
    (data,) = image_tree(docker, images.job, "/data").values()
    assert (oct(data.mode & 0o7777), data.uid, data.gid) == ("0o750", 65532, 65532)
    (binary,) = image_tree(docker, images.job, "/usr/local/bin/hfharvest").values()
    assert (oct(binary.mode & 0o7777), binary.uid, binary.gid) == ("0o755", 0, 0)
    for shell in ["/bin/sh", "/bin/bash", "/usr/bin/sh"]:
        ran = docker("run", "--rm", "--network", "none", "--entrypoint", shell, images.job, "-c", "true", check=False)
        assert ran.returncode != 0, f"{shell} runs in the image"
    size = int(docker.out("image", "inspect", "-f", "{{.Size}}", images.job))
    report(f"the job's image: {size / 1e6:.0f} MB, /data {oct(data.mode & 0o7777)} {data.uid}:{data.gid}")


def test_the_datasets_pod_runs_and_its_retry_resumes_from_the_volume(docker: Dockerd, images: Images, tmp_path: Path) -> None:
    """Pod 1 of a Job is killed once its checkpoints are on the volume; the Job's next
    pod (same Job, so the same run id) resumes from them and completes the run. The
    next night's Job then starts a new run, with deltas against the first."""
    docs = render(values("datasets"))
    volumes = claims(docs, tmp_path)
    volume = next(iter(volumes.values()))
    (cronjob,) = [d for d in docs if d["kind"] == "CronJob"]
    job = job_name(cronjob, NIGHT)
    # Each Hub response 0.4 s late: the run takes long enough to be stopped mid-way.
    slow = fake_hub(images, "--latency-ms", "400")

    started = time.monotonic()
    first = start_pod(docker, docs, job, volumes, tmp_path / "pods", slow)
    # The scores stage writes its checkpoints together once it has the leaderboard's
    # rows; the evals stage after it asks the Hub model by model.
    scores = volume / "runs" / job / "checkpoints" / "scores"

    def midway() -> bool:
        running = docker.out("inspect", "-f", "{{.State.Running}}", first.container("hfharvest"))
        assert running == "true", "the first pod ended before it could be stopped:\n" + docker("logs", first.container("hfharvest")).stderr.decode()[-3000:]
        return scores.is_dir() and any(scores.iterdir())

    poll("the first pod's scores checkpoints on the volume", 180, midway, every=0.05)
    first.kill("hfharvest")
    killed = first.wait(within=60)["hfharvest"]
    first.remove()
    assert killed.exit_code == 137, killed
    stopped = manifest(volume, job)
    assert stopped["status"] == "running" and (volume / "lock.json").exists()
    done_before = {s["name"]: s["outcomes"] for s in stopped["stages"]}
    report(f"datasets pod 1 ({first.name}) killed mid-run: manifest {stopped['status']}, stages done {sorted(done_before)}, "
           f"checkpoints {checkpoint_counts(volume, job)}")

    second = start_pod(docker, docs, job, volumes, tmp_path / "pods", slow)
    result = second.wait(within=600)["hfharvest"]
    second.remove()
    assert result.exit_code == 0, result.logs[-4000:]
    line = summary(result.logs)
    resumed = manifest(volume, job)
    outcomes = {s["name"]: s["outcomes"] for s in resumed["stages"]}
    assert resumed["status"] == "complete" and resumed["run_id"] == job
    assert resumed["started_at"] == stopped["started_at"], "the same run, resumed"
    assert outcomes["models"] == {"resumed": LIMIT}
    assert outcomes["scores"]["resumed"] == LIMIT and outcomes["scores"]["found"] > LIMIT // 2
    assert outcomes["evals"].get("found", 0) > 0
    assert outcomes["prepare"]["rows"] == LIMIT
    waited = [l for l in json_lines(result.logs) if "waiting for its lock to expire" in l.get("fields", {}).get("message", "")]
    assert waited, "the retry waited for the killed pod's lock"
    for name in RUN_FILES:
        assert (volume / "runs" / job / name).stat().st_size > 0, name
    assert json.loads((volume / "latest.json").read_text())["run_id"] == job
    assert not (volume / "lock.json").exists(), "the lock is released"
    report(f"datasets pod 2 ({second.name}), the Job's retry: exit 0 — {line['message']}")
    report(f"  stages: {line['stages']}")
    report(f"  resumed: models {outcomes['models']}, scores {outcomes['scores']}, evals {outcomes['evals']}")

    # The next night: a new Job, so a new run, reading the first from the volume.
    next_job = job_name(cronjob, NIGHT + 86400)
    third = start_pod(docker, docs, next_job, volumes, tmp_path / "pods", fake_hub(images))
    result = third.wait(within=600)["hfharvest"]
    third.remove()
    assert result.exit_code == 0, result.logs[-4000:]
    line = summary(result.logs)
    assert line["previous_run"] == job, line
    assert manifest(volume, next_job)["stages"][0]["outcomes"] == {"collected": LIMIT}
    index = (volume / "runs" / "index.json").read_text()
    assert job in index and next_job in index
    assert json.loads((volume / "latest.json").read_text())["run_id"] == next_job
    report(f"datasets pod 3 ({third.name}), the next night's Job: exit 0 — {line['message']}; deltas against {line['previous_run']}")

    assert_written_by_the_job(volume)
    report_volume(volume, [job, next_job])
    report(f"datasets pods: {time.monotonic() - started:.0f} s")


def test_the_browser_pod_runs_with_its_chromium_sidecar(docker: Dockerd, images: Images, sidecar: str, tmp_path: Path) -> None:
    """The browser source: the Chromium sidecar starts first, passes its startup probe,
    the job reads the fake leaderboard app through it, and the sidecar is stopped when
    the job exits."""
    repository, tag = sidecar.rsplit(":", 1)
    chart_values = values("browser", page_url=f"{FAKE}/", page_timeout_secs=30)
    chart_values["selenium"] = {"image": {"repository": repository, "tag": tag}}
    docs = render(chart_values)
    volumes = claims(docs, tmp_path)
    volume = next(iter(volumes.values()))
    (cronjob,) = [d for d in docs if d["kind"] == "CronJob"]
    job = job_name(cronjob, NIGHT)
    (selenium,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"]
    # The port the sidecar image serves on is the one the chart probes and the job uses.
    assert [p["containerPort"] for p in selenium["ports"]] == [4444]

    started = time.monotonic()
    # 4 decimals: the app's copy of the data fits Chromium's storage quota (FakeConfig).
    pod = start_pod(docker, docs, job, volumes, tmp_path / "pods", fake_hub(images, "--formatted-decimals", "4"))
    finished = pod.wait(within=900)
    pod.remove()
    result = finished["hfharvest"]
    assert result.exit_code == 0, result.logs[-4000:]
    # Stopped by its SIGTERM (128 + 15) once the job was done, not killed at the end of
    # the grace period (137).
    assert finished["selenium"].exit_code in (0, 143), finished["selenium"]
    line = summary(result.logs)
    outcomes = {s["name"]: s["outcomes"] for s in manifest(volume, job)["stages"]}
    assert outcomes["scores"].get("found", 0) > LIMIT // 2 and not outcomes["scores"].get("error"), outcomes["scores"]
    for name in RUN_FILES:
        assert (volume / "runs" / job / name).stat().st_size > 0, name
    assert_written_by_the_job(volume)
    report(f"browser pod ({pod.name}): exit 0 — {line['message']}")
    report(f"  stages: {line['stages']}")
    report(f"  sidecar exit {finished['selenium'].exit_code} after the job; browser pod {time.monotonic() - started:.0f} s")
