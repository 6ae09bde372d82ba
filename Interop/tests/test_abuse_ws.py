"""Abuse of `duplex ws-echo` (and of the HTTP layer `duplex eio-echo` shares with it) over loopback.

Every case runs inside `guarded(...)`: a canary WebSocket does an echo round trip every 50 ms
throughout and must never fail nor stall, and the server's VmRSS and open fds are read before
and after (and sampled for peaks); each case states and justifies the growth it allows.

Figures: every case prints one JSON line (before/peak/after memory and fds, canary latency);
set DUPLEX_ABUSE_REPORT=FILE to collect them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import struct
import threading
import time
import zlib

import pytest

from peers.abuse_support import (
    BINARY,
    CLOSE,
    CONTINUATION,
    EIO_PATH,
    HANDSHAKE_TIMEOUT,
    MAX_MESSAGE,
    PING,
    PONG,
    TEXT,
    WS_FLAGS,
    WS_PLAIN_FLAGS,
    Bounds,
    Refused,
    ServerCache,
    ServerUnderTest,
    WebSocketPeer,
    client_frame,
    guarded,
    raise_fd_limit,
    read_resources,
    ws_echo_once_async,
    ws_open_async,
)
from peers.raw_peers import parse_frames, upgrade_request

DEFLATE_OFFER = [("Sec-WebSocket-Extensions", "permessage-deflate")]


@pytest.fixture(scope="module")
def server(duplex_bin):
    """server(command, *flags) -> a running server, shared by the tests of this module."""
    cache = ServerCache(duplex_bin)
    yield cache.get
    cache.stop_all()


SERVERS = {"ws-echo": ("ws-echo",), "eio-echo": ("eio-echo",)}


# MARK: - Slow and silent clients (the handshake timeout)


async def _dribble(port: int, prefix: bytes, dribbled: bytes, interval: float, give_up: float) -> float | None:
    """Sends `prefix` at once, then `dribbled` one byte every `interval` seconds; returns when the
    server closed (seconds after connecting), or None if it never did within `give_up`."""
    loop = asyncio.get_running_loop()
    # Timed from before the connect: the server's timer starts when it accepts, which is no
    # earlier, and this coroutine may resume well after the connection was established.
    started = loop.time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(prefix)
        for byte in dribbled:
            if loop.time() - started > give_up:
                return None
            writer.write(bytes([byte]))
            try:
                await writer.drain()
                await asyncio.wait_for(reader.read(4096), interval)
            except asyncio.TimeoutError:
                continue
            except ConnectionError:
                return loop.time() - started
            # The server answered or closed (b""); either way it stopped waiting for the request.
            return loop.time() - started
        raise AssertionError("the whole request went out: make the dribble slower than the timeout")
    finally:
        writer.close()


def _slow_request(kind: str) -> tuple[bytes, bytes]:
    """(sent at once, dribbled) for each slowloris flavour."""
    if kind == "ws-echo-head":
        return b"", upgrade_request("/slow")
    if kind == "eio-echo-head":
        return b"", f"GET {EIO_PATH}?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    if kind == "eio-echo-body":
        # A complete head announcing a 1,000-byte polling body, then the body byte by byte
        # (the handshake timeout covers the whole request, body included).
        head = (f"POST {EIO_PATH}?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n").encode()
        return head, b"4" * 1000
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["ws-echo-head", "eio-echo-head", "eio-echo-body"])
def test_slowloris_requests_are_closed_by_the_handshake_timeout(kind, server):
    """300 clients send their request one byte every 100 ms (it would take over 15 s): the
    server closes each one when the handshake timeout (2 s) expires, whatever it is waiting
    for (request head, or the body of a polling POST)."""
    target = server(kind.split("-head")[0].split("-body")[0])
    prefix, dribbled = _slow_request(kind)
    assert len(dribbled) * 0.1 > HANDSHAKE_TIMEOUT * 3
    # Bounds: each pending connection costs an fd and a few KiB of pipeline until the timeout
    # frees it; 300 of them leave at most a few MiB the allocator may keep (measured ~1-3 MiB).
    with guarded(target, f"slowloris[{kind}]", Bounds(rss_growth_mib=16)) as record:
        async def attack():
            return await asyncio.gather(*(_dribble(target.port, prefix, dribbled, 0.1, HANDSHAKE_TIMEOUT + 8)
                                          for _ in range(300)))

        closed_after = asyncio.run(attack())
        never = [value for value in closed_after if value is None]
        assert not never, f"{len(never)} slow clients were never closed"
        record.extra.update(closed_after_min_s=round(min(closed_after), 2), closed_after_max_s=round(max(closed_after), 2))
        # Closed by the timeout, not before it (the request was valid so far) and not long after.
        assert min(closed_after) >= HANDSHAKE_TIMEOUT * 0.9, record.extra
        assert max(closed_after) <= HANDSHAKE_TIMEOUT + 4, record.extra


@pytest.mark.parametrize("name", list(SERVERS))
def test_half_open_connections_are_closed_by_the_handshake_timeout(name, server):
    """2,000 clients connect and send nothing (well below `ulimit -n`): each is closed by the
    handshake timeout, and the server's fds return to the baseline."""
    target = server(name)
    count = 2000
    # Client and server share the machine's fd limit: each side holds `count` fds (this process
    # and the server both run under the limit raised by ServerCache, normally 20,000 here).
    soft_limit = raise_fd_limit(count + 512)
    assert count + 512 <= soft_limit, f"ulimit -n is {soft_limit}: too low for {count} connections"
    # Bounds: 2,000 idle channels peak at ~10-15 MiB (NIO channel, HTTP decoder, timer each);
    # once closed, glibc keeps part of that heap (measured ~11 MiB retained), so 32 MiB.
    with guarded(target, f"half-open[{name}]", Bounds(rss_growth_mib=32)) as record:
        async def attack():
            loop = asyncio.get_running_loop()
            gate = asyncio.Semaphore(200)  # the listen backlog is 256 (ws-echo) / 1024 (eio-echo)

            async def silent() -> float | None:
                async with gate:
                    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
                started = loop.time()  # an upper bound of the time since the server accepted
                try:
                    data = await asyncio.wait_for(reader.read(4096), HANDSHAKE_TIMEOUT + 10)
                    assert data == b"", f"the server sent {data[:80]!r} to a silent client"
                    return loop.time() - started
                except asyncio.TimeoutError:
                    return None
                except ConnectionError:
                    return loop.time() - started
                finally:
                    writer.close()

            return await asyncio.gather(*(silent() for _ in range(count)))

        closed_after = asyncio.run(attack())
        never = [value for value in closed_after if value is None]
        assert not never, f"{len(never)} of {count} silent connections were never closed"
        record.extra.update(connections=count, closed_after_max_s=round(max(closed_after), 2))
        assert max(closed_after) <= HANDSHAKE_TIMEOUT + 6, record.extra
    assert record.peak_fds >= record.before.fds + count // 2, "the silent connections were not accepted at once"


