#!/usr/bin/env bash
# Installs shellcheck (Debian package), used by test/shell/run_shell_tests.sh.
# Does nothing when shellcheck is already on PATH.
set -euo pipefail
if command -v shellcheck > /dev/null; then
  exit 0
fi
# shellcheck source=tools/installers/apt_install.sh
. "$(dirname "$0")/apt_install.sh"
apt_install shellcheck
shellcheck --version | head -n 2
