"""The official Socket.IO JavaScript client (socket.io.min.js v4.8.x) in headless Chromium -> a server.

The page (Interop/browser/sio_page.html) is served from its own origin, so every request to the
Socket.IO server is cross-origin (CORS). For each transport mode — polling only, WebSocket only,
and the default polling then upgrade — it connects with an auth object, emits with an ack, gets an
event back, sends and receives binary (nested, several attachments, an empty one), answers an ack the
server requests, receives a broadcast on two sockets, and reports which transport ended up active.

Against `duplex sio-echo`, and against the python-socketio ASGI reference (a proof of the test).
"""

from __future__ import annotations

import json
import re

import pytest

from harness.browser import SOCKETIO_JS, Chromium, StaticServer
from harness.processes import ProcessCache
from harness.socketio import DuplexSocketIOServer, PythonSocketIOServer

SCENARIO_TIMEOUT = 40.0

# mode -> (the page's `transports` option, initial transport, final transport)
MODES = {
    "polling": (["polling"], "polling", "polling"),
    "websocket": (["websocket"], "websocket", "websocket"),
    "upgrade": (None, "polling", "websocket"),
}
SERVERS = ["duplex", "python-asgi"]


@pytest.fixture(scope="module")
def browser():
    header = SOCKETIO_JS.read_text(encoding="utf-8", errors="replace")[:200] if SOCKETIO_JS.is_file() else ""
    assert re.search(r"Socket\.IO v4\.\d+\.\d+", header), f"{SOCKETIO_JS} is not the Socket.IO 4.x client: {header!r}"
    static = StaticServer()
    chromium = Chromium()
    yield static, chromium
    chromium.stop()
    static.stop()


@pytest.fixture(scope="module")
def _servers():
    cache = ProcessCache(capacity=2)
    yield cache
    cache.close_all()


@pytest.fixture
def sio_server(_servers, duplex_bin):
    used = []

    def get(kind: str):
        if kind == "duplex":
            server = _servers.get((kind,), lambda: DuplexSocketIOServer(duplex_bin))
        else:
            server = _servers.get((kind,), lambda: PythonSocketIOServer(kind.removeprefix("python-")))
        used.append(server)
        return server

    yield get
    for server in used:
        assert server.alive, f"the {server.name} server died during this test:\n{server.process.describe()}"


@pytest.mark.parametrize("kind", SERVERS)
@pytest.mark.parametrize("mode", list(MODES))
def test_js_client(kind, mode, browser, sio_server):
    """protocol.md 4.1.4/4.1.5/4.1.7 and 4.2.4-4.2.6 with the reference client: connect (auth), emit with
    ack, event, binary both ways, server-requested ack, broadcast, and the transport in use at the end
    (socket.io.engine.transport.name)."""
    static, chromium = browser
    assert chromium.alive, chromium.stderr_text()
    server = sio_server(kind)
    transports, initial, final = MODES[mode]
    page = chromium.page
    page.navigate(static.url, "typeof window.io === 'function' && typeof window.runScenario === 'function'")
    options = {"url": server.url, "transports": transports, "waitForUpgrade": mode == "upgrade",
               "hold": 300 if mode == "polling" else 0}
    result = page.evaluate(f"runScenario({json.dumps(options)})", timeout=SCENARIO_TIMEOUT)
    context = f"{json.dumps(result)}\n{page.describe()}\n{server.process.describe()}"
    assert "error" not in result and result["steps"][-1] == "done", context

    assert result["auth"] == [{"token": "browser", "n": [1, 2]}], context
    assert isinstance(result["id"], str) and result["id"], context
    # The transport the session opened with, and the upgrades it went through (engine "upgrade" events).
    assert result["transports"] == {"initial": initial, "upgrades": ["websocket"] if initial != final else []}, context
    assert result["ack"] == [1, "two", {"a": [1, 2]}], context
    assert result["messageBack"] == ["hello", {"x": 1}], context
    assert result["binaryBack"] == [{"_binary": "AAEC/w=="}, {"nested": [{"_binary": ""}, {"_binary": "CQg="}]},
                                    "text"], context
    assert result["binaryAck"] == [{"_binary": "AQID"}], context
    assert result["ackResult"] == ["x", {"_binary": "Bw=="}], context
    assert result["broadcast"] == [["to all", {"_binary": "BQ=="}]] * 2, context
    assert result["finalAck"] == ["final"], context
    assert result["finalTransports"] == [final, final], context
    assert not page.exceptions, context
