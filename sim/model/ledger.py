"""The month's accounts: flows counted as they happen, stocks integrated over time, one row per
calendar month.

Payments and routine meetings change no state, so they are not simulated one by one: they are
accounted in aggregate from the time-integrated stocks (household-days with and without
children, case-days by class). The ledger knows no component; at a month's end the model hands
it the components' own month figures and it writes the row.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, Final

from ..domain import (
    BARRIERS,
    CASE_CLASSES,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    EXIT_CAUSES,
    STAFF_ROLES,
    Barrier,
)
from ..inputs.scenario import Costs, Staff
from ..records import MONTH_COLUMNS
from .household import HELD_STATES, HeldState, Household
from .level import Level
from .staff import Post

EXIT_INDEX: Final[dict[str, int]] = {cause: i for i, cause in enumerate(EXIT_CAUSES)}


class MonthFlows:
    """What happened during the month so far (counts, and the sum of first-visit waits)."""

    __slots__ = (
        "booked",
        "cases_closed",
        "cases_opened",
        "contacts",
        "dropped_out",
        "exits",
        "first_visit_wait_sum",
        "first_visits",
        "jobcentre_referrals",
        "opened_by_barrier",
        "rejected",
        "returns",
        "transferred",
    )

    def __init__(self) -> None:
        self.contacts = 0
        self.returns = 0
        self.booked = 0
        self.dropped_out = 0
        self.first_visits = 0
        self.first_visit_wait_sum = 0.0
        self.rejected = 0
        self.cases_opened = 0
        self.cases_closed = 0
        self.transferred = 0
        self.jobcentre_referrals = 0
        self.exits = [0] * len(EXIT_CAUSES)  # by cause, in EXIT_CAUSES order
        self.opened_by_barrier = dict.fromkeys(BARRIERS, 0)


class MonthlyLedger:
    """Flows, stocks and costs of one replication, and the month rows made from them."""

    def __init__(self, first_day: date, report_from: float) -> None:
        self.first_day = first_day
        self.report_from = report_from
        self.flows = MonthFlows()
        self.held_count = dict.fromkeys(HELD_STATES, 0)
        self.open_by_barrier = dict.fromkeys(BARRIERS, 0)
        self.open_children = Level()
        self.open_without_children = Level()
        self.staff_cost_rate = Level()
        self.filled_posts = dict.fromkeys(STAFF_ROLES, 0)
        self.paid_posts: set[Post] = set()
        self.rows: list[dict[str, Any]] = []

    # as things happen ---------------------------------------------------------------------
    def held_changed(self, old: HeldState, new: HeldState) -> None:
        count = self.held_count
        if old:
            count[old] -= 1
        count[new] += 1

    def case_opened(self, now: float, hh: Household, *, initial: bool) -> None:
        self.open_by_barrier[hh.barrier] += 1
        (self.open_children if hh.children else self.open_without_children).add(now, 1)
        if not initial:
            self.flows.cases_opened += 1
            self.flows.opened_by_barrier[hh.barrier] += 1

    def case_closed(self, now: float, hh: Household, cause: str) -> None:
        if hh.held:
            self.held_count[hh.held] -= 1
        self.open_by_barrier[hh.barrier] -= 1
        (self.open_children if hh.children else self.open_without_children).add(now, -1)
        self.flows.cases_closed += 1
        self.flows.exits[EXIT_INDEX[cause]] += 1

    def staff_changed(self, now: float, post: Post, staff: Staff) -> None:
        """A post changed: count it as paid or not, and the cost rate of the settings."""
        paid = post.filled
        if paid != (post in self.paid_posts):
            if paid:
                self.paid_posts.add(post)
            else:
                self.paid_posts.discard(post)
            self.filled_posts[post.role] += 1 if paid else -1
        self.staff_settings_changed(now, staff)

    def staff_settings_changed(self, now: float, staff: Staff) -> None:
        """Staff cost per day: filled posts by role times the role's cost in force."""
        rate = sum(
            n * getattr(staff, role).annual_cost_sek / DAYS_PER_YEAR
            for role, n in self.filled_posts.items()
        )
        self.staff_cost_rate.add(now, rate - self.staff_cost_rate.value)

    # at a month's end -----------------------------------------------------------------------
    def close_month(
        self,
        now: float,
        start: float,
        end: float,
        open_at_start: dict[Barrier, int],
        figures: dict[str, Any],
        costs: Costs,
    ) -> None:
        """Write the row of the month from ``start`` to ``end`` (the time ``now``) and start
        the next month.

        ``figures`` holds what the components report of their month (social-worker-days in
        post, utilisations, the AR team's counts, staff in post, cases waiting for a class,
        unemployment). The row's columns are those of the month record, in its order
        (:data:`sim.records.MONTH_COLUMNS`).
        """
        first = self.first_day + timedelta(days=int(start))
        values: dict[str, Any] = {
            "month": f"{first.year}-{first.month:02d}",  # strftime("%Y-%m"), without its cost
            "period": "warmup" if start < self.report_from else "run",
            "days": end - start,
        }
        values.update(figures)
        values.update(self._flows())
        values.update(self._stocks(open_at_start))
        values["assistance_paid_sek"] = (
            self.open_children.take(now) * costs.assistance_sek_per_month_with_children
            + self.open_without_children.take(now) * costs.assistance_sek_per_month_without_children
        ) / DAYS_PER_MONTH
        values["staff_cost_sek"] = self.staff_cost_rate.take(now)
        self.rows.append({name: values[name] for name in MONTH_COLUMNS})
        self.flows = MonthFlows()

    def _flows(self) -> dict[str, Any]:
        """The month's counts of events, and its mean first-visit wait."""
        f = self.flows
        values: dict[str, Any] = {
            name: getattr(f, name)
            for name in (
                "cases_opened",
                "cases_closed",
                "first_visits",
                "contacts",
                "returns",
                "booked",
                "dropped_out",
                "rejected",
                "transferred",
                "jobcentre_referrals",
            )
        }
        for cause, n in zip(EXIT_CAUSES, f.exits, strict=True):
            values[f"exits_{cause}"] = n
        values["first_visit_wait_days"] = (
            f.first_visit_wait_sum / f.first_visits if f.first_visits else math.nan
        )
        return values

    def _stocks(self, open_at_start: dict[Barrier, int]) -> dict[str, Any]:
        """Households assisted in the month (open at its start or opened in it), by barrier,
        and cases by how they are held at its end."""
        count = self.held_count
        opened = self.flows.opened_by_barrier
        per_barrier = {b: open_at_start[b] + opened[b] for b in BARRIERS}
        values: dict[str, Any] = {"households": sum(per_barrier.values())}
        values.update({f"households_{b}": n for b, n in per_barrier.items()})
        values.update({f"open_class_{k}": count[k] for k in CASE_CLASSES})
        values["without_handler"] = count["waiting"]
        values["in_intake"] = count["intake"] + count["transfer"]
        return values
