/// The plain-WebSocket chat page served at `/websocket` by `duplex serve` (over `/ws`).
enum WebSocketChatPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Duplex chat</title>
        <style>
          body { font-family: system-ui, sans-serif; margin: 0; display: grid; grid-template-columns: 1fr 200px; height: 100vh; }
          main { display: flex; flex-direction: column; padding: 1rem; min-width: 0; }
          #log { flex: 1; overflow-y: auto; border: 1px solid #ccc; border-radius: 6px; padding: .5rem; }
          #log p { margin: .2rem 0; }
          .system { color: #777; font-style: italic; }
          form { display: flex; gap: .5rem; margin-top: .5rem; }
          input[type=text] { flex: 1; padding: .5rem; }
          aside { border-left: 1px solid #ddd; padding: 1rem; background: #fafafa; }
          #typing { height: 1.2rem; color: #777; font-size: .9rem; }
          #status { font-size: .8rem; color: #555; }
        </style>
        </head>
        <body>
        <main>
          <h1>Duplex chat</h1>
          <div id="status">connecting…</div>
          <div id="log" aria-live="polite"></div>
          <div id="typing"></div>
          <form id="form"><input id="text" type="text" placeholder="Say something" autocomplete="off"><button>Send</button></form>
        </main>
        <aside><h2>Members</h2><ul id="members"></ul></aside>
        <script>
        const name = (prompt("Your name?") || "guest").slice(0, 32);
        const log = document.getElementById("log"), typing = document.getElementById("typing");
        const statusLine = document.getElementById("status");
        function add(text, cls) { const p = document.createElement("p"); p.textContent = text; if (cls) p.className = cls; log.appendChild(p); log.scrollTop = log.scrollHeight; }
        let socket, typingTimer, lastTyping = 0;
        function connect() {
          socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
          socket.onopen = () => { statusLine.textContent = "connected as " + name; socket.send(JSON.stringify({type: "join", name})); };
          socket.onclose = (e) => { statusLine.textContent = "disconnected (" + e.code + "), reconnecting…"; setTimeout(connect, 1000); };
          socket.onmessage = (event) => {
            const m = JSON.parse(event.data);
            if (m.type === "said") add(m.name + ": " + m.text);
            else if (m.type === "joined") add(m.name + " joined", "system");
            else if (m.type === "left") add(m.name + " left", "system");
            else if (m.type === "members") document.getElementById("members").replaceChildren(...m.names.map(n => { const li = document.createElement("li"); li.textContent = n; return li; }));
            else if (m.type === "typing" && m.name !== name) { typing.textContent = m.name + " is typing…"; clearTimeout(typingTimer); typingTimer = setTimeout(() => typing.textContent = "", 1500); }
          };
        }
        connect();
        const input = document.getElementById("text");
        input.addEventListener("input", () => { if (Date.now() - lastTyping > 1000 && socket.readyState === 1) { lastTyping = Date.now(); socket.send(JSON.stringify({type: "typing"})); } });
        document.getElementById("form").addEventListener("submit", (e) => { e.preventDefault(); if (input.value && socket.readyState === 1) { socket.send(JSON.stringify({type: "say", text: input.value})); input.value = ""; } });
        </script>
        </body>
        </html>
        """
}
