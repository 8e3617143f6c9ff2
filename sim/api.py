"""The Python API for notebooks: ``sim.run`` and ``sim.compare`` return pandas DataFrames and
write the same results folder and report as the command line::

    import sim
    results = sim.run("scenarios/baseline.toml", replications=10)
    results                              # a short summary: the headline KPIs
    results.summary                      # kpi, mean, ci_low, ci_high, unit
    results.save("results/baseline")     # the folder `caseflow run` writes, report.html too
    cmp = sim.compare("scenarios/baseline.toml", "my_alternative.toml")
    cmp.differences                      # paired differences with 95 % intervals
    cmp.save("results/compare")          # the folder `caseflow compare` writes

Errors name this API's parameters (``replications=0``), not the command line's options.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from .experiments.runner import (
    ComparisonResults,
    ScenarioResults,
    compare_scenarios,
    run_scenario,
    unused_pairing_settings,
)
from .inputs.loading import OPTION_KEYS
from .inputs.loading import load_scenarios as load_scenario_file
from .inputs.scenario import ResolvedScenario, Scenario
from .inputs.validation import InputError, Problem
from .output.caveats import setting_warnings
from .output.folders import (
    Clock,
    atomic_folder,
    check_target,
    earlier_results,
    folder_manifest,
    now_utc,
    run_manifest,
    write_comparison,
    write_results,
)

ScenarioLike = str | Path | ResolvedScenario
Replications = int | Literal["auto"] | None


def _finished(clock: Clock) -> dict[str, Any]:
    """When the run ended and how long it took, for the manifest whenever it is saved."""
    return {"finished": now_utc().isoformat(), "wall_seconds": round(clock.seconds(), 3)}


@dataclass(repr=False)
class RunResults(ScenarioResults):
    """:class:`ScenarioResults` of ``sim.run``: a short summary as its repr, and ``save``."""

    command: str = ""
    clock: Clock = field(default_factory=Clock.start)
    workers: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, Any] = field(default_factory=dict)

    def manifest(self, **extra: Any) -> dict[str, Any]:
        """The manifest ``caseflow run`` would write for these results."""
        manifest = run_manifest(
            self.resolved,
            command=self.command,
            clock=self.clock,
            workers=self.workers,
            extra={**self.extra, **extra},
        )
        return {**manifest, **self.timing}

    def save(self, folder: str | Path) -> Path:
        """Write the results folder ``caseflow run`` writes (CSV files, scenario and parameter
        files, report.html, manifest.json) to ``folder``, atomically; returns its path."""
        target = _folder(folder, "save")
        with atomic_folder(target) as work:
            write_results(work, self, self.manifest(), workers=self.workers)
        return target

    @property
    def warnings(self) -> list[str]:
        """What the run's report warns of before its figures are trusted (an intake with no
        one in post, too few replications, unemployment outside the calibrated range, ...):
        shown with the figures too, for whoever never opens the report."""
        from .output.caveats import run_warnings

        return run_warnings(self.resolved.as_dict(), self.manifest(), self.monthly)

    def __repr__(self) -> str:
        from .output.summaries import run_text

        return run_text(self, self.warnings)

    def _repr_html_(self) -> str:
        from .output.summaries import run_html

        return run_html(self, self.warnings)


@dataclass(repr=False)
class Comparison(ComparisonResults):
    """:class:`ComparisonResults` of ``sim.compare``: a short summary as its repr, and
    ``save``. ``base`` and ``alternatives`` are :class:`RunResults`."""

    command: str = ""
    clock: Clock = field(default_factory=Clock.start)
    workers: int | None = None
    base_file: str = ""
    timing: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # with posterior=N: its record

    def save(self, folder: str | Path) -> Path:
        """Write the folder ``caseflow compare`` writes: a sub-folder per scenario,
        comparison.csv, report.html and manifest.json; returns its path."""
        every = [self.base, *self.alternatives]
        repeated = _repeated_names([r.resolved.name for r in every])
        if repeated:
            raise ValueError(
                f"each scenario gets a sub-folder by its name, but these repeat: "
                f"{', '.join(repeated)}; give the scenarios different names"
            )
        own = {"compared_with": self.base.resolved.name, **self.extra}
        scenario_manifests = [
            {
                **run_manifest(
                    r.resolved,
                    command=self.command,
                    clock=self.clock,
                    workers=self.workers,
                    extra=own,
                ),
                **self.timing,
            }
            for r in every
        ]
        content = {**comparison_content([r.resolved for r in every], self.base_file), **self.extra}
        manifest = folder_manifest(
            content, command=self.command, clock=self.clock, workers=self.workers
        )
        target = _folder(folder, "save")
        with atomic_folder(target) as work:
            write_comparison(
                work, self, scenario_manifests, {**manifest, **self.timing}, workers=self.workers
            )
        return target

    @property
    def warnings(self) -> list[str]:
        """What the comparison report warns of: its own warnings, then each scenario's."""
        from .output.comparison_report import comparison_warnings
        from .output.folders import base_manifest

        every = [self.base, *self.alternatives]
        own = {**comparison_content([r.resolved for r in every], self.base_file), **self.extra}
        return comparison_warnings(
            own,
            [(r.resolved.name, r.monthly) for r in every],
            [base_manifest(r.resolved) for r in every],
        )

    def __repr__(self) -> str:
        from .output.summaries import comparison_text

        return comparison_text(self, self.warnings)

    def _repr_html_(self) -> str:
        from .output.summaries import comparison_html

        return comparison_html(self, self.warnings)


