"""Which websockets versions and implementations the interop suite runs against.

The versions are the pin files ``Interop/requirements/websockets-*.txt``. Which
implementation each version ships was checked against the installed packages and is
re-checked on every run by ``test_peer_matrix.py``:

- ``websockets.legacy`` (the legacy asyncio implementation; in 10.x-12.x it is also what
  ``websockets.serve``/``connect`` are) ships in every pinned version, 10.4 to 17.4;
  it is deprecated since 14.0 but still present.
- ``websockets.asyncio`` (the new implementation) ships from 13.0; it became the default
  ``websockets.serve``/``connect`` in 14.0.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

INTEROP_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = INTEROP_DIR.parent
PEERS_DIR = Path(os.environ.get("DUPLEX_PEERS_DIR", REPO_DIR / ".venv-peers"))
REQUIREMENTS_DIR = INTEROP_DIR / "requirements"
PEER_PROGRAMS_DIR = INTEROP_DIR / "peers"

NEW_IMPLEMENTATION_SINCE = (13, 0)
# websockets >= 14.0, new implementation: send(..., text=True) sends bytes as a text message.
SEND_TEXT_FROM_BYTES_SINCE = (14, 0)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def pinned_versions() -> list[str]:
    names = sorted(REQUIREMENTS_DIR.glob("websockets-*.txt"))
    versions = [path.stem.removeprefix("websockets-") for path in names]
    if not versions:
        raise RuntimeError(f"no websockets pin files in {REQUIREMENTS_DIR}")
    return sorted(versions, key=version_key)


def implementations(version: str) -> tuple[str, ...]:
    if version_key(version) >= NEW_IMPLEMENTATION_SINCE:
        return ("legacy", "new")
    return ("legacy",)


class Peer(NamedTuple):
    """One websockets version and implementation."""

    version: str
    impl: str

    @property
    def id(self) -> str:
        return f"ws{self.version}-{self.impl}"

    @property
    def python(self) -> Path:
        return PEERS_DIR / f"websockets-{self.version}" / "bin" / "python"

    @property
    def sends_text_from_bytes(self) -> bool:
        return self.impl == "new" and version_key(self.version) >= SEND_TEXT_FROM_BYTES_SINCE


VERSIONS = pinned_versions()
LATEST = VERSIONS[-1]
OLDEST = VERSIONS[0]

# The core matrix: every version with every implementation it ships.
ALL_PEERS = [Peer(version, impl) for version in VERSIONS for impl in implementations(version)]
# Failure scenarios run against the latest and the oldest (10.4) version only.
FAILURE_PEERS = [peer for peer in ALL_PEERS if peer.version in (LATEST, OLDEST)]


def peer_ids(peers: list[Peer]) -> list[str]:
    return [peer.id for peer in peers]


# RFC 6455 §7.4.1 codes an endpoint may send, plus registered (3000-3999) and private (4000-4999).
CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999]

# Messages (named in peers/ws_common.py) that every echo test sends.
ECHO_MESSAGES = [
    "text",
    "binary",
    "empty_text",
    "empty_binary",
    "large_text",
    "large_binary",
    "fragmented_text",
    "fragmented_text_async",
    "fragmented_binary",
    "fragmented_large_binary",
]


def echo_messages(peer: Peer) -> list[str]:
    return ECHO_MESSAGES + (["split_utf8_text"] if peer.sends_text_from_bytes else [])
