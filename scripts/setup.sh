#!/usr/bin/env bash
# Install the Debian packages prism needs, if any are missing. Safe to run repeatedly.
set -euo pipefail
# python3-dev, python3-numpy, python3-pytest: the Python package (make python) and its tests
packages=(build-essential clang-format libopenblas-dev libsqlite3-dev libbox2d-dev python3-dev
          python3-numpy python3-pytest)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
