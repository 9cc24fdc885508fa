# Two commands: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install index run test test-fast bench eval clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first and pinned: the CPU build; anything else pulls a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

index: install
	$(VENV)/bin/policybot build

# Slack when SLACK_BOT_TOKEN is set, otherwise the terminal chat.
run: index
	@if [ -n "$$SLACK_BOT_TOKEN" ]; then exec $(VENV)/bin/policybot serve; else exec $(VENV)/bin/policybot chat; fi

test: install
	$(VENV)/bin/python -m pytest -q

# Everything but the tests marked `model`: no model is loaded (tests/fakes.py stands in for it).
test-fast: install
	$(VENV)/bin/python -m pytest -q -m "not model"

eval: index
	$(VENV)/bin/policybot eval ../shared/eval/questions-dev.jsonl
	$(VENV)/bin/policybot eval eval/questions-train.jsonl
	$(VENV)/bin/policybot eval eval/questions-heldout.jsonl

bench: index
	$(PY) scripts/bench.py

clean:
	rm -rf var .pytest_cache