def comparison_content(resolved: Sequence[ResolvedScenario], base_file: str) -> dict[str, Any]:
    """What a comparison's manifest records of its scenarios (``caseflow compare`` too)."""
    base = resolved[0]
    return {
        "comparison_of": [r.name for r in resolved],
        "base": base.name,
        "base_file": base_file,
        "base_sweep_point": base.sweep_point,
        "seed": base.scenario.seed,
        "replications": base.scenario.replications,
        "parameters_name": base.parameters.name,
    }


# --- checking the parameters ----------------------------------------------------------------


def _check_whole(
    name: str, value: Any, minimum: int, *, hint: str = "", most: int | None = None
) -> None:
    """A whole number of at least ``minimum`` (and at most ``most``: a scenario file's limit)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"{name} must be a whole number of at least {minimum}{hint}, got {value!r}"
        )
    if most is not None and value > most:
        raise ValueError(f"{name} must be at most {most}, as in a scenario file, got {value!r}")


def _bound(field: Any, kind: str) -> int:
    """A scenario field's bound (``le``, ``lt``) as its schema states it."""
    return next(int(getattr(m, kind)) for m in field.metadata if hasattr(m, kind))


def _check_arguments(
    replications: Any, workers: Any, seed: Any, years: Any, events: Any, cluster: Any
) -> None:
    """Refuse bad values by the API's own parameter names, before anything runs."""
    if not isinstance(events, bool):
        raise TypeError(f"events must be True or False, got {events!r}")
    if cluster is not None and not isinstance(cluster, str):
        raise TypeError(
            f"cluster must be a Dask scheduler's address (a str, 'tcp://HOST:8786') or None, "
            f"got {cluster!r}"
        )
    limits = Scenario.model_fields  # the file's own bounds, so a saved scenario.toml reruns
    if replications != "auto":
        most = _bound(limits["replications"], "le")
        _check_whole("replications", replications, 1, hint=" or 'auto'", most=most)
    _check_whole("workers", workers, 1, hint=" (None: all cores)")
    _check_whole("seed", seed, 0, most=_bound(limits["seed"], "lt") - 1)
    if years is not None and (isinstance(years, bool) or not isinstance(years, int | float)):
        raise ValueError(f"years must be a number above 0, got {years!r}")
    if years is not None and not years > 0:
        raise ValueError(f"years must be a number above 0, got {years!r}")


def _capped_workers(workers: int | None, cluster: str | None) -> int | None:
    """``workers`` beyond the cores this process may use run as that many (the runner caps
    them): said, as the command line's note says it, so that the manifest records the number
    used."""
    from .experiments.parallel import available_cores

    cores = available_cores()
    if workers is None or cluster or workers <= cores:
        return workers
    warnings.warn(
        f"workers={workers} is more than the {cores} cores this process may use; using {cores}",
        UserWarning,
        stacklevel=3,
    )
    return cores


def _check_posterior(posterior: Any, replications: Any, events: bool) -> None:
    """``posterior=N``: a whole number of draws, replications a number per draw, no logs."""
    if posterior is None:
        return
    _check_whole("posterior", posterior, 1, hint=" (draws of the fitted posterior)")
    if replications == "auto":
        raise ValueError("posterior=N needs a number of replications per draw, not 'auto'")
    if events:
        raise ValueError("event logs are written without posterior=N (one per draw)")


