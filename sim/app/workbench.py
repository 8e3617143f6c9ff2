"""What the app keeps while it serves, shared by every tab: a warm pool of worker processes,
the results of bases already run, and where results folders go.

Each tab's own state (its draft, its last run) lives in that tab's session; what is shared
here is either read-only once made (the pool) or keyed by what makes the numbers (a base's
results), so two tabs running at once cannot see each other's results. Folders are written by
the library's own writers (``RunResults.save``, ``Comparison.save``), as the command line
writes them.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..api import Comparison, RunResults
from ..experiments.parallel import new_pool, worker_count
from ..experiments.runner import ScenarioResults, compare_scenarios, run_scenarios
from ..inputs.scenario import ResolvedScenario
from ..output.folders import Clock, default_folder, now_utc

Progress = Callable[[int, int], None]

_WARM_MODULES = ["sim.experiments.runner", "sim.model.caseload", "scipy.special"]
"""Imported once by the forkserver, so each worker it forks starts with the model loaded."""


def _warm(_: int) -> bool:
    """A pool task that makes sure a worker is up (its imports done)."""
    import sim.experiments.runner  # noqa: F401

    return True


def _save(results: RunResults | Comparison, target: Path) -> Path:
    """A pool task: write a results folder."""
    return results.save(target)


@dataclass(frozen=True)
class RunRequest:
    """What the planner pressed run for: the draft, the base it is compared with (None: the
    draft is the base unchanged and runs alone), and further alternatives to compare too."""

    draft: ResolvedScenario
    base: ResolvedScenario | None
    base_file: Path
    command: str
    others: tuple[ResolvedScenario, ...] = ()


@dataclass
class Outcome:
    """A finished run: the draft's results alone, or a comparison with its base."""

    request: RunRequest
    run: RunResults | None
    comparison: Comparison | None
    seconds: float
    base_reused: bool = False
    folder: Path | None = None
    reused: bool = False  # a single run's results were an earlier run's of the same numbers

    @property
    def draft_results(self) -> RunResults:
        if self.run is not None:
            return self.run
        assert self.comparison is not None
        named = {r.resolved.name: r for r in self.comparison.alternatives}
        return named[self.request.draft.name]  # type: ignore[return-value]


def outcome_warnings(outcome: Outcome) -> list[str]:
    """What the outcome's report warns of, for the page: the run's warnings, or a
    comparison's own and every scenario's (said once where they share one), as the results
    folder's report.html gives them."""
    if outcome.comparison is None:
        return outcome.draft_results.warnings
    return outcome.comparison.warnings


def _run_results(results: ScenarioResults, **extra: Any) -> RunResults:
    values = {f.name: getattr(results, f.name) for f in fields(ScenarioResults)}
    return RunResults(**values, **extra)


def _numbers_key(resolved: ResolvedScenario) -> str:
    """What a scenario's numbers depend on: every setting but its name and description, and
    its parameter set."""
    data = {k: v for k, v in resolved.as_dict().items() if k not in ("name", "description")}
    return json.dumps(
        [data, resolved.parameters.model_dump(mode="json")], sort_keys=True, default=str
    )


