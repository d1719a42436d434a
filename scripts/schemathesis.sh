#!/usr/bin/env bash
# API fuzzing: schemathesis (pinned, from PyPI) against the OpenAPI document (/openapi.json) of one `gpt-oss serve`
# running the tiny checkpoint on a free port of 127.0.0.1, every operation of the document, in bounded time.
# Fails when any answer is a 5xx (not_a_server_error), a response does not match its documented schema
# (response_schema_conformance), a status code is not documented for its operation (status_code_conformance), a
# request gets no answer / the connection breaks (schemathesis reports it as an error), or the server crashes
# (it must still answer /health afterwards and exit with status 0 on SIGTERM). CI (.ci/run) runs it after the load
# test with GPT_OSS_SCHEMATHESIS_MAX_TIME=90. The served document is as strict as validation (closed request
# objects, ranges, enums, required fields per message role and item type, `model` limited to the served names),
# so generated valid requests reach the handlers and generation, and every error status is documented.
#
# What it does:
#   1. the virtualenv ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/schemathesis-venv from
#      scripts/schemathesis/requirements.txt (pinned, --require-hashes, wheels only; the hashes cover CPython 3.11
#      on manylinux x86_64, see the file's header), via scripts/lib/python-venv.sh;
#   2. the server binary (cargo build, dev profile, unless GPT_OSS_BIN names one) and the tiny checkpoint
#      (${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/tiny-e2e), via scripts/lib/tiny-server.sh;
#   3. starts one server (no API key) with --max-model-len $MAX_MODEL_LEN, waits for its /health;
#   4. runs `schemathesis run http://127.0.0.1:PORT/openapi.json` with the checks above, all phases
#      (examples, coverage, fuzzing, stateful), positive and negative data, at most $MAX_EXAMPLES cases per
#      operation and --max-time $MAX_TIME s, under `timeout` ($HARD_TIMEOUT s) in case it hangs;
#      scripts/schemathesis/hooks.py lowers generated max_tokens / max_completion_tokens / max_output_tokens
#      above 8 to 8 and n / best_of above 2 to 2, so that no request asks the tiny model (which never stops by
#      itself) for a long generation; no endpoint and no other field is excluded or changed;
#   5. checks the server is still alive and healthy, stops it (SIGTERM, exit status 0 within 20 s), prints its log
#      when anything failed, and exits with schemathesis' status (or 1 when only the server failed).
#
# Excluded: nothing. /metrics (text/plain) and /health are fuzzed like the rest (schemathesis skips the schema
# check of a non-JSON body it has no schema for, but still checks the status code and 5xx).
#
# Usage (from anywhere):
#     scripts/schemathesis.sh                       # the default bounded run
#     scripts/schemathesis.sh --seed 1              # more arguments go to `schemathesis run` (after ours)
#
# Environment: PYTHON, GPT_OSS_BIN, GPT_OSS_E2E_MODEL_DIR, GPT_OSS_TOKENIZER_CACHE as for scripts/e2e.sh, and
#   GPT_OSS_SCHEMATHESIS_VENV       the virtualenv (default above)
#   GPT_OSS_SCHEMATHESIS_MAX_TIME   --max-time, seconds (default 150)
#   GPT_OSS_SCHEMATHESIS_EXAMPLES   --max-examples per operation (default 50)
#   GPT_OSS_SCHEMATHESIS_REPORT_DIR keep schemathesis' reports (junit, ndjson) there (default: a temporary
#                                   directory, removed at the end)
set -euo pipefail

die() {
    echo "schemathesis: $*" >&2
    exit 1
}

note() {
    echo "schemathesis: $*" >&2
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || die "cannot find the repository root"
cd "$repo"

readonly REQUIREMENTS='scripts/schemathesis/requirements.txt'
readonly HOOKS='scripts/schemathesis/hooks.py'
readonly MODEL_NAME='gpt-oss-tiny'
readonly STARTUP_TIMEOUT=60
readonly SHUTDOWN_TIMEOUT=10
# Prompt and output together: keeps any prompt the fuzzer invents (token arrays included) cheap to prefill, and
# is a second bound on generation after the hooks.
readonly MAX_MODEL_LEN=1024
readonly MAX_TIME="${GPT_OSS_SCHEMATHESIS_MAX_TIME:-150}"
readonly MAX_EXAMPLES="${GPT_OSS_SCHEMATHESIS_EXAMPLES:-50}"
readonly HARD_TIMEOUT=$((MAX_TIME + 90))
# A single request of the tiny model (at most 2 x 8 tokens) takes well under a second; 30 s means a hang.
readonly REQUEST_TIMEOUT=30
[[ -f "$REQUIREMENTS" ]] || die "$REQUIREMENTS is missing"
[[ -f "$HOOKS" ]] || die "$HOOKS is missing"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) is not installed"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss"
venv="${GPT_OSS_SCHEMATHESIS_VENV:-$cache_root/schemathesis-venv}"
model_dir="${GPT_OSS_E2E_MODEL_DIR:-$cache_root/tiny-e2e}"
started=$SECONDS

