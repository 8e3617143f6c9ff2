"""caseflow: discrete-event simulation of social-assistance caseload flow.

Typical use from Python::

    import sim
    results = sim.run("scenarios/baseline.toml", replications=10)
    results.summary                      # kpi, mean, ci_low, ci_high, unit
    cmp = sim.compare("scenarios/baseline.toml", "alternative.toml")
    cmp.differences                      # paired differences with 95 % intervals

The public names are imported when first used (``sim.run`` imports the model, pandas and
scipy; ``import sim`` alone does not), so a command that needs none of them starts at once.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("caseflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from . import compiled

compiled.install()  # the compiled model, if built and current (before anything imports it)

if TYPE_CHECKING:
    from .api import compare, load_scenarios, run
    from .experiments.runner import (
        ComparisonResults,
        ScenarioResults,
        compare_scenarios,
        run_scenario,
        run_scenarios,
    )
    from .inputs.scenario import ResolvedScenario
    from .inputs.validation import InputError

_PUBLIC = {
    "compare": ".api",
    "run": ".api",
    "ComparisonResults": ".experiments.runner",
    "ScenarioResults": ".experiments.runner",
    "compare_scenarios": ".experiments.runner",
    "run_scenario": ".experiments.runner",
    "run_scenarios": ".experiments.runner",
    "load_scenarios": ".api",
    "ResolvedScenario": ".inputs.scenario",
    "InputError": ".inputs.validation",
}

__all__ = [
    "ComparisonResults",
    "InputError",
    "ResolvedScenario",
    "ScenarioResults",
    "__version__",
    "compare",
    "compare_scenarios",
    "load_scenarios",
    "run",
    "run_scenario",
    "run_scenarios",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
