#!/usr/bin/env bash
# Install Debian's Chromium and its driver for the browser tests, unless present.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "The browser tests need Chromium at /usr/bin/chromium." >&2
    echo "Install it as root (Debian/Ubuntu):" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver" >&2
    exit 1
fi
echo "Installing Chromium (Debian packages chromium, chromium-driver)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
test -x /usr/bin/chromium || { echo "apt-get finished but /usr/bin/chromium is missing" >&2; exit 1; }