# MARK: - Oversized request heads (431)


def _send_until_answered(port: int, chunks: list[bytes], timeout: float = 10.0) -> tuple[int, int]:
    """Sends chunks until the server answers; returns (status, bytes sent). The server may close
    before reading everything, so sending stops as soon as an answer is readable."""
    sent = 0
    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            for chunk in chunks:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    assert data.startswith(b"HTTP/1.1 "), f"no HTTP answer after {sent} bytes: {data[:200]!r}"
    return int(data.split(b" ", 2)[1]), sent


def _head_chunks(kind: str) -> list[bytes]:
    base = upgrade_request("/big").removesuffix(b"\r\n")  # the head without its final empty line
    if kind == "1-MiB-of-headers":
        return [base] + [f"X-Filler-{index}: {'f' * 1000}\r\n".encode() for index in range(1024)] + [b"\r\n"]
    if kind == "1-MiB-header-value":
        return [base, b"X-Huge: "] + [b"h" * 4096] * 256 + [b"\r\n\r\n"]
    if kind == "64-KiB-request-line":
        return [b"GET /" + b"p" * 4096] + [b"p" * 4096] * 16 + [b" HTTP/1.1\r\nHost: x\r\n\r\n"]
    if kind == "120-header-fields":  # small (1.6 KiB) but over the 100-field limit
        return [base + "".join(f"X-N{index}: v\r\n" for index in range(120)).encode() + b"\r\n"]
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["1-MiB-of-headers", "1-MiB-header-value", "64-KiB-request-line", "120-header-fields"])
def test_oversized_request_heads_get_431(kind, server):
    """RFC 6585 §5: a head over 16 KiB or with over 100 fields gets 431, after at most ~16 KiB
    were read (the rest is never buffered); 30 such requests leave the server as it was."""
    target = server("ws-echo")
    chunks = _head_chunks(kind)
    # Bounds: each request is refused after at most 16 KiB + one socket read (64 KiB): nothing to retain.
    with guarded(target, f"431[{kind}]", Bounds(rss_growth_mib=8)):
        statuses = {_send_until_answered(target.port, chunks)[0] for _ in range(30)}
        assert statuses == {431}, f"statuses {statuses}"


