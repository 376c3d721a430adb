#!/usr/bin/env bash
# Source this file after declaring a script's options as shell variables:
#
#   nj=4            # number of parallel jobs
#   use_gpu=false   # booleans must stay true/false
#   . utils/parse_options.sh
#
# Every declared variable becomes an option: --foo_bar v, --foo-bar v and --foo-bar=v all set
# foo_bar. Unknown options are an error that names them. --config FILE sources a file of
# name=value lines first (command-line options win). --help / -h prints $help_message and exits 0.
# Parsing stops at the first argument that is not an option; the rest stay in "$@".

__po_prog=$(basename "$0")

# Pass 1: source every --config file so that explicit options override them.
__po_i=1
while [ "$__po_i" -le "$#" ]; do
  __po_arg=${!__po_i}
  case "$__po_arg" in
    --config)
      __po_next=$((__po_i + 1))
      if [ "$__po_next" -gt "$#" ]; then
        echo "$__po_prog: --config needs a file argument" >&2; exit 1
      fi
      __po_conf=${!__po_next}
      [ -r "$__po_conf" ] || { echo "$__po_prog: cannot read config file '$__po_conf'" >&2; exit 1; }
      # shellcheck disable=SC1090  # the config file is chosen by the user
      . "$__po_conf" || { echo "$__po_prog: error sourcing config file '$__po_conf'" >&2; exit 1; }
      __po_i=$((__po_i + 2));;
    --config=*)
      __po_conf=${__po_arg#--config=}
      [ -r "$__po_conf" ] || { echo "$__po_prog: cannot read config file '$__po_conf'" >&2; exit 1; }
      # shellcheck disable=SC1090  # the config file is chosen by the user
      . "$__po_conf" || { echo "$__po_prog: error sourcing config file '$__po_conf'" >&2; exit 1; }
      __po_i=$((__po_i + 1));;
    --*) __po_i=$((__po_i + 2));;
    *) break;;
  esac
done

# Pass 2: the options themselves.
while true; do
  [ $# -eq 0 ] && break
  case "$1" in
    --help|-h)
      if [ -n "${help_message:-}" ]; then printf '%s\n' "$help_message"; else echo "$__po_prog: no help found" ; fi
      exit 0;;
    --config) shift 2; continue;;
    --config=*) shift; continue;;
    --=*|--) echo "$__po_prog: invalid option '$1'" >&2; exit 1;;
    --*=*)
      __po_name=${1%%=*}; __po_value=${1#*=}; shift;;
    --*)
      __po_name=$1
      if [ $# -lt 2 ]; then echo "$__po_prog: option $1 needs a value" >&2; exit 1; fi
      __po_value=$2; shift 2;;
    *) break;;
  esac
  __po_var=${__po_name#--}
  __po_var=${__po_var//-/_}
  if ! [[ "$__po_var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    echo "$__po_prog: invalid option $__po_name" >&2; exit 1
  fi
  # An option exists only if the script declared the variable before sourcing us.
  if [ -z "${!__po_var+set}" ]; then
    echo "$__po_prog: invalid option $__po_name (no such option; see --help)" >&2; exit 1
  fi
  __po_old=${!__po_var}
  if [ "$__po_old" = true ] || [ "$__po_old" = false ]; then
    if [ "$__po_value" != true ] && [ "$__po_value" != false ]; then
      echo "$__po_prog: option $__po_name expects true or false, got '$__po_value'" >&2; exit 1
    fi
  fi
  if [ "$__po_var" = cmd ] && [ -z "$__po_value" ]; then
    echo "$__po_prog: empty argument to --cmd option" >&2; exit 1
  fi
  printf -v "$__po_var" '%s' "$__po_value"
done

unset __po_i __po_arg __po_next __po_conf __po_name __po_value __po_var __po_old __po_prog
true  # so that ". parse_options.sh || exit 1" works
