"""Calibration spec: which parameters to fit, their prior ranges and where the ranges come from.

A spec (``calibration/spec_*.toml``) names a base parameter set, a targets file, and a list of
parameters. Each is a dotted path into the parameter set with a prior range and its source:

* ``mode = "value"``: the number at the path itself (its base value must lie in the range);
* ``mode = "scale"``: a factor applied to every number in the table at the path, keeping the
  table's shape (e.g. the work-exit hazards of all barriers), with 1 inside the range;
* ``mode = "share"``: one entry of a table of shares that add up to 1 (e.g.
  ``contacts.barrier_shares.unemployment``); the table's other entries are rescaled in
  proportion so that it still adds up to 1 (one such parameter per table).

``holdouts`` lists targets of the file that this spec leaves out of its fit although they name
a KPI (so that another spec can fit them while this one's fit stays as it was).
``extends = "other.toml"`` starts from another spec: its keys replaced by this file's, its
parameters to fit with this file's added (or replaced, by path).

``point = "base"`` holds a parameter at its base value (1 for a scale) in the point fit, while
the posterior samples its range: for a parameter no target moves, whose point-fit value would
be wherever the search stopped rather than an estimate.

:func:`apply_parameters` turns chosen values into a validated parameter set.
:class:`CalibrationProblem` ties a spec to its targets and scenario: the parameter space that
screening, the point fit and the posterior search, and the distance they all use.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from ..distributions import Number
from ..inputs.loading import load_parameters
from ..inputs.parameters import ModelParameters
from ..inputs.scenario import ResolvedScenario
from ..inputs.validation import (
    InputError,
    Problem,
    problems_from_validation,
    read_extending,
    suggest,
    validate_model,
)
from .targets import (
    Target,
    TargetFile,
    check_periods,
    load_targets,
    scenario_path,
    targets_scenario,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CalibratedParameter(_Strict):
    """One parameter (or table of parameters) to fit."""

    path: str = Field(pattern=r"^[a-z_][a-z0-9_.]*$", description="dotted path in the set")
    mode: Literal["value", "scale", "share"] = "value"
    low: Number
    high: Number
    log_scale: StrictBool = Field(default=False, description="sample the prior uniformly in log")
    point: Literal["fit", "base"] = Field(
        default="fit",
        description="the point fit searches its range (fit) or holds it at the base set's value "
        "(base: for a parameter no target moves, whose value the search would leave wherever "
        "it stopped); the posterior samples its whole range either way",
    )
    source: str = Field(min_length=10, description="where the range comes from")

    @model_validator(mode="after")
    def _ordered(self) -> CalibratedParameter:
        if not self.low < self.high:
            raise ValueError(f"{self.path}: low ({self.low}) must be below high ({self.high})")
        if self.log_scale and self.low <= 0:
            raise ValueError(f"{self.path}: log_scale needs low > 0")
        if self.mode == "scale" and self.low <= 0:  # a negative factor makes negative rates
            raise ValueError(f"{self.path}: a scale factor must be above 0: low = {self.low}")
        return self


class CalibrationSpec(_Strict):
    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=80,
        description="names the fit's results folder and its fitted parameter set file",
    )
    description: str = ""
    parameters: str = Field(description="base parameter set, relative to this file")
    targets: str = Field(description="targets file, relative to this file")
    calibrate: list[CalibratedParameter]
    holdouts: list[str] = Field(
        default_factory=list,
        description="ids of targets with a KPI that this spec does not fit (the fit report "
        "compares them with the point fit)",
    )

    @field_validator("holdouts")
    @classmethod
    def _each_held_out_once(cls, ids: list[str]) -> list[str]:
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"names {twice[0]!r} more than once: each target is held out once")
        return ids

    @field_validator("calibrate")
    @classmethod
    def _something_to_fit(cls, entries: list[CalibratedParameter]) -> list[CalibratedParameter]:
        if not entries:
            raise ValueError("is empty: give at least one [[calibrate]] table, a parameter to fit")
        return entries


def _walk(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            keys = list(node) if isinstance(node, dict) else []
            raise KeyError(f"'{part}' not found{suggest(part, keys)}")
        node = node[part]
    return node


def _numbers(node: Any) -> bool:
    if isinstance(node, dict):
        return bool(node) and all(_numbers(v) for v in node.values())
    return isinstance(node, int | float) and not isinstance(node, bool)


def _read_spec(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A spec file's keys, with ``extends = "other.toml"`` resolved: the other spec's keys, this
    file's replacing them, but ``calibrate``, whose entries are the other's with this file's
    added (an entry of the same path replaces the other's). ``parameters`` and ``targets`` stay
    relative to the file read. It must have a ``name`` of its own: the name names the fitted
    file and the work folder, and the other spec's would overwrite them."""
    path, raw, parent = read_extending(path, chain, "calibration spec")
    if parent is None:
        return raw
    merged = _read_spec(parent, (*chain, path))
    if raw.get("name") in (None, merged.get("name")):
        raise InputError.single(
            path,
            "name",
            "a spec that extends another needs a name of its own (it names the fitted file and "
            f"the work folder; '{merged.get('name')}' is the extended spec's)",
        )
    for key in ("parameters", "targets"):  # relative to the other file: made relative to this
        if isinstance(merged.get(key), str):
            merged[key] = os.path.relpath((parent.parent / merged[key]).resolve(), path.parent)
    added = raw.pop("calibrate", [])
    if not isinstance(added, list):
        raise InputError.single(path, "calibrate", "must be a list of [[calibrate]] tables")
    paths = {e.get("path") for e in added if isinstance(e, dict)}
    inherited = merged.get("calibrate", [])
    if not isinstance(inherited, list):
        raise InputError.single(parent, "calibrate", "must be a list of [[calibrate]] tables")
    kept = [e for e in inherited if not (isinstance(e, dict) and e.get("path") in paths)]
    return {**merged, **raw, "calibrate": [*kept, *added]}


