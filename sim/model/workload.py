"""Staff time: hours each handler has, hours its cases need, and the share it can deliver.

Every post has a time budget: its working hours less sick absence and non-case duties, times
the share of a full worker it gives now (0 when vacant or on leave, ``introduction_capacity``
for a new hire), less, for a social worker at full capacity, its part of the mentoring its
role's new hires draw. The benefit administrators split into those owning C cases and those
assisting social workers on B cases (``administrators_on_c_share``); the assistants' hours are
shared among the social workers by capacity. Mentoring and assistance are shared out at each
month's start (and when settings change), so that a staff change recounts one budget only.

Each case needs hours of its handler by the class it is worked in: a social worker's A and B
cases their follow-ups (``social_worker_hours_per_follow_up`` every ``interval_days``), less
the share of a B case an assisting administrator takes over, plus the coordination that
sharing costs; a C case ``administrator_hours_per_c_case_month``. Events (taking on a case,
hand-overs, re-mapping at a reorganisation) cost hours too: a handler's event hours of one
month are needed, per day, through the next (a lag of a month, and no events of their own).

A social worker serves its A cases first, then its events, then B cases, then C; its
delivered share of a class is what its hours cover of what that class needs (at most 1). The
share is what moves outcomes: follow-ups and the work and studies exits of a handler's cases
are thinned by it (:mod:`sim.model.pathway`). The figures are kept as time-integrated levels,
updated where a handler's cases or hours change, and reported by month.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

from ..domain import DAYS_PER_MONTH
from ..inputs.parameters import ModelParameters
from .level import Level
from .staff import INTRODUCTION, WORKING, Post

if TYPE_CHECKING:
    from .routing import Caseworker

EPS: Final = 1e-9


def case_hours_per_day(post: Post) -> float:
    """Hours a post gives to cases per day at full capacity (its settings in force)."""
    s = post.settings
    monthly = s.working_hours_per_month * (1 - s.sick_absence_share) * (1 - s.non_case_share)
    return monthly / DAYS_PER_MONTH


def _move(level: Level, now: float, value: float, counted: float) -> None:
    """Move a total by the change of one part of it, from ``counted`` to ``value``."""
    if value != counted:
        level.add(now, value - counted)


class Workload:
    """Hours available, needed and delivered, by handler and in total."""

    def __init__(self, params: ModelParameters) -> None:
        fu, wl = params.follow_up, params.workload
        hours, interval = fu.social_worker_hours_per_follow_up, fu.interval_days
        self.need_a = hours.a / interval.a  # social-worker hours per case-day held as A
        self.need_b = hours.b / interval.b
        self.need_c_social_worker = hours.c / interval.c
        self.need_c = wl.administrator_hours_per_c_case_month / DAYS_PER_MONTH
        self.follow_up_rate = (1 / interval.a, 1 / interval.b, 1 / interval.c)
        self.assist_share = wl.administrator_assist_share_b
        self.coordination = wl.coordination_hours_per_assisted_case_month / DAYS_PER_MONTH
        self.b_floor = wl.minimum_b_contact_share
        # social workers' totals (per day, time-integrated)
        self.sw_available = Level()
        self.sw_needed = Level()
        self.sw_delivered = Level()
        self.needed_by_class = (Level(), Level(), Level())
        self.delivered_by_class = (Level(), Level(), Level())
        self.follow_ups = (Level(), Level(), Level())  # delivered follow-ups per day, by class
        self.assist_delivered = Level()  # B-case hours assistants take over (what they need)
        # administrators' totals
        self.admin_available = Level()
        self.admin_needed = Level()
        self.admin_delivered = Level()
        self.assist_available = Level()  # the assisting administrators' hours
        self.assist_hours = 0.0  # the assisting administrators' hours per day
        self._mentoring = 0.0  # hours per day new social workers draw from colleagues
        self._givers = 0  # social workers at full capacity, who give them
        self._per_giver = 0.0  # as shared out at the month's start
        self._assist_per_capacity = 0.0

    # social workers' budgets --------------------------------------------------------------
    # The mentoring new hires draw and the assistants' hours are shared out anew at each
    # month's start (:meth:`share_out`): a staff change recounts only its own worker's budget.
    def social_worker_changed(self, worker: Caseworker) -> None:
        """A social worker's post changed: its budget is recounted at the shares in force, and
        the role's mentoring totals change for the next sharing out."""
        post = worker.post
        assert post is not None
        mentoring = (
            post.settings.mentoring_hours_per_month / DAYS_PER_MONTH
            if worker.listed and post.state == INTRODUCTION
            else 0.0
        )
        giver = worker.listed and post.state == WORKING
        self._mentoring += mentoring - worker.counted_mentoring
        self._givers += int(giver) - int(worker.counted_giver)
        worker.counted_mentoring, worker.counted_giver = mentoring, giver
        self._budget(worker)

    def share_out(self, workers: Iterable[Caseworker]) -> None:
        """Share the mentoring among the social workers at full capacity and the assistants'
        hours among those holding cases, by capacity; recount every budget."""
        workers = list(workers)
        self._per_giver = self._mentoring / self._givers if self._givers else 0.0
        capacity = sum(w.post.capacity for w in workers if w.holds_cases and w.post is not None)
        self._assist_per_capacity = self.assist_hours / capacity if capacity > 0 else 0.0
        for w in workers:
            self._budget(w)

    def _budget(self, w: Caseworker) -> None:
        """A social worker's case hours per day: its capacity's share of the post's hours, less
        its part of the colleagues' mentoring if it is working at full capacity; and the
        assistance its B cases may have."""
        post = w.post
        assert post is not None
        hours = case_hours_per_day(post) * post.capacity if w.listed else 0.0
        if w.counted_giver:
            hours = max(hours - self._per_giver, 0.0)
        w.hours_available = hours
        w.assist_hours = self._assist_per_capacity * post.capacity if w.holds_cases else 0.0

    # administrators' budgets --------------------------------------------------------------
    def administrators_changed(
        self, now: float, pool: Caseworker, posts: Iterable[Post], on_c: float
    ) -> None:
        """The administrators' hours: those owning C cases (the pool's) and the assistants'
        (shared out among social workers at the next month's start)."""
        hours = sum(case_hours_per_day(p) * p.capacity for p in posts)
        pool.hours_available = hours * on_c
        assist = hours * (1 - on_c)
        self.assist_available.add(now, assist - self.assist_hours)
        self.assist_hours = assist

    # what a social worker's cases need ----------------------------------------------------
    def b_need(self, w: Caseworker, n_b: int) -> tuple[float, float]:
        """Hours per day ``n_b`` B cases need of social worker ``w`` with the assistance it
        has: (its own hours, the hours assistants take over). Assistants take over at most
        ``administrator_assist_share_b`` of the B cases' hours, as far as their hours share
        out to ``w`` lasts; the rest is the social worker's own, and is not also counted as
        hours the administrators need and fail to give (the same hours needed of both roles)."""
        gross = n_b * self.need_b
        wanted = self.assist_share * gross
        if wanted <= 0 or w.assist_hours <= 0:
            return gross, 0.0
        given = min(w.assist_hours, wanted)
        return gross - given + self.coordination * n_b * (given / wanted), given

    def a_fits(self, w: Caseworker, n_a: int, n_b: int, n_c: int) -> bool:
        """Whether ``w`` can work ``n_a`` cases as A: its hours cover them and leave its events,
        B and C cases ``minimum_b_contact_share`` of what they need."""
        need = n_a * self.need_a
        floor = self.b_floor
        if floor > 0:
            rest = w.event_rate + self.b_need(w, n_b)[0] + n_c * self.need_c_social_worker
            need += floor * rest
        return need <= w.hours_available + EPS

    def recount(self, now: float, w: Caseworker) -> None:
        """One handler's cases or hours changed: its delivered shares and its part of the
        totals. A cases first, then events (new cases, hand-overs), then B and C cases."""
        if not w.social_worker:
            self._recount_pool(now, w)
            return
        hours = w.hours_available
        n_a, n_b, n_c = len(w.a_cases), w.cases_b, w.cases_c
        need_a = n_a * self.need_a
        done_a = min(need_a, hours)
        events = min(w.event_rate, hours - done_a)
        rest = hours - done_a - events
        need_b, assist_given = self.b_need(w, n_b)
        need_c = n_c * self.need_c_social_worker
        done_b = min(need_b, rest)
        done_c = min(need_c, rest - done_b)
        w.share_a = share_a = done_a / need_a if need_a > 0 else 1.0
        w.share_b = share_b = done_b / need_b if need_b > 0 else 1.0
        w.share_c = share_c = done_c / need_c if need_c > 0 else 1.0
        fa, fb, fc = self.follow_up_rate
        # Each total moves by this worker's change only (a level add costs more than a compare).
        d = hours - w.counted_hours
        if d:
            self.sw_available.add(now, d)
            w.counted_hours = hours
        needed = w.event_rate + need_a + need_b + need_c
        d = needed - w.counted_needed
        if d:
            self.sw_needed.add(now, d)
            w.counted_needed = needed
        delivered = events + done_a + done_b + done_c
        d = delivered - w.counted_delivered
        if d:
            self.sw_delivered.add(now, d)
            w.counted_delivered = delivered
        need_by, done_by, follow_ups = (
            self.needed_by_class,
            self.delivered_by_class,
            self.follow_ups,
        )
        d = need_a - w.counted_need_a
        if d:
            need_by[0].add(now, d)
            w.counted_need_a = need_a
        d = need_b - w.counted_need_b
        if d:
            need_by[1].add(now, d)
            w.counted_need_b = need_b
        d = need_c - w.counted_need_c
        if d:
            need_by[2].add(now, d)
            w.counted_need_c = need_c
        d = done_a - w.counted_done_a
        if d:
            done_by[0].add(now, d)
            w.counted_done_a = done_a
        d = done_b - w.counted_done_b
        if d:
            done_by[1].add(now, d)
            w.counted_done_b = done_b
        d = done_c - w.counted_done_c
        if d:
            done_by[2].add(now, d)
            w.counted_done_c = done_c
        value = n_a * share_a * fa
        d = value - w.counted_follow_ups_a
        if d:
            follow_ups[0].add(now, d)
            w.counted_follow_ups_a = value
        value = n_b * share_b * fb
        d = value - w.counted_follow_ups_b
        if d:
            follow_ups[1].add(now, d)
            w.counted_follow_ups_b = value
        value = n_c * share_c * fc
        d = value - w.counted_follow_ups_c
        if d:
            follow_ups[2].add(now, d)
            w.counted_follow_ups_c = value
        d = assist_given - w.counted_assist_given
        if d:
            self.assist_delivered.add(now, d)
            w.counted_assist_given = assist_given

    def _recount_pool(self, now: float, pool: Caseworker) -> None:
        """The administrators owning C cases, as one pool."""
        hours = pool.hours_available
        events = min(pool.event_rate, hours)
        need_c = pool.cases_c * self.need_c
        done_c = min(need_c, hours - events)
        pool.share_c = done_c / need_c if need_c > 0 else 1.0
        follow_ups = pool.cases_c * pool.share_c * self.follow_up_rate[2]
        needed, delivered = pool.event_rate + need_c, events + done_c
        # each total moves by the pool's change (one call each: compiled, a loop over tuples of
        # the six made a tuple and two float objects for each, at every C case placed or left)
        _move(self.admin_available, now, hours, pool.counted_hours)
        _move(self.admin_needed, now, needed, pool.counted_needed)
        _move(self.admin_delivered, now, delivered, pool.counted_delivered)
        _move(self.needed_by_class[2], now, need_c, pool.counted_need_c)
        _move(self.delivered_by_class[2], now, done_c, pool.counted_done_c)
        _move(self.follow_ups[2], now, follow_ups, pool.counted_follow_ups_c)
        pool.counted_hours, pool.counted_needed, pool.counted_delivered = hours, needed, delivered
        pool.counted_need_c, pool.counted_done_c = need_c, done_c
        pool.counted_follow_ups_c = follow_ups

    # the month's figures ------------------------------------------------------------------
    def month_figures(self, now: float) -> dict[str, float]:
        """Hours available, needed and delivered in the month by role, the delivered share by
        class and the follow-ups delivered."""
        needed = [level.take(now) for level in self.needed_by_class]
        delivered = [level.take(now) for level in self.delivered_by_class]
        assist_delivered = self.assist_delivered.take(now)
        admin_available = self.admin_available.take(now)
        admin_needed = self.admin_needed.take(now) + assist_delivered
        admin_delivered = self.admin_delivered.take(now) + assist_delivered
        figures = {
            "social_worker_hours_available": self.sw_available.take(now),
            "social_worker_hours_needed": self.sw_needed.take(now),
            "social_worker_hours_delivered": self.sw_delivered.take(now),
            "administrator_hours_available": admin_available + self.assist_available.take(now),
            "administrator_hours_needed": admin_needed,
            "administrator_hours_delivered": admin_delivered,
            "delivered_share_administrators": (
                admin_delivered / admin_needed if admin_needed > 0 else math.nan
            ),
        }
        for k, cls in enumerate(("a", "b", "c")):
            figures[f"delivered_share_{cls}"] = (
                delivered[k] / needed[k] if needed[k] > 0 else math.nan
            )
            figures[f"follow_ups_{cls}"] = self.follow_ups[k].take(now)
        return figures
