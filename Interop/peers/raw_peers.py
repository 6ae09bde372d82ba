"""Raw-socket peers (standard library only), used in-process by the tests.

- ``RawServer``: a TCP server that misbehaves in a chosen way during or after the
  opening handshake (to pin the error codes of ``duplex ws``). It records what each
  client sent.
- ``http_exchange``: send raw bytes to a server and parse its HTTP response head
  (to pin the statuses ``duplex ws-echo`` answers to malformed upgrade requests).
- ``frame``/``parse_frames``: build and read RFC 6455 frames.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key: str) -> str:
    # RFC 6455 §4.2.2 step 5.4: base64(SHA-1(key + GUID)).
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False,
          mask: bytes | None = None) -> bytes:
    """One RFC 6455 §5.2 frame. Client frames pass a 4-byte mask; server frames pass none."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    mask_bit = 0x80 if mask is not None else 0
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if mask is None:
        return head + payload
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return head + mask + masked


def close_payload(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


@dataclass
class ParsedFrame:
    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes
    size: int  # bytes on the wire, header included

    @property
    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if self.opcode == 8 and len(self.payload) >= 2 else None

    @property
    def close_reason(self) -> str | None:
        return self.payload[2:].decode(errors="replace") if self.opcode == 8 else None


def parse_frames(data: bytes) -> list[ParsedFrame]:
    """Complete frames at the start of `data` (a trailing partial frame is ignored)."""
    frames, offset = [], 0
    while len(data) - offset >= 2:
        first, second = data[offset], data[offset + 1]
        length, cursor = second & 0x7F, offset + 2
        if length == 126:
            if len(data) < cursor + 2:
                break
            length, cursor = struct.unpack_from("!H", data, cursor)[0], cursor + 2
        elif length == 127:
            if len(data) < cursor + 8:
                break
            length, cursor = struct.unpack_from("!Q", data, cursor)[0], cursor + 8
        mask = None
        if second & 0x80:
            if len(data) < cursor + 4:
                break
            mask, cursor = data[cursor : cursor + 4], cursor + 4
        if len(data) < cursor + length:
            break
        payload = data[cursor : cursor + length]
        if mask is not None:
            payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        frames.append(ParsedFrame(bool(first & 0x80), (first >> 4) & 0x7, first & 0x0F, mask is not None, payload,
                                  cursor + length - offset))
        offset = cursor + length
    return frames


def read_head(sock: socket.socket, limit: int = 1 << 20) -> tuple[bytes, bytes]:
    """Read up to the end of an HTTP head; return (head, bytes read past it)."""
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buffer += chunk
        if len(buffer) > limit:
            break
    head, _, rest = buffer.partition(b"\r\n\r\n")
    return head, rest


def parse_headers(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers


@dataclass
class RawConnection:
    request_line: str = ""
    request_headers: dict[str, str] = field(default_factory=dict)
    received_after_head: bytes = b""

    def frames(self) -> list[ParsedFrame]:
        return parse_frames(self.received_after_head)


class RawServer:
    """A misbehaving server on 127.0.0.1:<ephemeral>. Use as a context manager.

    Behaviours (the ``behaviour`` argument):
      close_immediately   accept, then close (FIN) before answering anything
      reset_immediately   accept, then reset (RST) the connection
      silent              accept, read, never answer
      truncated_status    send ``HTTP/1.1 101 Swi`` then close
      headers_then_close  send a 101 status line and one header, then close
      bad_accept          a complete 101 with a wrong Sec-WebSocket-Accept
      no_upgrade_header   a 101 with the right accept key but no ``Upgrade`` header
      status_200          ``HTTP/1.1 200 OK`` with a body
      huge_headers        a 101 status line followed by 1 MiB of headers
      unoffered_extension a valid 101 that adds ``Sec-WebSocket-Extensions: permessage-deflate``
      unoffered_subprotocol a valid 101 that adds ``Sec-WebSocket-Protocol: nope``
      frames              a valid 101, then the raw bytes in ``after_upgrade``
    After answering, the server keeps reading (and recording) until the client closes.
    """

    def __init__(self, behaviour: str, after_upgrade: bytes = b"", hold_seconds: float = 15.0) -> None:
        self.behaviour = behaviour
        self.after_upgrade = after_upgrade
        self.hold_seconds = hold_seconds
        self.connections: list[RawConnection] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/raw"

    def __enter__(self) -> "RawServer":
        thread = threading.Thread(target=self._accept_loop, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *_exc) -> None:
        self._stopping.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        for thread in self._threads:
            thread.join(5)

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                self._sockets.append(sock)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket) -> None:
        connection = RawConnection()
        with self._lock:
            self.connections.append(connection)
        try:
            if self.behaviour == "close_immediately":
                # A FIN before any answer; drain so the close stays graceful (no RST).
                sock.shutdown(socket.SHUT_WR)
                self._record_until_closed(sock, connection)
                return
            if self.behaviour == "reset_immediately":
                # SO_LINGER 0: close() sends RST instead of FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            sock.settimeout(self.hold_seconds)
            head, rest = read_head(sock)
            connection.request_line, connection.request_headers = parse_headers(head)
            connection.received_after_head = rest
            answer = self._answer(connection.request_headers.get("sec-websocket-key", ""))
            if answer is None:  # silent
                self._record_until_closed(sock, connection)
                return
            sock.sendall(answer)
            if self.behaviour in ("truncated_status", "headers_then_close"):
                return
            self._record_until_closed(sock, connection)
        except OSError:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def _answer(self, key: str) -> bytes | None:
        upgrade = (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
        )
        behaviour = self.behaviour
        if behaviour == "silent":
            return None
        if behaviour == "truncated_status":
            return b"HTTP/1.1 101 Swi"
        if behaviour == "headers_then_close":
            return b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        if behaviour == "bad_accept":
            wrong = accept_key(base64.b64encode(os.urandom(16)).decode())
            return (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {wrong}\r\n\r\n"
            ).encode()
        if behaviour == "no_upgrade_header":
            return f"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept_key(key)}\r\n\r\n".encode()
        if behaviour == "status_200":
            return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"
        if behaviour == "huge_headers":
            filler = "".join(f"X-Filler-{index}: {'a' * 1000}\r\n" for index in range(1024))
            return (upgrade + filler + "\r\n").encode()
        if behaviour == "unoffered_extension":
            return (upgrade + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").encode()
        if behaviour == "unoffered_subprotocol":
            return (upgrade + "Sec-WebSocket-Protocol: nope\r\n\r\n").encode()
        if behaviour == "frames":
            return (upgrade + "\r\n").encode() + self.after_upgrade
        raise ValueError(f"unknown behaviour {behaviour!r}")

    def _record_until_closed(self, sock: socket.socket, connection: RawConnection) -> None:
        deadline = time.monotonic() + self.hold_seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            try:
                sock.settimeout(0.2)
                chunk = sock.recv(65536)
            except (TimeoutError, socket.timeout):
                continue
            if not chunk:
                return
            connection.received_after_head += chunk
            # RFC 6455 §7.1.1: once the close handshake is done, the server closes TCP first.
            closes = [parsed for parsed in connection.frames() if parsed.opcode == 8]
            if closes:
                sock.sendall(frame(8, closes[0].payload[:2]))
                return


@dataclass
class HTTPAnswer:
    status: int
    status_line: str
    headers: dict[str, str]
    raw: bytes


def http_exchange(port: int, request: bytes, timeout: float = 10.0) -> HTTPAnswer:
    """Send `request` to 127.0.0.1:port and read the response head (status and headers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        head, _ = read_head(sock)
    if not head:
        raise ConnectionError("the server closed the connection without an HTTP response")
    status_line, headers = parse_headers(head)
    parts = status_line.split(" ", 2)
    return HTTPAnswer(int(parts[1]), status_line, headers, head)


def upgrade_request(path: str = "/", *, method: str = "GET", key: str | None = "dGhlIHNhbXBsZSBub25jZQ==",
                    version: str | None = "13", extra: list[tuple[str, str]] = ()) -> bytes:
    """An RFC 6455 §4.1 opening handshake request; pass None to omit a header."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade"]
    if key is not None:
        lines.append(f"Sec-WebSocket-Key: {key}")
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    lines += [f"{name}: {value}" for name, value in extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def refused_upgrade(port: int, target: str, timeout: float = 10.0) -> tuple[int, bytes]:
    """A WebSocket opening handshake to `target` that the server refuses: (status, body read to the close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(upgrade_request(target))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


class RawClient:
    """A hand-rolled WebSocket client: a valid upgrade, then whatever frames a test writes."""

    def __init__(self, port: int, path: str = "/", *, extra: list[tuple[str, str]] = (), timeout: float = 10.0) -> None:
        self.key = base64.b64encode(os.urandom(16)).decode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(upgrade_request(path, key=self.key, extra=extra))
        head, self._buffer = read_head(self.sock)
        self.status_line, self.headers = parse_headers(head)
        self.status = int(self.status_line.split(" ", 2)[1]) if self.status_line.startswith("HTTP/") else 0

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *_exc) -> None:
        self.sock.close()

    def send(self, opcode: int, payload: bytes = b"", *, fin: bool = True, rsv1: bool = False,
             masked: bool = True) -> None:
        self.sock.sendall(frame(opcode, payload, fin=fin, rsv1=rsv1, mask=os.urandom(4) if masked else None))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_frame(self) -> ParsedFrame | None:
        """The next complete frame, or None when the server closed TCP."""
        while True:
            frames = parse_frames(self._buffer)
            if frames:
                first = frames[0]
                self._buffer = self._buffer[first.size :]
                return first
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk

    def read_until_closed(self) -> list[ParsedFrame]:
        """Every frame until the server closes TCP."""
        frames = []
        while (parsed := self.read_frame()) is not None:
            frames.append(parsed)
        return frames