def read_spec(path: str | Path) -> CalibrationSpec:
    """A spec alone (``extends`` resolved), without loading its base set or its targets: what
    a fitted set's record needs to say which targets it was fitted to."""
    path = Path(path)
    return validate_model(CalibrationSpec, _read_spec(path), lambda _loc: str(path))


def load_spec(path: str | Path) -> tuple[CalibrationSpec, ModelParameters]:
    """Load a spec and its base parameter set; check every path against that set."""
    path = Path(path)
    spec = read_spec(path)
    base_path = (path.parent / spec.parameters).resolve()
    if not base_path.exists():
        raise InputError.single(path, "parameters", f"parameter set not found: {base_path}")
    if base_path.is_dir():
        raise InputError.single(path, "parameters", f"{base_path} is a folder: name a file")
    targets_path = path.parent / spec.targets
    if not targets_path.exists():
        raise InputError.single(path, "targets", f"targets file not found: {spec.targets}")
    if targets_path.is_dir():
        raise InputError.single(path, "targets", f"{spec.targets} is a folder: name a file")
    base = load_parameters(base_path, (path, "parameters"))
    data = base.model_dump()
    problems: list[Problem] = []
    shared: set[str] = set()  # the tables a share parameter already sets
    first: dict[str, int] = {}  # each path's first entry
    for i, entry in enumerate(spec.calibrate):
        key = f"calibrate[{i}].path"
        if entry.path in first:
            problems.append(
                Problem(
                    str(path),
                    key,
                    f"{entry.path} is calibrated twice (also calibrate[{first[entry.path]}]): "
                    "give each parameter once",
                )
            )
        first.setdefault(entry.path, i)
        try:
            node = _walk(data, entry.path)
        except KeyError as exc:
            problems.append(Problem(str(path), key, f"{entry.path}: {exc.args[0]}"))
            continue
        if entry.mode == "share":
            problems.extend(_share_problems(path, key, entry, data, shared))
        elif entry.mode == "value":
            if not _numbers(node) or isinstance(node, dict):
                problems.append(Problem(str(path), key, f"{entry.path} is not a single number"))
            elif not entry.low <= node <= entry.high:
                problems.append(
                    Problem(
                        str(path),
                        key,
                        f"base value {node} lies outside [{entry.low}, {entry.high}]",
                    )
                )
        else:
            if not (isinstance(node, dict) and _numbers(node)):
                problems.append(
                    Problem(str(path), key, f"{entry.path} is not a table of numbers (mode scale)")
                )
            elif not entry.low <= 1 <= entry.high:
                problems.append(Problem(str(path), key, "a scale range must contain 1"))
    if problems:
        raise InputError(problems)
    problems = _range_end_problems(path, spec, base)
    if problems:
        raise InputError(problems)
    return spec, base