# MARK: - Frame-level violations (close codes)


def _bomb(inflated_size: int) -> bytes:
    """RFC 7692 §7.2.1: a raw DEFLATE message (no trailing 00 00 ff ff) of `inflated_size` zero bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    body = b"".join(compressor.compress(chunk) for _ in range(inflated_size >> 20))
    body += compressor.flush(zlib.Z_SYNC_FLUSH)
    assert body.endswith(b"\x00\x00\xff\xff")
    return body[:-4]


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


BOMB = _bomb(64 << 20)  # 64 MiB of zeros in ~64 KiB: under the frame limit, 64x the message limit

VIOLATIONS = [
    # (id, offer deflate, frames (bytes on the wire after the upgrade), expected close code)
    ("5.1-unmasked-client-frame", False, [client_frame(TEXT, b"unmasked", masked=False)], 1002),
    ("5.2-rsv1-without-extension", False, [client_frame(TEXT, b"x", rsv=0b100)], 1002),
    ("5.2-rsv2", True, [client_frame(TEXT, b"x", rsv=0b010)], 1002),
    ("5.2-rsv3", True, [client_frame(BINARY, b"x", rsv=0b001)], 1002),
    ("7692-6.1-rsv1-on-a-control-frame", True, [client_frame(PING, b"x", rsv=0b100)], 1002),
    ("5.2-reserved-opcode-0xB", False, [client_frame(0xB, b"x")], 1002),
    ("5.5-ping-over-125-bytes", False, [client_frame(PING, b"p" * 126)], 1002),
    ("5.5-pong-over-125-bytes", False, [client_frame(PONG, b"p" * 126)], 1002),
    ("5.5-close-over-125-bytes", False, [client_frame(CLOSE, struct.pack("!H", 1000) + b"r" * 124)], 1002),
    ("5.5-fragmented-ping", False, [client_frame(PING, b"x", fin=False)], 1002),
    ("5.2-64-bit-length-with-high-bit", False, [client_frame(BINARY, b"", length=1 << 63)[:10]], 1002),
    ("8.1-invalid-utf8", False, [client_frame(TEXT, b"ok \xc3\x28")], 1007),
    ("8.1-invalid-utf8-in-a-later-fragment", False,
     [client_frame(TEXT, b"fine ", fin=False), client_frame(CONTINUATION, b"\xed\xa0\x80 surrogate")], 1007),
    ("8.1-message-ends-inside-a-sequence", False,
     [client_frame(TEXT, b"cut \xe2\x82", fin=False), client_frame(CONTINUATION, b"")], 1007),
    ("8.1-invalid-utf8-compressed", True, [client_frame(TEXT, _deflate(b"zip \xff\xfe"), rsv=0b100)], 1007),
    ("5.5.1-invalid-utf8-close-reason", False, [client_frame(CLOSE, struct.pack("!H", 1000) + b"\xc0\xaf")], 1007),
    ("10.4-declared-frame-of-1-TiB", False, [client_frame(BINARY, b"", length=1 << 40)[:14]], 1009),
    ("10.4-frame-one-byte-over", False, [client_frame(BINARY, b"", length=MAX_MESSAGE + 1)[:14]], 1009),
    ("10.4-fragments-over-the-message-limit", False,
     [client_frame(BINARY, b"a" * (600 << 10), fin=False), client_frame(CONTINUATION, b"b" * (600 << 10))], 1009),
    ("7692-compression-bomb", True, [client_frame(BINARY, BOMB, rsv=0b100)], 1009),
]


def _violate(port: int, offer_deflate: bool, frames: list[bytes]) -> int | None:
    with WebSocketPeer(port, "/abuse", extra=DEFLATE_OFFER if offer_deflate else ()) as peer:
        assert peer.status == 101, peer.head
        if offer_deflate:
            assert "permessage-deflate" in peer.headers.get("sec-websocket-extensions", ""), peer.head
        for data in frames:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                peer.send_raw(data)
        return peer.close_code_received()


@pytest.mark.parametrize("case_id,offer_deflate,frames,expected", VIOLATIONS, ids=[case[0] for case in VIOLATIONS])
def test_violation_closes_with_the_right_code(case_id, offer_deflate, frames, expected, server):
    """RFC 6455 §7.1.7/§7.4.1 and RFC 7692: 30 connections each commit the violation; each gets
    the close code (1002 protocol error, 1007 invalid UTF-8, 1009 too big) and is dropped."""
    target = server("ws-echo", *WS_FLAGS)
    # Bounds: a violating connection is dropped at once; the largest thing a case makes the
    # server hold is one 1 MiB message (the fragments case) or 1 MiB of inflated bomb.
    with guarded(target, f"violation[{case_id}]", Bounds(rss_growth_mib=12)):
        codes = [_violate(target.port, offer_deflate, frames) for _ in range(30)]
        assert set(codes) == {expected}, f"close codes {codes}"


def test_compression_bombs_in_parallel_stay_bounded(server):
    """RFC 7692 §8.1 / RFC 6455 §10.4: 40 connections at once each send a 64 KiB message that
    inflates to 64 MiB. Each is failed with 1009 once it passes the 1 MiB limit, so the server
    never holds more than the limit per connection (40 full inflations would be 2.5 GiB)."""
    target = server("ws-echo", *WS_FLAGS)
    # Bounds: at most 40 x 1 MiB inflated at the peak (+ the 64 KiB compressed frames), and
    # after the case only what the allocator keeps of that.
    with guarded(target, "compression-bombs-x40", Bounds(rss_growth_mib=48)) as record:
        frame_bytes = client_frame(BINARY, BOMB, rsv=0b100)
        results: list[int | None] = []

        def one() -> None:
            results.append(_violate(target.port, True, [frame_bytes]))

        threads = [threading.Thread(target=one) for _ in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert results == [1009] * 40, results
    peak_growth_mib = (record.peak_rss_kib - record.before.rss_kib) / 1024
    assert peak_growth_mib <= 40 * 1 + 64, f"peak VmRSS growth {peak_growth_mib:.0f} MiB: the bombs were inflated past the limit"


# MARK: - A client that never reads


def test_client_that_never_reads_is_blocked_not_buffered(server):
    """8 clients send 64 KiB messages as fast as they can and never read the echoes. Documented
    behaviour (DESIGN.md, "Backpressure is real"; WebSocketConnectionHandler: an event-loop
    handler stops reading while the peer is not reading its replies): the server stops reading
    them, so their sends block, and its memory stays bounded, whatever they send."""
    target = server("ws-echo", *WS_PLAIN_FLAGS)
    message = client_frame(BINARY, os.urandom(64 << 10))
    cap = 512 << 20  # give up after 512 MiB per client: far more than any buffer on the way
    # Bounds: per client, NIO holds at most its write high watermark (64 KiB) plus what one read
    # cycle brought in (a few 64 KiB messages) once the channel becomes unwritable; everything
    # else waits in kernel socket buffers, which VmRSS does not count. 8 clients: ~4 MiB; 24 MiB
    # leaves room for allocator slack.
    with guarded(target, "never-reads-x8", Bounds(rss_growth_mib=24)) as record:
        peers = [WebSocketPeer(target.port, "/never-reads") for _ in range(8)]
        try:
            for peer in peers:
                assert peer.status == 101
                peer.sock.setblocking(False)
            sent = [0] * len(peers)
            last_progress = [time.monotonic()] * len(peers)
            pending = [memoryview(message) for _ in peers]
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                active = [index for index in range(len(peers))
                          if sent[index] < cap and time.monotonic() - last_progress[index] < 1.5]
                if not active:
                    break
                _, writable, _ = select.select([], [peers[index].sock for index in active], [], 0.1)
                for index in active:
                    if peers[index].sock not in writable:
                        continue
                    try:
                        count = peers[index].sock.send(pending[index])
                    except BlockingIOError:
                        continue
                    sent[index] += count
                    last_progress[index] = time.monotonic()
                    pending[index] = pending[index][count:] or memoryview(message)
            record.extra.update(mib_accepted_per_client=[round(value / (1 << 20), 1) for value in sent])
            # Every client ended blocked (no progress for 1.5 s) long before the cap.
            assert all(value < cap for value in sent), record.extra
            stalled_rss = read_resources(target.pid)
            record.extra.update(rss_while_blocked_mib=round(stalled_rss.rss_kib / 1024, 1))
        finally:
            for peer in peers:
                peer.sock.setblocking(True)
                # SO_LINGER 0: reset, as a client that vanishes would.
                peer.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                peer.close()
    peak_growth_mib = (record.peak_rss_kib - record.before.rss_kib) / 1024
    assert peak_growth_mib <= 32, f"peak VmRSS growth {peak_growth_mib:.0f} MiB while the clients were blocked"


# MARK: - Ping floods


PINGS = 10_000


async def _ping_flood(port: int, path: str) -> list[int]:
    """Writes 10,000 pings (8-byte counters) at once, then reads pongs until the last one's; returns their counters."""
    reader, writer, _ = await ws_open_async(port, path)
    try:
        writer.write(b"".join(client_frame(PING, struct.pack("!Q", index)) for index in range(PINGS)))
        pongs: list[int] = []
        buffer = b""
        while not pongs or pongs[-1] != PINGS - 1:
            chunk = await asyncio.wait_for(reader.read(1 << 16), 30)
            assert chunk, f"the server closed the connection after {len(pongs)} pongs"
            buffer += chunk
            frames = parse_frames(buffer)
            buffer = buffer[sum(parsed.size for parsed in frames):]
            for parsed in frames:
                if parsed.opcode == TEXT and path.startswith(EIO_PATH):
                    if parsed.payload == b"2":
                        writer.write(client_frame(TEXT, b"3"))  # the Engine.IO heartbeat goes on meanwhile
                    continue
                assert parsed.opcode == PONG, f"expected a pong, got {parsed}"
                pongs.append(struct.unpack("!Q", parsed.payload)[0])
        return pongs
    finally:
        writer.close()


