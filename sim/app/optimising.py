"""The workbench's optimisation: a spec under the scenarios folder, its budget as the planner
types it, the search on the workbench's warm pool, and the folder ``caseflow optimise`` writes
(issue "Best staffing under a budget", item 6). No Streamlit here: the page draws it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..inputs.validation import InputError
from ..optimisation.candidates import refuse_unreachable_limits
from ..optimisation.results import write_optimisation_folder
from ..optimisation.search import OptimisationResult, optimise
from ..optimisation.spec import LoadedSpec, load_spec
from ..output.folders import Clock, atomic_folder
from .workbench import Workbench

SPEC_FOLDER = "optimise"
"""Optimisation specs live in this folder under the scenarios folder."""


def spec_files(scenarios: Path) -> list[Path]:
    """The optimisation specs the page offers, by name."""
    return sorted((scenarios / SPEC_FOLDER).glob("*.toml"))


def budget_value(text: str, spec: Path) -> float | None:
    """The staff budget as typed (SEK; spaces and an empty field allowed: the spec's own)."""
    cleaned = text.replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        return None
    try:
        value = float(cleaned)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise InputError.single(
            spec,
            "constraints.staff_budget_sek",
            f"the staff budget must be a number of SEK above 0, got {text!r}",
        )
    return value


@dataclass
class OptimisationRun:
    """A finished search: its result and the results folder written for it."""

    result: OptimisationResult
    folder: Path


def load(spec: Path, budget_text: str) -> LoadedSpec:
    """The spec with the page's budget (the loader's messages name the file and key)."""
    loaded = load_spec(spec)
    budget = budget_value(budget_text, spec)
    if budget is not None:
        loaded = loaded.with_budget(budget)
    refuse_unreachable_limits(
        loaded, "constraints.staff_budget_sek" if budget is None else "the page's budget"
    )
    return loaded


def run_optimisation(bench: Workbench, loaded: LoadedSpec) -> OptimisationRun:
    """Search on the workbench's pool and write the folder ``caseflow optimise`` writes (the
    Optuna journal beside it under the results root, so the same search resumes)."""
    clock = Clock.start()
    study = bench.results_root / f"optimise-{loaded.spec.name}.journal"
    bench.results_root.mkdir(parents=True, exist_ok=True)
    # no posterior draws here: they would run on a pool forked from the server's threads
    result = optimise(
        loaded, workers=bench.workers, study_file=study, pool=bench.pool(), posterior_draws=0
    )
    target = bench.target(f"optimise-{loaded.spec.name}")
    command = f"caseflow app: optimise {loaded.path}"
    try:
        with atomic_folder(target) as work:
            write_optimisation_folder(
                work, result, command=command, clock=clock, workers=bench.workers, study=study
            )
    finally:
        bench.release(target)
    return OptimisationRun(result, target)