def _range_end_problems(path: Path, spec: CalibrationSpec, base: ModelParameters) -> list[Problem]:
    """A prior range must lie within what its parameter allows: each end, set alone in the
    base set, must give a valid set (a share of 1.4 would give points the model refuses, so
    the search would lose that part of the range without a word)."""
    problems = []
    for i, entry in enumerate(spec.calibrate):
        for end, value in (("low", entry.low), ("high", entry.high)):
            try:
                apply_parameters(base, spec, {entry.path: value})
            except InputError as exc:
                why = "; ".join(f"{p.key}: {p.message}" for p in exc.problems)
                problems.append(
                    Problem(
                        str(path),
                        f"calibrate[{i}].{end}",
                        f"{entry.path} at {value:g} is not a valid parameter set ({why}): "
                        "keep the range within what the parameter allows",
                    )
                )
    return problems


SHARE_TOLERANCE = 1e-6
"""How far a table of shares may be from adding up to 1 (the parameter set's own check)."""


def _share_problems(
    path: Path, key: str, entry: CalibratedParameter, data: Any, shared: set[str]
) -> list[Problem]:
    """What is wrong with a ``mode = "share"`` entry: its path must be one number of a table of
    shares adding up to 1, other entries left to rescale, its range inside (0, 1) and holding
    the base value, and no other share parameter on the same table."""
    table_path, _, name = entry.path.rpartition(".")
    table = _walk(data, table_path) if table_path else data
    node = table[name]
    if not _numbers(node) or isinstance(node, dict):
        return [Problem(str(path), key, f"{entry.path} is not a single number")]
    flat = all(_numbers(v) and not isinstance(v, dict) for v in table.values())
    if len(table) < 2 or not flat or abs(sum(table.values()) - 1.0) > SHARE_TOLERANCE:
        return [
            Problem(
                str(path), key, f"{table_path} is not a table of shares adding up to 1 (mode share)"
            )
        ]
    problems = []
    if table_path in shared:
        problems.append(
            Problem(str(path), key, f"{table_path} already has a share parameter (one per table)")
        )
    shared.add(table_path)
    if not 0 < entry.low < entry.high < 1:
        problems.append(Problem(str(path), key, "a share's range must lie inside (0, 1)"))
    elif not entry.low <= node <= entry.high:
        problems.append(
            Problem(str(path), key, f"base value {node} lies outside [{entry.low}, {entry.high}]")
        )
    return problems


def _set_share(table: dict[str, Any], name: str, share: float) -> None:
    """Set ``table[name]`` to ``share`` and rescale the other entries in proportion, so that the
    table still adds up to 1 (loading the spec made sure they add up to more than 0: the base
    value lies inside (0, 1) and the table adds up to 1)."""
    others = [k for k in table if k != name]
    rest = sum(table[k] for k in others)
    for k in others:
        table[k] = (1.0 - share) * table[k] / rest
    table[name] = share


