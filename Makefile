# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The model's inner loop compiled with mypyc (sim/compiled.py): rebuilt when its sources change,
# used only while current; if it cannot be built the model runs as Python, about 2.8 times slower.
NATIVE := .build/native-stamp
NATIVE_SOURCES := $(wildcard sim/model/*.py) sim/engine.py sim/compiled.py

.PHONY: run app test lint docs examples validate baseline clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "caseflow needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NATIVE): $(STAMP) $(NATIVE_SOURCES)
	@echo "compiling the model's inner loop with mypyc (about a minute, once)"
	$(BIN)/caseflow compile
	@mkdir -p .build && touch $(NATIVE)

run: $(STAMP) $(NATIVE)
	$(BIN)/caseflow run scenarios/baseline.toml

# The planners' workbench in a browser (docs/app.md): prints its address on 127.0.0.1.
app: $(STAMP) $(NATIVE)
	$(BIN)/caseflow app

# The browser test (tests/test_app_browser.py) drives Debian's Chromium, installed from the
# package registry when missing (never a browser download of Playwright's); where it cannot be
# installed (not root, no apt) the test is skipped and says why.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	-@command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "note: $(CHROMIUM) not installed; the browser test will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks calibration docs/scenario_examples.py
	$(BIN)/ruff format --check sim tests benchmarks calibration docs/scenario_examples.py
	$(BIN)/mypy sim

# The suite on every core (pytest-xdist): about half the wall time of one process on two cores.
test: lint $(NATIVE) | $(CHROMIUM)
	$(BIN)/python -m pytest -q -n auto

# Answer the planners' questions: rerun the scenario library and rewrite the worked examples
# in docs/scenarios.md (a few minutes on 2 cores).
examples: $(STAMP) $(NATIVE)
	$(BIN)/python docs/scenario_examples.py

# Rewrite the stored-numbers baseline (tests/baseline/stored) on purpose, after a change that is
# meant to move the model's numbers; name the changed cases in the commit message.
baseline: $(STAMP) $(NATIVE)
	$(BIN)/python -m tests.baseline.store

# Compare the model with the holdout figures never used in fitting.
validate: $(STAMP) $(NATIVE)
	$(BIN)/caseflow validate-model

# Regenerate the key table of docs/scenarios.md from the schema (a test checks it is current).
docs: $(STAMP)
	$(BIN)/python -c "import re, pathlib; from sim.inputs.reference import BEGIN, END, scenario_reference_markdown as md; p = pathlib.Path('docs/scenarios.md'); t = p.read_text(); p.write_text(t[: t.index(BEGIN)] + md() + t[t.index(END) + len(END):])"

clean:
	rm -rf $(VENV) .build .pytest_cache .mypy_cache .ruff_cache .hypothesis
