"""A private Docker engine and base images made from Debian packages, for building and
running the image on a machine that reaches no registry (the facts are measured in
shared/realdata/2026/CONTAINERS.md).

The daemon is Debian's dockerd (the `docker.io` package) with its own data, exec root,
socket and pidfile, no iptables, no bridge and no IP forwarding, and a dead proxy so
that anything it would pull fails at once instead of hanging. Base images are imported
from root filesystems made from Debian packages, under the names the Dockerfile's FROM
lines use, so the Dockerfile builds unchanged.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

# Debian's client, not a newer one (without buildx) that may come first on PATH.
DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
DEAD_PROXY = "http://127.0.0.1:9"
# The suite of the host the binaries are built on (their glibc), and of distroless's
# cc-debian12.
SUITE = "bookworm"
# Lines for the end of the pytest run (conftest.py prints them, passing or not).
CONTAINER_REPORT: list[str] = []

MIRRORS = [
    f"deb http://deb.debian.org/debian {SUITE} main",
    f"deb http://deb.debian.org/debian {SUITE}-updates main",
    f"deb http://deb.debian.org/debian-security {SUITE}-security main",
]


def poll(what: str, within: float, condition, every: float = 0.1):
    """Poll until `condition()` returns something truthy, and return it; fail after
    `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        got = condition()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {within} s waiting for {what}")
        time.sleep(every)


ROOT = Path(__file__).resolve().parents[2]
TOOLS = [DOCKER, DOCKERD, "/usr/bin/mmdebstrap", "/usr/bin/nsenter"]


def ensure_tools() -> None:
    """Install what is missing the way CI does (scripts/install-test-deps), never skip."""
    if not all(Path(tool).exists() for tool in TOOLS):
        subprocess.run([str(ROOT / "scripts" / "install-test-deps")], check=True)
    missing = [tool for tool in TOOLS if not Path(tool).exists()]
    assert not missing, f"still missing after scripts/install-test-deps: {missing}"


class Dockerd:
    """A running private dockerd and a client for it."""

    def __init__(self, root: Path, process: subprocess.Popen) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.pidfile = root / "docker.pid"
        self.log = root / "dockerd.log"
        self.process = process

    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "DOCKER_HOST": f"unix://{self.socket}",
            # The legacy builder: BuildKit in this engine needs nothing from a registry
            # for a Dockerfile without a `# syntax` line, but the legacy one is what the
            # measurements in CONTAINERS.md used and needs no frontend at all.
            "DOCKER_BUILDKIT": "0",
            # The client's own config (no credentials, no plugins) in the daemon's folder.
            "DOCKER_CONFIG": str(self.root / "client"),
        }

    def __call__(self, *args: str, input: bytes | None = None, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        ran = subprocess.run(
            [DOCKER, *args], env=self.env(), input=input, capture_output=True, timeout=timeout
        )
        if check and ran.returncode != 0:
            raise RuntimeError(
                f"docker {' '.join(args[:3])}… exited {ran.returncode}:\n"
                + ran.stderr.decode(errors="replace")[-4000:]
            )
        return ran

    def out(self, *args: str, timeout: float = 600) -> str:
        return self(*args, timeout=timeout).stdout.decode().strip()

    def pid(self) -> int:
        return int(self.pidfile.read_text().strip())


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of ours counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


@contextmanager
def private_dockerd() -> Iterator[Dockerd]:
    """Start Debian's dockerd privately; stop it by its pid at the end."""
    if os.geteuid() != 0:
        raise PermissionError("dockerd runs as root: run the container tests as root, as CI does")
    ensure_tools()
    # Under /var/tmp (a disk, for overlay2 and big images), with a short socket path.
    root = Path(tempfile.mkdtemp(prefix="hfharvest-dockerd-", dir="/var/tmp"))
    (root / "client").mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "http_proxy": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "NO_PROXY": "",
    }
    log = open(root / "dockerd.log", "wb")
    process = subprocess.Popen(
        [
            DOCKERD,
            "--iptables=false",
            "--ip6tables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--bridge=none",
            "--storage-driver=overlay2",
            f"--data-root={root / 'data'}",
            f"--exec-root={root / 'exec'}",
            f"--host=unix://{root / 'docker.sock'}",
            f"--pidfile={root / 'docker.pid'}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    daemon = Dockerd(root, process)
    try:
        poll(
            "dockerd to answer on its socket",
            60,
            lambda: process.poll() is None
            and daemon.pidfile.exists()
            and daemon("version", check=False, timeout=10).returncode == 0
            or _failed_to_start(process, daemon),
        )
        yield daemon
    finally:
        _stop(daemon)
        log.close()
        # The daemon unmounted its overlays on the way out; what is left is plain files.
        shutil.rmtree(root, ignore_errors=True)


def _failed_to_start(process: subprocess.Popen, daemon: Dockerd) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"dockerd exited {process.returncode}:\n{daemon.log.read_text()[-4000:]}")
    return False


def _stop(daemon: Dockerd) -> None:
    """Remove every container, then SIGTERM the daemon by its pid and wait for it to go
    (it stops its containerd with it); SIGKILL only if it will not."""
    if daemon.process.poll() is None:
        ids = daemon("ps", "-aq", check=False, timeout=60).stdout.decode().split()
        if ids:
            daemon("rm", "-f", *ids, check=False, timeout=120)
    try:
        pid = daemon.pid()
    except (FileNotFoundError, ValueError):
        pid = daemon.process.pid
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        try:
            daemon.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            daemon.process.wait(timeout=30)
    else:
        daemon.process.wait(timeout=30)
    assert not _alive(pid), f"dockerd {pid} is still running"


# --- Debian packages -------------------------------------------------------------------

# What gcr.io/distroless/cc-debian12 holds: glibc, libgcc, libstdc++, libgomp, OpenSSL,
# CA certificates, time zones and /etc/services; no shell, no package manager.
DISTROLESS_CC_PACKAGES = [
    "base-files",
    "netbase",
    "tzdata",
    "ca-certificates",
    "libc6",
    "libgcc-s1",
    "libstdc++6",
    "libgomp1",
    "libssl3",
]

# distroless's users (its /etc/passwd and /etc/group), nonroot being 65532.
PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
)
GROUP = "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"


