"""Their client -> a Socket.IO server: unmodified python-socketio AsyncClients (Interop/peers/sio_client.py).

- python-socketio 5.x (protocol v5 on Engine.IO v4) against `duplex sio-echo` and, as a proof of
  the tests themselves, against the python-socketio reference server with the same semantics
  (Interop/peers/sio_server_asgi.py), over polling, WebSocket and polling + upgrade:
  multiplexed namespaces, refusals (namespace, auth) with their message and data, events and acks
  both ways, binary, rooms, broadcast, disconnect from either side.
- python-socketio 4.6.1 (protocol v4 on Engine.IO v3) against `duplex sio-echo --allow-eio3`:
  connect, event, ack, binary; refused with a clear error without --allow-eio3.
"""

from __future__ import annotations

import json

import pytest

from harness.processes import ProcessCache
from harness.socketio import (
    SOCKETIO_LATEST,
    SOCKETIO_V4,
    TRANSPORTS,
    DuplexSocketIOServer,
    PythonSocketIOServer,
    run_sio_client,
)
from peers.raw_peers import refused_upgrade

# The python-socketio reference proves these tests; one of its two hosts is enough for that (both are
# exercised by test_socketio_our_client.py).
SERVERS = ("duplex", "python-asgi")
MODES = list(TRANSPORTS)

# Arguments with binary at several depths (several attachments, one of them empty) and plain JSON.
BINARY_ARGS = [
    {"_binary": "AAECAwT/"},
    "text, not binary",
    {"nested": [{"_binary": "3q2+7w=="}, {"deeper": {"_binary": ""}}], "n": 1.5, "none": None},
    [{"_binary": "AQ=="}, 2, {"_binary": "Ag=="}],
]
JSON_ARGS = [1, "two", {"a": [1, 2], "é": "€ 😀"}, None, True, [], {}]
# python-engineio 3.x decodes every empty message payload as None (engineio/packet.py, `self.data =
# None` unless the packet is longer than its type byte): an empty attachment cannot reach a v4
# client as bytes, whatever the server sends. The v4 tests use non-empty attachments only.
BINARY_ARGS_V4 = [
    {"_binary": "AAECAwT/"},
    "text, not binary",
    {"nested": [{"_binary": "3q2+7w=="}, {"deeper": {"_binary": "AA=="}}], "n": 1.5, "none": None},
    [{"_binary": "AQ=="}, 2, {"_binary": "Ag=="}],
]


@pytest.fixture(scope="module")
def _sio_servers():
    cache = ProcessCache(capacity=6)
    yield cache
    cache.close_all()


@pytest.fixture
def sio_server(_sio_servers, duplex_bin):
    """sio_server(kind, *flags) -> a running server: "duplex", "python-asgi" or "python-aiohttp"."""
    used = []

    def get(kind: str, *flags: str):
        if kind == "duplex":
            factory = lambda: DuplexSocketIOServer(duplex_bin, flags)  # noqa: E731
        else:
            factory = lambda: PythonSocketIOServer(kind.removeprefix("python-"), flags)  # noqa: E731
        server = _sio_servers.get((kind, flags), factory)
        used.append(server)
        return server

    yield get
    for server in used:
        assert server.alive, f"the {server.name} server died during this test:\n{server.process.describe()}"


def run(server, mode: str, script: list[dict], python=SOCKETIO_LATEST):
    return run_sio_client(python, server.url, mode, script, server)


def joined(client: str, namespaces=("/",), **connect) -> list[dict]:
    """Steps: connect `client` to `namespaces`, then take the `auth` event each namespace sends first."""
    return [{"connect": client, "namespaces": list(namespaces), **connect},
            *({"expect": client, "namespace": namespace, "event": "auth"} for namespace in namespaces)]


def server_matrix(test):
    return pytest.mark.parametrize("kind", SERVERS)(pytest.mark.parametrize("mode", MODES)(test))


# MARK: - python-socketio 5.x


