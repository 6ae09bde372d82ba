"""Our client -> their server: `duplex connect URL --json` against python-socketio 5.x.

The servers (Interop/peers/sio_server_{asgi,aiohttp}.py) are python-socketio's AsyncServer under
uvicorn (ASGI) and attached to aiohttp, with the `duplex sio-echo` semantics, and print what they
saw (connects with their auth, events with their arguments, disconnects with their reason). Our
client is driven through stdin commands and read through its JSON lines (SOCKETIO_CONTRACT.md),
over polling, WebSocket and polling + upgrade: multiplexed namespaces, refusals (namespace, auth)
with their message and data, events and acks both ways, binary, rooms, broadcast, disconnect from
either side, and the exit codes.
"""

from __future__ import annotations

import json

import pytest

from harness.processes import EXIT_OK, ProcessCache
from harness.socketio import OUR_CLIENT_TRANSPORTS, PYTHON_SERVER_MODES, OurSocketIOClient, PythonSocketIOServer

EXIT_NAMESPACE_REFUSED = 4
EXIT_SERVER_DISCONNECT = 5

SERVERS = [f"python-{mode}" for mode in PYTHON_SERVER_MODES]
MODES = list(OUR_CLIENT_TRANSPORTS)

JSON_ARGS = [1, "two", {"a": [1, 2], "é": "€😀"}, None, True, [], {}, -2.5]
BINARY_ARGS = [
    {"_binary": "AAECAwT/"},
    "text,not-binary",
    {"nested": [{"_binary": "3q2+7w=="}, {"deeper": {"_binary": ""}}], "n": 1.5},
    [{"_binary": "AQ=="}, 2, {"_binary": "Ag=="}],
]


def args_line(args: list) -> str:
    """Command arguments: each JSON value compact, separated by one space."""
    return " ".join(json.dumps(arg, separators=(",", ":"), ensure_ascii=False) for arg in args)


@pytest.fixture(scope="module")
def _python_servers():
    cache = ProcessCache(capacity=4)
    yield cache
    cache.close_all()


@pytest.fixture
def python_server(_python_servers):
    used: list[PythonSocketIOServer] = []

    def get(kind: str, *flags: str) -> PythonSocketIOServer:
        server = _python_servers.get((kind, flags), lambda: PythonSocketIOServer(kind.removeprefix("python-"), flags))
        used.append(server)
        return server

    yield get
    for server in used:
        assert server.alive, f"the {server.name} server died during this test:\n{server.process.describe()}"


@pytest.fixture
def our_client(duplex_bin):
    """our_client(url, mode, *flags) -> a running `duplex connect URL --json --no-reconnect --transport …`."""
    started: list[OurSocketIOClient] = []

    def start(url: str, mode: str, *flags: str) -> OurSocketIOClient:
        client = OurSocketIOClient(duplex_bin, url, ["--transport", OUR_CLIENT_TRANSPORTS[mode], *flags])
        started.append(client)
        return client

    yield start
    for client in started:
        client.stop()


def connected(client: OurSocketIOClient, namespaces=("/",), auth=None) -> dict[str, dict]:
    """Waits for the `connect` record and the `auth` event of each namespace; returns the connects."""
    records = {}
    for namespace in namespaces:
        records[namespace] = client.expect("connect", namespace=namespace)
        auth_event = client.expect_event("auth", namespace)
        assert auth_event["args"] == [auth if auth is not None else {}], client.describe()
        assert auth_event["ack"] is False, auth_event
    return records


def matrix(test):
    return pytest.mark.parametrize("kind", SERVERS)(pytest.mark.parametrize("mode", MODES)(test))


@matrix
def test_multiplexed_namespaces_with_auth(kind, mode, python_server, our_client):
    """protocol.md 4.2.5: `/` and `/custom` over one session, the auth object in each CONNECT, a socket id
    per namespace (the server's), the transport reported, then a clean exit."""
    server = python_server(kind)
    auth = {"token": "abc", "list": [1, 2], "nested": {"é": "€"}}
    client = our_client(server.url, mode, "--namespace", "/custom", "--auth", json.dumps(auth))
    connects = connected(client, ("/", "/custom"), auth)
    # With the upgrade, the namespace CONNECT replies may arrive before or after the switch.
    expected_first = {"polling": {"polling"}, "websocket": {"websocket"}, "upgrade": {"polling", "websocket"}}[mode]
    for namespace, record in connects.items():
        assert record["transport"] in expected_first, record
        seen = server.record(record="connect", namespace=namespace, sid=record["sid"])
        assert seen["auth"] == auth and seen["transport"] in expected_first, seen
    assert connects["/"]["sid"] != connects["/custom"]["sid"]
    if mode == "upgrade":
        assert client.expect("transport")["name"] == "websocket", client.describe()
    assert client.call("message-with-ack", '"round trip"')["args"] == ["round trip"]
    assert client.quit() == EXIT_OK, client.describe()
    # No error, and no (other) transport change: polling and websocket stay put, the upgrade happens once.
    assert not [r for r in client.records.drain(0.2) if r.get("type") in ("error", "transport")], client.describe()
    for namespace, record in connects.items():
        gone = server.record(record="disconnect", namespace=namespace, sid=record["sid"])
        assert gone["reason"] in ("client disconnect", "transport close"), gone


