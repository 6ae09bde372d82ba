"""The peer venvs are what the matrix says they are (guards harness/matrix.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from harness.matrix import ALL_PEERS, VERSIONS, implementations

PROBE = """
import importlib, json, warnings
warnings.simplefilter("ignore")
import websockets.version
found = {}
for impl, modules in {"legacy": ["websockets.legacy.server", "websockets.legacy.client"],
                      "new": ["websockets.asyncio.server", "websockets.asyncio.client"]}.items():
    try:
        for module in modules:
            importlib.import_module(module)
        found[impl] = True
    except ImportError:
        found[impl] = False
print(json.dumps({"version": websockets.version.version, "impls": found}))
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_venv_matches_pin_and_implementations(version):
    python = next(peer.python for peer in ALL_PEERS if peer.version == version)
    completed = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    probe = json.loads(completed.stdout)
    assert probe["version"] == version
    shipped = tuple(impl for impl in ("legacy", "new") if probe["impls"][impl])
    # If a pinned version stops shipping one, update harness/matrix.py (the matrix must cover all).
    assert shipped == implementations(version), probe