# shellcheck source=SCRIPTDIR/lib/python-venv.sh
source "$repo/scripts/lib/python-venv.sh"
# shellcheck source=SCRIPTDIR/lib/tiny-server.sh
source "$repo/scripts/lib/tiny-server.sh"

# 1-2. The virtualenv, the binary, the checkpoint.
ensure_venv "$venv" "$REQUIREMENTS" .schemathesis-requirements.sha256
py="$venv/bin/python"
[[ -x "$venv/bin/schemathesis" ]] || die "$venv/bin/schemathesis is missing"
ensure_server_binary
ensure_tiny_checkpoint

# 3. The server.
begin_servers schemathesis
report_dir="${GPT_OSS_SCHEMATHESIS_REPORT_DIR:-$logs/report}"
mkdir -p "$report_dir" || die "cannot create $report_dir"
report_dir="$(cd "$report_dir" && pwd)" || die "cannot resolve $report_dir"

port="$(free_port)"
start_server fuzz "$port" --served-model-name "$MODEL_NAME" --max-model-len "$MAX_MODEL_LEN" \
    --shutdown-timeout "$SHUTDOWN_TIMEOUT"
wait_healthy fuzz "$port" "$STARTUP_TIMEOUT"
note "server up on 127.0.0.1:$port (process $fuzz_pid) after $((SECONDS - started)) s"

# 4. The fuzzing. The hooks module is imported by name, from scripts/schemathesis/. It runs in $logs, where
# schemathesis writes its .schemathesis/ cache (failures for `st replay`), not in the repository.
status=0
fuzz_started=$SECONDS
cd "$logs"
PYTHONPATH="$repo/scripts/schemathesis${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=hooks \
    timeout --signal=TERM --kill-after=10 "$HARD_TIMEOUT" \
    "$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --mode all \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_TIME" \
    --workers 2 \
    --request-timeout "$REQUEST_TIMEOUT" \
    --suppress-health-check too_slow,filter_too_much \
    --generation-database none \
    --continue-on-failure \
    --no-color \
    --report junit,ndjson --report-dir "$report_dir" \
    "$@" || status=$?
cd "$repo"
if [[ "$status" == 124 || "$status" == 137 ]]; then
    note "schemathesis did not finish within $HARD_TIMEOUT s (killed)"
fi
note "schemathesis ran for $((SECONDS - fuzz_started)) s (status $status)"

# 5. The server survived and stops cleanly.
server_status=0
if ! kill -0 "$fuzz_pid" 2>/dev/null; then
    note "the server is no longer running after the fuzzing (crash)"
    server_status=1
elif ! "$py" -c '
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)' "http://127.0.0.1:$port/health"; then
    note "the server no longer answers /health with 200 after the fuzzing"
    server_status=1
fi
kill "$fuzz_pid" 2>/dev/null || true
deadline=$((SECONDS + SHUTDOWN_TIMEOUT + 10))
while kill -0 "$fuzz_pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.2
done
if kill -0 "$fuzz_pid" 2>/dev/null; then
    note "the server still runs $((SHUTDOWN_TIMEOUT + 10)) s after SIGTERM: killing it"
    kill -KILL "$fuzz_pid" 2>/dev/null || true
fi
exit_status=0
wait "$fuzz_pid" || exit_status=$?
pids=()
if [[ "$exit_status" != 0 ]]; then
    note "the server exited with status $exit_status after SIGTERM"
    server_status=1
fi
[[ "$server_status" == 0 || "$status" != 0 ]] || status=1
if [[ "$status" != 0 ]]; then
    show_log fuzz
    [[ -z "${GPT_OSS_SCHEMATHESIS_REPORT_DIR:-}" ]] || note "reports in $report_dir"
    note "FAILED (status $status) after $((SECONDS - started)) s"
    exit "$status"
fi
note "passed in $((SECONDS - started)) s"
