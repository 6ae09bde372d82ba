# shellcheck shell=bash
# Virtualenvs for the interop peers, one per pin file in Interop/requirements/.
# Sourced by scripts/test. A venv is reused while the sha256 of its pin file and the
# Python version are unchanged; otherwise it is rebuilt from scratch. Any install failure
# is fatal: the interop suite must never be skipped because a peer is missing.

PEERS_DIR="${DUPLEX_PEERS_DIR:-$PWD/.venv-peers}"
PEER_PYTHON="${DUPLEX_PEER_PYTHON:-python3}"

peers_log() { printf '==> %s\n' "$*" >&2; }
peers_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# peers_stamp PIN_FILE: what a venv built from PIN_FILE was built from.
peers_stamp() {
    local pin_file=$1
    printf '%s %s\n' \
        "$(sha256sum "$pin_file" | cut -d' ' -f1)" \
        "$("$PEER_PYTHON" -c 'import sys; print(sys.version.split()[0])')"
}

# peers_ensure_venv NAME PIN_FILE: create or reuse $PEERS_DIR/NAME with exactly PIN_FILE installed.
peers_ensure_venv() {
    local name=$1 pin_file=$2
    local venv="$PEERS_DIR/$name" stamp
    stamp=$(peers_stamp "$pin_file")
    if [[ -x "$venv/bin/python" && -f "$venv/.duplex-pin-stamp" ]] \
        && [[ "$(cat "$venv/.duplex-pin-stamp")" == "$stamp" ]]; then
        peers_log "reusing $venv"
        return 0
    fi
    peers_log "creating $venv from $pin_file"
    rm -rf "$venv"
    "$PEER_PYTHON" -m venv "$venv" || peers_die "python3 -m venv $venv failed (is python3-venv installed?)"
    # No --quiet: if PyPI or a pin is broken, pip's own message is what the reader needs.
    if ! "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
        --progress-bar off -r "$pin_file"; then
        rm -rf "$venv"
        peers_die "could not install $pin_file into $venv"
    fi
    printf '%s\n' "$stamp" >"$venv/.duplex-pin-stamp"
}

# peers_check_websockets NAME VERSION: the venv imports exactly that websockets version.
peers_check_websockets() {
    local name=$1 version=$2
    local got
    got=$("$PEERS_DIR/$name/bin/python" -c 'import websockets.version as v; print(v.version)') \
        || peers_die "websockets does not import in $PEERS_DIR/$name"
    [[ "$got" == "$version" ]] || peers_die "$PEERS_DIR/$name has websockets $got, expected $version"
}

# peers_setup: every websockets-*.txt and peer-*.txt pin, the runner venv, the JS client bundle and chromium.
peers_setup() {
    local requirements=Interop/requirements pin_file name version
    command -v "$PEER_PYTHON" >/dev/null || peers_die "$PEER_PYTHON not found"
    mkdir -p "$PEERS_DIR"
    local found=0
    for pin_file in "$requirements"/websockets-*.txt; do
        [[ -f "$pin_file" ]] || continue
        found=1
        name=$(basename "$pin_file" .txt)
        version=${name#websockets-}
        peers_ensure_venv "$name" "$pin_file"
        peers_check_websockets "$name" "$version"
    done
    ((found)) || peers_die "no pin files in $requirements"
    # Other peers (python-engineio, python-socketio, uvicorn, aiohttp): one venv per peer-*.txt.
    for pin_file in "$requirements"/peer-*.txt; do
        [[ -f "$pin_file" ]] || continue
        peers_ensure_venv "$(basename "$pin_file" .txt)" "$pin_file"
    done
    peers_ensure_venv runner "$requirements/runner.txt"
    peers_ensure_socketio_js "$requirements/browser-socketio-js.txt"
    peers_ensure_chromium
}

# peers_ensure_socketio_js PIN_FILE: $PEERS_DIR/socketio-js/socket.io.min.js, the official JS client
# bundle, unpacked from the PyPI wheel PIN_FILE names (hash-checked). Never committed to the repo.
peers_ensure_socketio_js() {
    local pin_file=$1
    local dir="$PEERS_DIR/socketio-js" stamp wheel
    stamp=$(sha256sum "$pin_file" | cut -d' ' -f1)
    if [[ -f "$dir/socket.io.min.js" && -f "$dir/.duplex-pin-stamp" ]] \
        && [[ "$(cat "$dir/.duplex-pin-stamp")" == "$stamp" ]]; then
        peers_log "reusing $dir/socket.io.min.js"
        return 0
    fi
    peers_log "downloading the Socket.IO JS client bundle ($pin_file)"
    rm -rf "$dir"
    mkdir -p "$dir/download"
    "$PEERS_DIR/runner/bin/python" -m pip download --disable-pip-version-check --no-input --progress-bar off \
        --no-deps --require-hashes -r "$pin_file" -d "$dir/download" \
        || peers_die "could not download $pin_file (the wheel that ships socket.io.min.js)"
    wheel=$(find "$dir/download" -name '*.whl' | head -n 1)
    [[ -n "$wheel" ]] || peers_die "no wheel downloaded for $pin_file"
    "$PEERS_DIR/runner/bin/python" - "$wheel" "$dir/socket.io.min.js" <<'PY' || peers_die "no socket.io.min.js in $wheel"
import sys, zipfile
wheel, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    names = [name for name in archive.namelist() if name.endswith("/socket.io.min.js")]
    if not names:
        sys.exit(1)
    with open(target, "wb") as out:
        out.write(archive.read(names[0]))
PY
    rm -rf "$dir/download"
    printf '%s\n' "$stamp" >"$dir/.duplex-pin-stamp"
}

# peers_ensure_chromium: the Debian chromium package (headless browser for the JS client test),
# installed non-interactively when missing. Failing to install it is fatal, never a skip.
peers_ensure_chromium() {
    local -a apt=(apt-get)
    if command -v chromium >/dev/null; then
        peers_log "chromium: $(chromium --version 2>/dev/null || echo present)"
        return 0
    fi
    if [[ $(id -u) != 0 ]]; then
        command -v sudo >/dev/null && sudo -n true 2>/dev/null \
            || peers_die "chromium is missing and cannot be installed without root: run 'sudo apt-get install chromium'"
        apt=(sudo -n apt-get)
    fi
    peers_log "installing chromium (apt-get)"
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends chromium; then
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" update \
            && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends chromium \
            || peers_die "could not install the Debian chromium package (needed by the browser interop test)"
    fi
    command -v chromium >/dev/null || peers_die "chromium installed but not on PATH"
}