@matrix
def test_no_auth_sends_no_payload(kind, mode, python_server, our_client):
    """protocol.md 4.2.5: without --auth the CONNECT carries no payload (the server's `auth` is {})."""
    server = python_server(kind)
    client = our_client(server.url, mode)
    sid = connected(client)["/"]["sid"]
    assert server.record(record="connect", namespace="/", sid=sid)["auth"] is None
    assert client.quit() == EXIT_OK, client.describe()


@matrix
def test_refused_namespace(kind, mode, python_server, our_client):
    """protocol.md 4.2.5: CONNECT_ERROR {"message":"Invalid namespace"} on the first namespace: reported,
    exit 4; on an extra namespace: reported, the first one keeps working."""
    server = python_server(kind)
    alone = our_client(server.url + "/nope", mode)
    error = alone.expect("connect_error", namespace="/nope")
    assert error["message"] == "Invalid namespace" and "data" not in error, error
    assert alone.wait_exit() == EXIT_NAMESPACE_REFUSED, alone.describe()

    extra = our_client(server.url, mode, "--namespace", "/nope")
    error = extra.expect("connect_error", namespace="/nope")
    assert error["message"] == "Invalid namespace", error
    connected(extra)
    assert extra.call("message-with-ack", "1")["args"] == [1]
    assert extra.quit() == EXIT_OK, extra.describe()


@matrix
@pytest.mark.parametrize("data", [{"code": 42, "why": ["expired", 1]}, "just a string", None],
                         ids=["object", "string", "null"])
def test_refused_auth_reports_message_and_data(kind, mode, data, python_server, our_client):
    """protocol.md 4.2.5: CONNECT_ERROR {"message","data"}: both reach our output; exit 4."""
    server = python_server(kind)
    client = our_client(server.url, mode, "--auth", json.dumps({"reject": data}))
    error = client.expect("connect_error", namespace="/")
    assert error["message"] == "Unauthorized", error
    assert error.get("data") == data, error
    if data is not None:
        assert "data" in error, error
    assert client.wait_exit() == EXIT_NAMESPACE_REFUSED, client.describe()


@matrix
def test_events_both_ways(kind, mode, python_server, our_client):
    """protocol.md 4.2.6: `emit` sends EVENT with every argument as given (every JSON type); the server's
    `message-back` comes back unchanged, on `/` and on `/custom` (`use`)."""
    server = python_server(kind)
    client = our_client(server.url, mode, "--namespace", "/custom")
    sids = {ns: record["sid"] for ns, record in connected(client, ("/", "/custom")).items()}
    client.send(f"emit message {args_line(JSON_ARGS)}")
    back = client.expect_event("message-back")
    assert back["args"] == JSON_ARGS and back["ack"] is False, back
    assert server.record(record="event", event="message", sid=sids["/"])["args"] == JSON_ARGS
    client.send("emit message")
    assert client.expect_event("message-back")["args"] == []
    client.send('use /custom')
    client.send('emit message "on custom" 2')
    assert client.expect_event("message-back", "/custom")["args"] == ["on custom", 2]
    assert server.record(record="event", event="message", sid=sids["/custom"])["args"] == ["on custom", 2]
    assert client.quit() == EXIT_OK, client.describe()


@matrix
def test_acks_both_ways(kind, mode, python_server, our_client):
    """protocol.md 4.2.6: `call` gets the server's ACK (with arguments, or none); the server's
    `ack-request` is flagged ack:true and answered automatically with its arguments (ack-result)."""
    server = python_server(kind)
    client = our_client(server.url, mode)
    connected(client)
    assert client.call("message-with-ack", args_line(JSON_ARGS))["args"] == JSON_ARGS
    assert client.call("message-with-ack")["args"] == []
    client.send('emit ack-me "x" {"y":[1]}')
    request = client.expect_event("ack-request")
    assert request["args"] == ["x", {"y": [1]}] and request["ack"] is True, request
    assert client.expect_event("ack-result")["args"] == ["x", {"y": [1]}], client.describe()
    assert client.quit() == EXIT_OK, client.describe()


@matrix
def test_binary_attachments(kind, mode, python_server, our_client):
    """protocol.md 4.2.4: {"_binary": …} arguments (nested, several, empty) leave as attachments (the
    server receives bytes), come back as attachments, in BINARY_EVENT and BINARY_ACK both ways."""
    server = python_server(kind)
    client = our_client(server.url, mode)
    sid = connected(client)["/"]["sid"]
    client.send(f"emit message {args_line(BINARY_ARGS)}")
    assert client.expect_event("message-back")["args"] == BINARY_ARGS, client.describe()
    assert server.record(record="event", event="message", sid=sid)["args"] == BINARY_ARGS
    assert client.call("message-with-ack", args_line(BINARY_ARGS))["args"] == BINARY_ARGS
    client.send(f"emit ack-me {args_line(BINARY_ARGS)}")
    assert client.expect_event("ack-request")["args"] == BINARY_ARGS
    assert client.expect_event("ack-result")["args"] == BINARY_ARGS, client.describe()
    assert client.quit() == EXIT_OK, client.describe()


