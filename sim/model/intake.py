"""The intake desk (mottagning): booked households wait, first come first served, for a first
visit with an intake social worker.

Each first visit (with its investigation work) occupies one worker for a time drawn from
``first_visit_work_days``, longer for a worker in introduction. With Poisson arrivals and
exponential work this is an M/M/c queue, which the tests check against Erlang C.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Final

from ..engine import CaseloadEnvironment
from .household import D_VISIT_WORK, Household
from .level import Level
from .staff import Post

HouseholdCallback = Callable[[Household], None]


class IntakeDesk:
    """The first-visit queue in front of the intake social workers.

    The household's path is told when a visit starts (``visit_started``: the household and
    its wait), when it ends (``visit_done``) and when a queued household gave up
    (``dropped_out``).

    The queue holds the booked households not yet found to have given up: a drop-out is found
    when its turn comes or at a month's end (:meth:`sweep_drop_outs`), whichever is first, so
    at a month's end the queue is the households waiting for a first visit.
    """

    def __init__(
        self,
        env: CaseloadEnvironment,
        visit_started: Callable[[Household, float], None],
        visit_done: HouseholdCallback,
        dropped_out: HouseholdCallback,
    ) -> None:
        self.clock = env.clock
        self.visit_started = visit_started
        self.visit_done = visit_done
        self.dropped_out = dropped_out
        self.queue: deque[Household] = deque()
        self.idle: list[Post] = []
        self.busy: set[Post] = set()
        self.counted_available: set[Post] = set()  # posts counted in ``available``
        self.available = Level()
        self.busy_level = Level()

    def book(self, hh: Household) -> None:
        self.queue.append(hh)
        self._dispatch()

    def _dispatch(self) -> None:
        now = self.clock.now
        while self.idle and self.queue:
            hh = self.queue.popleft()
            if hh.dropout_day <= now:  # gave up before its turn came
                self.dropped_out(hh)
                continue
            post = self.idle.pop()
            self._start(hh, post)

    def sweep_drop_outs(self, before: float) -> None:
        """Record the queued households that gave up before ``before`` (a month's end), so
        that each drop-out is counted in its month. A drop-out schedules no event: it is found
        here or when the household's turn comes, whichever is first."""
        kept: deque[Household] = deque()
        for hh in self.queue:
            if hh.dropout_day < before:
                self.dropped_out(hh)
            else:
                kept.append(hh)
        # the queue holds only those still waiting: an unstaffed desk's drop-outs do not pile
        # up in it (nor the sweep's time with them)
        self.queue = kept

    def _start(self, hh: Household, post: Post) -> None:
        now = self.clock.now
        self.visit_started(hh, now - hh.booked_day)
        self.busy.add(post)
        self.busy_level.add(now, 1)
        work = hh.intake_days[D_VISIT_WORK]
        self.clock.call_later_3(work / post.capacity, _FINISH, self, hh, post)

    def _finish(self, hh: Household, post: Post) -> None:
        now = self.clock.now
        self.busy.discard(post)
        self.busy_level.add(now, -1)
        if post.capacity > 0:
            self.idle.append(post)
        else:  # left during the visit: unavailable from now on
            self._set_available(post, False)
        self.visit_done(hh)
        self._dispatch()

    def _set_available(self, post: Post, available: bool) -> None:
        if available:
            self.counted_available.add(post)
        else:
            self.counted_available.discard(post)
        self.available.add(self.clock.now, 1 if available else -1)

    def post_changed(self, post: Post) -> None:
        """A worker who leaves mid-visit finishes it first, so busy never exceeds available."""
        counted = post in self.counted_available
        works = post.capacity > 0
        if works and not counted:
            self._set_available(post, True)
            if post not in self.busy:
                self.idle.append(post)
                self._dispatch()
        elif not works and counted and post not in self.busy:
            self._set_available(post, False)
            self.idle.remove(post)

    def month_figures(self, now: float) -> dict[str, float]:
        """The intake workers' utilisation since the last month's end, and the households
        waiting for a first visit at the month's end (after its drop-outs have been swept)."""
        avail = self.available.take(now)
        busy = self.busy_level.take(now)
        return {
            "intake_utilisation": busy / avail if avail else math.nan,
            "waiting_for_first_visit": len(self.queue),
        }


# Handlers queued unbound, with their object as first argument: compiled, naming a bound method
# (self._finish) makes a new method object through attribute lookup at every call queued.
_FINISH: Final = IntakeDesk._finish