@server_matrix
def test_multiplexed_namespaces_and_auth(kind, mode, sio_server):
    """protocol.md 4.2.5: one Engine.IO session carries `/` and `/custom`, each CONNECT carries the auth
    object, each namespace gets its own socket id, and the server's `auth` event returns the payload
    (or {} when there was none)."""
    server = sio_server(kind)
    auth = {"token": "abc", "list": [1, 2], "nested": {"é": "€"}}
    report = run(server, mode, [
        {"connect": "a", "namespaces": ["/", "/custom"], "auth": auth, "label": "connect"},
        {"expect": "a", "namespace": "/", "event": "auth", "label": "auth /"},
        {"expect": "a", "namespace": "/custom", "event": "auth", "label": "auth /custom"},
        {"connect": "b", "namespaces": ["/"], "label": "connect without auth"},
        {"expect": "b", "namespace": "/", "event": "auth", "label": "empty auth"},
        {"wait_transport": "a", "name": TRANSPORTS[mode][1], "label": "transport"},
    ])
    connect = report.ok("connect")
    sids = connect["sids"]
    assert set(sids) == {"/", "/custom"} and sids["/"] != sids["/custom"], connect
    assert all(isinstance(sid, str) and sid for sid in sids.values()), connect
    assert report.ok("auth /")["args"] == [auth]
    assert report.ok("auth /custom")["args"] == [auth]
    assert report.ok("connect without auth")["ok"]
    assert report.ok("empty auth")["args"] == [{}]
    assert report.ok("transport")["transport"] == TRANSPORTS[mode][1]
    if server.records is not None:
        for namespace in ("/", "/custom"):
            record = server.record(record="connect", namespace=namespace, sid=sids[namespace])
            assert record["auth"] == auth, record


@server_matrix
def test_refused_namespace_reaches_the_client(kind, mode, sio_server):
    """protocol.md 4.2.5: an unknown namespace is refused with CONNECT_ERROR {"message": "Invalid
    namespace"}; the client's connect_error handler gets it."""
    report = run(sio_server(kind), mode, [{"connect": "a", "namespaces": ["/nope"], "label": "connect"}])
    connect = report["connect"]
    assert not connect["ok"], connect
    assert connect["error"]["type"] == "ConnectionError", connect
    assert "/nope" in connect["error"]["message"], connect
    assert connect["connect_errors"] == {"/nope": [{"message": "Invalid namespace"}]}, connect


@server_matrix
@pytest.mark.parametrize("data", [{"code": 42, "why": ["expired", 1]}, "just a string", None],
                         ids=["object", "string", "null"])
def test_refused_auth_delivers_message_and_data(kind, mode, data, sio_server):
    """protocol.md 4.2.5: a refusal is CONNECT_ERROR {"message", "data"}; both reach the client."""
    report = run(sio_server(kind), mode, [
        {"connect": "a", "namespaces": ["/"], "auth": {"reject": data}, "label": "connect"},
    ])
    connect = report["connect"]
    assert not connect["ok"], connect
    assert connect["connect_errors"] == {"/": [{"message": "Unauthorized", "data": data}]}, connect


@server_matrix
def test_events_both_ways(kind, mode, sio_server):
    """protocol.md 4.2.6: client EVENT `message` -> server EVENT `message-back` with the same arguments
    (every JSON type, several arguments, none), on both namespaces."""
    report = run(sio_server(kind), mode, [
        *joined("a", ["/", "/custom"]),
        {"emit": "a", "event": "message", "args": JSON_ARGS},
        {"expect": "a", "event": "message-back", "label": "/"},
        {"emit": "a", "namespace": "/custom", "event": "message", "args": ["on custom"]},
        {"expect": "a", "namespace": "/custom", "event": "message-back", "label": "/custom"},
        {"emit": "a", "event": "message", "args": []},
        {"expect": "a", "event": "message-back", "label": "no arguments"},
    ])
    report.all_ok()
    assert report["/"]["args"] == JSON_ARGS
    assert report["/custom"]["args"] == ["on custom"]
    assert report["no arguments"]["args"] == []


