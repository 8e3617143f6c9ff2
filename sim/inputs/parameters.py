"""The behavioural parameter set: the model's rates and shares, kept apart from the scenario.

A scenario says what planners control (staff, organisation, places, unemployment). A parameter
set says how households and the process behave (contact rates, exit hazards, returns). Parameter
sets live under ``calibration/`` and are what calibration fits; a scenario names one by path.
"""

from __future__ import annotations

import itertools
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..distributions import Count, Distribution, Exponential, Number
from ..domain import BARRIERS, Barrier, OngoingExitCause

Share = Annotated[Number, Field(ge=0, le=1)]
Rate = Annotated[Number, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_complete(mapping: dict[Barrier, float], what: str) -> None:
    missing = [b for b in BARRIERS if b not in mapping]
    if missing:
        raise ValueError(f"{what} must give every barrier; missing: {', '.join(missing)}")


class ClassValues(_Strict):
    """One value per case class (A, B, C)."""

    a: Number = Field(ge=0)
    b: Number = Field(ge=0)
    c: Number = Field(ge=0)


class ClassShares(_Strict):
    """Shares of A, B and C that add up to 1."""

    a: Share
    b: Share
    c: Share

    @model_validator(mode="after")
    def _sum_to_one(self) -> ClassShares:
        total = self.a + self.b + self.c
        if abs(total - 1) > 1e-6:
            raise ValueError(
                f"shares a + b + c must add up to 1, they add up to {total:.4f} (a = {self.a:g}, "
                f"b = {self.b:g}, c = {self.c:g})"
            )
        return self


class Contacts(_Strict):
    """Contacts with intake (calls), at the reference unemployment rate."""

    per_year: Number = Field(gt=0, description="contacts per year for the whole unit")
    barrier_shares: dict[Barrier, Share]
    unemployment_elasticity: dict[Barrier, Number] = Field(
        description="d ln(contact rate) / d ln(unemployment rate), per barrier"
    )
    young_share: Share = Field(description="share of applicants aged 18-24")
    children_share: Share = Field(description="share of households with children")

    @model_validator(mode="after")
    def _complete(self) -> Contacts:
        _check_complete(self.barrier_shares, "barrier_shares")
        _check_complete(self.unemployment_elasticity, "unemployment_elasticity")
        total = sum(self.barrier_shares.values())
        if abs(total - 1) > 1e-6:
            raise ValueError(
                f"barrier_shares must add up to 1, they add up to {total:.4f} ("
                + ", ".join(f"{b} = {v:g}" for b, v in self.barrier_shares.items())
                + ")"
            )
        return self


class Intake(_Strict):
    """Screening, first visit, investigation and decision (mottagning)."""

    booked_share: Share = Field(description="share of contacts booked as new cases")
    dropout_share: Share = Field(description="share of booked who never complete the application")
    dropout_days: Distribution = Exponential(dist="exponential", mean=10)
    first_visit_work_days: Distribution = Field(
        description="intake social worker's working time per case (first visit + investigation)"
    )
    investigation_days: Distribution = Field(
        description="elapsed days from first visit to decision, not occupying the worker"
    )
    rejected_share: Share = Field(description="share of completed applications rejected")
    short_need_share: dict[Barrier, Share] = Field(
        description="share of granted needs judged at most 3 months; they stay at intake"
    )
    short_need_days: Distribution
    one_time_share: Share = Field(
        description="share of short needs recorded as one-time need; the rest leave by the "
        "ordinary causes"
    )
    transfer_days: Distribution = Field(description="hand-over delay, split organisation only")
    second_assessment_hours: Number = Field(
        ge=0, description="ongoing social worker's hours to take over a case, split only"
    )

    @model_validator(mode="after")
    def _complete(self) -> Intake:
        _check_complete(self.short_need_share, "short_need_share")
        return self


class Routing(_Strict):
    """Assessed need class of a new ongoing case, by barrier."""

    need_class_shares: dict[Barrier, ClassShares]

    @model_validator(mode="after")
    def _complete(self) -> Routing:
        missing = [b for b in BARRIERS if b not in self.need_class_shares]
        if missing:
            raise ValueError(f"need_class_shares missing barriers: {', '.join(missing)}")
        return self


class FollowUp(_Strict):
    """Work plans and follow-ups (arbetsplan, uppföljning)."""

    interval_days: ClassValues = Field(
        description="planned days between follow-ups, by class (the plan at full contact)"
    )
    social_worker_hours_per_follow_up: ClassValues = Field(
        description="hours of a follow-up (meeting, preparation, notes, the payment decision): "
        "A and B by the social worker who owns the case; C by a social worker holding a C case "
        "when no administrator owns C cases"
    )
    progress_share: ClassValues = Field(
        description="chance that a follow-up moves the case one class down (A->B, B->C)"
    )
    deviation_share: Number = Field(
        ge=0,
        le=1,
        description="chance that a C follow-up finds a deviation: back to a social worker",
    )


class Exits(_Strict):
    """Competing exit risks of ongoing cases (monthly hazards at reference conditions)."""

    monthly_hazard: dict[OngoingExitCause, dict[Barrier, Rate]]
    contact_intensity: ClassValues = Field(
        description="planned contact of a case worked in class A, B, C relative to a B case "
        "(the work and studies hazards scale with delivered contact: (share x intensity) ^ "
        "contact_elasticity_work, not below waiting_multiplier_work)"
    )
    contact_elasticity_work: Number = Field(
        ge=0,
        le=2,
        description="elasticity of the work and studies hazards to delivered contact",
    )
    contact_elasticity_unknown: Number = Field(
        default=0.0,
        ge=0,
        le=2,
        description="elasticity of the unknown-exit hazard to delivered contact (0: none)",
    )
    handover_exit_multiplier: Number = Field(
        default=1.0,
        gt=0,
        le=1,
        description="work and studies multiplier while a case is new to its handler after a "
        "change of handler (continuity lost)",
    )
    handover_continuity_months: Number = Field(
        default=0.0,
        ge=0,
        le=36,
        description="months after a change of handler during which handover_exit_multiplier "
        "applies",
    )
    waiting_multiplier_work: Number = Field(
        ge=0,
        description="work and studies multiplier while a case has no handler, and the least a "
        "handled case's contact factor can be (one its handler has no time for)",
    )
    duration_bands_months: list[Annotated[Number, Field(gt=0)]]
    duration_multiplier: list[Annotated[Number, Field(ge=0)]]
    unemployment_semi_elasticity_work: Number = Field(
        description="change in ln(work hazard) per percentage point of unemployment above reference"
    )
    jobcentre_multiplier_work: Number = Field(
        ge=0, description="work hazard multiplier for unemployment-barrier adults (Jobbtorg)"
    )
    young_multiplier: Number = Field(ge=0, description="work and studies multiplier for 18-24")

    @model_validator(mode="after")
    def _shapes(self) -> Exits:
        bands = self.duration_bands_months
        if any(b2 <= b1 for b1, b2 in itertools.pairwise(bands)):
            raise ValueError("duration_bands_months must increase")
        if len(self.duration_multiplier) != len(bands) + 1:
            raise ValueError(
                f"duration_multiplier needs {len(bands) + 1} values "
                f"(one more than duration_bands_months), got {len(self.duration_multiplier)}"
            )
        for cause, by_barrier in self.monthly_hazard.items():
            _check_complete(by_barrier, f"monthly_hazard.{cause}")
        return self


class Workload(_Strict):
    """Staff time the cases need beyond follow-ups, and how a unit shares it out."""

    administrator_hours_per_c_case_month: Number = Field(
        gt=0,
        le=100,
        description="hours a C case (simplified, purely financial) needs of its handler a month",
    )
    administrator_assist_share_b: Number = Field(
        ge=0,
        le=1,
        description="share of a B case's social-worker hours an assisting administrator takes "
        "over (the payment handling), while the assistants' hours last",
    )
    coordination_hours_per_assisted_case_month: Number = Field(
        ge=0,
        le=100,
        description="social-worker hours a month that sharing a B case with an assisting "
        "administrator costs",
    )
    work_plan_hours: Number = Field(
        ge=0,
        le=100,
        description="social-worker hours to take on an ongoing case and write its work plan",
    )
    handover_hours: Number = Field(
        ge=0,
        le=100,
        description="hours the new handler spends on a case that changes handler",
    )
    remapping_hours_per_case: Number = Field(
        ge=0,
        le=100,
        description="hours per open case when the organisation form changes (cases re-mapped)",
    )
    minimum_b_contact_share: Number = Field(
        ge=0,
        le=1,
        description="a social worker works an A-need case as A only while its B and C cases "
        "still get at least this share of their planned contact",
    )


class ARProgramme(_Strict):
    """Work-oriented rehabilitation (AR-teamet)."""

    eligible_barriers: list[Barrier]
    min_months_on_assistance: Number = Field(ge=0)
    referral_share: Share = Field(description="chance an eligible case is referred")
    programme_days: Distribution
    success_share: Share = Field(description="share leaving to own or other support")
    success_work_share: Share = Field(
        description="of successes, share to work (rest other benefit)"
    )
    in_programme_exit_multiplier: Number = Field(
        ge=0, description="multiplier of ordinary exit hazards while in the programme"
    )


class ReturnShares(_Strict):
    """Chance of ever returning, by the cause the case closed with."""

    work: Share
    studies: Share
    other_benefit: Share
    moved: Share
    one_time: Share
    unknown: Share
    ar_team: Share = Field(description="closures by the AR team (seed 004: ~12 % in 24 months)")


class ReturnDelays(_Strict):
    """Days from closure to the new application, by cause (some come back faster)."""

    work: Distribution
    studies: Distribution
    other_benefit: Distribution
    moved: Distribution
    one_time: Distribution
    unknown: Distribution
    ar_team: Distribution


class Returns(_Strict):
    """Recurrence: closed households that apply again."""

    probability: ReturnShares
    delay_days: ReturnDelays


Range = tuple[Number, Number]


class CalibratedRange(_Strict):
    """The conditions a parameter set was fitted (or set) for; reports warn outside them."""

    unemployment_percent: Range | None = Field(default=None, description="unemployment, %")
    households: Range | None = Field(default=None, description="households per month")
    caseload_per_social_worker: Range | None = Field(
        default=None, description="A+B cases per ongoing social worker"
    )

    @model_validator(mode="after")
    def _ordered(self) -> CalibratedRange:
        for name in type(self).model_fields:
            bounds = getattr(self, name)
            if bounds is not None and bounds[0] > bounds[1]:
                raise ValueError(f"{name}: low ({bounds[0]}) must not exceed high ({bounds[1]})")
        return self


class FitRecord(_Strict):
    """How a fitted parameter set was obtained (written by ``caseflow calibrate``)."""

    spec: str = Field(description="calibration spec, relative to this file")
    targets: str = Field(description="targets file fitted")
    method: str
    distance: Number = Field(description="weighted distance at the point (sum of squared z)")
    compared_targets: Count
    replications: Count = Field(description="common-random-number replications per point")
    held: list[str] = Field(
        default_factory=list,
        description="calibrated parameters the point fit held at their base value (the spec's "
        'point = "base"): their values here are the base set\'s, not estimates; the '
        "posterior samples their ranges",
    )
    posterior: str | None = Field(
        default=None, description="posterior sample (CSV), relative to this file"
    )
    posterior_method: str | None = Field(
        default=None, description="how the posterior sample was drawn (emulator or ABC-SMC)"
    )
    posterior_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the posterior sample as written: a run over posterior draws "
        "refuses a sample changed since (a results folder's copy of a set refitted later)",
    )
    fitted_at: str
    package_version: str
    git_commit: str | None = None
    git_dirty: bool | None = Field(
        default=None, description="whether the source tree had local changes when fitted"
    )


class ModelParameters(_Strict):
    """A complete parameter set, as read from ``calibration/parameters/*.toml``."""

    name: str
    description: str = ""
    contacts: Contacts
    intake: Intake
    routing: Routing
    follow_up: FollowUp
    workload: Workload
    exits: Exits
    ar_programme: ARProgramme
    returns: Returns
    calibrated_range: CalibratedRange = CalibratedRange()
    fit: FitRecord | None = None