@pytest.mark.parametrize("name", list(SERVERS))
def test_ping_flood_is_answered_in_order_and_stays_bounded(name, server):
    """RFC 6455 §5.5.2-§5.5.3: a client writes 10,000 pings in one burst. The server answers
    (every ping, or at least the most recent, in order), the canary is unaffected, and memory
    stays bounded (pongs are written as their pings are parsed, and flushed per read)."""
    target = server(name)
    path = "/pings" if name == "ws-echo" else f"{EIO_PATH}?EIO=4&transport=websocket"
    # Bounds: 10,000 pongs are 100 KB on the wire; the server holds at most the pongs of one
    # read, and nothing once the connection is closed.
    with guarded(target, f"ping-flood[{name}]", Bounds(rss_growth_mib=8)) as record:
        started = time.monotonic()
        pongs = asyncio.run(_ping_flood(target.port, path))
        record.extra.update(pongs=len(pongs), seconds=round(time.monotonic() - started, 2))
        assert pongs == sorted(set(pongs)), "pongs out of order or repeated"
        assert pongs[-1] == PINGS - 1, "the most recent ping was not answered"


# MARK: - Connection storm


async def _storm(port: int, total: int, in_flight: int, attempt) -> dict[str, int]:
    """Runs `attempt(port, index)` `total` times, `in_flight` at a time; counts the outcomes."""
    gate = asyncio.Semaphore(in_flight)
    outcomes: dict[str, int] = {}

    async def one(index: int) -> None:
        async with gate:
            try:
                await attempt(port, index)
                key = "served"
            except Refused as error:  # refused cleanly, before the 101
                key = f"refused:{str(error)[:40]}"
            except Exception as error:  # a timeout or a wrong answer is a failure
                key = f"failed:{type(error).__name__}:{str(error)[:60]}"
            outcomes[key] = outcomes.get(key, 0) + 1

    await asyncio.gather(*(one(index) for index in range(total)))
    return outcomes


