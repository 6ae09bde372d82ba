"""Abuse of `duplex sio-echo` (Socket.IO v5 on Engine.IO v4) over loopback: more attachments than
allowed, deep JSON nesting, huge ack ids, CONNECTs to forbidden namespaces.

The contract of `duplex sio-echo` is /work/helpers/SOCKETIO_CONTRACT.md (namespaces `/` and
`/custom`, `message` -> `message-back`, `message-with-ack` acknowledged with its arguments, any
other namespace refused with `{"message":"Invalid namespace"}`). protocol.md 4.2.3: a packet the
decoder refuses (bad attachment count, invalid ack id, invalid payload) closes the connection.

Every case runs inside `guarded(...)` with a Socket.IO canary (`message` round trips every
50 ms on its own connection) and checks the server's memory and fds before and after.
"""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from peers.abuse_support import (
    BINARY,
    CLOSE,
    TEXT,
    Bounds,
    ServerCache,
    WebSocketPeer,
    guarded,
)

SIO_FLAGS = ("--ping-interval", "1000", "--ping-timeout", "4000")
MAX_ATTACHMENTS = 10  # protocol.md 4.2.3: socket.io-parser's default maxAttachments
UINT64_MAX = (1 << 64) - 1


@pytest.fixture(scope="module")
def sio(duplex_bin):
    cache = ServerCache(duplex_bin)
    yield cache.get("sio-echo", *SIO_FLAGS)
    cache.stop_all()


class SocketIOPeer:
    """A raw Socket.IO v5 client over one Engine.IO WebSocket (answers pings)."""

    def __init__(self, port: int, namespace: str = "/") -> None:
        self.peer = WebSocketPeer(port, "/socket.io/?EIO=4&transport=websocket")
        assert self.peer.status == 101, self.peer.head
        opened = self.peer.read_frame()
        assert opened is not None and opened.payload.startswith(b"0{"), opened
        if namespace is not None:
            answer = self.connect(namespace)
            assert answer.startswith(b"40"), answer

    def __enter__(self) -> "SocketIOPeer":
        return self

    def __exit__(self, *_exc) -> None:
        self.peer.close()

    def send_text(self, packet: bytes) -> None:
        self.peer.send(TEXT, packet)

    def send_binary(self, data: bytes) -> None:
        self.peer.send(BINARY, data)

    def next_packet(self, timeout: float = 10.0) -> bytes | None:
        """The next Engine.IO packet (text; binary as b"<binary>" + bytes), None once closed."""
        self.peer.sock.settimeout(timeout)
        while True:
            parsed = self.peer.read_frame()
            if parsed is None or parsed.opcode == CLOSE:
                return None
            if parsed.opcode == TEXT and parsed.payload == b"2":
                self.send_text(b"3")
                continue
            if parsed.opcode == BINARY:
                return b"<binary>" + parsed.payload
            return parsed.payload

    def connect(self, namespace: str, auth: dict | None = None) -> bytes:
        """Sends CONNECT; returns the answer (`40...` or `44...`), skipping the `auth` event."""
        prefix = b"40" if namespace == "/" else f"40{namespace},".encode()
        self.send_text(prefix + (json.dumps(auth).encode() if auth is not None else b""))
        while True:
            packet = self.next_packet()
            assert packet is not None, f"closed instead of answering CONNECT {namespace}"
            if packet.startswith(b"40") or packet.startswith(b"44"):
                return packet

    def wait_event(self, name: str) -> list:
        """Skips packets until an event `name` arrives on `/`; returns its arguments."""
        while True:
            packet = self.next_packet()
            assert packet is not None, f"closed while waiting for {name}"
            if packet.startswith(b"42"):
                event = json.loads(packet[2:])
                if event[0] == name:
                    return event[1:]

    def closed_by_server(self, timeout: float = 10.0) -> bool:
        """Reads until the server closes the connection (Engine.IO `1`, a close frame or EOF)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                packet = self.next_packet(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                return False
            if packet is None or packet == b"1":
                return True
        return False

    def echo(self, text: str) -> None:
        self.send_text(b"42" + json.dumps(["message", text]).encode())
        assert self.wait_event("message-back") == [text]


def placeholder(index: int) -> dict:
    return {"_placeholder": True, "num": index}


# MARK: - Attachments


ATTACHMENT_ABUSES = {
    # protocol.md 4.2.3: "The decoder refuses more than maxAttachments".
    "11-attachments-announced": lambda: ([b"4511-" + json.dumps(["message", *map(placeholder, range(11))]).encode()]
                                         + [b"<binary>x"] * 11),
    "a-billion-attachments-announced": lambda: [b"451000000000-" + json.dumps(["message", placeholder(0)]).encode()],
    "an-attachment-count-over-64-bits": lambda: [b"45" + b"9" * 40 + b"-" + json.dumps(["message"]).encode()],
    # protocol.md 4.2.4: "a placeholder index outside [0, N)".
    "a-placeholder-outside-the-attachments": lambda: [b"451-" + json.dumps(["message", placeholder(7)]).encode(),
                                                      b"<binary>x"],
    # protocol.md 4.2.4: "binary data when no header is pending".
    "more-binaries-than-announced": lambda: [b"451-" + json.dumps(["message", placeholder(0)]).encode(),
                                             b"<binary>a", b"<binary>b", b"<binary>c"],
}


@pytest.mark.parametrize("abuse", list(ATTACHMENT_ABUSES))
def test_attachment_abuse_closes_the_connection(abuse, sio):
    """20 connections each commit the abuse: the server closes each one (decode error) and
    holds nothing for it afterwards."""
    # Bounds: refused before any attachment is stored (or with at most one 1-byte attachment).
    with guarded(sio, f"sio-attachments[{abuse}]", Bounds(rss_growth_mib=8)):
        for _ in range(20):
            with SocketIOPeer(sio.port) as client:
                for packet in ATTACHMENT_ABUSES[abuse]():
                    with contextlib.suppress(OSError):  # the server may already have closed
                        if packet.startswith(b"<binary>"):
                            client.send_binary(packet[len(b"<binary>"):])
                        else:
                            client.send_text(packet)
                assert client.closed_by_server(), f"{abuse}: the connection stayed open"


def test_ten_attachments_are_accepted(sio):
    """The boundary: exactly maxAttachments (10) attachments is a valid packet, echoed whole."""
    with guarded(sio, "sio-attachments[10-accepted]", Bounds(rss_growth_mib=8)):
        with SocketIOPeer(sio.port) as client:
            client.send_text(b"4510-" + json.dumps(["message", *map(placeholder, range(MAX_ATTACHMENTS))]).encode())
            for index in range(MAX_ATTACHMENTS):
                client.send_binary(bytes([index]) * 3)
            header = client.next_packet()
            while header is not None and not header.startswith(b"45"):
                header = client.next_packet()
            assert header is not None and header.startswith(b"4510-"), header
            binaries = [client.next_packet() for _ in range(MAX_ATTACHMENTS)]
            assert binaries == [b"<binary>" + bytes([index]) * 3 for index in range(MAX_ATTACHMENTS)], binaries


def _pending_attachments_then_gone(port: int, count: int) -> None:
    clients = []
    for _ in range(count):
        client = SocketIOPeer(port)
        client.send_text(b"4510-" + json.dumps(["message", *map(placeholder, range(10))]).encode())
        client.send_binary(b"\x00" * (64 << 10))
        clients.append(client)
    for client in clients:
        client.peer.close()


def test_announced_attachments_that_never_come_are_released(sio):
    """200 clients announce 10 attachments, send one of 64 KiB, and vanish: the pending packets
    are dropped with their connections. Run twice: the first run grows the heap to its peak
    (glibc keeps freed heap: measured ~50 MiB kept after 500 such clients); the second must
    reuse it, so growth in the second run means the first run's packets were never freed."""
    _pending_attachments_then_gone(sio.port, 200)
    # Bounds: 200 x 64 KiB = 12.5 MiB live at the peak of each run, reused by the second run;
    # 16 MiB allows the allocator's variance (measured 0-10 MiB between runs of 500).
    with guarded(sio, "sio-attachments[pending-then-gone-x200-second-run]", Bounds(rss_growth_mib=16)):
        _pending_attachments_then_gone(sio.port, 200)


