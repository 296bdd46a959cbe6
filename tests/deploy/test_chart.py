"""The Helm chart, rendered with Helm's own Go SDK (helm-python-sdk, no helm binary)
and validated with kubernetes-validate: the default values and the other supported
set-ups, the schema's refusals, and the job's acceptance of the config it renders."""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "hfharvest"
# The oldest Kubernetes the chart supports (native sidecars) and the newest schemas at hand.
KUBE_VERSIONS = ["1.29.0", kubernetes_validate.utils.latest_version() + ".0"]

VALUE_SETS = {
    "default": {},
    "browser": {"config": {"leaderboard": {"source": "browser"}}},
    "existing-secret": {
        "existingSecret": "hf-and-s3",
        "secretKeys": {
            "hfToken": "token",
            "awsAccessKeyId": "key-id",
            "awsSecretAccessKey": "key-secret",
        },
    },
    "s3-irsa": {
        "config": {
            "output": {"dir": "s3://datasets/hfharvest"},
            "s3": {"path_style": False},
        },
        "aws": {"region": "eu-west-1"},
        "serviceAccount": {
            "annotations": {
                "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/hfharvest"
            }
        },
    },
    "s3-without-persistence": {
        "config": {"output": {"dir": "s3://datasets/hfharvest"}},
        "persistence": {"enabled": False},
    },
    "existing-claim": {"persistence": {"existingClaim": "hfharvest-runs"}},
    "score-sources": {
        "config": {
            "evals": {
                "dataset_columns": 4,
                "every_eval_ever": {"revision": "0123456789abcdef0123456789abcdef01234567",
                                    "collections": ["MMLU-Pro"], "max_objects": 500},
                "open_evals": {"enabled": False},
            }
        }
    },
    "claim-with-storage-class": {
        "persistence": {
            "storageClass": "fast-ssd",
            "size": "20Gi",
            "accessModes": ["ReadWriteOncePod"],
            "keepOnUninstall": False,
            "annotations": {"backup.example.com/daily": "true"},
        },
        "config": {"output": {"dir": "/var/lib/hfharvest"}},
    },
    "minio-secret-otel-dashboards": {
        "config": {
            "output": {"dir": "s3://hfharvest/nightly"},
            "s3": {"path_style": True},
            "hub": {"limit": 200},
        },
        "aws": {"region": "us-east-1", "endpointUrl": "http://minio.minio.svc:9000"},
        "secret": {
            "hfToken": "hf_sentinel_token",
            "awsAccessKeyId": "minio-sentinel-id",
            "awsSecretAccessKey": "minio-sentinel-secret",
        },
        "otel": {
            "endpoint": "http://otel-collector.monitoring:4317",
            "resourceAttributes": {"deployment.environment": "prod"},
        },
        "dashboards": {"enabled": True, "namespace": "monitoring"},
        "prometheusRule": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
        "nodeSelector": {"kubernetes.io/arch": "amd64"},
        "tolerations": [{"key": "batch", "operator": "Exists", "effect": "NoSchedule"}],
    },
}


def chart() -> helm.Chart:
    return helm.Chart.load(CHART)


# Kinds from CustomResourceDefinitions, which kubernetes-validate has no schema for; the
# PrometheusRule is checked by its own test (promtool and the plain rule file).
CUSTOM_KINDS = {"PrometheusRule"}


def render(values: dict) -> list[dict]:
    manifests = chart().render(values, name="hfharvest", namespace="jobs")
    docs = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def pod_spec(docs: list[dict]) -> dict:
    (cronjob,) = of_kind(docs, "CronJob")
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def job_container(docs: list[dict]) -> dict:
    (container,) = pod_spec(docs)["containers"]
    return container


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def rendered_toml(docs: list[dict]) -> str:
    (configmap,) = [d for d in of_kind(docs, "ConfigMap") if "hfharvest.toml" in d["data"]]
    return configmap["data"]["hfharvest.toml"]


