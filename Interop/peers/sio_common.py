"""Shared by the Socket.IO peer programs (sio_client.py, sio_server_*.py): the JSON form of
Socket.IO arguments, the same as `duplex connect --json` uses.

A binary value (bytes) is written ``{"_binary": "<base64>"}``, anywhere in the arguments. Text
stays text: a peer that turned binary into a base64 string (or back) shows up as a difference.
"""

from __future__ import annotations

import base64
import json
import socket
import sys


def from_json(value):
    """JSON arguments -> Python values with ``{"_binary": …}`` turned into bytes."""
    if isinstance(value, dict):
        if set(value) == {"_binary"} and isinstance(value["_binary"], str):
            return base64.b64decode(value["_binary"])
        return {key: from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value


def to_json(value):
    """Received Python values -> JSON, bytes written as ``{"_binary": …}``."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"_binary": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    return value


def emit_record(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def listening_socket() -> socket.socket:
    """A loopback socket on a free port, already listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sock.setblocking(False)
    return sock
