"""Scenario files: the typed schema, with documented defaults.

A scenario is a TOML file stating what planners control: dates, replications and seed, the
organisation, staff by role, the AR team's places, the unemployment path, the initial caseload,
costs, and the behavioural parameter set to use (a file under ``calibration/``).

This module holds only the types: the pydantic models a file is validated as (every default
and bound is stated here, and ``caseflow schema`` documents them from here), the settings in
force over time and the :class:`ResolvedScenario` a run takes. Reading files (``extends``,
``--set``, ``[sweep]``, the timeline of ``[[changes]]``) is :mod:`sim.inputs.loading`.
"""

from __future__ import annotations

import datetime
import itertools
import typing
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..distributions import Count, Distribution, Exponential, Fixed, Number
from ..domain import BARRIERS, DAYS_PER_YEAR, Barrier, OngoingExitCause
from .parameters import ModelParameters

Share = Annotated[Number, Field(ge=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class StaffRoleSettings(_Strict):
    """Posts of one staff role and how people come and go in them."""

    # at most 10 000: a whole city's unit has a few hundred; 30 000 posts took a year's run
    # 14 s and 100 000 over 90 s (the staff processes and the routing over every worker)
    posts: Count = Field(ge=0, le=10_000, description="budgeted posts (tjänster)")
    annual_turnover: Number = Field(
        default=0.0, ge=0, le=5, description="expected leavers per post and year"
    )
    vacancy_fill_days: Distribution = Field(
        default=Fixed(dist="fixed", value=90), description="days from a leaver to a new hire"
    )
    introduction_days: Number = Field(
        default=365, ge=0, le=3650, description="days a new hire works at reduced capacity"
    )
    introduction_capacity: Number = Field(
        default=0.6, gt=0, le=1, description="share of full capacity during introduction"
    )
    parental_leave_per_year: Number = Field(
        default=0.0, ge=0, le=2, description="parental leaves started per post and year"
    )
    parental_leave_days: Distribution = Field(
        default=Fixed(dist="fixed", value=240), description="length of a parental leave"
    )
    annual_cost_sek: Number = Field(
        default=600_000, ge=0, description="cost of a filled post per year, incl. overheads"
    )
    working_hours_per_month: Number = Field(
        default=157,
        gt=0,
        le=300,
        description="contracted hours of a full-time post per month (40 h a week less holidays)",
    )
    sick_absence_share: Number = Field(
        default=0.08,
        ge=0,
        lt=1,
        description="share of working hours lost to sick absence (seed 004: 8 % in 2015)",
    )
    non_case_share: Number = Field(
        default=0.25,
        ge=0,
        lt=1,
        description="share of the hours left that goes to duties other than cases (meetings, "
        "training, administration): an assumption",
    )
    mentoring_hours_per_month: Number = Field(
        default=8,
        ge=0,
        le=160,
        description="hours per month colleagues of the role give each new hire in introduction",
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
    contact_share: Number = Field(
        gt=0, description="relative share of the unit's contacts (normalised over districts)"
    )

    @field_validator("name")
    @classmethod
    def _written_name(cls, name: str) -> str:
        # "Norrmalm " beside "Norrmalm" would be two districts in every table
        if name != name.strip():
            raise ValueError("a district's name may not be blank, nor start or end with a space")
        return name


class Organisation(_Strict):
    """How intake and ongoing work are organised and how much a worker may carry."""

    form: Literal["split", "merged"] = Field(
        default="split",
        description="split: intake unit hands long needs over to an income-support unit; "
        "merged: one unit, no hand-over (its first visits are still the "
        "intake_social_workers' posts: give it some)",
    )
    districts: list[District] = Field(min_length=1, description="districts the unit serves")
    contacts_scale: Number = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="contact volume relative to the parameter set's reference unit "
        "(contacts.per_year); e.g. 30 for a whole city of 2003",
    )
    caseload_norm: Number = Field(
        default=55,
        gt=0,
        le=500,
        description=(
            "weighted cases one social worker is planned for (A cases weigh class_a_weight): the "
            "target allocation aims for, not a cap"
        ),
    )
    class_a_weight: Number = Field(
        default=1.5, ge=1, le=5, description="weight of an A case against a B case (B = 1)"
    )
    administrator_caseload_norm: Number = Field(
        default=90,
        gt=0,
        le=2000,
        description=(
            "C cases one benefit administrator owning C cases is planned for: a target, not a cap"
        ),
    )
    administrators_on_c_share: Number = Field(
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

    places: Count = Field(ge=0, le=100_000, description="year-places (årsplatser) at most")
    places_per_consultant: Number = Field(
        default=9, gt=0, description="places one employment consultant in post can run"
    )


class UnemploymentPoint(_Strict):
    date: datetime.date = Field(description="date of this point (YYYY-MM-DD)")
    percent: Number = Field(gt=0, lt=100, description="registered unemployment, % of population")


class Unemployment(_Strict):
    """Unemployment path: linear between points, constant before the first and after the last."""

    reference_percent: Number = Field(
        gt=0,
        lt=100,
        description="the rate at which the parameter set's rates apply: the set's own (3.2 for "
        "the shipped fits), not the rate studied, which goes in path (a run warns when it "
        "lies outside the set's calibrated unemployment)",
    )
    path: list[UnemploymentPoint] = Field(
        min_length=1, description="points in date order; linear in between, flat outside"
    )

    @model_validator(mode="after")
    def _increasing(self) -> Unemployment:
        dates = [p.date for p in self.path]
        for i, (d1, d2) in enumerate(itertools.pairwise(dates), start=1):
            if d2 <= d1:  # named as the keys are (path[1] is the second point)
                raise ValueError(
                    f"path dates must increase; path[{i}] ({d2}) is not after path[{i - 1}] ({d1})"
                )
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
    a: Count = Field(default=0, ge=0, description="class A cases")
    b: Count = Field(default=0, ge=0, description="class B cases")
    c: Count = Field(default=0, ge=0, description="class C cases")


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
            raise ValueError(
                f"barrier_shares must add up to 1, they add up to {total:.4f} ("
                + ", ".join(f"{b} = {v:g}" for b, v in self.barrier_shares.items())
                + "; a file that extends another changes only the shares it names)"
            )
        return self

    @property
    def households(self) -> int:
        return self.by_class.a + self.by_class.b + self.by_class.c


class Costs(_Strict):
    """Money: assistance paid per household-month, by household type."""

    assistance_sek_per_month_without_children: Number = Field(
        default=7_300, ge=0, description="paid per household-month, households without children"
    )
    assistance_sek_per_month_with_children: Number = Field(
        default=10_300, ge=0, description="paid per household-month, households with children"
    )


Multiplier = Annotated[Number, Field(ge=0, le=10)]


class Behaviour(_Strict):
    """Stated changes of behaviour against the parameter set, as multipliers (1: as the set
    has it), typically from a date on in ``[[changes]]``: e.g. more sick-listed applicants and
    fewer of them leaving for another benefit as the insurance agency tightens (seed 001)."""

    contact_multiplier: dict[Barrier, Multiplier] = Field(
        default_factory=dict,
        description="contacts of a barrier group times this (barriers not given: 1)",
    )
    exit_multiplier: dict[OngoingExitCause, dict[Barrier, Multiplier]] = Field(
        default_factory=dict,
        description="an ongoing case's hazard of leaving by a cause, by barrier, times this "
        "(not given: 1); the cause first: { work = { unemployment = 1.2 } }",
    )

    @field_validator("exit_multiplier", mode="before")
    @classmethod
    def _cause_first(cls, value: Any) -> Any:
        """Barriers outside and causes inside is the likeliest slip (the table reads "by cause,
        by barrier"): say which way round, rather than two contradicting key errors."""
        if not isinstance(value, dict):
            return value
        causes = typing.get_args(OngoingExitCause)
        for barrier, inner in value.items():
            if barrier in BARRIERS and barrier not in causes and isinstance(inner, dict):
                cause = next((c for c in inner if c in causes), None)
                if cause is not None:
                    raise ValueError(
                        "the cause comes first, then the barrier: write "
                        f"{{ {cause} = {{ {barrier} = ... }} }}, "
                        f"not {{ {barrier} = {{ {cause} = ... }} }}"
                    )
        return value

    def contacts(self, barrier: Barrier) -> float:
        return float(self.contact_multiplier.get(barrier, 1.0))

    def exits(self, cause: OngoingExitCause, barrier: Barrier) -> float:
        return float(self.exit_multiplier.get(cause, {}).get(barrier, 1.0))


#: the sections a ``[[changes]]`` entry may set from its date on (the fields of :class:`Change`)
CHANGEABLE = ("organisation", "staff", "ar_team", "costs", "behaviour")


class Change(_Strict):
    """Settings that change at a date (staff, ar_team, organisation, costs and behaviour)."""

    at: date = Field(description="the date the settings below take effect")
    organisation: dict[str, Any] | None = Field(default=None, description="as `organisation`")
    staff: dict[str, Any] | None = Field(default=None, description="as `staff`")
    ar_team: dict[str, Any] | None = Field(default=None, description="as `ar_team`")
    costs: dict[str, Any] | None = Field(default=None, description="as `costs`")
    behaviour: dict[str, Any] | None = Field(default=None, description="as `behaviour`")


MIN_HORIZON_YEARS = 1 / 12
"""The shortest horizon: one month (30 days once rounded to whole days, as the model counts).
The model reports months and gives flows per year from them; a few days reported as a year
(``--years 0.01``: 4 days) gave "228 exits to work a year". Refused in the file, on the command
line (``--years``) and in the Python API (``years=``) alike, since all three set this key."""


def at_least_a_month(years: float) -> float:
    """A horizon of simulated years (a scenario's, or a targets file's years compared): at
    least a month, else refused."""
    if round(years * DAYS_PER_YEAR) < round(MIN_HORIZON_YEARS * DAYS_PER_YEAR):
        raise ValueError(
            f"must be at least one month (1/12 ≈ {MIN_HORIZON_YEARS:.4f} years): a shorter "
            "horizon would report a few days' events as a year's"
        )
    return years


class Scenario(_Strict):
    """A complete scenario, as validated from a file (after ``extends``, ``--set`` and sweeps)."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=80,
        description="short name, used for results folders",
    )
    description: str = Field(default="", description="the question the scenario answers")
    start_date: date = Field(description="first reported day (YYYY-MM-DD)")
    horizon_years: Number = Field(
        gt=0,
        le=50,
        description="simulated years of 365.25 days after warm-up, in whole days (2 years "
        "from 2015-01-01 end with 2016-12-30, 5 with 2019-12-31); at least one month (1/12)",
    )
    warmup_days: Count = Field(
        default=0, ge=0, le=36_500, description="days simulated before start_date, not reported"
    )
    replications: Count = Field(
        default=10, ge=1, le=100_000, description="independent runs; intervals come from these"
    )
    seed: Count = Field(
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
    behaviour: Behaviour = Field(
        default=Behaviour(),
        description="stated changes of behaviour against the parameter set (multipliers)",
    )
    changes: list[Change] = Field(
        default_factory=list,
        description="settings of staff, ar_team, organisation, costs or behaviour that change "
        "at a date",
    )

    @field_validator("horizon_years")
    @classmethod
    def _at_least_a_month(cls, years: float) -> float:
        return at_least_a_month(years)

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
    behaviour: Behaviour = field(default_factory=Behaviour)


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
    own_keys: tuple[str, ...] = ()  # dotted keys set here (the file, its sweep), not inherited
    #: dotted keys set on the command line, with the option that set each (``--years``)
    command_keys: tuple[tuple[str, str], ...] = ()
    #: what loading the file did that its author may not expect (a list that replaced the
    #: list of the file it extends); the command line prints them as notes
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.scenario.name

    def as_dict(self) -> dict[str, Any]:
        """The scenario as run, every default filled in (for manifests and ``scenario.toml``)."""
        return self.scenario.model_dump(mode="json", exclude_none=True)
