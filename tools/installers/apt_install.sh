# shellcheck shell=bash
# Shared by the install_*.sh scripts: installs Debian packages with apt-get, as root or
# through passwordless sudo. Runs `apt-get update` only when the first attempt fails
# (a fresh machine with empty package lists).
#   . "$(dirname "$0")/apt_install.sh"; apt_install <package>...

apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
      sudo=(sudo -n)
    else
      echo "$0: installing $* needs root (or passwordless sudo); install them by hand:" \
        "apt-get install -y $*" >&2
      return 1
    fi
  fi
  if ! command -v apt-get > /dev/null; then
    echo "$0: apt-get not found; install these Debian/Ubuntu packages by hand: $*" >&2
    return 1
  fi
  echo "$0: apt-get install $*" >&2
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "$@" > /dev/null; then
    echo "$0: first attempt failed; running apt-get update" >&2
    "${sudo[@]}" apt-get update -q > /dev/null
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "$@" > /dev/null
  fi
}