@contextmanager
def _posterior_named(call: str) -> Iterator[None]:
    """The posterior's input errors in the API's words: ``posterior=N`` of ``call``, where the
    library names the command line's ``--posterior``."""
    try:
        yield
    except InputError as exc:
        raise InputError(
            [
                Problem(p.file, p.key, p.message.replace("--posterior", f"{call}(posterior=N)"))
                for p in exc.problems
            ]
        ) from None


def _api_problem(problem: Problem, call: str) -> Problem:
    """A loader's problem named by this API's parameters instead of the command line's."""
    name = OPTION_KEYS.get(problem.file)
    if name is not None:
        return Problem(f"{call}({name}=...)", problem.key, problem.message)
    if problem.file.startswith("--set "):
        return Problem(f"{call}(overrides=[{problem.file[6:]!r}])", problem.key, problem.message)
    if problem.file == "--set":  # the override itself is malformed: it is the key
        return Problem(f"{call}(overrides=[{problem.key!r}])", "", problem.message)
    if problem.file == "command line":  # a key set twice, by two overrides or one and years=
        message = problem.message.replace("--set ", "")
        for option, parameter in OPTION_KEYS.items():
            message = message.replace(f"by {option}", f"by {parameter}=")
        return Problem(f"{call}(...)", problem.key, message)
    return problem


def _folder(folder: Any, call: str) -> Path:
    if not isinstance(folder, str | os.PathLike):
        raise TypeError(
            f"{call}(folder=...): the results folder's path (a str or a Path), not "
            f"{type(folder).__name__} {folder!r}"
        )
    path = Path(folder).expanduser()  # "~/runs/x", as a shell would read it
    check_target(path)  # a folder that may not be replaced is refused before the note
    earlier = earlier_results(path)
    if earlier is not None:  # as the command line's note says it
        warnings.warn(
            f"{path} holds earlier results (of a run started {earlier}); they are replaced",
            UserWarning,
            stacklevel=3,
        )
    return path


def _override_strings(overrides: Any, call: str) -> list[str]:
    """``overrides`` as ``KEY.PATH=VALUE`` strings: a list of them, or a mapping of keys to
    values (written as TOML); a single string is refused (it would be read letter by letter)."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        raise TypeError(
            f"{call}(overrides=...): give a list of 'KEY.PATH=VALUE' strings (or a dict of keys "
            f"to values), not one string: overrides=[{overrides!r}]"
        )
    if isinstance(overrides, Mapping):
        return [f"{key}={_as_toml(value, key, call)}" for key, value in overrides.items()]
    if not isinstance(overrides, Iterable):
        raise TypeError(
            f"{call}(overrides=...): a list of 'KEY.PATH=VALUE' strings or a dict of keys to "
            f"values, not {type(overrides).__name__} {overrides!r}"
        )
    strings = list(overrides)
    wrong = [o for o in strings if not isinstance(o, str)]
    if wrong:
        raise TypeError(
            f"{call}(overrides=...): each override is a 'KEY.PATH=VALUE' string, not {wrong[0]!r}"
        )
    return strings


def _as_toml(value: Any, key: str, call: str) -> str:
    """A dict override's value as the TOML text ``--set`` reads, on one line: a string stays a
    string (quoted and escaped, even one that looks like a date), numpy values are their
    Python ones; None has no TOML form."""
    import tomli_w

    if value is None:
        raise TypeError(
            f"{call}(overrides=...): {key} is None, which no scenario key takes: leave the key "
            "out to keep the scenario's value"
        )
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        value = value.tolist()
    if isinstance(value, Mapping):
        inner = ", ".join(f"{k} = {_as_toml(v, f'{key}.{k}', call)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_as_toml(v, key, call) for v in value) + "]"
    try:
        return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")
    except TypeError:
        raise TypeError(
            f"{call}(overrides=...): {key} = {value!r}: a {type(value).__name__} has no TOML "
            "form (give a number, a string, a bool, a date, a list or a dict)"
        ) from None


def _check_scenario(scenario: Any, call: str, name: str) -> None:
    if not isinstance(scenario, str | os.PathLike | ResolvedScenario):
        raise TypeError(
            f"{call}({name}=...): a scenario file's path (a str or a Path) or a loaded scenario "
            f"(sim.load_scenarios), not {type(scenario).__name__} {scenario!r}"
        )


def _resolve(
    scenario: ScenarioLike,
    overrides: Iterable[str] = (),
    *,
    call: str,
    years: float | None = None,
    seed: int | None = None,
    replications: int | None = None,
) -> list[ResolvedScenario]:
    if isinstance(scenario, ResolvedScenario):
        return [scenario]
    try:
        return load_scenario_file(
            scenario, overrides, years=years, seed=seed, replications=replications
        )
    except InputError as exc:
        raise InputError([_api_problem(p, call) for p in exc.problems]) from None


def load_scenarios(
    path: str | os.PathLike[str],
    overrides: Iterable[str] | Mapping[str, Any] = (),
    *,
    years: float | None = None,
    seed: int | None = None,
    replications: int | None = None,
) -> list[ResolvedScenario]:
    """Load a scenario file as :func:`run` would: one scenario per sweep point, with
    ``overrides`` (``KEY.PATH=VALUE`` strings or a dict of keys to values), ``years``,
    ``seed`` and ``replications`` set over the file. Problems are named by these parameters
    (``sim.load_scenarios(overrides=[...])``), not by the command line's options."""
    call = "sim.load_scenarios"
    strings = _override_strings(overrides, call)
    if not isinstance(path, str | os.PathLike):
        raise TypeError(
            f"{call}(path=...): a scenario file's path (a str or a Path), not "
            f"{type(path).__name__} {path!r}"
        )
    _check_arguments(replications, None, seed, years, False, None)
    return _resolve(
        Path(path), strings, call=call, years=years, seed=seed, replications=replications
    )


