"""Connection state recovery across a graceful restart of `duplex sio-echo` (Duplex issue 5).

`duplex sio-echo --recovery-duration 60000 --recovery-file F` saves the state of its disconnected
clients to F on SIGTERM and restores it at the next start. Client 1 (`duplex connect --json`, with
reconnection) joins a room and receives messages; the server is stopped with SIGTERM and a new
one started on the same port with the same file; client 2 (`duplex connect`, or python-socketio
5.x as a real peer) sends `to-room` messages while client 1 waits to reconnect (its reconnection
delay is long). Client 1 must come back recovered (same sid) and have received every message, in
order, the missed ones replayed after its reconnection.
"""

from __future__ import annotations

import signal
import time

import pytest

from harness.processes import EXIT_OK, EXIT_USAGE, run_duplex
from harness.socketio import (
    CLIENT_TIMEOUT,
    SOCKETIO_LATEST,
    DuplexSocketIOServer,
    OurSocketIOClient,
    run_sio_client,
)

ROOM = "restart-room"
RECONNECTION_DELAY_MS = 4000  # client 1 stays away while the new server starts and client 2 sends


def room_numbers(records: list[dict]) -> list[int]:
    """The first argument of every `room-message` event, in order (the last one is the offset)."""
    return [r["args"][0] for r in records if r.get("type") == "event" and r.get("event") == "room-message"]


def terminate(server: DuplexSocketIOServer) -> str:
    """SIGTERM (a graceful shutdown); returns the server's stderr once it exited with 0."""
    server.process.proc.send_signal(signal.SIGTERM)
    server.process.proc.wait(15)
    assert server.process.proc.returncode == 0, server.process.describe()
    return server.process.stderr_text()


def send_as_client_2(kind: str, duplex_bin, url: str, numbers: list[int], server) -> None:
    """Client 2 joins nothing and sends `to-room` for each number, waiting for each acknowledgement."""
    if kind == "duplex":
        client = OurSocketIOClient(duplex_bin, url, ["--transport", "websocket"])
        try:
            client.expect("connect")
            for number in numbers:
                client.call("to-room", f'"{ROOM}"', str(number))
            assert client.quit() == EXIT_OK, client.describe()
        finally:
            client.stop()
    else:
        script = [{"connect": "b", "namespaces": ["/"]}]
        script += [{"call": "b", "namespace": "/", "event": "to-room", "args": [ROOM, n], "label": f"send {n}"}
                   for n in numbers]
        script += [{"disconnect": "b"}]
        run_sio_client(SOCKETIO_LATEST, url, "websocket", script, server).all_ok()


@pytest.mark.parametrize("client_2", ["duplex", "python-socketio"])
def test_restart_with_recovery_file_loses_no_message(duplex_bin, tmp_path, client_2):
    state_file = tmp_path / "recovery.json"
    flags = ["--recovery-duration", "60000", "--recovery-file", str(state_file)]
    server_a = DuplexSocketIOServer(duplex_bin, flags)
    server_b = None
    client_1 = None
    try:
        port = server_a.port
        url = server_a.url
        client_1 = OurSocketIOClient(
            duplex_bin, url,
            ["--transport", "websocket", "--reconnection-delay", str(RECONNECTION_DELAY_MS),
             "--randomization-factor", "0"],
            reconnect=True)
        first = client_1.expect("connect")
        assert first["recovered"] is False
        client_1.call("join", f'"{ROOM}"')
        for number in (1, 2, 3):
            client_1.call("to-room", f'"{ROOM}"', str(number))
            client_1.expect("event", event="room-message")

        # Graceful restart: SIGTERM, the state is written, a new process on the same port reads it.
        stderr = terminate(server_a)
        assert "recovery state saved" in stderr and state_file.exists(), stderr
        client_1.expect("disconnect", reason="transport close")
        server_b = DuplexSocketIOServer(duplex_bin, flags, port=port)
        assert server_b.port == port

        send_as_client_2(client_2, duplex_bin, url, [4, 5, 6], server_b)
        away = client_1.records.drain(0)
        assert not any(r.get("type") == "connect" for r in away), (
            f"client 1 came back before client 2 sent (reconnection delay too short?): {away}")

        second = client_1.expect("connect", timeout=RECONNECTION_DELAY_MS / 1000 + 15)
        assert second["recovered"] is True, client_1.describe()
        assert second["sid"] == first["sid"]
        # Still in the room: a message after the reconnection arrives live.
        send_as_client_2(client_2, duplex_bin, url, [7], server_b)
        deadline = time.monotonic() + CLIENT_TIMEOUT
        while 7 not in room_numbers(client_1.records.pending()) and time.monotonic() < deadline:
            client_1.records.drain(0.2)
        received = room_numbers(client_1.records.pending())
        assert received == [4, 5, 6, 7], f"after the reconnection: {client_1.records.pending()}"
        assert client_1.quit() == EXIT_OK, client_1.describe()
    finally:
        for process in (client_1, server_a, server_b):
            if process is not None:
                process.stop()


def test_recovery_file_needs_recovery_duration(duplex_bin, tmp_path):
    result = run_duplex(duplex_bin, ["sio-echo", "--port", "0", "--recovery-file", str(tmp_path / "f.json")])
    assert result.returncode == EXIT_USAGE, result


def test_corrupt_recovery_file_is_moved_aside_and_the_server_starts_fresh(duplex_bin, tmp_path):
    state_file = tmp_path / "recovery.json"
    state_file.write_text("{not json")
    server = DuplexSocketIOServer(duplex_bin, ["--recovery-duration", "60000", "--recovery-file", str(state_file)])
    try:
        assert (tmp_path / "recovery.json.corrupt").read_text() == "{not json"
        assert "warning" in server.process.stderr_text()
        client = OurSocketIOClient(duplex_bin, server.url, ["--transport", "websocket"])
        try:
            assert client.expect("connect")["recovered"] is False
            assert client.quit() == EXIT_OK
        finally:
            client.stop()
        terminate(server)
        assert state_file.exists()
    finally:
        server.stop()