def _scale(node: Any, factor: float) -> Any:
    if isinstance(node, dict):
        return {k: _scale(v, factor) for k, v in node.items()}
    return node * factor


def apply_parameters(
    base: ModelParameters, spec: CalibrationSpec, values: Mapping[str, float]
) -> ModelParameters:
    """The base set with the spec's parameters set to ``values`` (by path), validated."""
    data = copy.deepcopy(base.model_dump())
    for entry in spec.calibrate:
        if entry.path not in values:
            continue
        *parents, last = entry.path.split(".")
        node = data
        for part in parents:
            node = node[part]
        value = values[entry.path]
        if entry.mode == "share":
            _set_share(node, last, value)
        else:
            node[last] = value if entry.mode == "value" else _scale(node[last], value)
    try:
        return ModelParameters.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, ModelParameters, lambda _loc: "calibrated set")
        raise InputError(problems) from None


def target_sd(target: Target) -> float:
    """The target's uncertainty as a standard deviation (a range counts as ±2 sd)."""
    if target.sd is not None:
        return target.sd
    assert target.range is not None
    return (target.range[1] - target.range[0]) / 4 or math.nan


def discrepancy(target: Target, simulated: float) -> float:
    """How far the model's figure lies from the reported one, in the target's standard deviations.

    A target given as a range is met anywhere inside it; outside, the distance to the nearer end
    counts, in quarters of the range. A missing model figure (NaN) stays NaN.
    """
    if target.range is not None:
        low, high = target.range
        if low <= simulated <= high:
            return 0.0
        edge = low if simulated < low else high
        return (simulated - edge) / target_sd(target)
    return (simulated - target.value) / target_sd(target)


def reproduced(target: Target, z: float) -> bool:
    """Whether a model figure ``z`` target sd away (:func:`discrepancy`) reproduces the target:
    inside its range for a target given as a range (the distance beyond an end, in quarters
    of the range, only steers the fit), within 2 sd otherwise."""
    if math.isnan(z):
        return False
    return z == 0.0 if target.range is not None else abs(z) <= 2


#: distance given to a parameter point whose model gives no figure for a target (NaN)
MISSING_PENALTY = 1e4


