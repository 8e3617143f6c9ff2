"""caseflow: discrete-event simulation of social-assistance caseload flow.

Typical use from Python::

    from sim import load_scenarios, run_scenario
    resolved = load_scenarios("scenarios/baseline.toml")[0]
    results = run_scenario(resolved, workers=1)
    results.summary  # kpi, mean, ci_low, ci_high, unit
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("caseflow")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .experiment import ScenarioResults, run_scenario
from .scenario import ResolvedScenario, load_scenarios
from .validation import InputError

__all__ = [
    "InputError",
    "ResolvedScenario",
    "ScenarioResults",
    "__version__",
    "load_scenarios",
    "run_scenario",
]
