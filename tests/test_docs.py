"""The docs match what ships (issue 16, item 17): the parameter sets the scenarios use, the
files and folders the docs name, and the command-line options they mention."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = ("sim", "scenarios", "calibration", "docs", "tests", "benchmarks")


def test_the_docs_name_the_parameter_set_that_ships() -> None:
    """docs/scenarios.md says which parameter set the scenarios run with (the baseline's, a
    fitted set), and no doc still says fitted sets are to come."""
    baseline = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text(encoding="utf-8"))
    shipped = (ROOT / "scenarios" / baseline["parameters"]).resolve().relative_to(ROOT)
    scenarios = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    assert f"`{shipped.as_posix()}`" in scenarios
    for doc in DOCS:
        text = " ".join(doc.read_text(encoding="utf-8").split())
        assert "calibration will add fitted sets" not in text, doc.name
        assert "The shipped set is `calibration/parameters/first_guess.toml`" not in text


def _named_paths(text: str) -> set[str]:
    """Repository paths a doc names in backticks (placeholders such as NAME left out)."""
    out = set()
    for token in re.findall(r"`([^`\s]+)`", text):
        path = token.rstrip(".,:;)")
        if re.search(r"[<>*{}$]|[A-Z]{3,}", path):
            continue
        if path.removeprefix("../").split("/")[0] in TOP and "/" in path:
            out.add(path)
    return out


def test_every_file_the_docs_name_exists() -> None:
    missing = []
    for doc in DOCS:
        for path in _named_paths(doc.read_text(encoding="utf-8")):
            here = (doc.parent / path) if path.startswith("../") else ROOT / path
            if not here.exists() and not (ROOT / "docs" / path).exists():
                missing.append(f"{doc.relative_to(ROOT)}: {path}")
    assert not missing, "\n".join(missing)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found: set[str] = set()
    for action in parser._actions:
        found.update(action.option_strings)
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
    return found


def test_every_option_the_docs_mention_exists() -> None:
    """Each ``--option`` of README.md and docs/*.md is an option of a caseflow command, an old
    calibrate form (``LEGACY_FLAGS``) or an option of a script under benchmarks/."""
    from sim.cli.calibrate import LEGACY_FLAGS
    from sim.cli.main import build_parser

    known = _options(build_parser()) | set(LEGACY_FLAGS)
    for script in (ROOT / "benchmarks").glob("*.py"):
        known |= set(re.findall(r"add_argument\(\s*\"(--[a-z-]+)\"", script.read_text()))
    unknown = []
    for doc in DOCS:
        for option in set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", doc.read_text("utf-8"))):
            if option not in known:
                unknown.append(f"{doc.relative_to(ROOT)}: {option}")
    assert not unknown, "\n".join(sorted(unknown))


def test_every_month_column_is_described_in_the_model_description() -> None:
    """docs/model.md §5 describes every column of ``monthly.csv`` (the month record of
    ``sim/records.py`` and ``replication``): a name in backticks in the first column of its
    table, where ``<barrier>`` stands for any word and ``_a/b/c`` for each class."""
    from sim.records import MONTH_COLUMNS, REPLICATION

    text = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    section = text[text.index("## 5. Outputs") : text.index("## 6.")]
    table = section[section.index("| column |") : section.index("`summary.csv`, one row")]
    names = [
        re.sub(r"_a/b/c$", "_(a|b|c)", re.sub(r"<[^>]+>", r"\\w+", token))
        for line in table.splitlines()
        for token in re.findall(r"`([^`]+)`", line.split("|")[1] if "|" in line else "")
    ]
    missing = [
        c for c in (REPLICATION, *MONTH_COLUMNS) if not any(re.fullmatch(n, c) for n in names)
    ]
    assert not missing, f"docs/model.md §5 does not describe {missing}"
