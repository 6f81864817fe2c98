# Every target is one call into bootstrap.py, which holds the logic (and is what Windows
# users run without make): pick a supported Python, build .venv from requirements-lock.txt,
# then run. A fresh clone needs only a Python and make.
#   PYTHON=/path/to/python3.12 make test    use that interpreter for .venv
#   make run ARGS="--fast"                   arguments for the runner, pytest or JupyterLab
BOOT := $(or $(BOOTSTRAP_PYTHON),$(shell command -v python3 || command -v python)) bootstrap.py

.PHONY: lab test run book lint lock check-latest python clean-venv

lab test run book lint lock check-latest python:
	@$(BOOT) $@ $(ARGS)

clean-venv:
	rm -rf .venv .venv-latest