@server_matrix
def test_acks_both_ways(kind, mode, sio_server):
    """protocol.md 4.2.6: the server acknowledges `message-with-ack` with the same arguments; the server
    asks for an ack (`ack-request`), the client's reply comes back in `ack-result`."""
    report = run(sio_server(kind), mode, [
        *joined("a", ["/", "/custom"]),
        {"call": "a", "event": "message-with-ack", "args": JSON_ARGS, "label": "ack"},
        {"call": "a", "event": "message-with-ack", "args": [], "label": "empty ack"},
        {"call": "a", "namespace": "/custom", "event": "message-with-ack", "args": ["c"], "label": "ack /custom"},
        {"emit": "a", "event": "ack-me", "args": ["x", {"y": [1]}]},
        {"expect": "a", "event": "ack-result", "label": "server-requested ack"},
    ])
    report.all_ok()
    assert report["ack"]["ack"] == JSON_ARGS
    assert report["empty ack"]["ack"] == []
    assert report["ack /custom"]["ack"] == ["c"]
    result = report["server-requested ack"]
    assert result["before"] == [{"event": "ack-request", "args": ["x", {"y": [1]}]}], result
    assert result["args"] == ["x", {"y": [1]}], result


@server_matrix
def test_binary_attachments(kind, mode, sio_server):
    """protocol.md 4.2.4: binary anywhere in the arguments (nested, several, empty) stays binary, in
    BINARY_EVENT, BINARY_ACK from the server and BINARY_ACK from the client, on both namespaces."""
    report = run(sio_server(kind), mode, [
        *joined("a", ["/", "/custom"]),
        {"emit": "a", "event": "message", "args": BINARY_ARGS},
        {"expect": "a", "event": "message-back", "label": "event"},
        {"call": "a", "event": "message-with-ack", "args": BINARY_ARGS, "label": "ack"},
        {"emit": "a", "namespace": "/custom", "event": "message", "args": BINARY_ARGS},
        {"expect": "a", "namespace": "/custom", "event": "message-back", "label": "event /custom"},
        {"emit": "a", "event": "ack-me", "args": BINARY_ARGS},
        {"expect": "a", "event": "ack-result", "label": "client binary ack"},
    ])
    report.all_ok()
    assert report["event"]["args"] == BINARY_ARGS
    assert report["ack"]["ack"] == BINARY_ARGS
    assert report["event /custom"]["args"] == BINARY_ARGS
    assert report["client binary ack"]["before"] == [{"event": "ack-request", "args": BINARY_ARGS}]
    assert report["client binary ack"]["args"] == BINARY_ARGS


