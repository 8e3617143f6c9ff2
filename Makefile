# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint docs examples validate clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "caseflow needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/caseflow run scenarios/baseline.toml

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks calibration docs/scenario_examples.py
	$(BIN)/ruff format --check sim tests benchmarks calibration docs/scenario_examples.py
	$(BIN)/mypy sim

test: lint
	$(BIN)/python -m pytest -q

# Answer the planners' questions: rerun the scenario library and rewrite the worked examples
# in docs/scenarios.md (a few minutes on 2 cores).
examples: $(STAMP)
	$(BIN)/python docs/scenario_examples.py

# Compare the model with the holdout figures never used in fitting.
validate: $(STAMP)
	$(BIN)/caseflow validate-model

# Regenerate the key table of docs/scenarios.md from the schema (a test checks it is current).
docs: $(STAMP)
	$(BIN)/python -c "import re, pathlib; from sim.reference import BEGIN, END, scenario_reference_markdown as md; p = pathlib.Path('docs/scenarios.md'); t = p.read_text(); p.write_text(t[: t.index(BEGIN)] + md() + t[t.index(END) + len(END):])"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
