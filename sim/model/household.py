"""The household (hushåll) and its current episode on assistance: the model's one entity.

A household carries its own random numbers, drawn when it arrives (common random numbers:
an alternative with other staff sees the same households), and the state of its case: the
class it is held in, who handles it, its exit clocks and its one pending event.
"""

from __future__ import annotations

import math
from array import array
from typing import TYPE_CHECKING, Final, Literal

from ..domain import ONGOING_EXIT_CAUSES, Barrier

if TYPE_CHECKING:
    from .routing import Caseworker

HeldState = Literal["", "a", "b", "c", "waiting", "transfer", "intake"]
"""How a case is held now: in class A/B/C, waiting without a handler for a class, waiting for
the hand-over to the ongoing unit (``transfer``), or kept at intake (a short need); ``""``
before the decision."""
HELD_STATES: tuple[HeldState, ...] = ("a", "b", "c", "waiting", "transfer", "intake")
RATED_STATES = frozenset(("a", "b", "c", "waiting", "transfer"))
"""States in which the ongoing exit clocks run (a short need at intake closes by its own draw)."""

Need = Literal["", "a", "b", "c"]
"""The class the case's assessed need calls for (``""`` before the assessment)."""

ProgrammeState = Literal["", "waiting", "programme", "done"]
"""Where the household stands with the AR team: never referred, on its waiting list, in the
programme, or done with it (ended, or referred and closed)."""

# Fixed positions in a household's uniforms (drawn at arrival: common random numbers). Final
# constants: compiled, they are inlined rather than looked up in the module at each use.
U_YOUNG: Final = 0
U_CHILDREN: Final = 1
U_DROPOUT: Final = 2
U_DROPOUT_DAYS: Final = 3
U_VISIT_WORK: Final = 4
U_INVESTIGATION: Final = 5
U_REJECT: Final = 6
U_SHORT: Final = 7
U_SHORT_DAYS: Final = 8
U_ONE_TIME: Final = 9
U_NEED: Final = 10
U_TRANSFER: Final = 11
U_AR_REFER: Final = 12
U_AR_DAYS: Final = 13
U_AR_SUCCESS: Final = 14
U_AR_CAUSE: Final = 15
U_RETURN: Final = 16
U_RETURN_DAYS: Final = 17
U_SHORT_CAUSE: Final = 18
# Intake durations turned from those uniforms, in this order (Household.intake_days).
INTAKE_DURATIONS = (
    ("dropout_days", U_DROPOUT_DAYS),
    ("first_visit_work_days", U_VISIT_WORK),
    ("investigation_days", U_INVESTIGATION),
    ("short_need_days", U_SHORT_DAYS),
    ("transfer_days", U_TRANSFER),
)
N_INTAKE_DURATIONS: Final = len(INTAKE_DURATIONS)
D_DROPOUT: Final = 0
D_VISIT_WORK: Final = 1
D_INVESTIGATION: Final = 2
D_SHORT_NEED: Final = 3
D_TRANSFER: Final = 4
U_EXIT: Final = 19  # five unit-exponential exit clocks, one per ongoing cause
N_EXIT_CAUSES: Final = len(ONGOING_EXIT_CAUSES)
if N_EXIT_CAUSES != 5:  # a field each (Household, start_exit_clock) and ExitHazards name five
    raise RuntimeError(f"the model has five exit clocks; the domain names {N_EXIT_CAUSES} causes")
U_FREE: Final = U_EXIT + N_EXIT_CAUSES  # further uniforms, used in turn (follow-ups)
N_UNIFORMS: Final = U_FREE + 8