def _call(name: str, first: Any, *rest: Any, **keywords: Any) -> str:
    """The call as typed, for the manifest and the report's "Reproduce"."""
    args = [_shown(a) for a in (first, *rest)]
    args += [f"{k}={v!r}" for k, v in keywords.items() if not _default(v)]
    return f"sim.{name}({', '.join(args)})"


def _default(value: Any) -> bool:
    """Whether a keyword was left at its default (None, False, no overrides)."""
    return value is None or value is False or (isinstance(value, list | tuple) and not value)


def _shown(scenario: Any) -> str:
    if isinstance(scenario, ResolvedScenario):
        return f"<loaded scenario {scenario.name!r} from {str(scenario.source)!r}>"
    return repr(str(scenario) if isinstance(scenario, Path) else scenario)


def _as_run_results(results: ScenarioResults, **extra: Any) -> RunResults:
    """The results as ``sim.run`` gives them: the summary's and the districts' intervals cut
    to what each KPI can take, as ``summary.csv`` and the report have them (no negative count
    of households, no share above 1)."""
    from .output.formatting import intervals_cut_to_bounds

    values = {f.name: getattr(results, f.name) for f in fields(ScenarioResults)}
    values["summary"] = intervals_cut_to_bounds(results.summary)
    if results.districts is not None:
        values["districts"] = intervals_cut_to_bounds(results.districts)
    return RunResults(**values, **extra)


def _rule(precision: float, auto_kpis: Sequence[str] | None, max_replications: int) -> Any:
    """The stopping rule of ``replications="auto"``, its settings checked by their names."""
    from .experiments.stopping import DEFAULT_KPIS, ReplicationRule
    from .metrics import kpi_names

    if isinstance(precision, bool) or not isinstance(precision, int | float) or precision <= 0:
        raise ValueError(f"precision must be a number above 0, got {precision!r}")
    least = ReplicationRule().least_cap
    _check_whole(
        "max_replications", max_replications, least,
        hint=f" (the first {ReplicationRule().initial} and as many more to confirm a precision)",
    )  # fmt: skip
    if isinstance(auto_kpis, str):  # one name: not read letter by letter
        auto_kpis = [auto_kpis]
    kpis = tuple(DEFAULT_KPIS if auto_kpis is None else auto_kpis)
    unknown = [k for k in kpis if k not in kpi_names()]
    if unknown or not kpis:
        raise ValueError(
            f"auto_kpis must name KPIs of summary.csv's kpi column, got {list(kpis)!r}"
        )
    return ReplicationRule(kpis=kpis, precision=float(precision), cap=max_replications)


def _loaded(scenario: ResolvedScenario, seed: int | None, replications: int | None) -> Any:
    """A loaded scenario with ``seed`` and ``replications`` set (a file gets them on loading)."""
    update = {k: v for k, v in (("seed", seed), ("replications", replications)) if v is not None}
    if not update:
        return scenario
    return replace(scenario, scenario=scenario.scenario.model_copy(update=update))


