# The two commands of README.md:
#   make demo   build tools/venv if needed, run the mini recipe end to end on CPU, print RESULTS
#   make test   build tools/venv if needed, run every suite (test/run_all_tests.sh): shellcheck + bats,
#               pytest, the quick reproducibility check, the short tuning-variants run and the short kill
#               test on one lane, the mini-recipe integration test on the other (both CPUs of a CI machine)
# Other targets: make venv, make bench, make clean-demo, make shell-test, make unit-test,
#   make integration-test   the mini recipe end to end + its checks (alone)
#   make reliability-test   the whole bad-input catalogue (make test runs its short set; doc/reliability.md)
#   make kill-test          kill stages 2, 4, 7, 8 at random points, 5 times each, and compare with a
#                           clean run (make test runs 1 kill per stage; doc/reliability.md)
#   make scale-rehearsal    the mini recipe at sizes 0.5, 1, 2, per-stage wall/CPU/RSS/disk (doc/scaling.md)
#   make repro-check        run the mini recipe twice, compare every stage's outputs (doc/reproducibility.md)
#   make repro-check-quick  the same on a 0.1-size corpus, stages 1-5 (stage 5 for one epoch)
#   make tuning-test        the conf/tuning/ variants (SSL features, discrete units) on a 0.1-size corpus,
#                           stages 1-7 for one epoch each (test/integration/tuning_variants.sh; make test
#                           runs it on a 0.05-size corpus)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON := tools/venv/bin/python
MINI := egs/mini_spoken_squad/sqa1

.PHONY: all demo test venv shell-test unit-test integration-test reliability-test kill-test scale-rehearsal repro-check repro-check-quick tuning-test bench clean-demo
all: test

venv: tools/speechbert.done tools/activate_python.sh

tools/speechbert.done tools/activate_python.sh: setup.py tools/constraints.txt tools/Makefile
	$(MAKE) -C tools

demo: venv
	cd $(MINI) && ./run.sh
	cat $(MINI)/RESULTS.md
	@echo "error-analysis page (open it in a browser; doc/report.md): $(CURDIR)/$(MINI)/exp/report/test/index.html"

shell-test:
	bash test/shell/run_shell_tests.sh

unit-test: venv
	bash test/run_pytest.sh

integration-test: venv
	bash test/integration/run_mini_recipe.sh

reliability-test: venv
	SPEECHBERT_LONG_CATALOGUE=1 OMP_NUM_THREADS=1 $(PYTHON) -m pytest -q -ra test/reliability

repro-check: venv
	bash test/integration/repro_check.sh

repro-check-quick: venv
	bash test/integration/repro_check.sh --quick

tuning-test: venv
	bash test/integration/tuning_variants.sh

test: venv
	bash test/run_all_tests.sh

kill-test: venv
	bash test/kill/kill_anywhere.sh --long

scale-rehearsal: venv
	bash bench/scaling/scale_rehearsal.sh --sizes "0.5 1 2"

bench: venv
	OMP_NUM_THREADS=1 $(PYTHON) bench/run_all.py $(BENCH_ARGS)

clean-demo:
	rm -rf $(MINI)/data $(MINI)/dump $(MINI)/exp $(MINI)/db
