"""scripts/otlp-to-openmetrics: OTLP metrics (JSON, or protobuf over HTTP as the job sends
them) to OpenMetrics text with the Prometheus names, which promtool backfills."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from promharness import FIXTURES, ROOT, promtool

SCRIPT = ROOT / "scripts" / "otlp-to-openmetrics"
REQUEST = FIXTURES / "otlp-request.json"  # hand-written: the job's instruments, one point each


def convert(*files: Path) -> str:
    ran = subprocess.run([sys.executable, str(SCRIPT), *map(str, files)], capture_output=True, text=True,
                         check=True)
    return ran.stdout


def test_the_prometheus_names_and_samples() -> None:
    text = convert(REQUEST)
    for line in [
        '# TYPE hfharvest_http_retries counter',
        'hfharvest_http_retries_total{job="hfharvest",server_address="huggingface.co"} 3 1795489540',
        '# UNIT hfharvest_publish_bytes bytes',
        'hfharvest_publish_bytes_total{job="hfharvest"} 12600000 1795489540',
        'hfharvest_run_duration_seconds{job="hfharvest"} 2125.5 1795489540',
        'hfharvest_run_info{error_type="",job="hfharvest",run_id="r1",status="complete"} 1 1795489540',
        'http_client_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="429",'
        'job="hfharvest",le="0.1"} 1 1795489540',
        'http_client_request_duration_seconds_bucket{http_request_method="GET",http_response_status_code="429",'
        'job="hfharvest",le="+Inf"} 3 1795489540',
        'http_client_request_duration_seconds_count{http_request_method="GET",http_response_status_code="429",'
        'job="hfharvest"} 3 1795489540',
    ]:
        assert line in text.splitlines(), line
    assert text.endswith("# EOF\n")
    assert "k8s" not in text, "other resource attributes are not labels"


def test_promtool_backfills_it(tmp_path: Path) -> None:
    om = tmp_path / "run.om"
    om.write_text(convert(REQUEST))
    made = promtool("tsdb", "create-blocks-from", "openmetrics", str(om), str(tmp_path / "data"))
    assert made.returncode == 0, made.stdout + made.stderr


def test_a_receiver_for_the_jobs_otlp_http_export(tmp_path: Path) -> None:
    """What the job sends (http/protobuf), and JSON too, written out when stopped."""
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    out = tmp_path / "received.om"
    receiver = subprocess.Popen([sys.executable, str(SCRIPT), "--listen", "127.0.0.1:0", "--out", str(out)],
                                stderr=subprocess.PIPE, text=True)
    try:
        url = receiver.stderr.readline().split()[-1]
        request = json.loads(REQUEST.read_text())
        body = ParseDict(request, ExportMetricsServiceRequest()).SerializeToString()
        for data, kind in [(body, "application/x-protobuf"), (json.dumps(request).encode(), "application/json")]:
            sent = urllib.request.Request(url, data=data, headers={"Content-Type": kind})
            with urllib.request.urlopen(sent, timeout=10) as reply:
                assert reply.status == 200
    finally:
        receiver.send_signal(signal.SIGTERM)
        receiver.wait(timeout=10)
    assert out.read_text() == convert(REQUEST), "the same samples (sent twice, kept once)"