@matrix
def test_rooms_reach_only_their_members(kind, mode, python_server, our_client):
    """Rooms: a and b in r1, c not: `room-message` reaches a and b; c's next event is a later broadcast.
    After b leaves, a message for r1 reaches a only."""
    server = python_server(kind)
    a, b, c = (our_client(server.url, mode) for _ in range(3))
    for client in (a, b, c):
        connected(client)
    assert a.call("join", '"r1"')["args"] == ["r1"]
    assert b.call("join", '"r1"')["args"] == ["r1"]
    assert a.call("to-room", '"r1" "hello" {"_binary":"AQI="}')["args"] == []
    for member in (a, b):
        assert member.expect_event("room-message")["args"] == ["hello", {"_binary": "AQI="}], member.describe()
    a.send('emit broadcast "after"')
    assert c.expect_event("broadcast")["args"] == ["after"]
    assert not [r for r in c.records.pending() if r.get("event") == "room-message"], c.describe()
    assert b.expect_event("broadcast")["args"] == ["after"]
    assert b.call("leave", '"r1"')["args"] == ["r1"]
    assert c.call("to-room", '"r1" "second"')["args"] == []
    assert a.expect_event("room-message")["args"] == ["second"]
    c.send('emit broadcast "end"')
    assert b.expect_event("broadcast")["args"] == ["end"]
    assert not [r for r in b.records.pending() if r.get("event") == "room-message"], b.describe()
    for client in (a, b, c):
        assert client.quit() == EXIT_OK, client.describe()


@matrix
def test_broadcast_reaches_every_socket(kind, mode, python_server, our_client):
    """`broadcast` reaches every socket of the namespace, the sender included, binary intact."""
    server = python_server(kind)
    clients = [our_client(server.url, mode) for _ in range(3)]
    for client in clients:
        connected(client)
    clients[1].send('emit broadcast "to all" {"_binary":"/wA="}')
    for client in clients:
        assert client.expect_event("broadcast")["args"] == ["to all", {"_binary": "/wA="}], client.describe()
    for client in clients:
        assert client.quit() == EXIT_OK, client.describe()


@matrix
def test_server_side_disconnect(kind, mode, python_server, our_client):
    """protocol.md 4.2.7: the server's DISCONNECT for `/` is reported ("io server disconnect") and
    `/custom` keeps working; when the server disconnects the only namespace, the client exits by
    itself with 5."""
    server = python_server(kind)
    client = our_client(server.url, mode, "--namespace", "/custom")
    connected(client, ("/", "/custom"))
    client.send("emit disconnect-me")
    gone = client.expect("disconnect", namespace="/")
    assert gone["reason"] == "io server disconnect", gone
    client.send("use /custom")
    assert client.call("message-with-ack", '"still here"', namespace="/custom")["args"] == ["still here"]
    assert client.quit() == EXIT_OK, client.describe()

    alone = our_client(server.url, mode)
    connected(alone)
    alone.send("emit disconnect-me")
    assert alone.expect("disconnect", namespace="/")["reason"] == "io server disconnect", alone.describe()
    # Nothing is left to do: the client ends by itself (no `quit`), with the server-disconnect code.
    assert alone.wait_exit() == EXIT_SERVER_DISCONNECT, alone.describe()


@matrix
def test_client_side_disconnect(kind, mode, python_server, our_client):
    """protocol.md 4.2.7: `disconnect` leaves the current namespace only (DISCONNECT, the server sees
    "client disconnect"); the session goes on for `/`; `quit` ends everything, exit 0."""
    server = python_server(kind)
    client = our_client(server.url, mode, "--namespace", "/custom")
    sids = {ns: record["sid"] for ns, record in connected(client, ("/", "/custom")).items()}
    client.send("use /custom")
    client.send("disconnect")
    left = client.expect("disconnect", namespace="/custom")
    assert left["reason"] == "io client disconnect", left
    assert server.record(record="disconnect", namespace="/custom", sid=sids["/custom"])["reason"] == "client disconnect"
    client.send("use /")
    assert client.call("message-with-ack", '"still here"')["args"] == ["still here"]
    assert client.quit() == EXIT_OK, client.describe()
    gone = server.record(record="disconnect", namespace="/", sid=sids["/"])
    assert gone["reason"] in ("client disconnect", "transport close"), gone


@pytest.mark.parametrize("kind", SERVERS)
def test_arguments_with_spaces_inside_strings(kind, python_server, our_client):
    """The command grammar: arguments are whitespace-separated JSON values, so spaces inside a JSON
    string or around object members belong to the value."""
    server = python_server(kind)
    client = our_client(server.url, "websocket")
    connected(client)
    assert client.call("message-with-ack", '"two words"   { "a" : [1, 2] }  "x"')["args"] == [
        "two words", {"a": [1, 2]}, "x"]
    assert client.quit() == EXIT_OK, client.describe()
