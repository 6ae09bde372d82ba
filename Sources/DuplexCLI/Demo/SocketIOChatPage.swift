import Foundation

/// The Socket.IO chat page served at `/` by `duplex serve`: rooms, a member list per room and a
/// typing indicator, on the official JavaScript client.
enum SocketIOChatPage {
    /// The page, loading the Socket.IO client from `clientURL`.
    static func html(clientURL: String) -> String {
        template.replacingOccurrences(of: "{{CLIENT_URL}}", with: htmlEscaped(clientURL))
    }

    private static func htmlEscaped(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "\"": escaped += "&quot;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private static let template = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Duplex chat</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 1fr 220px; height: 100vh; }
          main { display: flex; flex-direction: column; padding: 1rem; min-width: 0; }
          header { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
          h1 { font-size: 1.3rem; margin: 0 1rem 0 0; }
          #log { flex: 1; overflow-y: auto; border: 1px solid #ccc; border-radius: 6px; padding: .5rem; margin-top: .5rem; }
          #log p { margin: .2rem 0; overflow-wrap: anywhere; }
          .system { color: #777; font-style: italic; }
          form { display: flex; gap: .5rem; margin-top: .5rem; }
          input[type=text] { flex: 1; padding: .5rem; }
          aside { border-left: 1px solid #ddd; padding: 1rem; background: #fafafa; overflow-y: auto; }
          #typing { height: 1.2rem; color: #777; font-size: .9rem; }
          #status { font-size: .8rem; color: #555; }
        </style>
        </head>
        <body>
        <main>
          <header>
            <h1>Duplex chat</h1>
            <form id="join-form">
              <input id="name" type="text" placeholder="Your name" maxlength="32" autocomplete="off">
              <input id="room" type="text" placeholder="Room" value="lobby" maxlength="32" autocomplete="off">
              <button>Join</button>
            </form>
          </header>
          <div id="status">connecting…</div>
          <div id="log" aria-live="polite"></div>
          <div id="typing"></div>
          <form id="form"><input id="text" type="text" placeholder="Say something" autocomplete="off" disabled><button id="send" disabled>Send</button></form>
        </main>
        <aside><h2 id="room-title">Members</h2><ul id="members"></ul></aside>
        <script src="{{CLIENT_URL}}"></script>
        <script>
        const $ = (id) => document.getElementById(id);
        const log = (text, cls) => {
          const p = document.createElement("p");
          p.textContent = text;
          if (cls) p.className = cls;
          $("log").appendChild(p);
          $("log").scrollTop = $("log").scrollHeight;
        };
        if (typeof io === "undefined") {
          $("status").textContent = "the Socket.IO client did not load (see `duplex serve --client-file`)";
        } else {
          const socket = io({ transports: ["polling", "websocket"] });
          const showStatus = () => {
            const transport = socket.io.engine ? socket.io.engine.transport.name : "-";
            $("status").textContent = socket.connected ? `connected (${transport}), id ${socket.id}` : "disconnected";
          };
          socket.on("connect", () => {
            showStatus();
            socket.io.engine.on("upgrade", showStatus);
            if ($("name").value) join();
          });
          socket.on("disconnect", (reason) => { showStatus(); log(`disconnected: ${reason}`, "system"); });
          socket.on("chat", (m) => log(`${m.name}: ${m.text}`));
          socket.on("joined", (m) => log(`${m.name} joined ${m.room}`, "system"));
          socket.on("left", (m) => log(`${m.name} left ${m.room}`, "system"));
          socket.on("members", (names) => {
            $("members").replaceChildren(...names.map((n) => { const li = document.createElement("li"); li.textContent = n; return li; }));
          });
          const typing = new Map();
          socket.on("typing", (m) => {
            if (m.typing) typing.set(m.name, true); else typing.delete(m.name);
            const names = [...typing.keys()];
            $("typing").textContent = names.length ? `${names.join(", ")} typing…` : "";
          });
          const join = () => {
            const name = $("name").value.trim() || "guest";
            const room = $("room").value.trim() || "lobby";
            socket.timeout(5000).emit("join", { name, room }, (err, reply) => {
              if (err || !reply || reply.error) { log(`could not join: ${err ? "timeout" : reply && reply.error}`, "system"); return; }
              $("room-title").textContent = `#${reply.room}`;
              $("text").disabled = $("send").disabled = false;
              $("text").focus();
            });
          };
          $("join-form").addEventListener("submit", (e) => { e.preventDefault(); join(); });
          let typingTimer = null;
          $("text").addEventListener("input", () => {
            if (!typingTimer) socket.emit("typing", true);
            clearTimeout(typingTimer);
            typingTimer = setTimeout(() => { socket.emit("typing", false); typingTimer = null; }, 1500);
          });
          $("form").addEventListener("submit", (e) => {
            e.preventDefault();
            const text = $("text").value.trim();
            if (!text) return;
            socket.emit("chat", text);
            $("text").value = "";
            clearTimeout(typingTimer); typingTimer = null; socket.emit("typing", false);
          });
        }
        </script>
        </body>
        </html>
        """
}
