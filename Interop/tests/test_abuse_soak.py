"""A 60-second run of scripts/soak in the suite: 1,000 clients per server connect, echo and
disconnect in a loop against `duplex ws-echo`, `duplex eio-echo` (and `duplex sio-echo` when the
CLI has it); no cycle may fail, and every server's fds and memory return near the baseline
(the bounds and their justification are in Interop/peers/abuse_soak.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from peers.abuse_support import REPORT_PATH

REPO = Path(__file__).resolve().parents[2]
DURATION = 60


@pytest.mark.timeout(DURATION + 240)  # warm-up and settling on a loaded machine come on top
def test_soak_60_seconds(duplex_bin):
    environment = {**os.environ, "DUPLEX_BIN": str(duplex_bin), "PYTHON": sys.executable}
    completed = subprocess.run(
        [str(REPO / "scripts" / "soak"), "--duration", str(DURATION), "--clients", "1000", "--json"],
        capture_output=True, text=True, env=environment, timeout=DURATION + 220, cwd=REPO,
    )
    lines = completed.stdout.strip().splitlines()
    assert lines, f"scripts/soak printed nothing (exit {completed.returncode}):\n{completed.stderr[-4000:]}"
    report = json.loads(lines[-1])
    print(json.dumps({"case": "soak-60s", **report}))
    if REPORT_PATH:
        with open(REPORT_PATH, "a", encoding="utf-8") as file:
            file.write(json.dumps({"case": "soak-60s", **report}) + "\n")
    failing = {name: entry for name, entry in report["servers"].items() if entry["verdict"] != "ok"}
    # No exemption: sio-echo's memory verdict was an xfail until the warm-up ran the soak's own
    # load (Interop/peers/abuse_soak.py warm_up); before that its baseline missed the run's peak.
    assert report["ok"] and completed.returncode == 0 and not failing, json.dumps(report, indent=2)
