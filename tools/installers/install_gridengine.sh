#!/usr/bin/env bash
# Installs Grid Engine (Debian gridengine-master, -exec, -client: Son of Grid Engine 8.1)
# configured for a master on localhost, for the single-host test cluster of
# test/shell/queue_gridengine.bats (test/shell/helpers/gridengine_cluster.sh).
# The package scripts do not start any daemon here. Does nothing when already installed.
set -euo pipefail
if command -v qsub > /dev/null && [ -x /usr/sbin/sge_qmaster ] && [ -x /usr/sbin/sge_execd ] &&
  [ -f /var/lib/gridengine/default/common/act_qmaster ]; then
  exit 0
fi
# shellcheck source=tools/installers/apt_install.sh
. "$(dirname "$0")/apt_install.sh"
# Answers for the packages' configuration questions (cell "default", master localhost).
preseed=""
for pkg in gridengine-common gridengine-client gridengine-master; do
  preseed+="${pkg} shared/gridenginemaster string localhost"$'\n'
  preseed+="${pkg} shared/gridenginecell string default"$'\n'
  preseed+="${pkg} shared/gridengineconfig boolean true"$'\n'
done
if [ "$(id -u)" -eq 0 ]; then
  printf '%s' "${preseed}" | debconf-set-selections
else
  printf '%s' "${preseed}" | sudo -n debconf-set-selections
fi
apt_install gridengine-master gridengine-exec gridengine-client
[ -f /var/lib/gridengine/default/common/act_qmaster ] || {
  echo "$0: the gridengine-master package did not create the cell 'default'" >&2
  exit 1
}