class Workbench:
    """The app's shared part: one per served app (Streamlit's ``cache_resource``)."""

    def __init__(self, results_root: Path, workers: int | None = None, remembered: int = 8) -> None:
        self.results_root = results_root
        self.workers = worker_count(workers)
        self._remembered = remembered
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._results: OrderedDict[str, ScenarioResults] = OrderedDict()
        self._reserved: set[Path] = set()

    # --- the pool ---------------------------------------------------------------------------

    def pool(self) -> ProcessPoolExecutor | None:
        """The warm pool (made at the first call); None with one worker (runs in-process)."""
        with self._lock:
            if self._pool is None and self.workers > 1:
                # The server runs threads; a forkserver forks workers from a clean process that
                # has imported the model once.
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(_WARM_MODULES)
                self._pool = new_pool(self.workers, context)
            return self._pool

    def warm(self) -> None:
        """Start every worker now, so the first run does not wait for them."""
        pool = self.pool()
        if pool is not None:
            list(pool.map(_warm, range(self.workers)))

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(cancel_futures=True)
                self._pool = None

    # --- results of scenarios already run -----------------------------------------------------

    def remembered(self, resolved: ResolvedScenario) -> ScenarioResults | None:
        """Results of a run of the same numbers (by another name too), given this name."""
        with self._lock:
            hit = self._results.get(_numbers_key(resolved))
            if hit is not None:
                self._results.move_to_end(_numbers_key(resolved))
        return None if hit is None else replace(hit, resolved=resolved)

    def remember(self, results: ScenarioResults) -> None:
        with self._lock:
            self._results[_numbers_key(results.resolved)] = results
            while len(self._results) > self._remembered:
                self._results.popitem(last=False)

    # --- running --------------------------------------------------------------------------

    def run(self, request: RunRequest, progress: Progress | None = None) -> Outcome:
        """Run the request on the warm pool: the draft alone, or paired with its base under
        common random numbers (a base already run is not run again: the same numbers)."""
        clock = Clock.start()
        wrap: dict[str, Any] = dict(command=request.command, clock=clock, workers=self.workers)
        if request.base is None:
            results = self.remembered(request.draft)
            reused = results is not None
            if results is None:
                results = run_scenarios(
                    [request.draft], workers=self.workers, progress=progress, pool=self.pool()
                )[0]
                self.remember(results)
            timing = {"finished": now_utc().isoformat(), "wall_seconds": round(clock.seconds(), 3)}
            run = _run_results(results, **wrap, timing=timing)
            return Outcome(request, run, None, clock.seconds(), reused=reused)
        known = self.remembered(request.base)
        comparison = compare_scenarios(
            request.base,
            [request.draft, *request.others],
            workers=self.workers,
            progress=progress,
            pool=self.pool(),
            base_results=known,
        )
        self.remember(comparison.base)
        for alternative in comparison.alternatives:
            self.remember(alternative)
        timing = {"finished": now_utc().isoformat(), "wall_seconds": round(clock.seconds(), 3)}
        every = dict(wrap, timing=timing)
        wrapped = Comparison(
            base=_run_results(comparison.base, **every),
            alternatives=[_run_results(a, **every) for a in comparison.alternatives],
            differences=comparison.differences,
            base_file=str(request.base_file),
            **every,
        )
        return Outcome(request, None, wrapped, clock.seconds(), base_reused=known is not None)

    # --- saving ---------------------------------------------------------------------------

    def target(self, name: str) -> Path:
        """A new folder under the results root, named as the command line names its folders
        (``NAME-TIMESTAMP``), with ``-2``, ``-3`` added when two runs end in the same second."""
        base = default_folder(self.results_root, name, now_utc())
        with self._lock:
            candidate, n = base, 1
            while candidate.exists() or candidate in self._reserved:
                n += 1
                candidate = base.with_name(f"{base.name}-{n}")
            self._reserved.add(candidate)
        return candidate

    def save(self, outcome: Outcome) -> Path:
        """Write the outcome's results folder (the command line's writers) and return it.

        It is written by a worker of the pool: a process running one thread may fork to draw
        the report's figures side by side, which the server's process (many threads) may not
        (``sim.output.drawing``), so the figures are drawn as fast as by the command line."""
        results: RunResults | Comparison
        if outcome.run is not None:
            results = outcome.run
            target = self.target(outcome.run.resolved.name)
        else:
            assert outcome.comparison is not None
            results = outcome.comparison
            target = self.target(f"compare-{outcome.comparison.base.resolved.name}")
        try:
            pool = self.pool()
            if pool is None:
                results.save(target)
            else:
                pool.submit(_save, results, target).result()
        finally:
            self.release(target)
        outcome.folder = target
        return target

    def release(self, target: Path) -> None:
        """A folder name reserved by :meth:`target` is written (or given up)."""
        with self._lock:
            self._reserved.discard(target)


def command_text(base_file: Path, overrides: Sequence[str], compared: bool) -> str:
    """The manifest's "command": what the planner did in the app, in the command line's terms
    (the settings changed as ``--set``)."""
    sets = " ".join(f"--set {json.dumps(s)}" for s in overrides)
    what = "compared with its base" if compared else "run"
    return f"caseflow app: {base_file} edited ({sets or 'unchanged'}), {what}"
