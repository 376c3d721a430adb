#!/usr/bin/env bash
# Installs Chromium (Debian package `chromium`) for the headless browser check of the
# error-analysis page (test/integration/browser_check.py). Does nothing when a chromium binary
# is already on PATH.
set -euo pipefail
for bin in chromium chromium-browser; do
  if command -v "$bin" > /dev/null; then
    exit 0
  fi
done
# shellcheck source=tools/installers/apt_install.sh
. "$(dirname "$0")/apt_install.sh"
apt_install chromium
chromium --version
