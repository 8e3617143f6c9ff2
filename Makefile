# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint docs clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "caseflow needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/caseflow run scenarios/baseline.toml

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks calibration
	$(BIN)/ruff format --check sim tests benchmarks calibration
	$(BIN)/mypy sim

test: lint
	$(BIN)/python -m pytest -q

# Regenerate the key table of docs/scenarios.md from the schema (a test checks it is current).
docs: $(STAMP)
	$(BIN)/python -c "import re, pathlib; from sim.reference import BEGIN, END, scenario_reference_markdown as md; p = pathlib.Path('docs/scenarios.md'); t = p.read_text(); p.write_text(t[: t.index(BEGIN)] + md() + t[t.index(END) + len(END):])"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