@server_matrix
def test_rooms_reach_only_their_members(kind, mode, sio_server):
    """Rooms (sio-echo `join`/`leave`/`to-room`): with a, b in room r1 and c not, `room-message` reaches
    a and b only; after b leaves, only a. c's next event after the room emit is a broadcast sent
    later, so nothing for the room reached it in between."""
    report = run(sio_server(kind), mode, [
        *joined("a"), *joined("b"), *joined("c"),
        {"call": "a", "event": "join", "args": ["r1"], "label": "a joins"},
        {"call": "b", "event": "join", "args": ["r1"], "label": "b joins"},
        {"call": "c", "event": "join", "args": ["other"], "label": "c joins another room"},
        {"call": "a", "event": "to-room", "args": ["r1", "hello", {"_binary": "AQI="}], "label": "to r1"},
        {"expect": "a", "event": "room-message", "label": "a gets it"},
        {"expect": "b", "event": "room-message", "label": "b gets it"},
        {"emit": "a", "event": "broadcast", "args": ["after"]},
        {"expect": "c", "event": "broadcast", "label": "c gets only the broadcast"},
        {"call": "b", "event": "leave", "args": ["r1"], "label": "b leaves"},
        {"call": "c", "event": "to-room", "args": ["r1", "second"], "label": "c (outside) to r1"},
        {"expect": "a", "event": "room-message", "label": "a gets the second"},
        {"emit": "c", "event": "broadcast", "args": ["end"]},
        {"expect": "b", "event": "broadcast", "label": "b first broadcast"},
        {"expect": "b", "event": "broadcast", "label": "b got nothing for r1"},
        {"events": "c", "wait": 0.2, "label": "c rest"},
    ])
    report.all_ok()
    assert report["a joins"]["ack"] == ["r1"]
    assert report["b joins"]["ack"] == ["r1"]
    assert report["c joins another room"]["ack"] == ["other"]
    assert report["to r1"]["ack"] == []
    assert report["a gets it"]["args"] == ["hello", {"_binary": "AQI="}]
    assert report["b gets it"]["args"] == ["hello", {"_binary": "AQI="}]
    only_broadcast = report["c gets only the broadcast"]
    assert only_broadcast["args"] == ["after"] and only_broadcast["before"] == [], only_broadcast
    assert report["b leaves"]["ack"] == ["r1"]
    assert report["c (outside) to r1"]["ack"] == []
    assert report["a gets the second"]["args"] == ["second"]
    assert report["b first broadcast"]["args"] == ["after"]
    b_end = report["b got nothing for r1"]
    assert b_end["args"] == ["end"] and b_end["before"] == [], b_end
    assert report["c rest"]["events"] == [{"event": "broadcast", "args": ["end"]}]


@server_matrix
def test_broadcast_reaches_every_socket_of_the_namespace(kind, mode, sio_server):
    """sio-echo `broadcast`: every socket of the namespace gets it, the sender included, binary intact;
    a client connected only to /custom gets nothing."""
    args = ["to all", {"_binary": "/wA="}]
    report = run(sio_server(kind), mode, [
        *joined("a"), *joined("b"), *joined("c"), *joined("d", ["/custom"]),
        {"emit": "b", "event": "broadcast", "args": args},
        *({"expect": name, "event": "broadcast", "label": name} for name in "abc"),
        {"call": "d", "namespace": "/custom", "event": "message-with-ack", "args": [], "label": "d round trip"},
        {"events": "d", "namespace": "/custom", "wait": 0.2, "label": "d events"},
    ])
    report.all_ok()
    for name in "abc":
        assert report[name]["args"] == args, report[name]
    assert report["d events"]["events"] == [], report["d events"]


@server_matrix
def test_server_side_disconnect(kind, mode, sio_server):
    """protocol.md 4.2.7: `disconnect-me` makes the server send DISCONNECT for `/`; the client reports
    "server disconnect", and the session stays up for `/custom`."""
    report = run(sio_server(kind), mode, [
        *joined("a", ["/", "/custom"]),
        {"emit": "a", "event": "disconnect-me", "args": []},
        {"wait_disconnect": "a", "namespace": "/", "label": "disconnected"},
        {"call": "a", "namespace": "/custom", "event": "message-with-ack", "args": ["still here"],
         "label": "custom alive"},
    ])
    report.all_ok()
    assert report["disconnected"]["reason"] == "server disconnect", report["disconnected"]
    assert report["custom alive"]["ack"] == ["still here"]


@server_matrix
def test_client_side_disconnect(kind, mode, sio_server):
    """protocol.md 4.2.7: the client leaves (DISCONNECT for each namespace, then the session closes);
    the server lets the other clients go on and no longer includes it in broadcasts."""
    server = sio_server(kind)
    report = run(server, mode, [
        {"connect": "a", "namespaces": ["/", "/custom"], "label": "connect"},
        *joined("b"),
        {"disconnect": "a", "label": "a leaves"},
        {"emit": "b", "event": "broadcast", "args": ["after a left"]},
        {"expect": "b", "event": "broadcast", "label": "b still served"},
    ])
    report.all_ok()
    assert report["a leaves"]["disconnects"] == {"/": "client disconnect", "/custom": "client disconnect"}
    assert report["a leaves"]["connected"] is False
    assert report["b still served"]["args"] == ["after a left"]
    if server.records is not None:
        sids = report["connect"]["sids"]
        for namespace in ("/", "/custom"):
            record = server.record(record="disconnect", namespace=namespace, sid=sids[namespace])
            # python-socketio handles the DISCONNECT packets and the end of the session concurrently.
            assert record["reason"] in ("client disconnect", "transport close"), record


