#!/usr/bin/env bash
# Installs bats (Bash Automated Testing System, Debian package) for test/shell/*.bats.
# Does nothing when bats is already on PATH.
set -euo pipefail
if command -v bats > /dev/null; then
  exit 0
fi
# shellcheck source=tools/installers/apt_install.sh
. "$(dirname "$0")/apt_install.sh"
apt_install bats
bats --version
