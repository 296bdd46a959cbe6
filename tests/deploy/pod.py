"""The chart's CronJob, run as a kubelet would run one of its pods, on a private Docker
engine: the pod spec comes from the rendered manifests and is translated field by
field into `docker run` options. A field the translation does not know fails the test
instead of being dropped, so a chart change cannot quietly go unrun.

What is a pod here: the containers share one network namespace (that of the pod's
infra container, as pause's is in Kubernetes) and its hostname; native sidecars
(init containers with restartPolicy Always) start first, pass their startup probe before
the main containers start, and are stopped once those exit. Volumes are folders on the
host: a configMap's keys as files, an emptyDir per pod (tmpfs for medium Memory), and
a claim as a folder that outlives the pod. The fsGroup is applied as the kubelet does
(pkg/volume/volume_linux.go: group, g+rw, g+x and setgid on folders; with
OnRootMismatch only when the root does not have them yet) and added to the containers'
groups. Not modelled: the IPC namespace, the service-account token (the chart turns it
off), Kubernetes service links, and CPU limits (requests become CPU shares).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from containers import Dockerd, poll

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "hfharvest"


def render(values: dict, name: str = "hfharvest", namespace: str = "jobs") -> list[dict]:
    """The chart's manifests, rendered with Helm's Go SDK as tests/deploy/test_chart.py does."""
    import helm_python as helm

    manifests = helm.Chart.load(CHART).render(values, name=name, namespace=namespace)
    docs = []
    for path, text in sorted(manifests.items()):
        if not path.endswith("NOTES.txt"):
            docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def job_name(cronjob: dict, scheduled: float) -> str:
    """The CronJob controller's name for a scheduled Job: `<cronjob>-<minutes since epoch>`."""
    return f"{cronjob['metadata']['name']}-{int(scheduled // 60)}"


