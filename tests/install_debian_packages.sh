#!/usr/bin/env bash
# Debian packages some tests need, installed where missing: Chromium for the browser tests (Playwright's own
# browser download cannot work offline), libfaketime for the fault suite (it moves the services' clock).
# Needs root (CI and the dev container are); elsewhere, say how.
# Usage: tests/install_debian_packages.sh PACKAGE...
set -euo pipefail
missing=()
for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: run 'sudo apt-get install -y ${missing[*]}' (the tests need them)." >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
