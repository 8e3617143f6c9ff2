"""Scenario files: the typed schema with documented defaults, and loading.

A scenario is a TOML file stating what planners control: dates, replications and seed, the
organisation, staff by role, the AR team's places, the unemployment path, the initial caseload,
costs, and the behavioural parameter set to use (a file under ``calibration/``).

Beyond plain keys a scenario file may use:

* ``extends = "other.toml"``: start from another scenario and change only what differs
  (tables merge key by key; arrays and values replace).
* ``[[changes]]`` with ``at = 2016-01-01``: settings of ``staff``, ``ar_team``, ``organisation``
  or ``costs`` that change from that date.
* ``[sweep]``: lists of values for one or more dotted keys; the run covers their product.

Loading resolves all of that into :class:`ResolvedScenario` objects (one per sweep point), or
raises :class:`~sim.validation.InputError` naming file, key and what is allowed.
"""

from __future__ import annotations

import copy
import datetime
import itertools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..distributions import Distribution, Exponential, Fixed
from ..domain import BARRIERS, DAYS_PER_YEAR, Barrier
from .parameters import ModelParameters
from .validation import (
    InputError,
    Problem,
    problems_from_validation,
    read_toml,
    validate_model,
)

Share = Annotated[float, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StaffRoleSettings(_Strict):
    """Posts of one staff role and how people come and go in them."""

    posts: int = Field(ge=0, le=100_000, description="budgeted posts (tjänster)")
    annual_turnover: float = Field(
        default=0.0, ge=0, le=5, description="expected leavers per post and year"
    )
    vacancy_fill_days: Distribution = Field(
        default=Fixed(dist="fixed", value=90), description="days from a leaver to a new hire"
    )
    introduction_days: float = Field(
        default=365, ge=0, le=3650, description="days a new hire works at reduced capacity"
    )
    introduction_capacity: float = Field(
        default=0.6, gt=0, le=1, description="share of full capacity during introduction"
    )
    parental_leave_per_year: float = Field(
        default=0.0, ge=0, le=2, description="parental leaves started per post and year"
    )
    parental_leave_days: Distribution = Field(
        default=Fixed(dist="fixed", value=240), description="length of a parental leave"
    )
    annual_cost_sek: float = Field(
        default=600_000, ge=0, description="cost of a filled post per year, incl. overheads"
    )


class Staff(_Strict):
    """Staff by role (all four roles must be stated)."""

    intake_social_workers: StaffRoleSettings
    ongoing_social_workers: StaffRoleSettings
    benefit_administrators: StaffRoleSettings
    employment_consultants: StaffRoleSettings


class District(_Strict):
    """A district served by the unit, with its share of the unit's contacts."""

    name: str = Field(min_length=1, description="district name")
    contact_share: float = Field(
        gt=0, description="relative share of the unit's contacts (normalised over districts)"
    )


class Organisation(_Strict):
    """How intake and ongoing work are organised and how much a worker may carry."""

    form: Literal["split", "merged"] = Field(
        default="split",
        description="split: intake unit hands long needs over to an income-support unit; "
        "merged: one unit, no hand-over",
    )
    districts: list[District] = Field(min_length=1, description="districts the unit serves")
    contacts_scale: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="contact volume relative to the parameter set's reference unit "
        "(contacts.per_year); e.g. 30 for a whole city of 2003",
    )
    caseload_norm: float = Field(
        default=55, gt=0, le=500, description="weighted A/B cases one social worker may hold"
    )
    class_a_weight: float = Field(
        default=1.5, ge=1, le=5, description="weight of an A case against a B case (B = 1)"
    )
    administrator_caseload_norm: float = Field(
        default=90, gt=0, le=2000, description="C cases one benefit administrator may hold"
    )
    administrators_on_c_share: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="share of administrators owning C cases (rest assist B)",
    )

    @model_validator(mode="after")
    def _unique_districts(self) -> Organisation:
        names = [d.name for d in self.districts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"district names must be unique; repeated: {', '.join(dupes)}")
        return self