@dataclass
class Finished:
    name: str
    exit_code: int
    stdout: str
    stderr: str

    @property
    def logs(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Pod:
    """One pod of a Job made from the CronJob's jobTemplate."""

    docker: Dockerd
    docs: list[dict]
    job: str
    # claimName -> the folder standing for its persistent volume
    claims: dict[str, Path]
    workdir: Path
    name: str = ""
    started: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        (cronjob,) = [d for d in self.docs if d["kind"] == "CronJob"]
        self.namespace = cronjob["metadata"]["namespace"]
        self.job_spec = cronjob["spec"]["jobTemplate"]["spec"]
        template = self.job_spec["template"]
        self.spec = template["spec"]
        # generateName: the Job's name and five random characters.
        alphabet = "bcdfghjklmnpqrstvwxz2456789"
        self.name = self.name or f"{self.job}-" + "".join(secrets.choice(alphabet) for _ in range(5))
        # The labels the Job controller adds to its pods.
        self.labels = {
            **template["metadata"].get("labels", {}),
            "batch.kubernetes.io/job-name": self.job,
            "job-name": self.job,
        }
        self.annotations = template["metadata"].get("annotations", {})
        self.dir = self.workdir / self.name
        self.dir.mkdir(parents=True)
        self._check_pod_fields()

    # --- the pod --------------------------------------------------------------------

    def _check_pod_fields(self) -> None:
        known = {
            "restartPolicy", "serviceAccountName", "automountServiceAccountToken",
            "securityContext", "initContainers", "containers", "volumes",
            "nodeSelector", "tolerations", "affinity", "imagePullSecrets",
        }
        unknown = set(self.spec) - known
        assert not unknown, f"pod fields this runner does not model: {unknown}"
        assert self.spec["restartPolicy"] == "Never", "a Job's pod; retries are new pods"
        assert self.spec.get("automountServiceAccountToken") is False, "no token is mounted here"
        self.pod_security = dict(self.spec.get("securityContext", {}))
        known_security = {
            "runAsUser", "runAsGroup", "runAsNonRoot", "fsGroup", "fsGroupChangePolicy",
            "seccompProfile", "supplementalGroups",
        }
        unknown = set(self.pod_security) - known_security
        assert not unknown, f"pod securityContext fields not modelled: {unknown}"

    def start(self, infra: list[str], infra_ready: str = "") -> None:
        """Make the volumes, start the infra container (`docker run` options and image,
        e.g. the fake Hub) and wait for `infra_ready` in its output, then start the
        sidecars (each past its startup probe), then the main containers."""
        self.volumes = {v["name"]: self._volume(v) for v in self.spec.get("volumes", [])}
        self.infra = f"{self.name}-infra"
        self.docker(
            "run", "-d", "--name", self.infra, "--hostname", self.name, "--network", "none",
            "--pull", "never", *infra,
        )
        self.started.append(self.infra)
        if infra_ready:
            poll(
                f"{infra_ready.strip()!r} from {self.infra}",
                60,
                lambda: infra_ready in self.docker("logs", self.infra).stdout.decode(errors="replace"),
            )
        for container in self.spec.get("initContainers", []):
            assert container.get("restartPolicy") == "Always", "only native sidecars here"
            self._run(container)
            self._startup_probe(container)
        for container in self.spec["containers"]:
            self._run(container)

    def infra_pid(self) -> int:
        return int(self.docker.out("inspect", "-f", "{{.State.Pid}}", self.infra))

    def container(self, name: str) -> str:
        return f"{self.name}-{name}"

    def kill(self, name: str) -> None:
        """SIGKILL one container, as an OOM kill or a lost node ends a pod."""
        self.docker("kill", "--signal", "KILL", self.container(name))

    def wait(self, within: float | None = None) -> dict[str, Finished]:
        """Wait for the main containers to exit (within the Job's activeDeadlineSeconds or
        `within`), then stop the sidecars, as the kubelet does; every container's exit
        code and logs."""
        deadline = min(float(self.job_spec.get("activeDeadlineSeconds", 1e9)), within or 1e9)
        finished = {}
        end = time.monotonic() + deadline
        for container in self.spec["containers"]:
            name = self.container(container["name"])
            left = max(1.0, end - time.monotonic())
            try:
                self.docker("wait", name, timeout=left)
            except subprocess.TimeoutExpired:
                self.docker("kill", name, check=False)
                raise TimeoutError(f"{name} still ran after {deadline} s")
            finished[container["name"]] = self._finished(container["name"])
        # Sidecars stop in the reverse order they started, with the grace period.
        grace = str(self.spec.get("terminationGracePeriodSeconds", 30))
        for container in reversed(self.spec.get("initContainers", [])):
            self.docker("stop", "-t", grace, self.container(container["name"]), timeout=int(grace) + 60)
            finished[container["name"]] = self._finished(container["name"])
        return finished

    def _finished(self, name: str) -> Finished:
        full = self.container(name)
        code = int(self.docker.out("inspect", "-f", "{{.State.ExitCode}}", full))
        logs = self.docker("logs", full)
        return Finished(full, code, logs.stdout.decode(errors="replace"), logs.stderr.decode(errors="replace"))

    def remove(self) -> None:
        for name in reversed(self.started):
            self.docker("rm", "-f", name, check=False)
        self.started.clear()

    # --- volumes --------------------------------------------------------------------

    def _volume(self, volume: dict) -> dict:
        kinds = set(volume) - {"name"}
        assert len(kinds) == 1, volume
        (kind,) = kinds
        source = volume[kind] or {}
        fs_group = self.pod_security.get("fsGroup")
        if kind == "configMap":
            folder = self.dir / "volumes" / volume["name"]
            folder.mkdir(parents=True)
            data = self._object("ConfigMap", source["name"])["data"]
            assert not source.get("items"), "configMap items are not modelled"
            for key, text in data.items():
                (folder / key).write_text(text)
                (folder / key).chmod(source.get("defaultMode", 0o644))
            self._ownership(folder, fs_group, read_only=True)
            return {"bind": folder}
        if kind == "emptyDir":
            size = source.get("sizeLimit")
            if source.get("medium") == "Memory":
                return {"tmpfs": _bytes(size) if size else None}
            assert source.get("medium", "") == "", source
            folder = self.dir / "volumes" / volume["name"]
            folder.mkdir(parents=True)
            folder.chmod(0o777)
            self._ownership(folder, fs_group, read_only=False)
            return {"bind": folder}
        if kind == "persistentVolumeClaim":
            folder = self.claims[source["claimName"]]
            self._ownership(folder, fs_group, read_only=bool(source.get("readOnly")))
            return {"bind": folder, "readOnly": bool(source.get("readOnly"))}
        raise AssertionError(f"volume kind not modelled: {kind}")

    def _ownership(self, root: Path, fs_group: int | None, read_only: bool) -> None:
        """The kubelet's SetVolumeOwnership."""
        if fs_group is None:
            return
        mask = 0o440 if read_only else 0o660
        policy = self.pod_security.get("fsGroupChangePolicy", "Always")
        if policy == "OnRootMismatch" and not _needs_change(root, fs_group, mask):
            return
        for path in [root, *root.rglob("*")]:
            info = path.lstat()
            if info.st_gid != fs_group:
                os.lchown(path, -1, fs_group)
            if stat.S_ISLNK(info.st_mode):
                continue
            extra = mask | (stat.S_ISGID | 0o110 if stat.S_ISDIR(info.st_mode) else 0)
            path.chmod(stat.S_IMODE(info.st_mode) | extra)

    def _object(self, kind: str, name: str) -> dict:
        found = [d for d in self.docs if d["kind"] == kind and d["metadata"]["name"] == name]
        assert len(found) <= 1
        return found[0] if found else {}

    # --- containers -----------------------------------------------------------------

    def _run(self, container: dict) -> None:
        known = {
            "name", "image", "imagePullPolicy", "args", "command", "env", "ports",
            "securityContext", "resources", "volumeMounts", "restartPolicy", "startupProbe",
            "workingDir",
        }
        unknown = set(container) - known
        assert not unknown, f"{container['name']}: container fields not modelled: {unknown}"
        assert container.get("imagePullPolicy") in ("IfNotPresent", "Never"), (
            "no registry here: the image must be present"
        )
        name = self.container(container["name"])
        args = [
            "run", "-d", "--name", name,
            "--network", f"container:{self.infra}",
            # Kubernetes' container runtime sets it to the pod's hostname.
            "--env", f"HOSTNAME={self.name}",
            "--pull", "never",
        ]
        args += self._security(container)
        args += _resources(container.get("resources", {}))
        for key, value in self._env(container).items():
            args += ["--env", f"{key}={value}"]
        for mount in container.get("volumeMounts", []):
            args += self._mount(mount)
        if "workingDir" in container:
            args += ["--workdir", container["workingDir"]]
        command = container.get("command")
        if command:
            args += ["--entrypoint", command[0]]
        args.append(container["image"])
        args += (command or [])[1:]
        args += container.get("args", [])
        self.docker(*args)
        self.started.append(name)

    def _security(self, container: dict) -> list[str]:
        context = {**{k: v for k, v in self.pod_security.items() if k in
                      ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile")},
                   **container.get("securityContext", {})}
        known = {
            "runAsUser", "runAsGroup", "runAsNonRoot", "allowPrivilegeEscalation",
            "readOnlyRootFilesystem", "capabilities", "seccompProfile", "privileged",
        }
        unknown = set(context) - known
        assert not unknown, f"{container['name']}: securityContext fields not modelled: {unknown}"
        assert not context.get("privileged"), "privileged containers are not run"
        options = []
        user = context.get("runAsUser")
        group = context.get("runAsGroup")
        image_user = self.docker.out("image", "inspect", "-f", "{{.Config.User}}", container["image"])
        if user is None:
            user_part = image_user.split(":")[0] if image_user else "0"
        else:
            user_part = str(user)
        if context.get("runAsNonRoot"):
            # The kubelet refuses a user it cannot prove is not root.
            assert user_part.isdigit() and int(user_part) != 0, (
                f"{container['name']}: runAsNonRoot, but the user is {user_part!r}"
            )
        if user is not None or group is not None:
            options += ["--user", user_part + (f":{group}" if group is not None else "")]
        for extra in [self.pod_security.get("fsGroup"), *self.pod_security.get("supplementalGroups", [])]:
            if extra is not None:
                options += ["--group-add", str(extra)]
        if context.get("readOnlyRootFilesystem"):
            options.append("--read-only")
        if context.get("allowPrivilegeEscalation") is False:
            options += ["--security-opt", "no-new-privileges"]
        capabilities = context.get("capabilities", {})
        for cap in capabilities.get("drop", []):
            options += ["--cap-drop", cap]
        for cap in capabilities.get("add", []):
            options += ["--cap-add", cap]
        seccomp = context.get("seccompProfile", {}).get("type", "Unconfined")
        # RuntimeDefault is the engine's default profile; nothing to pass.
        assert seccomp in ("RuntimeDefault", "Unconfined"), seccomp
        if seccomp == "Unconfined":
            options += ["--security-opt", "seccomp=unconfined"]
        return options

    def _env(self, container: dict) -> dict[str, str]:
        """The container's environment as the kubelet makes it: values with `$(VAR)`
        expanded from the variables before them, the downward API, and keys of Secrets
        and ConfigMaps (an optional missing one is left out)."""
        env: dict[str, str] = {}
        for entry in container.get("env", []):
            name = entry["name"]
            if "value" in entry:
                env[name] = _expand(str(entry["value"]), env)
                continue
            source = entry["valueFrom"]
            if "fieldRef" in source:
                env[name] = self._field(source["fieldRef"]["fieldPath"])
            elif "secretKeyRef" in source or "configMapKeyRef" in source:
                kind = "Secret" if "secretKeyRef" in source else "ConfigMap"
                ref = source.get("secretKeyRef") or source.get("configMapKeyRef")
                obj = self._object(kind, ref["name"])
                data = {k: base64.b64decode(v).decode() for k, v in obj.get("data", {}).items()} if kind == "Secret" else dict(obj.get("data", {}))
                data.update(obj.get("stringData", {}))
                if ref["key"] in data:
                    env[name] = data[ref["key"]]
                else:
                    assert ref.get("optional"), f"{name}: {kind} {ref['name']} has no key {ref['key']}"
            else:
                raise AssertionError(f"{name}: env source not modelled: {source}")
        return env

    def _field(self, path: str) -> str:
        if path == "metadata.name":
            return self.name
        if path == "metadata.namespace":
            return self.namespace
        label = re.fullmatch(r"metadata\.labels\['([^']+)'\]", path)
        if label:
            return self.labels[label.group(1)]
        annotation = re.fullmatch(r"metadata\.annotations\['([^']+)'\]", path)
        if annotation:
            return self.annotations[annotation.group(1)]
        raise AssertionError(f"fieldRef not modelled: {path}")

    def _mount(self, mount: dict) -> list[str]:
        unknown = set(mount) - {"name", "mountPath", "readOnly"}
        assert not unknown, f"volumeMount fields not modelled: {unknown}"
        volume = self.volumes[mount["name"]]
        if "tmpfs" in volume:
            spec = f"type=tmpfs,destination={mount['mountPath']}"
            if volume["tmpfs"]:
                spec += f",tmpfs-size={volume['tmpfs']}"
            return ["--mount", spec]
        read_only = mount.get("readOnly") or volume.get("readOnly")
        return ["--volume", f"{volume['bind']}:{mount['mountPath']}" + (":ro" if read_only else "")]

    def _startup_probe(self, container: dict) -> None:
        """The startup probe, from inside the pod's network namespace (the kubelet
        probes the pod's address; a pod here has only loopback)."""
        probe = container.get("startupProbe")
        if not probe:
            return
        get = probe["httpGet"]
        port = get["port"]
        if isinstance(port, str):
            (port,) = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
        url = f"http://127.0.0.1:{port}{get.get('path', '/')}"
        period = probe.get("periodSeconds", 10)
        within = probe.get("initialDelaySeconds", 0) + period * probe.get("failureThreshold", 3)
        timeout = probe.get("timeoutSeconds", 1)
        check = (
            "import sys, urllib.request\n"
            "opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))\n"
            "try:\n"
            f"    sys.exit(0 if 200 <= opener.open({url!r}, timeout={timeout}).status < 400 else 1)\n"
            "except Exception:\n"
            "    sys.exit(1)\n"
        )
        name = self.container(container["name"])

        def passes() -> bool:
            running = self.docker.out("inspect", "-f", "{{.State.Running}}", name)
            assert running == "true", f"{name} exited:\n{self._finished(container['name']).stderr[-3000:]}"
            return subprocess.run(
                ["nsenter", f"--net=/proc/{self.infra_pid()}/ns/net", sys.executable, "-c", check]
            ).returncode == 0

        poll(f"{name}'s startup probe ({url})", within, passes, every=period)


def _needs_change(root: Path, fs_group: int, mask: int) -> bool:
    info = root.stat()
    if info.st_gid != fs_group or info.st_mode & mask != mask:
        return True
    return stat.S_ISDIR(info.st_mode) and (not info.st_mode & stat.S_ISGID or info.st_mode & 0o110 != 0o110)


def _expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: `$$` is a literal `$`, an unknown name stays."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        value,
    )


_UNITS = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "k": 1000, "M": 1000**2, "G": 1000**3}


def _bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(quantity)).groups()
    return int(float(number) * _UNITS.get(unit, 1))


def _cpu(quantity: str) -> float:
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def _resources(resources: dict) -> list[str]:
    unknown = set(resources) - {"limits", "requests"}
    assert not unknown, unknown
    options = []
    limits, requests = resources.get("limits", {}), resources.get("requests", {})
    if "memory" in limits:
        # No swap, as on a Kubernetes node.
        options += ["--memory", str(_bytes(limits["memory"])), "--memory-swap", str(_bytes(limits["memory"]))]
    if "cpu" in limits:
        options += ["--cpus", str(_cpu(limits["cpu"]))]
    if "cpu" in requests:
        options += ["--cpu-shares", str(max(2, int(_cpu(requests["cpu"]) * 1024)))]
    return options


def volume_listing(root: Path) -> list[str]:
    """`ls -lnR`-style lines for everything on a volume: mode, owner, group, size, path."""
    lines = []
    for path in sorted([root, *root.rglob("*")]):
        info = path.lstat()
        lines.append(
            f"{stat.filemode(info.st_mode)} {info.st_uid}:{info.st_gid} {info.st_size:>9} "
            f"{path.relative_to(root) if path != root else '.'}"
        )
    return lines

