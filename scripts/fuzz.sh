#!/usr/bin/env bash
# Fuzzes the harmony output parser (crates/model/fuzz, target `harmony_parser`) with libFuzzer for a bounded time.
# Fails when the fuzzer finds an input that panics (the target checks the parser's invariants; see
# crates/model/fuzz/README.md), and then prints where libFuzzer wrote it.
#
# Works on the stable toolchain without cargo-fuzz: the target is built with the same instrumentation flags
# cargo-fuzz passes for `-s none` (SanitizerCoverage inline 8-bit counters, PC table, compare tracing,
# `--cfg fuzzing`, debug assertions and overflow checks), for an explicit --target so that build scripts and
# proc macros are not instrumented. libfuzzer-sys compiles libFuzzer itself (needs a C++ compiler).
#
# The working corpus, crates/model/fuzz/corpus/harmony_parser (gitignored), starts from the committed seeds and
# keeps growing from run to run; crashes go to crates/model/fuzz/artifacts/harmony_parser/.
#
# Usage:
#     scripts/fuzz.sh                  # 60 s (what CI runs)
#     scripts/fuzz.sh --seconds 3600   # a long run
#     scripts/fuzz.sh --seconds 600 -- -fork=2   # more arguments go to libFuzzer
#
# Environment: GPT_OSS_TEST_TOKENIZER (the o200k_harmony tokenizer.json the target reads; fetched with
# scripts/fetch-tokenizer.sh when unset).
set -euo pipefail

die() {
    echo "fuzz: $*" >&2
    exit 1
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || die "cannot find the repository root"
cd "$repo"

seconds=60
extra=()
while (($#)); do
    case "$1" in
    --seconds)
        [[ $# -ge 2 && "$2" =~ ^[0-9]+$ && "$2" -gt 0 ]] || die "--seconds takes a positive whole number"
        seconds="$2"
        shift 2
        ;;
    --)
        shift
        extra=("$@")
        break
        ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
        exit 0
        ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
done

if [[ -z "${GPT_OSS_TEST_TOKENIZER:-}" ]]; then
    GPT_OSS_TEST_TOKENIZER="$(bash scripts/fetch-tokenizer.sh)"
fi
export GPT_OSS_TEST_TOKENIZER

host="$(rustc -vV | sed -n 's/^host: //p')"
[[ -n "$host" ]] || die "cannot read the host triple from rustc -vV"
fuzz_dir="crates/model/fuzz"
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
--cfg fuzzing -Cdebug-assertions -Coverflow-checks"
echo "fuzz: building harmony_parser for $host (release, instrumented)" >&2
cargo build --manifest-path "$fuzz_dir/Cargo.toml" --release --locked --target "$host" --bin harmony_parser
binary="$fuzz_dir/target/$host/release/harmony_parser"
[[ -x "$binary" ]] || die "the build did not produce $binary"

corpus="$fuzz_dir/corpus/harmony_parser"
artifacts="$fuzz_dir/artifacts/harmony_parser"
mkdir -p "$corpus" "$artifacts"
cp -n "$fuzz_dir"/seeds/* "$corpus"/
echo "fuzz: running for ${seconds} s from $(find "$corpus" -type f | wc -l) corpus inputs" >&2
status=0
"$binary" "$corpus" -artifact_prefix="$artifacts/" -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=1 "${extra[@]}" || status=$?
if ((status != 0)); then
    echo "fuzz: libFuzzer exited with status $status; inputs it wrote:" >&2
    ls -l "$artifacts" >&2
    echo "fuzz: see crates/model/fuzz/README.md, 'From a finding to a regression test'" >&2
    exit "$status"
fi
echo "fuzz: no finding in ${seconds} s" >&2
