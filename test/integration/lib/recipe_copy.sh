# shellcheck shell=bash
# Set-up shared by the integration scripts that run the recipe in scratch copies
# (repro_check.sh, tuning_variants.sh). Source it after defining log(); each function exits 2 with
# a message on a usage error.

# require_venv <repository root>: exit 2 unless tools/venv is built.
require_venv() {
  local root=$1
  if [ ! -x "${root}/tools/venv/bin/python" ] || [ ! -f "${root}/tools/activate_python.sh" ]; then
    log "Error: ${root}/tools/venv is not built: run \`make venv\` first"
    exit 2
  fi
}

# new_workdir <dir or empty> <mktemp prefix>: prints the absolute path of a new work dir: <dir>
# (which must not exist yet), or a fresh mktemp -d dir when <dir> is empty.
new_workdir() {
  local dir=$1 prefix=$2
  if [ -z "${dir}" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/${prefix}.XXXXXX")
  elif [ -e "${dir}" ]; then
    log "Error: --workdir ${dir} exists; give a new path"
    exit 2
  else
    mkdir -p "${dir}"
  fi
  (cd "${dir}" && pwd)
}

# make_run_dir <repository root> <code root> <corpus> <run root>: lay out <run root> like the
# repository as far as the recipe looks and print its recipe dir. utils/, steps/ and egs/TEMPLATE
# (from <code root>) and tools/ (from the repository) are links; egs/<corpus>/sqa1 is a copy of
# the recipe's own files (its relative links to ../../TEMPLATE and ../../../utils then resolve
# inside the run root, and path.sh finds MAIN_ROOT=<run root>). The real recipe dir's outputs
# (data/, exp/ ...) are not copied.
make_run_dir() {
  local root=$1 code=$2 corpus=$3 run_root=$4 f name
  local src="${root}/egs/${corpus}/sqa1"
  local dst="${run_root}/egs/${corpus}/sqa1"
  mkdir -p "${dst}"
  for name in utils steps; do
    ln -s "${code}/${name}" "${run_root}/${name}"
  done
  ln -s "${root}/tools" "${run_root}/tools"
  ln -s "${code}/egs/TEMPLATE" "${run_root}/egs/TEMPLATE"
  for f in "${src}"/* "${src}"/.[!.]*; do
    [ -e "${f}" ] || [ -L "${f}" ] || continue
    case "${f##*/}" in
      data | db | dump | exp | downloads | tensorboard | RESULTS.md) continue ;;
    esac
    cp -a "${f}" "${dst}/"
  done
  echo "${dst}"
}
