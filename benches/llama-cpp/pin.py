#!/usr/bin/env python3
"""Regenerate a hash-pinned requirements file from `name==version` lines, with the sha256 of every wheel PyPI
holds for that exact version that installs on Linux x86_64 (manylinux or pure Python), any CPython version.

    python3 benches/llama-cpp/pin.py < benches/llama-cpp/convert.requirements.in > benches/llama-cpp/convert.requirements.txt

Lines of the input that are blank or start with '#' are copied through (the header). Standard library only;
asks PyPI's simple index (JSON form) once per package.
"""

import json
import re
import sys
import urllib.request

INDEX = "https://pypi.org/simple/{}/"


def wheel_fits(filename: str) -> bool:
    if not filename.endswith(".whl"):
        return False
    platform = filename[:-4].split("-")[-1]
    python, abi = filename[:-4].split("-")[-3:-1]
    linux_x86 = platform == "any" or ("linux" in platform and "x86_64" in platform)
    old = python.startswith(("cp36", "cp37", "cp38", "cp39")) and abi != "abi3"
    cpython = python.startswith(("py3", "cp3")) and not old
    return linux_x86 and cpython


def hashes(name: str, version: str) -> list[str]:
    request = urllib.request.Request(INDEX.format(name), headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request) as response:
        files = json.load(response)["files"]
    norm = re.sub(r"[-_.]+", "_", name).lower()
    out = []
    for f in files:
        parts = f["filename"].split("-")
        if len(parts) < 5 or re.sub(r"[-_.]+", "_", parts[0]).lower() != norm or parts[1] != version:
            continue
        if wheel_fits(f["filename"]) and not f.get("yanked"):
            out.append(f["hashes"]["sha256"])
    if not out:
        sys.exit(f"pin.py: PyPI has no Linux x86_64 wheel of {name}=={version}")
    return sorted(set(out))


def main() -> None:
    for line in sys.stdin:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            sys.stdout.write(line)
            continue
        name, version = stripped.split("==")
        lines = [f"{name}=={version}"] + [f"    --hash=sha256:{h}" for h in hashes(name, version)]
        print(" \\\n".join(lines))


if __name__ == "__main__":
    main()