class ARTeam(_Strict):
    """The work-oriented rehabilitation team (AR-teamet)."""

    places: int = Field(ge=0, le=100_000, description="year-places (årsplatser) at most")
    places_per_consultant: float = Field(
        default=9, gt=0, description="places one employment consultant in post can run"
    )


class UnemploymentPoint(_Strict):
    date: datetime.date = Field(description="date of this point (YYYY-MM-DD)")
    percent: float = Field(gt=0, lt=100, description="registered unemployment, % of population")


class Unemployment(_Strict):
    """Unemployment path: linear between points, constant before the first and after the last."""

    reference_percent: float = Field(
        gt=0, lt=100, description="the rate at which the parameter set's rates apply"
    )
    path: list[UnemploymentPoint] = Field(
        min_length=1, description="points in date order; linear in between, flat outside"
    )

    @model_validator(mode="after")
    def _increasing(self) -> Unemployment:
        dates = [p.date for p in self.path]
        for i, (d1, d2) in enumerate(itertools.pairwise(dates), start=1):
            if d2 <= d1:
                raise ValueError(f"path dates must increase; point {i} ({d2}) is not after {d1}")
        return self

    def percent_at(self, when: date) -> float:
        pts = self.path
        if when <= pts[0].date:
            return pts[0].percent
        for p1, p2 in itertools.pairwise(pts):
            if when <= p2.date:
                span = (p2.date - p1.date).days
                frac = (when - p1.date).days / span
                return p1.percent + frac * (p2.percent - p1.percent)
        return pts[-1].percent


class ClassCounts(_Strict):
    a: int = Field(default=0, ge=0, description="class A cases")
    b: int = Field(default=0, ge=0, description="class B cases")
    c: int = Field(default=0, ge=0, description="class C cases")


