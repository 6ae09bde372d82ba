"""Shared by the websockets peer programs (ws_client.py, ws_server.py).

Runs inside a peer venv (any pinned websockets version, 10.4 and later). It hides the
differences between the two websockets implementations:

- ``legacy``: ``websockets.legacy.*`` (the only one before 13.0; still shipped, deprecated, since 14.0);
- ``new``: the asyncio implementation ``websockets.asyncio.*`` (13.0 and later).

Messages are named and generated deterministically, so the test runner, the peer and
Duplex agree on them without shipping megabytes through pipes; only digests are reported.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
import time
import warnings

# websockets 14+ warns on every use of the legacy implementation; that is the point here.
warnings.filterwarnings("ignore", category=DeprecationWarning)

import websockets.exceptions  # noqa: E402
import websockets.version  # noqa: E402

ONE_MIB = 1 << 20
WEBSOCKETS_VERSION: str = websockets.version.version


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def _large_text() -> str:
    # Exactly 1 MiB of UTF-8 with 2-, 3- and 4-byte sequences; compressible (repeats).
    pattern = "Duplex ✓ ünïcödé 🎉 "
    encoded = pattern.encode()
    repeats = ONE_MIB // len(encoded)
    text = pattern * repeats
    return text + "x" * (ONE_MIB - len(text.encode()))


def _fragments_of(data: bytes, size: int) -> list[bytes]:
    return [data[offset : offset + size] for offset in range(0, len(data), size)]


_LARGE_BINARY = random.Random(7).randbytes(ONE_MIB)  # incompressible
_SPLIT = "🎉".encode()

# name -> message: str (text), bytes (binary), or list (fragments of one message).
MESSAGES: dict[str, object] = {
    "text": "Hello, Duplex! ünïcödé ✓ 🎉",
    "binary": bytes(range(256)),
    "empty_text": "",
    "empty_binary": b"",
    "large_text": _large_text(),
    "large_binary": _LARGE_BINARY,
    "fragmented_text": ["frag", "mënt", "", "ed ✓ 🎉"],
    "fragmented_binary": [b"\x00\x01", b"", b"\xff" * 1000, bytes(range(256))],
    "fragmented_large_binary": _fragments_of(_LARGE_BINARY, 64 * 1024),
    "two_kib_binary": b"\xab" * 2048,
    "two_kib_plus_one_binary": b"\xab" * 2049,
    # Sent as text with text=True (websockets >= 14.0, new implementation): a 4-byte
    # code point split across three fragments (RFC 6455 §5.6: UTF-8 is checked per message).
    "split_utf8_text": [_SPLIT[:1], _SPLIT[1:3], _SPLIT[3:] + b" split"],
}

# Messages that need an async iterable rather than a list.
ASYNC_FRAGMENTED = {"fragmented_text_async": "fragmented_text"}
TEXT_FROM_BYTES = {"split_utf8_text"}


def message_names() -> list[str]:
    return [*MESSAGES, *ASYNC_FRAGMENTED]


def expected_payload(name: str) -> str | bytes:
    """The whole message as the receiver must see it."""
    message = MESSAGES[ASYNC_FRAGMENTED.get(name, name)]
    if isinstance(message, list):
        if name in TEXT_FROM_BYTES:
            return b"".join(message).decode()
        joiner = "" if isinstance(message[0], str) else b""
        return joiner.join(message)
    return message


def digest(payload: str | bytes | None) -> dict | None:
    if payload is None:
        return None
    kind = "text" if isinstance(payload, str) else "binary"
    data = payload.encode() if isinstance(payload, str) else bytes(payload)
    return {"type": kind, "length": len(data), "sha256": hashlib.sha256(data).hexdigest()[:16]}


async def send_named(ws, name: str) -> None:
    """Send message `name`; lists go out as a fragmented message (websockets' iterable send)."""
    if name in ASYNC_FRAGMENTED:
        fragments = MESSAGES[ASYNC_FRAGMENTED[name]]

        async def produce():
            for fragment in fragments:
                yield fragment
                await asyncio.sleep(0)

        await ws.send(produce())
    elif name in TEXT_FROM_BYTES:
        await ws.send(MESSAGES[name], text=True)
    else:
        await ws.send(MESSAGES[name])


class Adapter:
    """Uniform read access to a legacy or new websockets connection."""

    def __init__(self, ws, impl: str) -> None:
        self.ws = ws
        self.impl = impl

    @property
    def _state(self):
        return self.ws if self.impl == "legacy" else self.ws.protocol

    def extensions(self) -> list[str]:
        return [extension.name for extension in self._state.extensions]

    def request_headers(self):
        return self.ws.request_headers if self.impl == "legacy" else self.ws.request.headers

    def response_headers(self):
        return self.ws.response_headers if self.impl == "legacy" else self.ws.response.headers

    def path(self) -> str:
        return self.ws.path if self.impl == "legacy" else self.ws.request.path

    def close_info(self) -> dict:
        rcvd, sent = self._state.close_rcvd, self._state.close_sent
        return {
            "rcvd_code": rcvd.code if rcvd else None,
            "rcvd_reason": rcvd.reason if rcvd else None,
            "sent_code": sent.code if sent else None,
            "sent_reason": sent.reason if sent else None,
        }


def describe(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"


async def run_steps(adapter: Adapter, steps: list[dict], timeout: float) -> list[dict]:
    """Run the steps in order; stop at the first failure (the connection is likely gone).

    {"echo": NAME}      send message NAME, receive, record both digests
    {"ping": HEX}       ping with that payload, wait for the pong
    {"send": NAME}      send message NAME only
    {"send_text": S}    send the text S
    {"send_bytes": HEX} send those bytes as a binary message
    {"recv": true}      receive one message, record its digest (and short texts)
    """
    results = []
    ws = adapter.ws
    for step in steps:
        result: dict = {"step": step}
        results.append(result)
        try:
            if "echo" in step:
                name = step["echo"]
                result["sent"] = digest(expected_payload(name))
                await asyncio.wait_for(send_named(ws, name), timeout)
                result["received"] = digest(await asyncio.wait_for(ws.recv(), timeout))
                if result["received"] != result["sent"]:
                    break
            elif "ping" in step:
                payload = bytes.fromhex(step["ping"])
                started = time.monotonic()
                waiter = await asyncio.wait_for(ws.ping(payload), timeout)
                await asyncio.wait_for(waiter, timeout)
                result["pong"] = True
                result["elapsed"] = round(time.monotonic() - started, 3)
            elif "recv" in step:
                message = await asyncio.wait_for(ws.recv(), timeout)
                result["received"] = digest(message)
                if isinstance(message, str) and len(message) <= 256:
                    result["text"] = message
            elif "send_bytes" in step:
                await asyncio.wait_for(ws.send(bytes.fromhex(step["send_bytes"])), timeout)
            elif "send_text" in step:
                await asyncio.wait_for(ws.send(step["send_text"]), timeout)
            elif "send" in step:
                result["sent"] = digest(expected_payload(step["send"]))
                await asyncio.wait_for(send_named(ws, step["send"]), timeout)
            else:
                raise ValueError(f"unknown step {step!r}")
        except (Exception, asyncio.CancelledError) as exc:  # reported, not raised
            result["exception"] = describe(exc)
            break
    return results


async def await_peer_close(ws, timeout: float) -> dict:
    """Wait until the peer closes; report any message that arrived meanwhile."""
    unexpected = []
    try:
        while True:
            message = await asyncio.wait_for(ws.recv(), timeout)
            unexpected.append(digest(message))
    except websockets.exceptions.ConnectionClosed:
        pass
    await asyncio.wait_for(ws.wait_closed(), timeout)
    return {"unexpected_messages": unexpected}


def emit(record: dict) -> None:
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()
