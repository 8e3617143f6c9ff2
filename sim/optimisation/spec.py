"""The optimisation spec: a base scenario, decision variables, constraints and objectives.

A spec is a small TOML file (``scenarios/optimise/staffing_2015.toml`` is an example)::

    name = "staffing-2015"
    base = "../baseline.toml"            # the scenario every candidate starts from
    trials = 40                          # candidates the search evaluates
    replications = 10                    # per candidate, the same seeds for all (CRN)

    [[variables]]                        # a count: whole numbers from low to high
    key = "staff.ongoing_social_workers.posts"
    low = 8
    high = 16

    [[variables]]                        # a choice among values
    key = "organisation.form"
    choices = ["split", "merged"]

    [constraints]
    staff_budget_sek = 15_660_000        # budgeted staff cost: Σ posts × annual_cost_sek
    max_posts = 27                       # posts of every role together
    kpis = [{ kpi = "first_visit_wait_days", max = 14 }]

    [[objectives]]
    kpi = "assistance_paid_sek_per_year"
    direction = "minimise"

Loading checks everything a run would stumble on before it starts: each problem names the
file, the key (``variables[1].high``) and what is allowed, as every input file's do. Each
variable's bounds are checked by loading the base with them, so a negative post count is
named here, in the spec, not half-way through a search.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..distributions import Count, Number
from ..domain import STAFF_ROLES
from ..inputs.loading import load_scenarios
from ..inputs.scenario import ResolvedScenario
from ..inputs.validation import (
    InputError,
    Problem,
    read_toml,
    refuse_other_kind,
    suggest,
    validate_model,
)
from ..output.formatting import first_change_setting, toml_value
from ..records import KPI

Direction = Literal["minimise", "maximise"]
Scalar = int | float | str | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Variable(_Strict):
    """One decision variable: a scenario key and the values it may take."""

    key: str = Field(
        pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$",
        description="dotted scenario key, e.g. staff.ongoing_social_workers.posts",
    )
    low: int | float | None = Field(default=None, description="smallest value (with high)")
    high: int | float | None = Field(default=None, description="largest value (with low)")
    step: int | float | None = Field(
        default=None,
        gt=0,
        description="spacing of the values; whole numbers step 1 unless given, other "
        "numbers vary continuously unless given",
    )
    choices: list[Scalar] | None = Field(
        default=None, min_length=2, description="the values to choose among (instead of a range)"
    )

    @field_validator("key", mode="before")
    @classmethod
    def _a_setting(cls, value: Any) -> Any:
        """A top-level key (name, seed, horizon_years, ...) is not a staffing or organisation
        setting to decide: say so rather than show the pattern."""
        if isinstance(value, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", value):
            raise ValueError(
                f"'{value}' is not a setting to decide: give a dotted key into the scenario "
                "(e.g. staff.ongoing_social_workers.posts, ar_team.places)"
            )
        return value

    @field_validator("low", "high", "step", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        """One line for ``true``, ``"12"`` or ``inf`` (lax parsing would read true as 1; the
        union of whole and other numbers would give a line for each)."""
        if isinstance(value, bool) or not isinstance(value, int | float | None):
            raise ValueError("must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _range_or_choices(self) -> Variable:
        ranged = self.low is not None or self.high is not None
        if self.choices is not None and (ranged or self.step is not None):
            raise ValueError("give either choices, or low and high (and step), not both")
        if self.choices is None:
            if self.low is None or self.high is None:
                raise ValueError("give low and high (a range), or choices")
            if isinstance(self.low, bool) or isinstance(self.high, bool):
                raise ValueError("low and high must be numbers")
            if not self.low < self.high:
                raise ValueError(f"low ({self.low}) must be below high ({self.high})")
            if self.integer and self.step is not None and self.step != int(self.step):
                raise ValueError("a whole-number range needs a whole-number step")
            if self.step is not None and self.step > self.high - self.low + 1e-9:
                raise ValueError(
                    f"step ({self.step}) is wider than the range {self.low} to {self.high}: "
                    f"only {self.low} would be tried"
                )
        elif len(set(map(repr, self.choices))) != len(self.choices):
            raise ValueError("choices must differ")
        return self

    @property
    def integer(self) -> bool:
        """A range of whole numbers (``low`` and ``high`` written without a decimal point)."""
        return isinstance(self.low, int) and isinstance(self.high, int)

    def values(self) -> list[Scalar] | None:
        """Every value the variable may take, if there are finitely many."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.integer:
            step = int(self.step or 1)
            return list(range(int(self.low), int(self.high) + 1, step))
        if self.step is None:
            return None
        count = math.floor((self.high - self.low) / self.step + 1e-9)
        return [round(self.low + i * self.step, 10) for i in range(count + 1)]