class Household:
    """A household and its current episode on assistance.

    A plain class with its own ``__init__``, not a dataclass: compiled, a dataclass's
    generated ``__init__`` stays interpreted, and a household is created at every arrival.
    Slotted, for the Python build (attributes in slots, not a dictionary).
    """

    __slots__ = (
        "ar_eligible_day",
        "barrier",
        "booked_day",
        "children",
        "closed",
        "continuity_until",
        "district",
        "dropout_day",
        "episode",
        "exit_cause_index",
        "exit_clock_moved",
        "exit_clock_other_benefit",
        "exit_clock_studies",
        "exit_clock_unknown",
        "exit_clock_work",
        "exit_day",
        "exit_rate_moved",
        "exit_rate_other_benefit",
        "exit_rate_studies",
        "exit_rate_unknown",
        "exit_rate_work",
        "follow_up_day",
        "granted_day",
        "handler",
        "held",
        "id",
        "intake_days",
        "need",
        "next_spare_uniform",
        "programme",
        "programme_start",
        "programme_token",
        "rated_day",
        "uniforms",
        "waiting_for_class",
        "wake_day",
        "wake_token",
        "weight",
        "work_clock_at_rating",
        "worker",
        "young",
    )

    id: int
    episode: int
    district: int
    barrier: Barrier
    young: bool
    children: bool
    # its draws as two compact arrays of doubles: compiled, a list held each number as an object
    # of its own, 37 of them allocated at every arrival and freed at every close (step 49)
    uniforms: array[float]
    intake_days: array[float]  # drop-out, first-visit work, investigation, short need, transfer
    booked_day: float
    dropout_day: float  # when the household gives up waiting for its first visit
    granted_day: float
    need: Need
    held: HeldState
    worker: Caseworker | None  # its handler now (a social worker or the
    # administrators' pool); None while it has none
    handler: Caseworker | None  # the last handler it had (a change is a hand-over)
    continuity_until: float  # new to its handler until then (sim.model.exits)
    weight: float  # the case's weight in its handler's caseload
    # The exit clocks (unit-exponential, run down by exposure: sim.model.exits) and the rates
    # they run at, a field per ongoing cause: compiled, a field holds its number in place,
    # where a list held an object per number, replaced at every re-rating (step 50)
    exit_clock_work: float
    exit_clock_studies: float
    exit_clock_other_benefit: float
    exit_clock_moved: float
    exit_clock_unknown: float
    exit_rate_work: float
    exit_rate_studies: float
    exit_rate_other_benefit: float
    exit_rate_moved: float
    exit_rate_unknown: float
    rated_day: float  # when the exit clocks were last run down and re-rated
    work_clock_at_rating: float  # the economy's work clock then
    exit_day: float  # when the first exit clock runs out (inf: none running)
    exit_cause_index: int  # which cause's clock that is
    follow_up_day: float  # the follow-up that will change the class
    ar_eligible_day: float  # when the AR team's entry condition is met
    wake_token: int  # the one pending event of the household carries this token
    wake_day: float  # when that event fires (inf: none pending)
    waiting_for_class: Need  # the class it waits for, if held lower than its need
    programme: ProgrammeState
    programme_token: int
    programme_start: float
    next_spare_uniform: int
    closed: bool

    def __init__(
        self,
        id: int,
        episode: int,
        district: int,
        barrier: Barrier,
        young: bool,
        children: bool,
        uniforms: array[float],
        intake_days: array[float],
    ) -> None:
        self.id = id
        self.episode = episode
        self.district = district
        self.barrier = barrier
        self.young = young
        self.children = children
        self.uniforms = uniforms
        self.intake_days = intake_days
        self.exit_clock_work = math.inf  # none runs until the case opens
        self.exit_clock_studies = math.inf
        self.exit_clock_other_benefit = math.inf
        self.exit_clock_moved = math.inf
        self.exit_clock_unknown = math.inf
        self.exit_rate_work = 0.0
        self.exit_rate_studies = 0.0
        self.exit_rate_other_benefit = 0.0
        self.exit_rate_moved = 0.0
        self.exit_rate_unknown = 0.0
        self.booked_day = math.nan
        self.dropout_day = math.inf
        self.granted_day = math.nan
        self.need = ""
        self.held = ""
        self.worker = None
        self.handler = None
        self.continuity_until = -math.inf
        self.weight = 0.0
        self.rated_day = 0.0
        self.work_clock_at_rating = 0.0
        self.exit_day = math.inf
        self.exit_cause_index = -1
        self.follow_up_day = math.inf
        self.ar_eligible_day = math.inf
        self.wake_token = 0
        self.wake_day = math.inf
        self.waiting_for_class = ""
        self.programme = ""
        self.programme_token = 0
        self.programme_start = math.nan
        self.next_spare_uniform = U_FREE
        self.closed = False

    def earliest_clock(self) -> float:
        """When its first clock runs out: exit, class-changing follow-up or AR eligibility
        (two-argument ``min``: compiled, that one is native)."""
        return min(min(self.exit_day, self.follow_up_day), self.ar_eligible_day)

    def start_exit_clock(self, cause_index: int, clock: float) -> None:
        """Set one cause's exit clock (by its index in ``ONGOING_EXIT_CAUSES``)."""
        if cause_index == 0:
            self.exit_clock_work = clock
        elif cause_index == 1:
            self.exit_clock_studies = clock
        elif cause_index == 2:
            self.exit_clock_other_benefit = clock
        elif cause_index == 3:
            self.exit_clock_moved = clock
        else:
            self.exit_clock_unknown = clock

    def fresh_uniform(self) -> float:
        """The next of the household's spare uniforms; once they are used up (follow-ups and
        candidate exits that did not happen use them), a hash of the first spare and the
        draw's number: the same for the same household whatever else happens in the run."""
        i = self.next_spare_uniform
        self.next_spare_uniform += 1
        if i < N_UNIFORMS:
            return self.uniforms[i]
        return _hashed_uniform(int(self.uniforms[U_FREE] * 2.0**52), i)


_MASK = (1 << 64) - 1


def _hashed_uniform(key: int, i: int) -> float:
    """A uniform on [0, 1) from ``key`` and ``i`` (splitmix64's finaliser)."""
    x = (key + i * 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    x ^= x >> 31
    return (x >> 11) * (1.0 / 9007199254740992.0)