async def _storm_client(port: int, index: int) -> None:
    """One storm client: the upgrade; every 10th one also echoes a message and closes cleanly,
    the others leave right after the 101 (a debug build spends ~1.5 ms of CPU per upgrade: the
    full exchange for all 10,000 would not fit the suite's time budget)."""
    if index % 10 == 0:
        await ws_echo_once_async(port, f"storm-{index}".encode(), path="/storm", timeout=60)
    else:
        _, writer, _ = await ws_open_async(port, "/storm", timeout=60)
        writer.close()


@pytest.mark.timeout(240)  # the storm itself is bounded at 120 s below; setup and settling come on top
def test_connection_storm_of_10000_connects(duplex_bin):
    """10,000 clients connect in a burst, 250 in flight at a time (as many as the listen backlog
    of 256 holds, so the kernel never drops a SYN), and upgrade: each one is served or refused
    cleanly, the storm ends in a bounded time, the canary keeps its latency bound, and the
    server goes on serving.

    Why not more in flight: an event-loop turn serves every ready connection, and a debug build
    spends ~1.5 ms of CPU per upgrade, so N connections in flight on 2 loops delay the canary by
    ~N x 0.75 ms of CPU, which a loaded machine stretches several times."""
    # Its own server, with the default 10 s handshake timeout: under the storm a loaded
    # machine may take over 2 s to read a request the kernel accepted long before.
    cache = ServerCache(duplex_bin)
    target = cache.get("ws-echo", "--no-compression", "--max-message-size", str(MAX_MESSAGE))
    # Bounds: 250 live connections at the peak (~3 MiB of channels and buffers), then what
    # the allocator keeps of it; fds return once the last connection is closed.
    try:
        with guarded(target, "storm-ws-10000", Bounds(rss_growth_mib=32)) as record:
            started = time.monotonic()
            outcomes = asyncio.run(_storm(target.port, 10_000, 250, _storm_client))
            elapsed = time.monotonic() - started
            record.extra.update(outcomes=outcomes, seconds=round(elapsed, 1))
            failed = {key: value for key, value in outcomes.items() if key.startswith("failed")}
            assert not failed, record.extra
            assert outcomes.get("served", 0) >= 9_000, record.extra
            # ~15 s of server CPU (debug build) plus the client's: 120 s allows a loaded machine.
            assert elapsed < 120, record.extra
            asyncio.run(ws_echo_once_async(target.port, b"still serving"))
    finally:
        cache.stop_all()