# MARK: - python-socketio 4.x (protocol v4, Engine.IO v3)


@pytest.mark.parametrize("mode", MODES)
def test_v4_client_with_allow_eio3(mode, sio_server):
    """protocol.md 4.1.9 / 4.2.9: with --allow-eio3 an old client connects (`/` implicitly, `/custom`
    on request), exchanges events and acks, and binary stays binary (EIO3 binary framing)."""
    server = sio_server("duplex", "--allow-eio3")
    report = run(server, mode, [
        {"connect": "a", "namespaces": ["/", "/custom"], "label": "connect"},
        {"emit": "a", "event": "message", "args": JSON_ARGS},
        {"expect": "a", "event": "message-back", "label": "event"},
        {"call": "a", "event": "message-with-ack", "args": ["x", 2], "label": "ack"},
        {"emit": "a", "namespace": "/custom", "event": "message", "args": ["custom"]},
        {"expect": "a", "namespace": "/custom", "event": "message-back", "label": "event /custom"},
        {"emit": "a", "event": "message", "args": BINARY_ARGS_V4},
        {"expect": "a", "event": "message-back", "label": "binary event"},
        {"call": "a", "event": "message-with-ack", "args": BINARY_ARGS_V4, "label": "binary ack"},
        {"emit": "a", "event": "ack-me", "args": BINARY_ARGS_V4},
        {"expect": "a", "event": "ack-result", "label": "client binary ack"},
        {"wait_transport": "a", "name": TRANSPORTS[mode][1], "label": "transport"},
    ], python=SOCKETIO_V4)
    assert report.version.startswith("4."), report.version
    report.all_ok()
    assert set(report["connect"]["sids"]) == {"/", "/custom"}
    assert report["event"]["args"] == JSON_ARGS
    assert report["ack"]["ack"] == ["x", 2]
    assert report["event /custom"]["args"] == ["custom"]
    assert report["binary event"]["args"] == BINARY_ARGS_V4
    assert report["binary ack"]["ack"] == BINARY_ARGS_V4
    assert report["client binary ack"]["args"] == BINARY_ARGS_V4


@pytest.mark.parametrize("mode", MODES)
def test_v4_client_refused_without_allow_eio3(mode, sio_server):
    """protocol.md 4.1.1: without --allow-eio3, EIO=3 is refused (HTTP 400, {"code":5,"message":
    "Unsupported protocol version"}); the old client's connect fails and says so."""
    server = sio_server("duplex")
    report = run(server, mode, [{"connect": "a", "label": "connect"}], python=SOCKETIO_V4)
    connect = report["connect"]
    assert not connect["ok"], connect
    assert connect["error"]["type"] == "ConnectionError", connect
    if mode == "websocket":
        # engineio 3.x's WebSocket client reports only that the handshake failed; the reason is in
        # the refusal itself, checked on the wire.
        assert connect["error"]["message"] == "Connection error", connect
        assert connect["connect_errors"] == {"/": ["Connection error"]}, connect
        status, body = refused_upgrade(server.port, "/socket.io/?EIO=3&transport=websocket")
        assert (status, json.loads(body)) == (400, {"code": 5, "message": "Unsupported protocol version"})
    else:
        assert connect["error"]["message"] == "Unexpected status code 400 in server response", connect
        assert connect["connect_errors"] == {"/": [{"code": 5, "message": "Unsupported protocol version"}]}, connect