class KpiBound(_Strict):
    """A KPI's mean over the replications must stay within bounds."""

    kpi: str = Field(description="a KPI of summary.csv, e.g. first_visit_wait_days")
    max: Number | None = Field(default=None, description="the mean may be at most this")
    min: Number | None = Field(default=None, description="the mean must be at least this")

    @model_validator(mode="after")
    def _a_bound(self) -> KpiBound:
        if self.max is None and self.min is None:
            raise ValueError("give max, min or both")
        if self.max is not None and self.min is not None and not self.min <= self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Constraints(_Strict):
    staff_budget_sek: Number | None = Field(
        default=None,
        gt=0,
        description="budgeted annual staff cost at most this: Σ posts × annual_cost_sek over "
        "the roles (the highest over the scenario's timeline)",
    )
    max_posts: Count | None = Field(default=None, ge=0, description="posts of every role together")
    kpis: list[KpiBound] = Field(default_factory=list, description="bounds on KPI means")


class Objective(_Strict):
    kpi: str = Field(description="a KPI of summary.csv, e.g. assistance_paid_sek_per_year")
    direction: Direction


class Selection(_Strict):
    """The ranking-and-selection step (KN++) among the finalists, on the first objective."""

    finalists: Count = Field(default=4, ge=2, le=20, description="candidates compared at the end")
    indifference_zone: Number = Field(
        gt=0,
        description="the smallest difference in the first objective worth telling apart, in its "
        "unit (differences below it count as ties)",
    )
    probability: Number = Field(
        default=0.95, gt=0.5, lt=1, description="probability of correct selection asked"
    )
    first_stage: Count = Field(
        default=10,
        ge=5,
        le=1000,
        description="replications of every finalist before any is eliminated",
    )
    max_replications: Count = Field(
        default=200, ge=10, le=100_000, description="replications per finalist at most"
    )

    @model_validator(mode="after")
    def _room(self) -> Selection:
        if self.max_replications < self.first_stage:
            raise ValueError(
                f"max_replications ({self.max_replications}) must be at least first_stage "
                f"({self.first_stage})"
            )
        return self


class OptimisationSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="names the results folder")
    description: str = ""
    base: str = Field(description="the base scenario file, relative to this file")
    trials: Count = Field(default=40, ge=1, le=100_000, description="candidates to evaluate")
    replications: Count = Field(
        default=10, ge=2, le=10_000, description="replications per candidate (same seeds)"
    )
    years: Number | None = Field(default=None, gt=0, description="override the base's horizon")
    seed: Count | None = Field(default=None, ge=0, description="override the base's seed")
    sampler: Literal["auto", "tpe", "nsga2", "grid"] = Field(
        default="auto",
        description="auto: every candidate when the space has at most `trials` of them, else "
        "TPE for one objective and NSGA-II for several",
    )
    search_seed: Count = Field(default=0, ge=0, description="the sampler's seed")
    posterior_draws: Count = Field(
        default=0, ge=0, le=10_000, description="compare the finalists over this many draws"
    )
    variables: list[Variable] = Field(min_length=1)
    constraints: Constraints = Field(default_factory=Constraints)
    objectives: list[Objective] = Field(min_length=1)
    selection: Selection


@dataclass(frozen=True)
class LoadedSpec:
    """A checked spec, its file, and the base scenario as the candidates will run it."""

    spec: OptimisationSpec
    path: Path
    base_path: Path
    base: ResolvedScenario

    @property
    def primary(self) -> Objective:
        return self.spec.objectives[0]

    def with_budget(self, budget: float) -> LoadedSpec:
        """The same problem with another staff budget (``--budget``)."""
        limits = self.spec.constraints.model_copy(update={"staff_budget_sek": budget})
        spec = self.spec.model_copy(update={"constraints": limits})
        return dataclasses.replace(self, spec=spec)

    def fingerprint(self) -> str:
        """A short hash of the spec and the base as run: a resumed study must be of the same
        problem, so the study's name carries it."""
        data = {"spec": self.spec.model_dump(mode="json"), "base": self.base.as_dict()}
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def space_size(self) -> int | None:
        """How many candidates the space holds (None: a continuous variable)."""
        size = 1
        for variable in self.spec.variables:
            values = variable.values()
            if values is None:
                return None
            size *= len(values)
        return size


def _kpi_problem(path: Path, key: str, name: str) -> Problem | None:
    if name in KPI:
        return None
    return Problem(str(path), key, f"unknown KPI '{name}'{suggest(name, list(KPI))}")


def _walk(data: dict[str, Any], key: str) -> str | None:
    """Why ``key`` is not a setting of the scenario ``data`` (None: it is one)."""
    node: Any = data
    parts = key.split(".")
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            keys = list(node) if isinstance(node, dict) else []
            where = ".".join(parts[:i]) or "the scenario"
            return f"{where} has no key '{part}'{suggest(part, keys)}"
        node = node[part]
    if isinstance(node, dict | list):
        return f"{key} is a table or a list, not a single setting"
    return None


