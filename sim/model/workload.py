"""Staff time: hours each worker has, hours its cases need, and the share it can deliver.

Every post has a time budget (its working hours less sick absence and non-case duties, times
the share of a full worker it gives now: 0 when vacant or on leave, ``introduction_capacity``
for a new hire, less the mentoring hours a role's new hires draw from their colleagues). Each
case it holds needs hours of contact per month by class: the planned follow-ups of its work
plan (``social_worker_hours_per_follow_up`` every ``interval_days``) for a social worker;
payment handling (``administrator_hours_per_case_month``) for the benefit administrators as a
pool. A social worker serves A cases before B cases; its delivered share of a class is what
its hours cover of what that class needs (at most 1). The administrators serve their pool as a
whole.

The figures are kept as time-integrated levels, updated where routing changes a worker's
cases or a post changes (no events of their own), and reported by month: hours available,
needed and delivered, and the delivered share by class.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..domain import DAYS_PER_MONTH
from ..inputs.parameters import FollowUp
from .level import Level
from .staff import INTRODUCTION, WORKING, Post

if TYPE_CHECKING:
    from .routing import Caseworker


def case_hours_per_day(post: Post) -> float:
    """Hours a post gives to cases per day at full capacity (its settings in force)."""
    s = post.settings
    monthly = s.working_hours_per_month * (1 - s.sick_absence_share) * (1 - s.non_case_share)
    return monthly / DAYS_PER_MONTH


class Workload:
    """Hours available, needed and delivered, by social worker and for the administrators."""

    def __init__(self, follow_up: FollowUp) -> None:
        hours, interval = follow_up.social_worker_hours_per_follow_up, follow_up.interval_days
        self.need_a = hours.a / interval.a  # social-worker hours per A case and day
        self.need_b = hours.b / interval.b
        admin = follow_up.administrator_hours_per_case_month
        self.admin_need = (
            admin.a / DAYS_PER_MONTH,
            admin.b / DAYS_PER_MONTH,
            admin.c / DAYS_PER_MONTH,
        )
        self.sw_available = Level()
        self.sw_needed_a = Level()
        self.sw_needed_b = Level()
        self.sw_delivered_a = Level()
        self.sw_delivered_b = Level()
        self.admin_available = Level()
        self.admin_needed = Level()
        self.admin_delivered = Level()
        self._admin_hours = 0.0  # per day, the pool's
        self._mentoring = 0.0  # hours per day new social workers draw from colleagues
        self._givers = 0  # social workers at full capacity, who give them
        self._per_giver = 0.0

    # social workers -----------------------------------------------------------------------
    def social_worker_changed(
        self, now: float, worker: Caseworker, workers: Iterable[Caseworker]
    ) -> None:
        """A social worker's post changed (or the settings): its budget is recounted, and every
        colleague's too when the mentoring new hires draw from them per head changed."""
        post = worker.post
        mentoring = (
            post.settings.mentoring_hours_per_month / DAYS_PER_MONTH
            if worker.listed and post.state == INTRODUCTION
            else 0.0
        )
        giver = worker.listed and post.state == WORKING
        self._mentoring += mentoring - worker.counted_mentoring
        self._givers += int(giver) - int(worker.counted_giver)
        worker.counted_mentoring, worker.counted_giver = mentoring, giver
        per_giver = self._mentoring / self._givers if self._givers else 0.0
        if abs(per_giver - self._per_giver) > 1e-12:
            self._per_giver = per_giver
            for w in workers:
                self._budget(now, w)
        else:
            self._budget(now, worker)

    def _budget(self, now: float, w: Caseworker) -> None:
        """A social worker's case hours per day: its capacity's share of the post's hours, less
        its part of the colleagues' mentoring if it is working at full capacity."""
        hours = case_hours_per_day(w.post) * w.post.capacity if w.listed else 0.0
        if w.counted_giver:
            hours = max(hours - self._per_giver, 0.0)
        w.hours_available = hours
        self.worker_changed(now, w)

    def worker_changed(self, now: float, w: Caseworker) -> None:
        """One social worker's cases or hours changed: bring its share of the totals up to
        date. A cases are served before B cases."""
        available = w.hours_available
        need_a = w.cases_a * self.need_a
        need_b = w.cases_b * self.need_b
        delivered_a = min(need_a, available)
        delivered_b = min(need_b, available - delivered_a)
        self.sw_available.add(now, available - w.counted_available)
        self.sw_needed_a.add(now, need_a - w.counted_need_a)
        self.sw_needed_b.add(now, need_b - w.counted_need_b)
        self.sw_delivered_a.add(now, delivered_a - w.counted_delivered_a)
        self.sw_delivered_b.add(now, delivered_b - w.counted_delivered_b)
        w.counted_available, w.counted_need_a, w.counted_need_b = available, need_a, need_b
        w.counted_delivered_a, w.counted_delivered_b = delivered_a, delivered_b

    @staticmethod
    def delivered_share(w: Caseworker) -> tuple[float, float]:
        """The worker's delivered share of its A and of its B cases' needs now (1: all)."""
        share_a = w.counted_delivered_a / w.counted_need_a if w.counted_need_a > 0 else 1.0
        share_b = w.counted_delivered_b / w.counted_need_b if w.counted_need_b > 0 else 1.0
        return share_a, share_b

    # administrators -----------------------------------------------------------------------
    def administrators_changed(self, now: float, posts: Iterable[Post]) -> None:
        """The administrators' pool of hours, recounted when one of them changes."""
        self._admin_hours = sum(case_hours_per_day(p) * p.capacity for p in posts)

    def pool_changed(self, now: float, cases_a: int, cases_b: int, cases_c: int) -> None:
        """The cases the administrators handle payments for, or their hours, changed."""
        need_a, need_b, need_c = self.admin_need
        needed = cases_a * need_a + cases_b * need_b + cases_c * need_c
        available = self._admin_hours
        self.admin_available.add(now, available - self.admin_available.value)
        self.admin_needed.add(now, needed - self.admin_needed.value)
        self.admin_delivered.add(now, min(needed, available) - self.admin_delivered.value)

    # the month's figures ------------------------------------------------------------------
    def month_figures(self, now: float) -> dict[str, float]:
        """Hours available and delivered in the month, and the delivered share by class."""
        needed_a, needed_b = self.sw_needed_a.take(now), self.sw_needed_b.take(now)
        delivered_a, delivered_b = self.sw_delivered_a.take(now), self.sw_delivered_b.take(now)
        admin_needed = self.admin_needed.take(now)
        admin_delivered = self.admin_delivered.take(now)
        return {
            "social_worker_hours_available": self.sw_available.take(now),
            "social_worker_hours_delivered": delivered_a + delivered_b,
            "delivered_share_a": delivered_a / needed_a if needed_a > 0 else math.nan,
            "delivered_share_b": delivered_b / needed_b if needed_b > 0 else math.nan,
            "administrator_hours_available": self.admin_available.take(now),
            "administrator_hours_delivered": admin_delivered,
            "delivered_share_administrators": (
                admin_delivered / admin_needed if admin_needed > 0 else math.nan
            ),
        }
