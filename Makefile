# Every target bootstraps .venv itself: a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
EXTRAS ?= test,book

.PHONY: lab test run book lint clean-venv

# The kernels run inside notebooks/, so a relative MNIST_PATH is made absolute here.
ifdef MNIST_PATH
export MNIST_PATH := $(abspath $(MNIST_PATH))
endif

# Rebuilt when pyproject.toml changes or the venv's python no longer runs.
$(STAMP): pyproject.toml
	@$(PY) -c "" 2>/dev/null || { \
	  echo "Creating $(VENV) with $$($(PYTHON) --version 2>&1)"; \
	  rm -rf $(VENV); \
	  $(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv' failed. On Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_start_here.ipynb

test: $(STAMP)
	$(PY) -m pytest

run: $(STAMP)
	$(PY) -m lessons_lib run $(ARGS)

book: $(STAMP)
	$(PY) -m lessons_lib book $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean-venv:
	rm -rf $(VENV)