class InitialCaseload(_Strict):
    """Households open on the first simulated day (held in the ongoing unit)."""

    by_class: ClassCounts = Field(
        default=ClassCounts(), description="open cases by assessed class: a, b, c"
    )
    barrier_shares: dict[Barrier, Share] = Field(
        default_factory=lambda: dict.fromkeys(BARRIERS, 1 / len(BARRIERS)),
        description="share of open cases by barrier (must give all five, adding up to 1)",
    )
    duration_months: Distribution = Field(
        default=Exponential(dist="exponential", mean=18),
        description="months already on assistance at the start",
    )

    @model_validator(mode="after")
    def _shares(self) -> InitialCaseload:
        missing = [b for b in BARRIERS if b not in self.barrier_shares]
        if missing:
            raise ValueError(
                f"barrier_shares must give every barrier; missing: {', '.join(missing)}"
            )
        total = sum(self.barrier_shares.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(f"barrier_shares must add up to 1, they add up to {total:.4f}")
        return self

    @property
    def households(self) -> int:
        return self.by_class.a + self.by_class.b + self.by_class.c


class Costs(_Strict):
    """Money: assistance paid per household-month, by household type."""

    assistance_sek_per_month_without_children: float = Field(
        default=7_300, ge=0, description="paid per household-month, households without children"
    )
    assistance_sek_per_month_with_children: float = Field(
        default=10_300, ge=0, description="paid per household-month, households with children"
    )


CHANGEABLE = ("organisation", "staff", "ar_team", "costs")


class Change(_Strict):
    """Settings that change at a date (only staff, ar_team, organisation and costs)."""

    at: date = Field(description="the date the settings below take effect")
    organisation: dict[str, Any] | None = Field(default=None, description="as `organisation`")
    staff: dict[str, Any] | None = Field(default=None, description="as `staff`")
    ar_team: dict[str, Any] | None = Field(default=None, description="as `ar_team`")
    costs: dict[str, Any] | None = Field(default=None, description="as `costs`")


class Scenario(_Strict):
    """A complete scenario, as validated from a file (after ``extends``, ``--set`` and sweeps)."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=80,
        description="short name, used for results folders",
    )
    description: str = Field(default="", description="the question the scenario answers")
    start_date: date = Field(description="first reported day (YYYY-MM-DD)")
    horizon_years: float = Field(gt=0, le=50, description="simulated years after warm-up")
    warmup_days: int = Field(
        default=0, ge=0, le=36_500, description="days simulated before start_date, not reported"
    )
    replications: int = Field(
        default=10, ge=1, le=100_000, description="independent runs; intervals come from these"
    )
    seed: int = Field(
        default=0, ge=0, lt=2**63, description="the root of every random stream of the run"
    )
    parameters: str = Field(
        min_length=1, description="parameter set file, relative to the file that names it"
    )
    organisation: Organisation = Field(description="units, districts and caseload norms")
    staff: Staff = Field(description="posts by role; all four roles must be given")
    ar_team: ARTeam = Field(description="the rehabilitation team's places")
    unemployment: Unemployment = Field(description="the unemployment path")
    initial_caseload: InitialCaseload = Field(
        default=InitialCaseload(), description="households open on day 0 (none by default)"
    )
    costs: Costs = Field(default=Costs(), description="assistance paid per household-month")
    changes: list[Change] = Field(
        default_factory=list,
        description="settings of staff, ar_team, organisation or costs that change at a date",
    )

    @property
    def end_date(self) -> date:
        return self.start_date + timedelta(days=self.horizon_days)

    @property
    def horizon_days(self) -> int:
        return round(self.horizon_years * DAYS_PER_YEAR)

    @property
    def sim_start_date(self) -> date:
        """Calendar date of simulated day 0 (``start_date`` less the warm-up)."""
        return self.start_date - timedelta(days=self.warmup_days)


@dataclass(frozen=True)
class Settings:
    """What can change over time: in force from ``since`` on."""

    since: date
    organisation: Organisation
    staff: Staff
    ar_team: ARTeam
    costs: Costs


@dataclass(frozen=True)
class ResolvedScenario:
    """A scenario ready to run: validated, with its parameter set and its timeline of settings."""

    scenario: Scenario
    parameters: ModelParameters
    source: Path
    parameters_path: Path
    timeline: tuple[Settings, ...]
    sweep_point: dict[str, Any] = field(default_factory=dict)
    extends: str | None = None  # the file this scenario extends (its base), if any
    own_keys: tuple[str, ...] = ()  # dotted keys set here (file, --set, sweep), not inherited

    @property
    def name(self) -> str:
        return self.scenario.name

    def as_dict(self) -> dict[str, Any]:
        """The scenario as run, every default filled in (for manifests and ``scenario.toml``)."""
        return self.scenario.model_dump(mode="json", exclude_none=True)


# --- loading ------------------------------------------------------------------------------


class _Origins:
    """Which file set each key, so that an error names the file the user must edit."""

    def __init__(self, default: str) -> None:
        self.default = default
        self._by_key: dict[tuple[str | int, ...], str] = {}

    def sources(self) -> set[str]:
        return set(self._by_key.values())

    def record(self, data: Mapping[str, Any], source: str, prefix: tuple[str, ...] = ()) -> None:
        for key, value in data.items():
            path = (*prefix, key)
            self._by_key[path] = source
            if isinstance(value, Mapping):
                self.record(value, source, path)

    def set_by(self, sources: Iterable[str]) -> tuple[str, ...]:
        """Dotted keys (leaves) whose value comes from one of ``sources``."""
        wanted = set(sources)
        return tuple(
            ".".join(str(p) for p in key)
            for key, src in self._by_key.items()
            if src in wanted and not any(k[: len(key)] == key and k != key for k in self._by_key)
        )

    def with_keys(self, keys: Iterable[tuple[str, ...]], source: str) -> _Origins:
        """A copy in which ``keys`` are attributed to ``source``."""
        out = _Origins(self.default)
        out._by_key = dict(self._by_key)
        for key in keys:
            out._by_key[key] = source
        return out

    def __call__(self, loc: Sequence[str | int]) -> str:
        for n in range(len(loc), 0, -1):
            hit = self._by_key.get(tuple(loc[:n]))
            if hit is not None:
                return hit
        return self.default


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in ``top`` replaces what ``base`` had."""
    merged = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_with_extends(
    path: Path, origins: _Origins, chain: tuple[Path, ...] = ()
) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise InputError.single(chain[-1], "extends", f"extends makes a cycle: {cycle}")
    raw = read_toml(path)
    parent_ref = raw.pop("extends", None)
    base: dict[str, Any] = {}
    if parent_ref is not None:
        if not isinstance(parent_ref, str) or not parent_ref:
            raise InputError.single(path, "extends", "must be the path of another scenario file")
        parent = (path.parent / parent_ref).resolve()
        if not parent.exists():
            raise InputError.single(path, "extends", f"extended file not found: {parent}")
        base = _read_with_extends(parent, origins, (*chain, path))
    origins.record(raw, str(path))
    return deep_merge(base, raw)


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``"staff.intake_social_workers.posts=6"`` -> (["staff", ...], 6).

    The value is read as a TOML value (numbers, booleans, dates, arrays, inline tables); anything
    that is not valid TOML is taken as a plain string, so ``organisation.form=merged`` works.
    """
    if "=" not in text:
        raise InputError.single("--set", text, "expected KEY.PATH=VALUE")
    key, _, value_text = text.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise InputError.single("--set", text, "the key path has an empty part")
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = value_text.strip()
    return parts, value


def set_key(data: dict[str, Any], parts: Sequence[str], value: Any) -> None:
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _flatten_sweep(table: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        parts = (*prefix, *key.split("."))
        if isinstance(value, Mapping):
            flat.update(_flatten_sweep(value, parts))
        else:
            flat[".".join(parts)] = value
    return flat


def _sweep_points(raw_sweep: Any, source: str) -> list[dict[str, Any]]:
    if raw_sweep is None:
        return [{}]
    if not isinstance(raw_sweep, Mapping) or not raw_sweep:
        raise InputError.single(source, "sweep", "must be a table of KEY.PATH = [values]")
    flat = _flatten_sweep(raw_sweep)
    for key, values in flat.items():
        if not isinstance(values, list) or not values:
            raise InputError.single(
                source, f"sweep.{key}", f"must be a non-empty list of values (got {values!r})"
            )
    keys = list(flat)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*flat.values())]


def _point_label(point: Mapping[str, Any]) -> str:
    bits = []
    for key, value in point.items():
        text = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(value))
        bits.append(f"{key.split('.')[-1]}={text}")
    return ",".join(bits)


def _timeline(scenario: Scenario, raw: dict[str, Any], origins: _Origins) -> tuple[Settings, ...]:
    """Validate each timed change on top of everything before it."""
    first = Settings(
        scenario.start_date,
        scenario.organisation,
        scenario.staff,
        scenario.ar_team,
        scenario.costs,
    )
    settings = [first]
    current = {k: raw.get(k, {}) for k in CHANGEABLE}
    order = sorted(range(len(scenario.changes)), key=lambda i: scenario.changes[i].at)
    for i in order:
        change = scenario.changes[i]
        where = ("changes", i)
        if not scenario.start_date <= change.at < scenario.end_date:
            raise InputError.single(
                origins(where),
                f"changes[{i}].at",
                f"{change.at} is outside the simulated period "
                f"{scenario.start_date} to {scenario.end_date}",
            )
        fixed = sorted(set(change.organisation or {}) & {"districts", "contacts_scale"})
        if fixed:
            raise InputError.single(
                origins(where),
                f"changes[{i}].organisation.{fixed[0]}",
                "cannot change at a date: contacts are drawn for the whole run from the "
                "districts and contacts_scale at the start; compare separate scenarios instead",
            )
        updates = {k: getattr(change, k) for k in CHANGEABLE if getattr(change, k) is not None}
        if not updates:
            raise InputError.single(
                origins(where),
                f"changes[{i}]",
                f"changes nothing; give at least one of {', '.join(CHANGEABLE)}",
            )
        current = deep_merge(current, updates)
        candidate = {**raw, **current, "changes": []}
        try:
            changed = Scenario.model_validate(candidate)
        except ValidationError as exc:
            problems = problems_from_validation(exc, Scenario, origins)
            raise InputError(
                [Problem(origins(where), f"changes[{i}].{p.key}", p.message) for p in problems]
            ) from None
        settings.append(
            Settings(change.at, changed.organisation, changed.staff, changed.ar_team, changed.costs)
        )
    return tuple(settings)


def load_parameters(path: Path) -> ModelParameters:
    raw = read_toml(path)
    return validate_model(ModelParameters, raw, lambda _loc: str(path))


def load_scenarios(
    path: str | Path,
    overrides: Iterable[str] = (),
    *,
    years: float | None = None,
    seed: int | None = None,
    replications: int | None = None,
) -> list[ResolvedScenario]:
    """Load a scenario file: one :class:`ResolvedScenario` per sweep point (one if no sweep).

    ``overrides`` are ``KEY.PATH=VALUE`` strings (the command line's ``--set``), validated like
    the file. ``years``, ``seed`` and ``replications`` override the file's values.
    """
    source = Path(path)
    origins = _Origins(str(source))
    raw = _read_with_extends(source, origins)
    parent_ref = read_toml(source).get("extends")
    parent_file = str((source.parent / parent_ref).resolve()) if parent_ref else None
    extra: list[tuple[list[str], Any, str]] = [
        (*parse_assignment(text), f"--set {text}") for text in overrides
    ]
    for key, value in (("horizon_years", years), ("seed", seed), ("replications", replications)):
        if value is not None:
            extra.append(([key], value, f"--{key.split('_')[-1]}"))
    for parts, value, label in extra:
        set_key(raw, parts, value)
        origins.record({parts[0]: _nest(parts[1:], value)}, label)

    sweep = raw.pop("sweep", None)
    points = _sweep_points(sweep, origins(("sweep",)))
    resolved: list[ResolvedScenario] = []
    for point in points:
        data = copy.deepcopy(raw)
        for key, value in point.items():
            set_key(data, key.split("."), value)
        point_origins = origins.with_keys(
            [tuple(key.split(".")) for key in point], f"{origins(('sweep',))} [sweep]"
        )
        if point:
            data["name"] = f"{data.get('name', source.stem)}[{_point_label(point)}]"
            data["name"] = re.sub(r"[^A-Za-z0-9_.-]+", "_", data["name"]).strip("_")
        scenario = validate_model(Scenario, data, point_origins)
        timeline = _timeline(scenario, data, point_origins)
        param_file = point_origins(("parameters",))
        base_dir = Path(param_file).parent if Path(param_file).exists() else source.parent
        param_path = (base_dir / scenario.parameters).resolve()
        if not param_path.exists():
            raise InputError.single(
                param_file, "parameters", f"parameter set file not found: {param_path}"
            )
        parameters = load_parameters(param_path)
        own_sources = {str(source.resolve()), f"{origins(('sweep',))} [sweep]"}
        own_sources |= {src for src in point_origins.sources() if src.startswith("--")}
        resolved.append(
            ResolvedScenario(
                scenario,
                parameters,
                source,
                param_path,
                timeline,
                dict(point),
                extends=parent_file,
                own_keys=point_origins.set_by(own_sources) if parent_file else (),
            )
        )
    return resolved


def _nest(parts: Sequence[str], value: Any) -> Any:
    out: Any = value
    for part in reversed(parts):
        out = {part: out}
    return out


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file, for editors (``caseflow schema``)."""
    schema = Scenario.model_json_schema()
    props = schema.setdefault("properties", {})
    props["extends"] = {"type": "string", "description": "path of a scenario this one changes"}
    props["sweep"] = {
        "type": "object",
        "description": "dotted key -> list of values; the run covers their product",
        "additionalProperties": {"type": "array", "minItems": 1},
    }
    return schema
