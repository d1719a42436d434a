# shellcheck shell=bash
# Helpers shared by scripts/e2e.sh and scripts/harmony-goldens.sh: a virtualenv with pinned, hash-checked wheels.
#
# Sourced, not run:  source "$repo/scripts/lib/python-venv.sh"
#
# The sourcing script must run under `set -euo pipefail` and define, before calling these functions:
#   die MESSAGE...   prints "PREFIX: MESSAGE" on stderr and exits 1;
#   note MESSAGE...  prints "PREFIX: MESSAGE" on stderr.
#
# Functions:
#   sha256_of FILE                          prints FILE's sha256 (hex)
#   supported_python PY                     succeeds when PY is CPython 3.10-3.13
#   find_python                             prints $PYTHON (checked) or the first supported python3.x found
#   ensure_venv VENV REQUIREMENTS STAMP_NAME
#                                           creates VENV (or reuses it when its python is supported) and installs
#                                           REQUIREMENTS into it with --require-hashes --only-binary=:all: unless
#                                           VENV/STAMP_NAME already holds the requirements' sha256; writes that
#                                           stamp after a successful install. Sets venv_installed to 1 when it ran
#                                           pip, 0 when it skipped it.

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
    # The pinned wheels with compiled code (pydantic-core; jiter for e2e) exist for CPython 3.10-3.13.
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

# A stamp holding the requirements' hash makes reruns skip pip (and work offline).
# shellcheck disable=SC2034  # venv_installed is read by the caller.
ensure_venv() {
    local venv="$1" requirements="$2" stamp="$1/$3"
    local want_stamp python
    want_stamp="$(sha256_of "$requirements")" || exit
    if [[ -x "$venv/bin/python" ]] && supported_python "$venv/bin/python"; then
        if [[ -f "$stamp" && "$(cat "$stamp")" == "$want_stamp" ]]; then
            venv_installed=0
            return 0
        fi
    else
        python="$(find_python)" || exit
        note "creating the virtualenv $venv with $python"
        rm -rf "$venv"
        mkdir -p "$(dirname "$venv")" || die "cannot create $(dirname "$venv")"
        "$python" -m venv "$venv" || die "'$python -m venv $venv' failed (on Debian/Ubuntu: apt-get install python3-venv)"
    fi
    note "installing $requirements into $venv"
    rm -f "$stamp"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        --require-hashes --only-binary=:all: -r "$requirements" \
        || die "pip install --require-hashes -r $requirements failed (needs PyPI; see the messages above)"
    echo "$want_stamp" >"$stamp"
    venv_installed=1
}
