# The two commands of README.md:
#   make demo   build tools/venv if needed, run the mini recipe end to end on CPU, print RESULTS
#   make test   build tools/venv if needed, run shellcheck + bats, pytest, and the integration test
# Other targets: make venv, make bench, make clean-demo.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON := tools/venv/bin/python
MINI := egs/mini_spoken_squad/sqa1

.PHONY: all demo test venv shell-test unit-test integration-test bench clean-demo
all: test

venv: tools/speechbert.done tools/activate_python.sh

tools/speechbert.done tools/activate_python.sh: setup.py tools/constraints.txt tools/Makefile
	$(MAKE) -C tools

demo: venv
	cd $(MINI) && ./run.sh
	cat $(MINI)/RESULTS.md

shell-test:
	bash test/shell/run_shell_tests.sh

unit-test: venv
	bash test/run_pytest.sh

integration-test: venv
	bash test/integration/run_mini_recipe.sh

test: venv
	$(MAKE) shell-test
	$(MAKE) unit-test
	$(MAKE) integration-test

bench: venv
	for b in bench/*.py; do echo "== $$b"; $(PYTHON) "$$b"; done

clean-demo:
	rm -rf $(MINI)/data $(MINI)/dump $(MINI)/exp $(MINI)/db
