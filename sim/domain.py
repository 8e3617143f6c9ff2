"""Domain vocabulary shared by every module: barriers, case classes, exit causes, staff roles."""

from __future__ import annotations

from typing import Literal, get_args

DAYS_PER_YEAR = 365.25
"""Simulated time is in days; a year and a month are these averages (leap years included)."""
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

Barrier = Literal["unemployment", "social_medical", "sick_listed", "immigration", "other"]
"""Barrier to self-support (försörjningshinder). ``sick_listed`` covers sick-listed people and
those with insufficient social-insurance benefit (seed 001 groups them)."""
BARRIERS: tuple[Barrier, ...] = get_args(Barrier)

CaseClass = Literal["a", "b", "c"]
"""A: active work plan, frequent contact. B: plan with sparse contact. C: simplified financial
handling by a benefit administrator (seed 003)."""
CASE_CLASSES: tuple[CaseClass, ...] = get_args(CaseClass)

ExitCause = Literal["work", "studies", "other_benefit", "moved", "one_time", "unknown"]
"""Exit cause (avslutsorsak) as the 2015 unit reports it (seed 004)."""
EXIT_CAUSES: tuple[ExitCause, ...] = get_args(ExitCause)

OngoingExitCause = Literal["work", "studies", "other_benefit", "moved", "unknown"]
"""Causes by which an ongoing case can close (one-time needs close at intake)."""
ONGOING_EXIT_CAUSES: tuple[OngoingExitCause, ...] = get_args(OngoingExitCause)

StaffRole = Literal[
    "intake_social_workers",
    "ongoing_social_workers",
    "benefit_administrators",
    "employment_consultants",
]
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)
