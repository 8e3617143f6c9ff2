"""caseflow: discrete-event simulation of social-assistance caseload flow.

Typical use from Python::

    import sim
    results = sim.run("scenarios/baseline.toml", replications=10)
    results.summary                      # kpi, mean, ci_low, ci_high, unit
    cmp = sim.compare("scenarios/baseline.toml", "alternative.toml")
    cmp.differences                      # paired differences with 95 % intervals
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("caseflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from . import compiled

compiled.install()  # the compiled model, if built and current (before anything imports it)

from .api import compare, run  # noqa: E402
from .experiments.runner import (  # noqa: E402
    ComparisonResults,
    ScenarioResults,
    compare_scenarios,
    run_scenario,
    run_scenarios,
)
from .inputs.loading import load_scenarios  # noqa: E402
from .inputs.scenario import ResolvedScenario  # noqa: E402
from .inputs.validation import InputError  # noqa: E402

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
