"""Ctrl-C or SIGTERM during a run: it stops, deletes what it created, and still writes the report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conformance.reference.keys import DEMO_DEVELOPER_KEY, DEMO_PARTNER_KEY

KEYS = {"x-api-key": DEMO_PARTNER_KEY, "Authorization": DEMO_DEVELOPER_KEY}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_run_cleans_up_and_reports_an_error(start_reference, tmp_path: Path, signum: int) -> None:
    server = start_reference()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFORMANCE_")}
    env |= {"CONFORMANCE_PARTNER_KEY": DEMO_PARTNER_KEY, "CONFORMANCE_DEVELOPER_KEY": DEMO_DEVELOPER_KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "run", "--base-url", server.base_url, "--budget", "deep"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_until_records_exist(server.base_url)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 3, stderr
    assert "Traceback" not in stdout + stderr
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["verdict"] == "error"
    assert report["cleanup"]["left_behind"] == []
    listed = requests.get(f"{server.base_url}/api/v1/partner/webHooks", headers=KEYS, timeout=10).json()
    assert listed["total"] == 0


def _wait_until_records_exist(base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listed = requests.get(f"{base_url}/api/v1/partner/webHooks", headers=KEYS, timeout=10).json()
        if listed["total"] > 0:
            return
        time.sleep(0.05)
    raise AssertionError("the run never created a record")