@pytest.mark.parametrize("name", VALUE_SETS)
@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_every_manifest_is_valid_kubernetes(name: str, kube: str) -> None:
    docs = render(VALUE_SETS[name])
    assert of_kind(docs, "CronJob"), "a CronJob is rendered"
    for doc in docs:
        if doc["kind"] not in CUSTOM_KINDS:
            kubernetes_validate.validate(doc, kube, strict=True)


def test_the_browser_source_gets_the_native_selenium_sidecar_and_hardening() -> None:
    docs = render(VALUE_SETS["browser"])
    (cronjob,) = of_kind(docs, "CronJob")
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] and spec["schedule"]
    assert spec["startingDeadlineSeconds"] > 0
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 1
    assert job["activeDeadlineSeconds"] > 0 and job["ttlSecondsAfterFinished"] > 0
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailJob" and rule["onExitCodes"]["values"] == [2], "bad config is not retried"
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"

    (sidecar,) = pod["initContainers"]
    assert sidecar["image"].startswith("selenium/standalone-chrome:")
    assert sidecar["restartPolicy"] == "Always", "a native sidecar"
    assert sidecar["startupProbe"]["httpGet"]["path"] == "/status"
    assert sidecar["startupProbe"]["httpGet"]["port"] == "webdriver"
    assert {"name": "dshm", "mountPath": "/dev/shm"} in sidecar["volumeMounts"]
    shm = next(v for v in pod["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"]["medium"] == "Memory"
    sidecar_env = env_of(sidecar)
    assert sidecar_env["SE_NODE_MAX_SESSIONS"]["value"] == "2"
    assert sidecar["resources"]["limits"]["memory"]

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in [job_container(docs), sidecar]:
        ctx = container["securityContext"]
        assert ctx["runAsNonRoot"] is True
        assert ctx["allowPrivilegeEscalation"] is False
        assert ctx["capabilities"]["drop"] == ["ALL"]
        assert ctx["seccompProfile"]["type"] == "RuntimeDefault"
    main = job_container(docs)
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in main["volumeMounts"]}
    assert {"/tmp", "/data", "/etc/hfharvest"} <= mounts, "writable only where needed"

    env = env_of(main)
    assert env["HFHARVEST__LEADERBOARD__WEBDRIVER"]["value"] == "http://localhost:4444"
    assert env["HFHARVEST_CONFIG"]["value"] == "/etc/hfharvest/hfharvest.toml"
    run_id = env["HFHARVEST__OUTPUT__RUN_ID"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert run_id == "metadata.labels['batch.kubernetes.io/job-name']", "retries resume"
    assert env["K8S_POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["K8S_NAMESPACE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    attrs = env["OTEL_RESOURCE_ATTRIBUTES"]["value"]
    assert "k8s.pod.name=$(K8S_POD_NAME)" in attrs and "k8s.cronjob.name=" in attrs
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in env, "telemetry off by default"

    labels = cronjob["metadata"]["labels"]
    for key in ["name", "instance", "version", "managed-by"]:
        assert f"app.kubernetes.io/{key}" in labels
    assert not of_kind(docs, "Secret"), "no credentials given, no Secret"
    assert not [d for d in of_kind(docs, "ConfigMap") if "grafana_dashboard" in d["metadata"]["labels"]]


def test_by_default_the_datasets_source_runs_without_a_sidecar() -> None:
    """The chart's default source is the binary's: the leaderboard's published data."""
    docs = render({})
    pod = pod_spec(docs)
    assert "initContainers" not in pod
    assert all(v["name"] != "dshm" for v in pod["volumes"])
    assert "HFHARVEST__LEADERBOARD__WEBDRIVER" not in env_of(job_container(docs))
    assert 'source = "datasets"' in rendered_toml(docs)
    # Switched off explicitly too, with the browser source kept.
    docs = render({"config": {"leaderboard": {"source": "browser"}}, "selenium": {"enabled": False}})
    assert "initContainers" not in pod_spec(docs)


def test_the_sidecar_follows_the_jobs_browser_settings() -> None:
    docs = render({"config": {"leaderboard": {"source": "browser", "browser_sessions": 3, "page_timeout_secs": 40}}})
    (sidecar,) = pod_spec(docs)["initContainers"]
    env = env_of(sidecar)
    assert env["SE_NODE_MAX_SESSIONS"]["value"] == "3"
    assert env["SE_NODE_SESSION_TIMEOUT"]["value"] == str(3 * 40 + 70), "longer than a batch can take"
    shm = next(v for v in pod_spec(docs)["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"]["sizeLimit"] == "3Gi"
    # Set by hand, they win; too few sessions for the job is refused.
    docs = render({"config": {"leaderboard": {"source": "browser"}}, "selenium": {"maxSessions": 4, "shmSizeLimit": "6Gi"}})
    assert env_of(pod_spec(docs)["initContainers"][0])["SE_NODE_MAX_SESSIONS"]["value"] == "4"
    with pytest.raises(Exception, match="must be at least config.leaderboard.browser_sessions"):
        render({"config": {"leaderboard": {"source": "browser", "browser_sessions": 3}}, "selenium": {"maxSessions": 2}})


def test_existing_secret_renders_no_secret_and_uses_its_key_names() -> None:
    values = VALUE_SETS["existing-secret"]
    docs = render(values)
    assert not of_kind(docs, "Secret")
    env = env_of(job_container(docs))
    for var, key in [
        ("HF_TOKEN", "token"),
        ("AWS_ACCESS_KEY_ID", "key-id"),
        ("AWS_SECRET_ACCESS_KEY", "key-secret"),
        ("AWS_SESSION_TOKEN", "AWS_SESSION_TOKEN"),
    ]:
        ref = env[var]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "hf-and-s3", "key": key, "optional": True}
    # Even with secret values also given, the existing Secret wins and none is made.
    docs = render({**values, "secret": {"hfToken": "ignored"}})
    assert not of_kind(docs, "Secret")


def test_chart_secret_holds_the_credentials_and_nothing_else_does() -> None:
    values = VALUE_SETS["minio-secret-otel-dashboards"]
    docs = render(values)
    (secret,) = of_kind(docs, "Secret")
    decoded = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert decoded == {
        "HF_TOKEN": "hf_sentinel_token",
        "AWS_ACCESS_KEY_ID": "minio-sentinel-id",
        "AWS_SECRET_ACCESS_KEY": "minio-sentinel-secret",
    }
    others = yaml.safe_dump_all([d for d in docs if d["kind"] != "Secret"])
    for sentinel in decoded.values():
        assert sentinel not in others, "credentials only in the Secret"
    env = env_of(job_container(docs))
    assert env["AWS_ENDPOINT_URL"]["value"] == "http://minio.minio.svc:9000"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == "http://otel-collector.monitoring:4317"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"]["value"] == "grpc"
    assert env["OTEL_RESOURCE_ATTRIBUTES"]["value"].endswith(",deployment.environment=prod")
    assert "path_style = true" in rendered_toml(docs)
    pod = pod_spec(docs)
    assert pod["nodeSelector"] == {"kubernetes.io/arch": "amd64"}
    assert pod["tolerations"][0]["key"] == "batch"


def test_s3_with_irsa() -> None:
    docs = render(VALUE_SETS["s3-irsa"])
    (account,) = of_kind(docs, "ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/hfharvest")
    assert pod_spec(docs)["serviceAccountName"] == account["metadata"]["name"]
    env = env_of(job_container(docs))
    assert env["AWS_REGION"]["value"] == "eu-west-1"
    assert "AWS_ACCESS_KEY_ID" not in env, "IRSA: no static keys"
    assert not of_kind(docs, "Secret")
    assert 'dir = "s3://datasets/hfharvest"' in rendered_toml(docs)
    assert all(v["name"] != "data" for v in pod_spec(docs)["volumes"]), "no local output volume"


def test_dashboards_are_configmaps_for_the_grafana_sidecar() -> None:
    files = sorted((ROOT / "dashboards").glob("*.json"))
    assert len(files) >= 2, "dashboards/ holds the ops and data dashboards"
    docs = render(VALUE_SETS["minio-secret-otel-dashboards"])
    maps = [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["labels"].get("grafana_dashboard") == "1"]
    assert len(maps) == len(files)
    by_file = {name: body for m in maps for name, body in m["data"].items()}
    for f in files:
        assert json.loads(by_file[f.name]) == json.loads(f.read_text()), f"{f.name} shipped as is"
    assert all(m["metadata"]["namespace"] == "monitoring" for m in maps)
    custom = render({"dashboards": {"enabled": True, "label": "dash", "labelValue": "yes"}})
    assert [d for d in of_kind(custom, "ConfigMap") if d["metadata"]["labels"].get("dash") == "yes"]


@pytest.mark.parametrize(
    "bad",
    [
        {"schedul": "0 3 * * *"},
        {"selenium": {"maxSesions": 4}},
        {"config": {"hub": {"limt": 10}}},
        {"config": {"leaderboard": {"source": "selenium"}}},
        {"concurrencyPolicy": "Allow"},
        {"job": {"backoffLimit": "three"}},
        {"otel": {"protocol": "http/json"}},
        {"persistence": {"enabled": False}},
        {"persistence": {"accessModes": ["ReadOnlyMany"]}},
        {"persistence": {"size": "lots"}},
        {"persistence": {"existingclaim": "x"}},
        {"config": {"output": {"dir": "data"}}},
        {"prometheusRule": {"enabeld": True}},
    ],
    ids=lambda v: json.dumps(v),
)
def test_schema_rejects_typos_and_bad_values(bad: dict) -> None:
    with pytest.raises(helm.HelmError):
        chart().validate_schema(bad)
    with pytest.raises(helm.HelmError):
        chart().render(bad, name="hfharvest", namespace="jobs")


def test_schema_accepts_every_value_set() -> None:
    for values in VALUE_SETS.values():
        chart().validate_schema(values)


def example_config_keys() -> dict[str, set[str]]:
    """Every key of hfharvest.example.toml, commented-out optional ones included."""
    text = (ROOT / "hfharvest.example.toml").read_text()
    keys = {s: set(v) for s, v in tomllib.loads(text).items()}
    section = None
    for line in text.splitlines():
        if m := re.match(r"^\[(\w+)\]", line):
            section = m.group(1)
        elif (m := re.match(r"^#\s*([a-z_]+)\s*=", line)) and section:
            keys[section].add(m.group(1))
    return keys


def test_schema_config_keys_are_the_jobs_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    config = schema["properties"]["config"]["properties"]
    assert {s: set(p["properties"]) for s, p in config.items()} == example_config_keys()


def hfharvest_binary() -> Path:
    """The debug binary `cargo test` built (scripts/test runs it first); built here if
    missing. Building with `cargo run` instead would rebuild: without dev-dependencies
    the feature set differs."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "debug" / "hfharvest"
    if not binary.exists():
        subprocess.run(["cargo", "build", "--locked", "--bin", "hfharvest"], cwd=ROOT, check=True, timeout=1800)
    return binary


def hfharvest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(hfharvest_binary()), *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("name", VALUE_SETS)
def test_the_job_accepts_the_rendered_config(name: str, tmp_path: Path) -> None:
    docs = render(VALUE_SETS[name])
    toml = rendered_toml(docs)
    config = tmp_path / "hfharvest.toml"
    config.write_text(toml)
    ran = hfharvest("--config", str(config), "--dry-run", "run")
    assert ran.returncode == 0, ran.stderr
    settings = tomllib.loads(ran.stdout)
    rendered = tomllib.loads(toml)
    for section, values in rendered.items():
        for key, value in values.items():
            if isinstance(value, dict):
                for name, setting in value.items():
                    assert settings[section][key][name] == setting, f"{section}.{key}.{name}"
            else:
                assert settings[section][key] == value, f"{section}.{key}"


def test_a_config_typo_is_refused_by_the_job_too(tmp_path: Path) -> None:
    config = tmp_path / "hfharvest.toml"
    config.write_text(rendered_toml(render({})).replace("limit =", "limt ="))
    ran = hfharvest("--config", str(config), "--dry-run", "run")
    assert ran.returncode == 2
    assert "hub.limt" in ran.stderr


def test_helm_lint_is_clean() -> None:
    for values in VALUE_SETS.values():
        report = helm.lint(CHART, copy.deepcopy(values), strict=True, kube_version="v1.29.0")
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert not problems and not report["errors"], report


def test_yamllint_chart_files_and_rendered_manifests(tmp_path: Path) -> None:
    # toYaml writes block sequences unindented, as kubectl does: both styles are fine.
    # Rendered dashboards carry their JSON's long lines as data, so length is checked
    # on the chart's own files only.
    base = "extends: default, rules: {document-start: disable, comments: {min-spaces-from-content: 1}, indentation: {indent-sequences: whatever}"
    for name, values in VALUE_SETS.items():
        out = tmp_path / f"{name}.yaml"
        out.write_text("\n---\n".join(
            text for path, text in sorted(chart().render(values, name="hfharvest", namespace="jobs").items())
            if not path.endswith("NOTES.txt") and text.strip()
        ))
    for rules, files in [
        (base + ", line-length: {max: 160}}", [CHART / "Chart.yaml", CHART / "values.yaml"]),
        (base + ", line-length: disable}", sorted(tmp_path.glob("*.yaml"))),
    ]:
        ran = subprocess.run(
            ["yamllint", "-s", "-d", "{" + rules + "}", *map(str, files)], capture_output=True, text=True
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr


def data_volume(docs: list[dict]) -> dict:
    (volume,) = [v for v in pod_spec(docs)["volumes"] if v["name"] == "data"]
    return volume


def test_default_output_is_on_a_claim_that_outlives_the_pod() -> None:
    docs = render({})
    (claim,) = of_kind(docs, "PersistentVolumeClaim")
    volume = data_volume(docs)
    assert "emptyDir" not in volume, "the output would go with the pod"
    assert volume["persistentVolumeClaim"] == {"claimName": claim["metadata"]["name"]}
    assert claim["metadata"]["name"] == "hfharvest-data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert "storageClassName" not in claim["spec"], "the cluster's default StorageClass"
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", "helm uninstall keeps the data"
    (mount,) = [m for m in job_container(docs)["volumeMounts"] if m["name"] == "data"]
    assert mount["mountPath"] == tomllib.loads(rendered_toml(docs))["output"]["dir"] == "/data"
    assert not mount.get("readOnly")
    assert pod_spec(docs)["securityContext"]["fsGroup"] == 65532, "the non-root job can write to it"


def test_a_retried_pod_mounts_the_claim_and_resumes_the_run_of_the_pod_before_it() -> None:
    """Every pod of a Job (and of every Job) mounts the one claim, not a per-pod volume,
    and takes its run id from the Job's name: a retry finds the previous pod's checkpoints
    under the same runs/<run-id>/."""
    docs = render({})
    (cronjob,) = of_kind(docs, "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 1 and job["template"]["spec"]["restartPolicy"] == "Never"
    volume = data_volume(docs)
    assert set(volume) == {"name", "persistentVolumeClaim"}, "not an ephemeral, per-pod volume"
    assert "{{" not in volume["persistentVolumeClaim"]["claimName"]
    env = env_of(job_container(docs))
    assert env["HFHARVEST__OUTPUT__RUN_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.labels['batch.kubernetes.io/job-name']"
    )
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid", "one pod at a time on a ReadWriteOnce claim"


def test_an_existing_claim_is_mounted_and_none_is_made() -> None:
    docs = render(VALUE_SETS["existing-claim"])
    assert not of_kind(docs, "PersistentVolumeClaim")
    assert data_volume(docs)["persistentVolumeClaim"] == {"claimName": "hfharvest-runs"}


def test_claim_settings() -> None:
    docs = render(VALUE_SETS["claim-with-storage-class"])
    (claim,) = of_kind(docs, "PersistentVolumeClaim")
    assert claim["spec"]["storageClassName"] == "fast-ssd"
    assert claim["spec"]["accessModes"] == ["ReadWriteOncePod"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["metadata"]["annotations"] == {"backup.example.com/daily": "true"}
    (mount,) = [m for m in job_container(docs)["volumeMounts"] if m["name"] == "data"]
    assert mount["mountPath"] == "/var/lib/hfharvest"
    # "-": no dynamic provisioning, as common charts spell it.
    (claim,) = of_kind(render({"persistence": {"storageClass": "-"}}), "PersistentVolumeClaim")
    assert claim["spec"]["storageClassName"] == ""


def test_s3_output_needs_no_claim() -> None:
    for name in ["s3-irsa", "s3-without-persistence", "minio-secret-otel-dashboards"]:
        docs = render(VALUE_SETS[name])
        assert not of_kind(docs, "PersistentVolumeClaim"), name
        assert all(v["name"] != "data" for v in pod_spec(docs)["volumes"]), name


def test_schema_refuses_a_folder_output_without_persistence() -> None:
    for bad in [{"persistence": {"enabled": False}},
                {"persistence": {"enabled": False, "existingClaim": "x"}, "config": {"output": {"dir": "/srv"}}}]:
        with pytest.raises(helm.HelmError, match="s3://"):
            chart().validate_schema(bad)
        with pytest.raises(helm.HelmError):
            chart().render(bad, name="hfharvest", namespace="jobs")
    chart().validate_schema(VALUE_SETS["s3-without-persistence"])


def notes(values: dict) -> str:
    manifests = chart().render(values, name="hfharvest", namespace="jobs")
    (text,) = [t for p, t in manifests.items() if p.endswith("NOTES.txt")]
    return text


def test_notes_say_where_the_csvs_are() -> None:
    text = notes({})
    assert "PersistentVolumeClaim jobs/hfharvest-data" in text
    assert '"claimName":"hfharvest-data"' in text
    assert "kubectl -n jobs cp hfharvest-files:/data/runs ./hfharvest-runs" in text
    # The helper pod's spec is valid JSON and passes as a restricted pod.
    overrides = json.loads(re.search(r"--overrides='([^']+)'", text).group(1))
    assert overrides["spec"]["securityContext"]["runAsNonRoot"] is True
    assert '"claimName":"hfharvest-runs"' in notes(VALUE_SETS["existing-claim"])
    text = notes(VALUE_SETS["s3-irsa"])
    assert "s3://datasets/hfharvest/runs/<run-id>/dataset.csv" in text
    assert "PersistentVolumeClaim" not in text


def rendered_rule(values: dict) -> dict:
    (rule,) = of_kind(render(values), "PrometheusRule")
    return rule


def test_prometheus_rule_is_off_by_default_and_the_plain_rule_file_when_on(tmp_path: Path) -> None:
    assert not of_kind(render({}), "PrometheusRule")
    rule = rendered_rule(VALUE_SETS["minio-secret-otel-dashboards"])
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["labels"]["app.kubernetes.io/instance"] == "hfharvest"
    assert rule["metadata"]["namespace"] == "jobs"
    plain = yaml.safe_load((ROOT / "alerts" / "hfharvest.rules.yml").read_text())
    assert rule["spec"] == plain, "the chart ships alerts/hfharvest.rules.yml as it is"
    # What the operator hands Prometheus parses as a rule file.
    spec = tmp_path / "spec.rules.yml"
    spec.write_text(yaml.safe_dump(rule["spec"]))
    ran = subprocess.run(["promtool", "check", "rules", str(spec)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    other = rendered_rule({"prometheusRule": {"enabled": True, "namespace": "monitoring",
                                              "annotations": {"team": "data"}}})
    assert other["metadata"]["namespace"] == "monitoring"
    assert other["metadata"]["annotations"] == {"team": "data"}
