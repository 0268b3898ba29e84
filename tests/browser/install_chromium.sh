#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline):
# install it where it is missing. Needs root (CI and the dev container are); elsewhere, say how.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing: run 'sudo apt-get install -y chromium' (the browser tests need it)." >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
chromium --version
