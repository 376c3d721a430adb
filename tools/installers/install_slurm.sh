#!/usr/bin/env bash
# Installs Slurm (controller, node daemon, client commands) and munge from Debian, for
# the single-node test cluster of test/shell/slurm.bats (test/shell/helpers/slurm_cluster.sh).
# The package scripts do not start any daemon here. Does nothing when already installed.
set -euo pipefail
if command -v slurmctld > /dev/null && command -v slurmd > /dev/null &&
  command -v sbatch > /dev/null && command -v munged > /dev/null &&
  [ -r /etc/munge/munge.key ]; then
  exit 0
fi
# shellcheck source=tools/installers/apt_install.sh
. "$(dirname "$0")/apt_install.sh"
apt_install slurmctld slurmd slurm-client munge
if [ ! -r /etc/munge/munge.key ]; then
  echo "$0: /etc/munge/munge.key was not created by the munge package" >&2
  exit 1
fi
dpkg-query -W -f '${Package} ${Version}\n' slurmctld slurmd slurm-client munge