# MARK: - Graceful shutdown under load


async def _streaming_client(port: int, number: int, started: asyncio.Event, window: int = 16) -> dict:
    """Streams numbered messages with up to `window` unacknowledged (a busy but well-behaved
    client: a debug build would take tens of seconds to parse the backlog of a client that
    writes without limit), records the echoes, answers the server's close frame."""
    record: dict = {"sent": 0, "echoed": [], "close": None, "tcp_closed": False}
    reader, writer, _ = await ws_open_async(port, f"/client-{number}", timeout=30)
    credit = asyncio.Semaphore(window)
    closing = asyncio.Event()

    async def send_loop() -> None:
        while not closing.is_set():
            await credit.acquire()
            if closing.is_set():
                return
            writer.write(client_frame(TEXT, f"{number}:{record['sent']}".encode()))
            record["sent"] += 1
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            if record["sent"] == 50:
                started.set()

    sender = asyncio.create_task(send_loop())
    buffer = b""
    try:
        while True:
            chunk = await asyncio.wait_for(reader.read(65536), 30)
            if not chunk:
                record["tcp_closed"] = True
                break
            buffer += chunk
            frames = parse_frames(buffer)
            buffer = buffer[sum(parsed.size for parsed in frames):]
            for parsed in frames:
                if parsed.opcode == TEXT and record["close"] is None:
                    record["echoed"].append(parsed.payload.decode())
                    credit.release()
                elif parsed.opcode == CLOSE and record["close"] is None:
                    record["close"] = parsed.close_code
                    closing.set()
                    credit.release()
                    # RFC 6455 §5.5.1: answer the close; the server then closes TCP.
                    writer.write(client_frame(CLOSE, struct.pack("!H", parsed.close_code)))
    finally:
        closing.set()
        sender.cancel()
        writer.close()
    return record