def run(
    scenario: ScenarioLike,
    *,
    overrides: Iterable[str] = (),
    years: float | None = None,
    seed: int | None = None,
    replications: Replications = None,
    workers: int | None = None,
    events: bool = False,
    cluster: str | None = None,
    precision: float = 0.05,
    auto_kpis: Sequence[str] | None = None,
    max_replications: int = 200,
    posterior: int | None = None,
) -> RunResults:
    """Run one scenario (a file or a loaded scenario) and return its tidy results.

    ``overrides`` are ``KEY.PATH=VALUE`` strings, as ``--set`` on the command line, or a
    dict of keys to values. ``replications="auto"`` adds replications until the 95 %
    intervals of ``auto_kpis`` are within ``precision`` of their means (at most
    ``max_replications``), as ``caseflow run
    --replications auto``. ``workers`` is the number of processes (None: all cores). A file
    with a ``[sweep]`` holds several scenarios: use :func:`compare` or ``load_scenarios``.
    ``posterior=N`` runs over N draws of the fitted parameter set's posterior × the
    replications, as ``caseflow run --posterior N``: ``results.tables["uncertainty.csv"]``
    splits each KPI's spread into parameter uncertainty and noise, and ``save`` writes it.
    """
    overrides = _override_strings(overrides, "sim.run")
    _check_scenario(scenario, "sim.run", "scenario")
    _check_arguments(replications, workers, seed, years, events, cluster)
    _check_posterior(posterior, replications, events)
    typed_workers, workers = workers, _capped_workers(workers, cluster)
    auto = replications == "auto"
    rule = _rule(precision, auto_kpis, max_replications) if auto else None
    chosen = {"precision": precision, "auto_kpis": auto_kpis, "max_replications": max_replications}
    defaults = run.__kwdefaults__ or {}
    given = [name for name, value in chosen.items() if value != defaults[name]]
    if given and not auto:  # as the command line's note says it
        warnings.warn(
            f"{' and '.join(given)} {'applies' if len(given) == 1 else 'apply'} only with "
            "replications='auto': ignored",
            UserWarning,
            stacklevel=2,
        )
    if auto and (events or cluster):
        raise ValueError("replications='auto' runs on local processes without event logs")
    keywords = dict(overrides=list(overrides), years=years, seed=seed, replications=replications)
    command = _call(
        "run", scenario, **keywords, workers=typed_workers, events=events, cluster=cluster,
        posterior=posterior,
    )  # fmt: skip
    clock = Clock.start()
    fixed = replications if isinstance(replications, int) else None
    resolved = _one(scenario, overrides, years=years, seed=seed, replications=fixed)
    extra: dict[str, Any] = {}
    if posterior is not None:
        from .calibration.uncertainty import posterior_entry, run_posterior

        with _posterior_named("sim.run"):
            results = run_posterior(resolved, posterior, workers=workers, cluster=cluster).results
        extra = {"posterior": posterior_entry(resolved, posterior)}
    elif rule is not None:
        from .experiments.stopping import run_until_precise

        results, outcome = run_until_precise(resolved, rule, workers=workers)
        extra = {"replications_auto": outcome.as_dict(rule)}
    else:
        results = run_scenario(resolved, workers=workers, events=events, cluster=cluster)
    return _as_run_results(
        results, command=command, clock=clock, workers=workers, extra=extra,
        timing=_finished(clock),
    )  # fmt: skip


def _one(
    scenario: ScenarioLike,
    overrides: Iterable[str],
    *,
    years: float | None,
    seed: int | None,
    replications: int | None,
) -> ResolvedScenario:
    """The one scenario ``sim.run`` runs; a sweep is refused."""
    if isinstance(scenario, ResolvedScenario):
        if list(overrides) or years is not None:
            raise ValueError(
                "overrides and years apply to a scenario file; for a loaded scenario pass them "
                "to sim.load_scenarios"
            )
        return _loaded(scenario, seed, replications)  # type: ignore[no-any-return]
    resolved = _resolve(
        scenario, overrides, call="sim.run", years=years, seed=seed, replications=replications
    )
    if len(resolved) != 1:
        raise ValueError(
            f"{scenario} sweeps {len(resolved)} scenarios; use sim.compare or load_scenarios"
        )
    return resolved[0]


