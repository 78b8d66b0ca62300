#!/usr/bin/env bash
# Install Debian's bubblewrap (the sandbox `make grade` runs students' notebooks in), unless present.
set -euo pipefail

if command -v bwrap >/dev/null; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
else
    echo "Grading runs each student's notebook in a sandbox made by bubblewrap (bwrap)." >&2
    echo "Install it as root (Debian/Ubuntu):  apt-get install -y bubblewrap" >&2
    echo "(or grade without a sandbox, at your own risk: make grade UNSANDBOXED=1 ...)" >&2
    exit 1
fi
echo "Installing bubblewrap (Debian package bubblewrap)"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
command -v bwrap >/dev/null || { echo "apt-get finished but bwrap is missing" >&2; exit 1; }