def _download_debs(packages: list[str], into: Path) -> list[Path]:
    """`apt-get download` from the host's package lists (updated once if it has none)."""
    into.mkdir(parents=True, exist_ok=True)
    ran = subprocess.run(["apt-get", "download", "-q", *packages], cwd=into, capture_output=True, text=True)
    if ran.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "download", "-q", *packages], cwd=into, check=True, capture_output=True)
    debs = sorted(into.glob("*.deb"))
    assert len(debs) == len(packages), [d.name for d in debs]
    return debs


def distroless_cc_rootfs(workdir: Path) -> Path:
    """A root filesystem like distroless's cc-debian12: the packages' files unpacked
    (no maintainer scripts run, as distroless does), a CA bundle made from the
    certificates, and distroless's users. Returns a tar of it."""
    rootfs = workdir / "distroless-rootfs"
    rootfs.mkdir(parents=True)
    for deb in _download_debs(DISTROLESS_CC_PACKAGES, workdir / "debs"):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(rootfs)], check=True)
    # update-ca-certificates' output, which no maintainer script made here.
    certs = sorted((rootfs / "usr/share/ca-certificates").rglob("*.crt"))
    assert len(certs) > 100, f"only {len(certs)} CA certificates"
    bundle = rootfs / "etc/ssl/certs/ca-certificates.crt"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_bytes(b"".join(c.read_bytes().rstrip(b"\n") + b"\n" for c in certs))
    (rootfs / "etc/passwd").write_text(PASSWD)
    (rootfs / "etc/group").write_text(GROUP)
    for folder, mode, owner in [("tmp", 0o1777, 0), ("root", 0o700, 0), ("home/nonroot", 0o700, 65532)]:
        path = rootfs / folder
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, owner, owner)
        path.chmod(mode)
    # No shell, as in distroless: nothing is there to run but the program.
    for shell in ("bin/sh", "bin/bash", "usr/bin/sh"):
        assert not (rootfs / shell).exists(), shell
    tar = workdir / "distroless-cc.tar"
    subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tar), "."], check=True)
    shutil.rmtree(rootfs)
    return tar


def mmdebstrap(tar: Path, include: list[str], hooks: list[str] = (), variant: str = "minbase") -> Path:
    """A Debian root filesystem as a tar, with these packages installed (their
    maintainer scripts run), from the Debian mirror."""
    subprocess.run(
        [
            "mmdebstrap",
            "--quiet",
            f"--variant={variant}",
            "--include=" + ",".join(include),
            # Docs, manuals and translations are not needed in an image.
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            "--dpkgopt=path-exclude=/usr/share/info/*",
            "--aptopt=Acquire::Retries 3",
            *(f"--customize-hook={h}" for h in hooks),
            # Nothing left that would make the image differ from run to run.
            "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*",
            SUITE,
            str(tar),
            *MIRRORS,
        ],
        check=True,
    )
    return tar


def import_image(docker: Dockerd, tar: Path, name: str, changes: list[str]) -> str:
    """`docker import` a root filesystem tar under `name`, with Dockerfile `changes`."""
    args = ["import"]
    for change in changes:
        args += ["--change", change]
    docker(*args, str(tar), name, timeout=900)
    return name


def distroless_cc_image(docker: Dockerd, workdir: Path, name: str) -> str:
    """distroless's cc-debian12:nonroot, from Debian packages: its user, working folder
    and environment (`docker inspect gcr.io/distroless/cc-debian12:nonroot`)."""
    tar = distroless_cc_rootfs(workdir)
    import_image(
        docker,
        tar,
        name,
        [
            "USER 65532",
            "WORKDIR /home/nonroot",
            "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
        ],
    )
    tar.unlink()
    return name


def image_tree(docker: Dockerd, image: str, path: str) -> dict[str, tarfile.TarInfo]:
    """Every entry under `path` in an image, with its owner and mode, read from a
    stopped container (the image needs no shell for this)."""
    # Created, never started: the entrypoint need not exist.
    container = docker.out("create", "--entrypoint", "/nonexistent", image)
    try:
        data = docker("cp", f"{container}:{path}", "-").stdout
    finally:
        docker("rm", container)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}