def compare(
    base: ScenarioLike,
    *alternatives: ScenarioLike,
    overrides: Iterable[str] = (),
    years: float | None = None,
    seed: int | None = None,
    replications: Replications = None,
    workers: int | None = None,
    events: bool = False,
    cluster: str | None = None,
    posterior: int | None = None,
) -> Comparison:
    """Run a base and alternatives with common random numbers and return paired differences.

    Sweeps expand: with one swept file, its first point is the base. ``overrides`` apply to
    every scenario; ``seed`` and ``replications`` to the base, whose values every alternative
    runs with. ``replications="auto"`` is for :func:`run` only. ``posterior=N`` runs every
    scenario over the same N draws of the base's fitted posterior × the replications, paired
    by draw and replication, as ``caseflow compare --posterior N``: the differences gain
    ``draws`` and ``parameter_share`` (the share of a difference's variance that comes from
    the parameters); every alternative must use the base's parameter set.
    """
    if replications == "auto":
        raise ValueError("replications='auto' is for sim.run; sim.compare needs a number")
    overrides = _override_strings(overrides, "sim.compare")
    _check_scenario(base, "sim.compare", "base")
    for alternative in alternatives:
        _check_scenario(alternative, "sim.compare", "alternatives")
    _check_arguments(replications, workers, seed, years, events, cluster)
    _check_posterior(posterior, replications, events)
    typed_workers, workers = workers, _capped_workers(workers, cluster)
    keywords = dict(overrides=list(overrides), years=years, seed=seed, replications=replications)
    command = _call(
        "compare", base, *alternatives, **keywords, workers=typed_workers, events=events,
        cluster=cluster, posterior=posterior,
    )  # fmt: skip
    clock = Clock.start()
    fixed = replications if isinstance(replications, int) else None
    scenarios = _every(base, alternatives, overrides, years, seed, fixed)
    for warning in setting_warnings(
        scenarios[0].name,
        scenarios[0].as_dict(),
        scenarios[0].parameters.model_dump(mode="json"),
        [(s.name, s.as_dict(), s.parameters.model_dump(mode="json")) for s in scenarios[1:]],
    ):
        warnings.warn(warning, UserWarning, stacklevel=2)
    for note in unused_pairing_settings(scenarios[0], scenarios[1:]):  # as compare notes it
        warnings.warn(note, UserWarning, stacklevel=2)
    posterior_record: dict[str, Any] = {}
    if posterior is not None:
        from .calibration.uncertainty import compare_over_posterior, posterior_entry

        with _posterior_named("sim.compare"):
            comparison = compare_over_posterior(
                scenarios[0], scenarios[1:], posterior, workers=workers, cluster=cluster
            )
        posterior_record = {"posterior": posterior_entry(scenarios[0], posterior)}
    else:
        comparison = compare_scenarios(
            scenarios[0], scenarios[1:], workers=workers, events=events, cluster=cluster
        )
    from .output.formatting import differences_cut_to_bounds

    timing = _finished(clock)
    wrap: dict[str, Any] = dict(command=command, clock=clock, workers=workers, timing=timing)
    return Comparison(
        extra=posterior_record,
        base=_as_run_results(comparison.base, **wrap, extra=posterior_record),
        alternatives=[
            _as_run_results(a, **wrap, extra=posterior_record) for a in comparison.alternatives
        ],
        differences=differences_cut_to_bounds(comparison.differences),
        base_file=str(scenarios[0].source),
        **wrap,
    )


def _every(
    base: ScenarioLike,
    alternatives: Sequence[ScenarioLike],
    overrides: Iterable[str],
    years: float | None,
    seed: int | None,
    replications: int | None,
) -> list[ResolvedScenario]:
    """Every scenario compared, sweeps expanded; at least two."""
    overrides = list(overrides)
    if isinstance(base, ResolvedScenario):
        scenarios = [_loaded(base, seed, replications)]
    else:
        scenarios = _resolve(
            base, overrides, call="sim.compare", years=years, seed=seed, replications=replications
        )
    for alternative in alternatives:
        scenarios.extend(_resolve(alternative, overrides, call="sim.compare", years=years))
    if len(scenarios) < 2:
        raise ValueError("compare needs a base and at least one alternative")
    repeated = _repeated_names([s.name for s in scenarios])
    if repeated:  # compared in memory they may be (a check: every difference 0); saved, not
        warnings.warn(
            f"these scenarios share a name: {', '.join(repeated)}; the comparison runs, but "
            "save() refuses it (each scenario gets a sub-folder by its name)",
            UserWarning,
            stacklevel=3,
        )
    return scenarios


def _repeated_names(names: list[str]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})