@dataclasses.dataclass(frozen=True)
class CalibrationProblem:
    """A spec with its base parameters, its targets and the scenario they are compared on.

    Points are vectors in the *search space*: each parameter's own value, or its logarithm
    where the spec says ``log_scale``. Only targets with a KPI enter the distance, less those
    the spec holds out.
    """

    spec_path: Path
    spec: CalibrationSpec
    base: ModelParameters
    targets_path: Path
    targets: TargetFile
    resolved: ResolvedScenario
    period_notes: tuple[tuple[str, str], ...] = ()  # (target id, what): targets.check_periods

    @property
    def names(self) -> list[str]:
        return [e.path for e in self.spec.calibrate]

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [
            (math.log(e.low), math.log(e.high)) if e.log_scale else (e.low, e.high)
            for e in self.spec.calibrate
        ]

    @property
    def point_fit_bounds(self) -> list[tuple[float, float]]:
        """The point fit's box: the prior's, with ``point = "base"`` parameters held at their
        base value (equal bounds, which differential evolution keeps fixed)."""
        held = self.base_point()
        return [
            (v, v) if e.point == "base" else bounds
            for e, bounds, v in zip(self.spec.calibrate, self.bounds, held, strict=True)
        ]

    def base_point(self) -> list[float]:
        """The base set's values in the search space (a scale's base is 1)."""
        data = self.base.model_dump()
        values = {
            e.path: 1.0 if e.mode == "scale" else float(_walk(data, e.path))
            for e in self.spec.calibrate
        }
        return self.point(values)

    @property
    def compared(self) -> list[Target]:
        """The targets this spec fits: those naming a KPI, but for the spec's ``holdouts``."""
        left_out = set(self.spec.holdouts)
        return [t for t in self.targets.targets if t.kpi is not None and t.id not in left_out]

    def values(self, x: Sequence[float], *, held_at_base: bool = False) -> dict[str, float]:
        """Search-space point -> parameter values by path; with ``held_at_base`` (the point
        fit's points), ``point = "base"`` parameters take their base value exactly (a log
        scale's exp(log(v)) need not give v back)."""
        values = {
            e.path: (math.exp(v) if e.log_scale else float(v))
            for e, v in zip(self.spec.calibrate, x, strict=True)
        }
        if held_at_base:
            data = self.base.model_dump()
            for e in self.spec.calibrate:
                if e.point == "base":
                    values[e.path] = 1.0 if e.mode == "scale" else float(_walk(data, e.path))
        return values

    def point(self, values: Mapping[str, float]) -> list[float]:
        """Parameter values by path -> search-space point."""
        return [
            math.log(values[e.path]) if e.log_scale else float(values[e.path])
            for e in self.spec.calibrate
        ]

    def parameters(self, values: Mapping[str, float]) -> ModelParameters:
        return apply_parameters(self.base, self.spec, values)

    def scenario(
        self, values: Mapping[str, float], *, replications: int, seed: int | None = None
    ) -> ResolvedScenario:
        """The targets' scenario run with these parameter values."""
        update: dict[str, Any] = {"replications": replications}
        if seed is not None:
            update["seed"] = seed
        return dataclasses.replace(
            self.resolved,
            parameters=self.parameters(values),
            scenario=self.resolved.scenario.model_copy(update=update),
        )

    def discrepancies(self, kpis: Mapping[str, float]) -> dict[str, float]:
        """Each compared target's discrepancy (target sd) given the model's KPI values."""
        out = {}
        for target in self.compared:
            assert target.kpi is not None
            out[target.id] = discrepancy(target, float(kpis.get(target.kpi, math.nan)))
        return out

    def distance(self, kpis: Mapping[str, float]) -> float:
        """Sum of squared discrepancies: the weighted distance every fitting method minimises."""
        total = 0.0
        for z in self.discrepancies(kpis).values():
            total += MISSING_PENALTY if math.isnan(z) else z * z
        return total


def load_problem(spec_path: str | Path) -> CalibrationProblem:
    """Load a spec, its parameters, its targets and the targets' scenario (for their years)."""
    spec_path = Path(spec_path)
    spec, base = load_spec(spec_path)
    targets_path = (spec_path.parent / spec.targets).resolve()
    targets = load_targets(targets_path, (spec_path, "targets"))
    if targets.holdout:
        raise InputError.single(
            spec_path, "targets", f"{spec.targets} is a holdout file: holdouts are never fitted"
        )
    scenario = scenario_path(targets_path, targets)
    if scenario is None:
        raise InputError.single(targets_path, "scenario", "fitting needs the targets' scenario")
    if not any(t.kpi for t in targets.targets):
        raise InputError.single(targets_path, "targets", "no target names a model output (kpi)")
    with_kpi = [t.id for t in targets.targets if t.kpi is not None]
    unknown = [
        Problem(
            str(spec_path),
            f"holdouts[{i}]",
            f"'{name}' is not a target of {spec.targets} that names a kpi{suggest(name, with_kpi)}",
        )
        for i, name in enumerate(spec.holdouts)
        if name not in with_kpi
    ]
    if unknown:
        raise InputError(unknown)
    if all(t.kpi is None or t.id in spec.holdouts for t in targets.targets):
        raise InputError.single(spec_path, "holdouts", "holds out every target: nothing to fit")
    resolved = targets_scenario(targets_path, targets, scenario)
    notes = tuple(check_periods(targets_path, targets, resolved.scenario))
    return CalibrationProblem(spec_path, spec, base, targets_path, targets, resolved, notes)
