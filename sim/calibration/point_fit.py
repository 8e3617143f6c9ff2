"""Point fit: simulated minimum distance with common random numbers, resumable.

The distance is :meth:`CalibrationProblem.distance`: the sum over the compared targets of the
squared gap between the model's mean and the reported figure, in the figure's stated standard
deviations. Every parameter point is run with the *same* replications (the targets' scenario
seed, replications 0..R-1), so two points differ only by their parameters: the distance is a
deterministic function that scipy's ``differential_evolution`` can search without chasing noise.

Resuming: each evaluated point is appended to ``evaluations.jsonl`` in the work folder as soon
as its batch is done. Differential evolution with a fixed seed proposes the same points again
when it sees the same distances, so a restarted fit replays the stored points without running
them and carries on where it was interrupted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from ..experiments.runner import run_scenarios
from ..inputs.parameters import ModelParameters
from ..inputs.validation import InputError
from .spec import CalibrationProblem

#: distance of a point whose parameter set is invalid (e.g. a scaled share above 1)
INVALID_DISTANCE = 1e6

#: called after each generation with (generation, best distance, evaluations so far)
FitProgress = Callable[[int, float, int], None]


@dataclasses.dataclass
class PointFit:
    """The best point found and how the search went."""

    values: dict[str, float]
    distance: float
    kpis: dict[str, float]  # the compared KPIs' means at the best point
    evaluations: pd.DataFrame  # every point run: parameters, distance, KPI means
    history: pd.DataFrame  # generation, best distance, evaluations
    replications: int
    generations: int
    new_evaluations: int  # run in this call (the rest were replayed from the work folder)
    wall_seconds: float
    stopped_by: str


def _key(x: Iterable[float]) -> str:
    return ",".join(float(v).hex() for v in x)


#: the modules besides the model's own (sim.compiled.COMPILED_MODULES) whose code decides a
#: replication's KPIs or a point's distance (how its values are applied, the targets' scenario):
#: a fit's stored evaluations are replayed only while all are unchanged
NUMBER_MODULES = (
    "sim.domain",
    "sim.distributions",
    "sim.streams",
    "sim.records",
    "sim.metrics",
    "sim.experiments.runner",
    "sim.inputs.loading",
    "sim.inputs.parameters",
    "sim.inputs.scenario",
    "sim.calibration.spec",
    "sim.calibration.targets",
    "sim.calibration.point_fit",
)


def model_code_digest() -> str:
    """A hash of the code that decides a replication's numbers (the model's modules and
    :data:`NUMBER_MODULES`, as source), with the package version."""
    from .. import __version__
    from ..compiled import COMPILED_MODULES, source_path

    digest = hashlib.sha256(__version__.encode())
    for module in (*COMPILED_MODULES, *NUMBER_MODULES):
        digest.update(module.encode())
        digest.update(source_path(module).read_bytes())
    return digest.hexdigest()


def settings_fingerprint(problem: CalibrationProblem, settings: dict[str, Any]) -> str:
    """A hash of everything that decides the fit's points and distances, the model's code
    included: stored evaluations made by other code are not replayed (and recorded as this
    code's)."""
    data = {
        "spec": problem.spec.model_dump(mode="json"),
        "base": problem.base.model_dump(mode="json"),
        "targets": problem.targets.model_dump(mode="json"),
        "scenario": problem.resolved.scenario.model_dump(mode="json"),
        "settings": settings,
        "code": model_code_digest(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def open_work_folder(folder: Path, fingerprint: str, *, fresh: bool) -> bool:
    """Prepare a work folder; True if it holds earlier work of the same fit to resume."""
    stamp = folder / "fingerprint.txt"
    if fresh and folder.exists():
        for child in folder.iterdir():
            if child.is_file():
                child.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    if stamp.exists():
        if stamp.read_text().strip() != fingerprint:
            raise InputError.single(
                folder,
                "",
                "this work folder holds a calibration with other settings, spec, targets or "
                "model code (its stored simulations would not be this code's); give --fresh to "
                "discard it or --work to use another folder",
            )
        return True
    stamp.write_text(fingerprint + "\n")
    return False


class _Evaluator:
    """The map that differential evolution calls on each generation's points."""

    def __init__(
        self,
        problem: CalibrationProblem,
        replications: int,
        workers: int | None,
        cluster: str | None,
        store: Path,
    ) -> None:
        self.problem = problem
        self.replications = replications
        self.workers = workers
        self.cluster = cluster
        self.store = store
        self.cache: dict[str, dict[str, Any]] = {}
        self.reached: set[str] = set()  # the points this search has asked for, run or replayed
        self.new = 0
        if store.exists():
            for line in store.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by an interruption
                self.cache[row["key"]] = row

    def __call__(self, _func: object, population: Iterable[Any]) -> list[float]:
        points = [np.asarray(x, dtype=float) for x in population]
        keys = [_key(x) for x in points]
        self.reached.update(keys)
        todo: dict[str, np.ndarray] = {}
        for key, x in zip(keys, points, strict=True):
            if key not in self.cache:
                todo[key] = x
        if todo:
            self._run(todo)
        return [float(self.cache[k]["distance"]) for k in keys]

    def _run(self, todo: dict[str, np.ndarray]) -> None:
        problem = self.problem
        runnable = []
        rows: list[dict[str, Any]] = []
        for key, x in todo.items():
            values = problem.values(x.tolist(), held_at_base=True)
            try:
                scenario = problem.scenario(values, replications=self.replications)
            except InputError as exc:
                rows.append(
                    {"key": key, "values": values, "distance": INVALID_DISTANCE, "kpis": {}}
                    | {"invalid": str(exc)}
                )
                continue
            runnable.append((key, values, scenario))
        results = run_scenarios(
            [s for _, _, s in runnable], workers=self.workers, cluster=self.cluster
        )
        kpi_ids = [t.kpi for t in problem.compared]
        for (key, values, _), result in zip(runnable, results, strict=True):
            means = result.summary.set_index("kpi")["mean"]
            kpis = {k: float(means[k]) for k in kpi_ids if k is not None}
            rows.append(
                {"key": key, "values": values, "distance": problem.distance(kpis), "kpis": kpis}
            )
        with self.store.open("a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
                self.cache[row["key"]] = row
        self.new += len(runnable)


class _GenerationWatch:
    """differential_evolution's callback: records each generation's best distance, reports
    progress, and stops the search once the time budget is spent."""

    def __init__(
        self, evaluator: _Evaluator, budget_seconds: float | None, progress: FitProgress | None
    ) -> None:
        self.evaluator = evaluator
        self.budget_seconds = budget_seconds
        self.progress = progress
        self.started = time.monotonic()
        self.history: list[dict[str, float]] = []
        self.stopped_by = "max_generations"

    # scipy passes the OptimizeResult only to a callback whose one parameter has this name
    def __call__(self, intermediate_result: Any) -> bool:
        # the points reached so far, not those stored: a resumed search counts as an
        # uninterrupted one would (the store holds the earlier call's points from the start)
        evaluations = len(self.evaluator.reached)
        self.history.append(
            {
                "generation": len(self.history) + 1,
                "best_distance": float(intermediate_result.fun),
                "evaluations": evaluations,
            }
        )
        if self.progress:
            self.progress(len(self.history), float(intermediate_result.fun), evaluations)
        elapsed = time.monotonic() - self.started
        if self.budget_seconds is not None and elapsed > self.budget_seconds:
            self.stopped_by = "time budget"
            return True
        return False


def _search(
    problem: CalibrationProblem,
    evaluator: _Evaluator,
    watch: _GenerationWatch,
    *,
    popsize: int,
    max_generations: int,
    seed: int,
) -> Any:
    """Differential evolution over the prior box, a whole generation per evaluator call."""
    from scipy.optimize import differential_evolution

    return differential_evolution(
        lambda x: math.nan,  # never called: the evaluator maps whole generations
        problem.point_fit_bounds,
        popsize=popsize,
        maxiter=max_generations,
        init="latinhypercube",
        rng=np.random.default_rng(seed),
        polish=False,  # gradients of a simulated distance are noise
        updating="deferred",
        workers=evaluator,
        callback=watch,
        tol=1e-3,
    )


def _evaluations_table(evaluator: _Evaluator) -> pd.DataFrame:
    """Every point this search reached, run or replayed (not other points a longer search
    stored in the work folder): its parameters, distance and KPI means, in the order run."""
    rows = [
        {
            **row["values"],
            "distance": row["distance"],
            **{f"kpi:{k}": v for k, v in row["kpis"].items()},
        }
        for key, row in evaluator.cache.items()
        if key in evaluator.reached
    ]
    return pd.DataFrame(rows)


def point_fit(
    problem: CalibrationProblem,
    work: Path,
    *,
    replications: int = 4,
    popsize: int = 5,
    max_generations: int = 25,
    budget_seconds: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    fresh: bool = False,
    progress: FitProgress | None = None,
) -> PointFit:
    """Minimise the weighted distance over the spec's prior box (differential evolution).

    ``popsize`` times the number of free parameters (those not held at their base) points make
    a generation; the search stops after ``max_generations``, when the population has
    converged, or when ``budget_seconds`` have passed (a later call with the same work folder
    continues from there).
    """
    seed = problem.resolved.scenario.seed if seed is None else seed
    settings = {
        "method": "differential_evolution",
        "replications": replications,
        "popsize": popsize,
        "seed": seed,
    }
    open_work_folder(work, settings_fingerprint(problem, settings), fresh=fresh)
    evaluator = _Evaluator(problem, replications, workers, cluster, work / "evaluations.jsonl")
    watch = _GenerationWatch(evaluator, budget_seconds, progress)
    result = _search(
        problem, evaluator, watch, popsize=popsize, max_generations=max_generations, seed=seed
    )
    stopped_by = watch.stopped_by
    if stopped_by != "time budget" and result.success:
        stopped_by = "converged"
    best = evaluator.cache[_key(result.x)]
    return PointFit(
        values=dict(best["values"]),
        distance=float(best["distance"]),
        kpis=dict(best["kpis"]),
        evaluations=_evaluations_table(evaluator),
        history=pd.DataFrame(watch.history),
        replications=replications,
        generations=len(watch.history),
        new_evaluations=evaluator.new,
        wall_seconds=time.monotonic() - watch.started,
        stopped_by=stopped_by,
    )


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.incomplete")
    tmp.write_text(text, encoding="utf-8", newline="")  # the text's own line endings
    tmp.replace(path)


def sample_digest(data: bytes) -> str:
    """The SHA-256 of a posterior sample's bytes with Windows line endings read as Unix ones:
    a checkout that turns the shipped CSV's endings into CRLF holds the same sample."""
    return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def write_fitted(
    problem: CalibrationProblem,
    fit: PointFit,
    folder: Path,
    *,
    posterior: pd.DataFrame | None,
    record: dict[str, Any],
) -> Path:
    """Write ``<folder>/<spec name>.toml`` (the fitted parameter set) and, with a posterior,
    ``<spec name>_posterior.csv``; each file appears whole or not at all. Without one, an
    earlier fit's posterior sample is removed: it belongs to a set no longer there."""
    folder.mkdir(parents=True, exist_ok=True)
    name = problem.spec.name
    fitted = problem.parameters(fit.values)
    data = fitted.model_dump(mode="json", exclude_none=True)
    posterior_file = f"{name}_posterior.csv" if posterior is not None else None
    data["name"] = name
    data["description"] = (
        f"Fitted to {problem.targets.name} by caseflow calibrate fit "
        f"({problem.spec_path.name}); base set {problem.base.name}"
    )
    held = [e.path for e in problem.spec.calibrate if e.point == "base"]
    data["fit"] = {
        "spec": os.path.relpath(problem.spec_path.resolve(), folder.resolve()),
        "targets": problem.targets.name,
        "method": "simulated minimum distance, differential evolution, common random numbers",
        "distance": round(fit.distance, 6),
        "compared_targets": len(problem.compared),
        "replications": fit.replications,
        **({"held": held} if held else {}),
        **({"posterior": posterior_file} if posterior_file else {}),
        **record,
    }
    sample = posterior.to_csv(index=False) if posterior is not None else ""
    if posterior_file:  # the set records its sample's hash (line endings as written here)
        data["fit"]["posterior_sha256"] = sample_digest(sample.encode("utf-8"))
    ModelParameters.model_validate(data)  # what we write must load, before anything is written
    header = (
        f"# Fitted parameter set: written by `caseflow calibrate fit {problem.spec_path.name}`.\n"
        "# Do not edit by hand: posterior draws (run --posterior) are applied to the spec's base\n"
        "# set, which only matches this file while it is as written. Refit instead.\n"
    )
    if posterior_file:
        _atomic_write(folder / posterior_file, sample)
    path = folder / f"{name}.toml"
    _atomic_write(path, header + tomli_w.dumps(data))
    if posterior is None:
        (folder / f"{name}_posterior.csv").unlink(missing_ok=True)
    return path