# MARK: - JSON nesting and ack ids


@pytest.mark.parametrize("depth", [33, 1_000, 100_000])
def test_deeply_nested_json_closes_the_connection(depth, sio):
    """JSON nested deeper than the decoder's limit (32 levels) is a decode error: the
    connection is closed; 100,000 levels (200 KB) must not exhaust the server's stack."""
    payload = b"42" + b'["message",' + b"[" * depth + b"]" * depth + b"]"
    with guarded(sio, f"sio-deep-json[{depth}]", Bounds(rss_growth_mib=8)):
        for _ in range(10):
            with SocketIOPeer(sio.port) as client:
                client.send_text(payload)
                assert client.closed_by_server(), f"depth {depth}: the connection stayed open"


def test_huge_ack_ids(sio):
    """protocol.md 4.2.3: an ack id is a non-negative integer. The largest the decoder holds
    (2^64 - 1) is acknowledged with the same id; one more, or 5,000 digits, closes the
    connection."""
    with guarded(sio, "sio-huge-ack-ids", Bounds(rss_growth_mib=8)):
        with SocketIOPeer(sio.port) as client:
            client.send_text(f"42{UINT64_MAX}".encode() + json.dumps(["message-with-ack", "big"]).encode())
            answer = client.next_packet()
            while answer is not None and not answer.startswith(b"43"):
                answer = client.next_packet()
            assert answer == f"43{UINT64_MAX}".encode() + json.dumps(["big"]).encode().replace(b" ", b""), answer
        for ack_id in (str(UINT64_MAX + 1), "9" * 5_000):
            for _ in range(10):
                with SocketIOPeer(sio.port) as client:
                    client.send_text(f"42{ack_id}".encode() + json.dumps(["message-with-ack", "x"]).encode())
                    assert client.closed_by_server(), f"ack id of {len(ack_id)} digits: the connection stayed open"


# MARK: - Forbidden namespaces


def test_connects_to_forbidden_namespaces_are_refused_and_hold_nothing(sio):
    """protocol.md 4.2.5 (ref impl): a CONNECT to an unknown namespace gets
    `44/ns,{"message":"Invalid namespace"}`. 1,000 of them on one session (and a 16 KiB
    namespace name) are each refused, the session goes on serving `/`, and nothing is kept."""
    # Bounds: a refused namespace allocates nothing that outlives the CONNECT_ERROR.
    with guarded(sio, "sio-forbidden-namespaces-x1000", Bounds(rss_growth_mib=8)) as record:
        with SocketIOPeer(sio.port) as client:
            for index in range(1_000):
                namespace = f"/forbidden-{index}"
                answer = client.connect(namespace)
                assert answer.startswith(f"44{namespace},".encode()), answer
                assert json.loads(answer[len(namespace) + 3:]) == {"message": "Invalid namespace"}, answer
                if index % 250 == 0:
                    client.echo(f"still connected after {index}")
            long_name = "/" + "n" * (16 << 10)
            answer = client.connect(long_name)
            assert answer.startswith(b"44/nnnn"), answer[:80]
            client.echo("still connected at the end")
            allowed = client.connect("/custom")
            assert allowed.startswith(b"40/custom,"), allowed
        record.extra.update(refused=1_001)
