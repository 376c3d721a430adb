#!/usr/bin/env bash
# `make test`: every suite, on two lanes so that both CPUs of a CI machine work.
#
#   lane "checks":      the Chromium install (for the integration lane's browser check), shellcheck
#                       + bats, pytest (with the short bad-input catalogue), the quick
#                       reproducibility check, the short conf/tuning variants run (SSL, units), the
#                       short kill-anywhere test -- one after another
#   lane "integration": the mini recipe end to end (test/integration/run_mini_recipe.sh), whose
#                       training runs on one thread per process, ending with the headless-browser
#                       check of its error-analysis page (it waits for the install if need be)
#
# The integration lane prints as it goes; the checks lane writes its log and it is printed when both
# lanes are done, followed by a table of every suite's status and wall time. Exit status: 0 only
# when every suite passed. Run one suite alone with its own make target (doc/testing.md).
set -euo pipefail
log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') (run_all_tests.sh) $*" >&2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "${root}"

logdir=$(mktemp -d "${TMPDIR:-/tmp}/speechbert_test.XXXXXX")
status_file="${logdir}/status.tsv"
: > "${status_file}"

# run_suite NAME CMD...: run one suite, append "NAME<TAB>rc<TAB>seconds" to the status table.
run_suite() {
    local name=$1 start rc
    shift
    start=${SECONDS}
    log "suite ${name}: $*"
    set +e
    "$@"
    rc=$?
    set -e
    log "suite ${name}: exit ${rc} after $(( SECONDS - start )) s"
    printf '%s\t%s\t%s\n' "${name}" "${rc}" "$(( SECONDS - start ))" >> "${status_file}"
    return 0
}

# The integration lane's browser check needs Chromium at its very end: installing it first here
# leaves the whole recipe run for it to finish; the marker tells the integration lane it is done
# (installed or failed: the browser check then says which).
chromium_marker="${logdir}/chromium_install.done"
export CHROMIUM_INSTALL_MARKER="${chromium_marker}"

checks_lane() {
    run_suite chromium-install bash tools/installers/install_chromium.sh
    touch "${chromium_marker}"
    run_suite shell bash test/shell/run_shell_tests.sh
    run_suite pytest bash test/run_pytest.sh
    run_suite repro-check-quick bash test/integration/repro_check.sh --quick
    run_suite tuning-short bash test/integration/tuning_variants.sh --size 0.05
    if [ -f test/kill/kill_anywhere.sh ]; then
        run_suite kill-test-short bash test/kill/kill_anywhere.sh --short
    fi
}

log "logs in ${logdir}; the checks lane (chromium install, shell, pytest, quick repro, short tuning variants, short kill test) runs in the background"
# Job control puts the lane in its own process group, so a CI cancel or Ctrl-C stops all of it.
set -m
checks_lane > "${logdir}/checks.log" 2>&1 &
checks_pid=$!
set +m
trap 'kill -- "-${checks_pid}" 2>/dev/null || true; exit 130' INT TERM

run_suite integration bash test/integration/run_mini_recipe.sh
wait "${checks_pid}"
trap - INT TERM

echo
echo "=================== checks lane log (${logdir}/checks.log) ==================="
cat "${logdir}/checks.log"
echo "=================== summary ==================="
failed=0
printf '%-20s %-8s %s\n' suite status seconds
while IFS=$'\t' read -r name rc secs; do
    if [ "${rc}" -eq 0 ]; then state=passed; else state="FAILED(${rc})"; failed=1; fi
    printf '%-20s %-8s %s\n' "${name}" "${state}" "${secs}"
done < "${status_file}"
echo "total wall time: ${SECONDS} s"
if [ "${failed}" -ne 0 ]; then
    log "some suites FAILED (logs in ${logdir})"
    exit 1
fi
rm -rf "${logdir}"
log "all suites passed"