def test_graceful_shutdown_under_load_loses_no_acknowledged_message(duplex_bin):
    """SIGTERM while 20 clients stream numbered messages: each client gets close code 1001
    (RFC 6455 §7.4.1 "going away") and then the TCP close, every echo it saw is one of its
    messages, in order, with no gap (nothing acknowledged was lost or altered), and the server
    exits 0 within its grace period (10 s)."""
    target = ServerUnderTest(duplex_bin, "ws-echo", WS_PLAIN_FLAGS)
    try:
        async def scenario():
            events = [asyncio.Event() for _ in range(20)]
            clients = [asyncio.create_task(_streaming_client(target.port, number, events[number])) for number in range(20)]
            await asyncio.wait_for(asyncio.gather(*(event.wait() for event in events)), 60)
            signalled = time.monotonic()
            target.process.proc.send_signal(signal.SIGTERM)
            records = await asyncio.gather(*clients)
            return records, time.monotonic() - signalled

        records, closed_within = asyncio.run(scenario())
        exit_code = target.process.proc.wait(15)
        assert exit_code == 0, target.describe()
        for number, record in enumerate(records):
            assert record["close"] == 1001, (number, record["close"], target.describe())
            assert record["tcp_closed"], (number, "TCP not closed by the server")
            expected = [f"{number}:{index}" for index in range(len(record["echoed"]))]
            assert record["echoed"] == expected, (number, "echoes are not an in-order prefix of what was sent")
            assert len(record["echoed"]) >= 50 - 16, (number, "too few messages echoed before the shutdown")
        # The grace period is 10 s; well-behaved clients finish the closing handshake long before.
        assert closed_within < 10, f"the clients were closed {closed_within:.1f}s after SIGTERM"
    finally:
        target.stop()
