#!/usr/bin/env bash
# Load test: scripts/load/load.py (64 concurrent clients of the real `openai` SDK by default: streamed chat
# completions, streamed Responses, whole chat completions, with a fifth of the streams cancelled by the client)
# against one `gpt-oss serve` running the tiny checkpoint on a free port of 127.0.0.1. Passes when no request
# fails, every stream that was not cancelled ends properly, /metrics shows no running sequence, no waiting
# request and an empty KV cache afterwards, and the server's RSS does not grow after the warm-up (see load.py).
#
# What it does:
#   1-3. what scripts/e2e.sh does (scripts/lib/python-venv.sh, scripts/lib/tiny-server.sh): the e2e virtualenv
#        (${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/e2e-venv, the `openai` SDK), the server binary (cargo build,
#        dev profile, unless GPT_OSS_BIN names one), the tiny checkpoint
#        (${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/tiny-e2e);
#   4. starts one server as gpt-oss-tiny with --max-num-seqs 64 --max-queue 1024 (and $GPT_OSS_LOAD_SERVER_ARGS),
#      waits for its /health;
#   5. runs load.py against it with --pid (for the RSS) and the arguments given here (default: 300 s);
#   6. stops the server (SIGTERM; it must exit with status 0, within 20 s: its --shutdown-timeout is 10 s), prints its
#      log when anything failed, and exits with load.py's status (or 1 when only the server's exit failed).
#
# Usage (from anywhere):
#     scripts/load.sh                               # 64 clients for 5 minutes (the acceptance run)
#     scripts/load.sh --seconds 20                  # a CI-sized run
#     scripts/load.sh --seconds 60 --clients 64 --json-out /tmp/load.json
#     scripts/load.sh --help                        # load.py's arguments (--cancel-fraction, --max-rss-growth-mib...)
#
# Environment: PYTHON, GPT_OSS_BIN, GPT_OSS_E2E_VENV, GPT_OSS_E2E_MODEL_DIR, GPT_OSS_TOKENIZER_CACHE as for
# scripts/e2e.sh, and
#   GPT_OSS_LOAD_SERVER_ARGS  more arguments for `gpt-oss serve` (word-split), e.g. "--max-batch-tokens 256"
set -euo pipefail

die() {
    echo "load: $*" >&2
    exit 1
}

note() {
    echo "load: $*" >&2
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || die "cannot find the repository root"
cd "$repo"

readonly REQUIREMENTS='scripts/e2e/requirements.txt'
readonly LOAD='scripts/load/load.py'
readonly MODEL_NAME='gpt-oss-tiny'
readonly STARTUP_TIMEOUT=60
readonly SHUTDOWN_TIMEOUT=10
[[ -f "$REQUIREMENTS" ]] || die "$REQUIREMENTS is missing"
[[ -f "$LOAD" ]] || die "$LOAD is missing"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss"
venv="${GPT_OSS_E2E_VENV:-$cache_root/e2e-venv}"
model_dir="${GPT_OSS_E2E_MODEL_DIR:-$cache_root/tiny-e2e}"
started=$SECONDS

# shellcheck source=SCRIPTDIR/lib/python-venv.sh
source "$repo/scripts/lib/python-venv.sh"
# shellcheck source=SCRIPTDIR/lib/tiny-server.sh
source "$repo/scripts/lib/tiny-server.sh"

# 1-3. The virtualenv (shared with scripts/e2e.sh, same stamp), the binary, the checkpoint.
ensure_venv "$venv" "$REQUIREMENTS" .e2e-requirements.sha256
py="$venv/bin/python"
if [[ " $* " == *" --help "* || " $* " == *" -h "* ]]; then
    exec "$py" "$LOAD" --help
fi
ensure_server_binary
ensure_tiny_checkpoint

# 4. The server.
begin_servers load

port="$(free_port)"
# shellcheck disable=SC2086  # GPT_OSS_LOAD_SERVER_ARGS is a list of words.
start_server load "$port" --served-model-name "$MODEL_NAME" --max-num-seqs 64 --max-queue 1024 \
    --shutdown-timeout "$SHUTDOWN_TIMEOUT" ${GPT_OSS_LOAD_SERVER_ARGS:-}
wait_healthy load "$port" "$STARTUP_TIMEOUT"
note "server up on 127.0.0.1:$port (process $load_pid) after $((SECONDS - started)) s"

# 5. The load.
status=0
"$py" "$LOAD" --base-url "http://127.0.0.1:$port/v1" --model "$MODEL_NAME" --pid "$load_pid" "$@" || status=$?

# 6. The server stops cleanly: SIGTERM, exit status 0 (it has no request left to finish).
server_status=0
kill "$load_pid" 2>/dev/null || true
deadline=$((SECONDS + SHUTDOWN_TIMEOUT + 10))
while kill -0 "$load_pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
done
if kill -0 "$load_pid" 2>/dev/null; then
    note "the server still runs $((SHUTDOWN_TIMEOUT + 10)) s after SIGTERM: killing it"
    kill -KILL "$load_pid" 2>/dev/null || true
fi
wait "$load_pid" || server_status=$?
pids=()
if [[ "$server_status" != 0 ]]; then
    note "the server exited with status $server_status after SIGTERM"
    [[ "$status" != 0 ]] || status=1
fi
if [[ "$status" != 0 ]]; then
    show_log load
    note "FAILED (status $status) after $((SECONDS - started)) s"
    exit "$status"
fi
note "passed in $((SECONDS - started)) s"