def candidate_overrides(values: dict[str, Scalar]) -> list[str]:
    """``KEY=VALUE`` strings (as ``--set`` takes them) for a candidate's values."""
    return [f"{key}={toml_value(value)}" for key, value in values.items()]


def _check_variables(path: Path, spec: OptimisationSpec, base_path: Path) -> list[Problem]:
    """Each variable names a setting of the base, and each of its extreme values (or choices)
    gives a valid scenario."""
    base = load_scenarios(base_path)[0].as_dict()
    problems = []
    seen: set[str] = set()
    for i, variable in enumerate(spec.variables):
        where = f"variables[{i}]"
        if variable.key in seen:
            problems.append(Problem(str(path), f"{where}.key", f"{variable.key} given twice"))
            continue
        seen.add(variable.key)
        wrong = _walk(base, variable.key)
        if wrong:
            problems.append(Problem(str(path), f"{where}.key", wrong))
            continue
        changed = first_change_setting(base.get("changes") or [], [variable.key])
        if changed is not None:  # the candidates would differ only before that date
            later = changed[0]
            problems.append(
                Problem(
                    str(path),
                    f"{where}.key",
                    f"the base's [[changes]] at {later} sets {variable.key} from then, so a "
                    "candidate's value would hold only before it: optimise a base without that "
                    "change (or with the change's date as its start)",
                )
            )
            continue
        tried: list[tuple[str, Scalar | None]]
        if variable.choices is not None:
            tried = [(f"choices[{j}]", v) for j, v in enumerate(variable.choices)]
        else:
            tried = [("low", variable.low), ("high", variable.high)]
        for field, value in tried:
            assert value is not None
            try:
                load_scenarios(base_path, candidate_overrides({variable.key: value}))
            except InputError as exc:
                reason = "; ".join(p.message for p in exc.problems)
                problems.append(
                    Problem(str(path), f"{where}.{field}", f"{toml_value(value)}: {reason}")
                )
    return problems


def load_spec(path: str | Path) -> LoadedSpec:
    """Read and check a spec; :class:`InputError` names the file, key and what is allowed."""
    path = Path(path)
    raw = read_toml(path)
    refuse_other_kind(path, raw, "optimisation")
    spec = validate_model(OptimisationSpec, raw, lambda _loc: str(path))
    base_path = (path.parent / spec.base).resolve()
    if not base_path.exists():
        raise InputError.single(path, "base", f"base scenario not found: {base_path}")
    if base_path.is_dir():
        raise InputError.single(path, "base", f"{base_path} is a folder: name a scenario file")
    if load_scenarios(base_path).__len__() != 1:
        raise InputError.single(path, "base", "the base scenario must not have a [sweep]")
    problems: list[Problem] = []
    for i, objective in enumerate(spec.objectives):
        problems.append(_kpi_problem(path, f"objectives[{i}].kpi", objective.kpi))  # type: ignore[arg-type]
    kpis = [o.kpi for o in spec.objectives]
    if len(set(kpis)) != len(kpis):
        problems.append(Problem(str(path), "objectives", "each KPI may be an objective once"))
    for i, bound in enumerate(spec.constraints.kpis):
        problems.append(_kpi_problem(path, f"constraints.kpis[{i}].kpi", bound.kpi))  # type: ignore[arg-type]
    found = [p for p in problems if p is not None]
    found += _check_variables(path, spec, base_path)
    if found:
        raise InputError(found)
    base = load_scenarios(
        base_path,
        years=spec.years,
        seed=spec.seed,
        replications=spec.replications,
        options_from=path,
    )[0]
    return LoadedSpec(spec, path, base_path, base)


def base_values(loaded: LoadedSpec) -> dict[str, Scalar]:
    """The base scenario's own value of each decision variable."""
    data = loaded.base.as_dict()
    values: dict[str, Scalar] = {}
    for variable in loaded.spec.variables:
        node: Any = data
        for part in variable.key.split("."):
            node = node[part]
        values[variable.key] = node
    return values


def budgeted_staff_cost(resolved: ResolvedScenario) -> float:
    """The annual cost of the scenario's budgeted posts, Σ posts × ``annual_cost_sek`` over the
    roles: the highest over its timeline (a budget must hold in every period). Vacancies make
    the simulated ``staff_cost_sek_per_year`` lower; a budget is set for posts, filled or not."""
    return float(
        max(
            sum(
                getattr(settings.staff, role).posts * getattr(settings.staff, role).annual_cost_sek
                for role in STAFF_ROLES
            )
            for settings in resolved.timeline
        )
    )


def total_posts(resolved: ResolvedScenario) -> int:
    """Posts of every role together, the most over the scenario's timeline."""
    return int(
        max(
            sum(getattr(settings.staff, role).posts for role in STAFF_ROLES)
            for settings in resolved.timeline
        )
    )


def objective_sign(direction: Direction) -> float:
    """+1 to maximise, -1 to minimise: the selection maximises sign × value."""
    return 1.0 if direction == "maximise" else -1.0
