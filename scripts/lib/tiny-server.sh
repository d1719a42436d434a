# shellcheck shell=bash
# Helpers shared by scripts/e2e.sh, scripts/load.sh and scripts/schemathesis.sh: the `gpt-oss` binary, the tiny checkpoint, and servers on
# free ports of 127.0.0.1 that are always stopped by their process ids.
#
# Sourced, not run:  source "$repo/scripts/lib/tiny-server.sh"
#
# The sourcing script must run under `set -euo pipefail` from the repository root and define, before calling
# these functions, die and note (as for scripts/lib/python-venv.sh) and:
#   py         a Python interpreter (the venv's) for the JSON of cargo and the HTTP checks;
#   model_dir  the checkpoint directory (ensure_tiny_checkpoint, start_server);
#   logs       a directory for the servers' logs (start_server, show_log), and
#   pids=()    the servers started, which stop_servers stops: begin_servers sets both.
#
# Functions:
#   begin_servers NAME            sets logs (a new temporary directory, gpt-oss-NAME.XXXXXX) and pids=(), traps
#                                 the script's exit (and INT/TERM) to stop the servers and remove $logs, keeping
#                                 the exit status, and exports NO_PROXY/no_proxy for 127.0.0.1 (requests to the
#                                 servers must not go through a proxy) and PYTHONDONTWRITEBYTECODE
#   ensure_server_binary          sets bin: $GPT_OSS_BIN when set (checked), else builds the server with
#                                 `cargo build -p gpt-oss-server --bin gpt-oss` (dev profile) and takes the
#                                 executable cargo reports (wherever the target directory is)
#   ensure_tiny_checkpoint        writes the tiny checkpoint into $model_dir with `gpt-oss synth --preset tiny`
#                                 when it is missing (tokenizer from scripts/fetch-tokenizer.sh); written beside
#                                 and renamed, so an interrupted run never leaves a partial one that looks complete
#   free_port                     prints a free TCP port of 127.0.0.1
#   start_server NAME PORT ARGS...
#                                 starts `gpt-oss serve --model $model_dir --host 127.0.0.1 --port PORT ARGS...` in
#                                 the background, logging to $logs/NAME.log; appends its id to pids and sets
#                                 NAME_pid
#   wait_healthy NAME PORT SECONDS
#                                 polls /health until it answers 200; dies with the log when the server exits or
#                                 the time runs out
#   show_log NAME                 prints $logs/NAME.log on stderr between markers
#   stop_servers                  SIGTERM to every server in pids, then waits for each (the server finishes the
#                                 requests still running for up to its --shutdown-timeout)

# shellcheck disable=SC2034  # bin is read by the caller.
ensure_server_binary() {
    if [[ -n "${GPT_OSS_BIN:-}" ]]; then
        [[ -x "$GPT_OSS_BIN" ]] || die "GPT_OSS_BIN=$GPT_OSS_BIN is not an executable"
        bin="$GPT_OSS_BIN"
        note "using the prebuilt $bin"
        return 0
    fi
    note "building the server (cargo build -p gpt-oss-server --bin gpt-oss)"
    local build_json
    # The JSON messages name the binary wherever the target directory is (CARGO_TARGET_DIR, .cargo/config).
    build_json="$(cargo build -p gpt-oss-server --bin gpt-oss --message-format=json-render-diagnostics)" \
        || die "cargo build failed"
    bin="$(printf '%s\n' "$build_json" | "$py" -c '
import json, sys
exe = ""
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if message.get("reason") == "compiler-artifact" and message.get("target", {}).get("name") == "gpt-oss":
        exe = message.get("executable") or exe
print(exe)')"
    [[ -n "$bin" && -x "$bin" ]] || die "cargo build reported no gpt-oss executable"
}

ensure_tiny_checkpoint() {
    if [[ -f "$model_dir/config.json" && -f "$model_dir/tokenizer.json" && -f "$model_dir/model.safetensors.index.json" ]]; then
        note "reusing the checkpoint $model_dir"
        return 0
    fi
    local tokenizer partial
    tokenizer="$(bash scripts/fetch-tokenizer.sh)" || die "scripts/fetch-tokenizer.sh failed"
    [[ -f "$tokenizer" ]] || die "scripts/fetch-tokenizer.sh printed '$tokenizer', which is not a file"
    note "writing the tiny checkpoint to $model_dir"
    mkdir -p "$(dirname "$model_dir")" || die "cannot create $(dirname "$model_dir")"
    partial="$model_dir.partial.$$"
    rm -rf "$partial"
    "$bin" synth --preset tiny --out "$partial" --tokenizer "$tokenizer" >&2 || {
        rm -rf "$partial"
        die "gpt-oss synth --preset tiny failed"
    }
    rm -rf "$model_dir"
    mv "$partial" "$model_dir"
}

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

show_log() {
    echo "----- $1 server log ($logs/$1.log) -----" >&2
    cat "$logs/$1.log" >&2 || true
    echo "----- end of $1 server log -----" >&2
}

start_server() {
    local name="$1" port="$2"
    shift 2
    "$bin" serve --model "$model_dir" --host 127.0.0.1 --port "$port" "$@" >"$logs/$name.log" 2>&1 &
    pids+=("$!")
    eval "${name}_pid=$!"
}

wait_healthy() {
    local name="$1" port="$2" timeout="$3" pid_var="${1}_pid"
    local pid="${!pid_var}"
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log "$name"
            die "the $name server exited before answering /health"
        fi
        if "$py" -c '
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)' "http://127.0.0.1:$port/health"; then
            return 0
        fi
        sleep 0.25
    done
    show_log "$name"
    die "the $name server did not answer /health within $timeout s"
}

begin_servers() {
    logs="$(mktemp -d "${TMPDIR:-/tmp}/gpt-oss-$1.XXXXXX")" || die "cannot create a temporary directory"
    pids=()
    trap end_servers EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
    export no_proxy="$NO_PROXY"
    export PYTHONDONTWRITEBYTECODE=1
}

# The EXIT trap of begin_servers.
end_servers() {
    local status=$?
    stop_servers
    rm -rf "$logs"
    exit "$status"
}

stop_servers() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
