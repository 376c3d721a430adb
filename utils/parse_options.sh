# shellcheck shell=bash
# Option parsing for Kaldi-style scripts. Declare every option as a shell variable
# with its default, then source this file:
#
#   nj=4             # number of parallel jobs
#   use_gpu=false    # booleans stay booleans: only true/false are accepted
#   help_message="Usage: $0 [options] <data-dir>"
#   . utils/parse_options.sh
#
# Then "--nj 8", "--nj=8", "--use-gpu true" and "--use_gpu true" set the variables
# (dashes in option names become underscores). Rules:
#   - An option whose variable is not declared is an error naming the option.
#   - "--config <file>" (or --config=<file>) first sources a file of name=value lines;
#     options given on the command line win over it. Unknown names in it are errors.
#   - "--help" / "-h" prints $help_message (or, without one, the script's
#     "# Begin configuration section." block) and exits 0.
#   - If the current value is true or false, the new value must be true or false.
#   - Parsing stops at "--" or at the first argument that is not an option; the
#     remaining arguments stay in "$@".
# Errors print "<script>: ..." to stderr and exit 1 (this file is sourced, so the
# calling script exits).

__po_prog=${0##*/}

__po_fail() {
  echo "${__po_prog}: $*" >&2
  exit 1
}

__po_print_help() {
  if [ -n "${help_message:-}" ]; then
    printf '%s\n' "${help_message}"
  elif [ -f "$0" ] && grep -q '^# Begin configuration section' "$0"; then
    echo "Usage: $0 [options] ..."
    echo "Options (--name value, defaults shown):"
    sed -n '/^# Begin configuration section/,/^# End configuration section/p' "$0" |
      grep -v '^# \(Begin\|End\) configuration section' | sed 's/^/  /'
  else
    echo "${__po_prog}: no help available"
  fi
}

# Checks that $1 names a declared variable and that $2 is an acceptable value.
__po_check() {
  local name=$1 value=$2 option=$3
  if ! [[ "${name}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [ -z "${!name+set}" ]; then
    __po_fail "invalid option ${option}"
  fi
  case "${!name}" in
    true | false)
      case "${value}" in
        true | false) ;;
        *) __po_fail "option ${option} expects true or false, got '${value}'" ;;
      esac
      ;;
  esac
}

__po_source_config() {
  local file=$1 line lineno=0 name
  [ -f "${file}" ] || __po_fail "config file ${file} not found (given with --config)"
  while IFS= read -r line || [ -n "${line}" ]; do
    lineno=$((lineno + 1))
    [[ "${line}" =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ "${line}" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)= ]]; then
      name=${BASH_REMATCH[1]}
      [ -n "${!name+set}" ] || __po_fail "${file}:${lineno}: unknown option '${name}'"
    else
      __po_fail "${file}:${lineno}: expected name=value, found '${line}'"
    fi
  done < "${file}"
  # shellcheck disable=SC1090  # the file is chosen at run time
  . "${file}"
}

# Pass 1: config files (lower priority than the command line).
__po_i=1
while [ "${__po_i}" -le $# ]; do
  __po_arg=${!__po_i}
  case "${__po_arg}" in
    --config)
      __po_next=$((__po_i + 1))
      [ "${__po_next}" -le $# ] || __po_fail "option --config needs a value"
      __po_source_config "${!__po_next}"
      __po_i=$((__po_i + 2))
      ;;
    --config=*)
      __po_source_config "${__po_arg#--config=}"
      __po_i=$((__po_i + 1))
      ;;
    --help | -h)
      __po_print_help
      exit 0
      ;;
    --) break ;;
    --?*=*) __po_i=$((__po_i + 1)) ;;
    --?*) __po_i=$((__po_i + 2)) ;;
    *) break ;;
  esac
done

# Pass 2: the options themselves.
while [ $# -gt 0 ]; do
  case "$1" in
    --)
      shift
      break
      ;;
    --config=*)
      shift
      ;;
    --config)
      shift 2
      ;;
    --?*=*)
      __po_opt=${1%%=*}
      __po_value=${1#*=}
      shift
      ;;
    --?*)
      __po_opt=$1
      [ $# -ge 2 ] || __po_fail "option $1 needs a value"
      __po_value=$2
      shift 2
      ;;
    *) break ;;
  esac
  case "${__po_opt:-}" in
    "") continue ;;
  esac
  __po_name=${__po_opt#--}
  __po_name=${__po_name//-/_}
  __po_check "${__po_name}" "${__po_value}" "${__po_opt}"
  printf -v "${__po_name}" '%s' "${__po_value}"
  __po_opt=
done

unset __po_i __po_arg __po_next __po_opt __po_value __po_name
unset -f __po_check __po_source_config __po_print_help __po_fail
true
