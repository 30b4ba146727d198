#!/usr/bin/env bash
# Install Debian's chromium for scripts/render_figures.py, the browser check of `tconvcalc draw`'s SVGs.
# Not run by .ci/run: the test suite checks the SVGs' structure (tests/test_draw.py) without a browser.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    chromium --version 2>/dev/null
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update
$sudo apt-get install -y chromium
chromium --version 2>/dev/null
