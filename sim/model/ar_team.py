"""The work-oriented rehabilitation team (AR-teamet, seed 004): limited places run by employment
consultants, a waiting list, a programme, an outcome.

The team tells the household's path when a household's exit rates change (``rerate``: it
starts, pauses or ends a programme), when a programme succeeds (``succeeded``: the case closes
by that cause), and what to write in the event log (``log``).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from typing import Final

from ..engine import CaseloadEnvironment
from ..inputs.parameters import ARProgramme
from ..inputs.scenario import Settings
from .household import U_AR_CAUSE, U_AR_DAYS, U_AR_SUCCESS, Household
from .staff import ABOLISHED, Post

LogCallback = Callable[[Household, str, str], None]

# One programme as recorded: household, episode, start day, end day, 1 if it succeeded.
ProgrammeRecord = tuple[int, int, float, float, int]


def staffed_places(consultants: float, per_consultant: float) -> int:
    """The places ``consultants`` (in post, as capacity) can run; the team runs the smaller of
    this and its places (the reports' warning of unstaffed places uses the same rule)."""
    return int(consultants * per_consultant + 1e-9)


def _started(hh: Household) -> tuple[float, int]:
    """The order in which cases started their programme (the latest is paused first)."""
    return (hh.programme_start, hh.id)


class ARTeam:
    """Places, the waiting list and the programme of the AR team."""

    def __init__(
        self,
        env: CaseloadEnvironment,
        programme: ARProgramme,
        rerate: Callable[[Household], None],
        succeeded: Callable[[Household, str], None],
        log: LogCallback,
    ) -> None:
        self.clock = env.clock
        self.programme = programme
        self.rerate = rerate
        self.succeeded = succeeded
        self.log = log
        self.waiting: deque[Household] = deque()
        self.in_programme: dict[Household, None] = {}  # ordered: output rows reproducible
        self.places = 0
        self.places_per_consultant = 1.0
        self.consultants: list[Post] = []
        self.records: list[ProgrammeRecord] = []
        self.capacity = 0  # places that can run now (recounted when places or staff change)

    def _recount(self) -> None:
        in_post = sum(p.capacity for p in self.consultants)
        self.capacity = min(self.places, staffed_places(in_post, self.places_per_consultant))

    def configure(self, settings: Settings) -> None:
        self.places = settings.ar_team.places
        self.places_per_consultant = settings.ar_team.places_per_consultant
        self._recount()
        self.fill()

    def post_changed(self, post: Post) -> None:
        if post.state == ABOLISHED:
            if post in self.consultants:
                self.consultants.remove(post)
        elif post not in self.consultants:
            self.consultants.append(post)
        self._recount()
        self.fill()

    def refer(self, hh: Household) -> None:
        hh.programme = "waiting"
        self.log(hh, "ar_referral", "")
        self.waiting.append(hh)
        self.fill()

    def fill(self) -> None:
        """Keep the programme within capacity, then start waiting cases in free places."""
        capacity = self.capacity
        excess = len(self.in_programme) - capacity
        # Places were cut or a consultant left: the latest starters pause, latest first, and go
        # back to the head of the waiting list (the team never runs more than its places).
        # Picked in one pass: a city's consultant leaving pauses 9 of 1 080 (step 48).
        latest_first = heapq.nlargest(excess, self.in_programme, key=_started) if excess > 0 else []
        for hh in latest_first:
            del self.in_programme[hh]
            hh.programme = "waiting"
            hh.programme_token += 1
            self.waiting.appendleft(hh)
            self.log(hh, "ar_paused", "places cut")
            self.rerate(hh)
        while self.waiting and len(self.in_programme) < capacity:
            hh = self.waiting.popleft()
            if hh.closed or hh.programme != "waiting":
                continue
            self._start(hh)

    def _start(self, hh: Household) -> None:
        hh.programme = "programme"
        hh.programme_start = self.clock.now
        hh.programme_token += 1
        self.in_programme[hh] = None
        self.log(hh, "ar_start", "")
        self.rerate(hh)
        days = self.programme.programme_days.draw(hh.uniforms[U_AR_DAYS])
        self.clock.call_later_3(days, _END, self, hh, hh.programme_token)

    def _end(self, hh: Household, token: int) -> None:
        if hh.closed or hh.programme_token != token:
            return
        p = self.programme
        success = hh.uniforms[U_AR_SUCCESS] < p.success_share
        self._finish(hh, success)
        hh.programme = "done"  # unsuccessful: back to ordinary handling
        self.log(hh, "ar_end", "success" if success else "back to ordinary handling")
        self.rerate(hh)
        if success:
            cause = "work" if hh.uniforms[U_AR_CAUSE] < p.success_work_share else "other_benefit"
            self.succeeded(hh, cause)
        self.fill()

    def _finish(self, hh: Household, success: bool) -> None:
        self.in_programme.pop(hh, None)
        self.records.append((hh.id, hh.episode, hh.programme_start, self.clock.now, int(success)))

    def leave(self, hh: Household) -> None:
        """A participant's case closed by another cause: the place frees."""
        if hh.programme == "programme":
            self._finish(hh, False)
            self.fill()
        hh.programme = "done"

    def waiting_count(self) -> int:
        """Households on the waiting list now (entries of closed cases are stale)."""
        return sum(1 for hh in self.waiting if hh.programme == "waiting" and not hh.closed)

    def open_records(self) -> list[ProgrammeRecord]:
        """Programmes still running at the end, as records without an end."""
        return [(hh.id, hh.episode, hh.programme_start, math.nan, 0) for hh in self.in_programme]


# Queued unbound, with the team as first argument: compiled, naming a bound method (self._end)
# makes a new method object at every call queued.
_END: Final = ARTeam._end
