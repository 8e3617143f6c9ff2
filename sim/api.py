"""The Python API for notebooks: ``sim.run`` and ``sim.compare`` return pandas DataFrames.

The command line is a thin layer over the same functions::

    import sim
    results = sim.run("scenarios/baseline.toml", replications=10)
    results.summary                      # kpi, mean, ci_low, ci_high, unit
    cmp = sim.compare("scenarios/baseline.toml", "my_alternative.toml")
    cmp.differences                      # paired differences with 95 % intervals
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .experiments.runner import ComparisonResults, ScenarioResults, compare_scenarios, run_scenario
from .inputs.loading import load_scenarios
from .inputs.scenario import ResolvedScenario

ScenarioLike = str | Path | ResolvedScenario


def _resolve(
    scenario: ScenarioLike,
    overrides: Iterable[str] = (),
    *,
    years: float | None = None,
    seed: int | None = None,
    replications: int | None = None,
) -> list[ResolvedScenario]:
    if isinstance(scenario, ResolvedScenario):
        return [scenario]
    return load_scenarios(scenario, overrides, years=years, seed=seed, replications=replications)


def run(
    scenario: ScenarioLike,
    *,
    overrides: Iterable[str] = (),
    years: float | None = None,
    seed: int | None = None,
    replications: int | None = None,
    workers: int | None = None,
) -> ScenarioResults:
    """Run one scenario (a file or a loaded scenario) and return its tidy results.

    ``overrides`` are ``KEY.PATH=VALUE`` strings, as ``--set`` on the command line. A file with
    a ``[sweep]`` holds several scenarios: use :func:`compare` or ``load_scenarios`` for it.
    """
    resolved = _resolve(scenario, overrides, years=years, seed=seed, replications=replications)
    if len(resolved) != 1:
        raise ValueError(
            f"{scenario} sweeps {len(resolved)} scenarios; use sim.compare or load_scenarios"
        )
    return run_scenario(resolved[0], workers=workers)


def compare(
    base: ScenarioLike,
    *alternatives: ScenarioLike,
    years: float | None = None,
    seed: int | None = None,
    replications: int | None = None,
    workers: int | None = None,
) -> ComparisonResults:
    """Run a base and alternatives with common random numbers and return paired differences.

    Sweeps expand: with one swept file, its first point is the base.
    """
    scenarios = _resolve(base, years=years, seed=seed, replications=replications)
    for alternative in alternatives:
        scenarios.extend(_resolve(alternative, years=years))
    if len(scenarios) < 2:
        raise ValueError("compare needs a base and at least one alternative")
    return compare_scenarios(scenarios[0], scenarios[1:], workers=workers)
