"""One replication of one scenario: the parts built and wired, staff and settings applied, the
months recorded, the records returned.

Time is in days from the simulated start (``start_date`` less any warm-up). The parts, each in
its own module: :mod:`~sim.model.contacts` (contacts and screening), :mod:`~sim.model.intake`
(the first-visit queue), :mod:`~sim.model.routing` (classes A/B/C), :mod:`~sim.model.ar_team`,
:mod:`~sim.model.exits` (exit hazards), :mod:`~sim.model.staff` (posts), :mod:`~sim.model.ledger`
(the month's accounts), and :mod:`~sim.model.pathway`, the household's path through them. The
model produces event records (one row per month, per episode, per AR programme);
:mod:`sim.metrics` turns them into KPIs.
"""

from __future__ import annotations

import gc
from array import array
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import simpy

from ..domain import BARRIERS, DAYS_PER_MONTH, STAFF_ROLES, Barrier
from ..engine import CaseloadEnvironment
from ..inputs.parameters import ModelParameters
from ..inputs.scenario import ResolvedScenario, Settings
from ..records import (
    AR_PROGRAMME_RECORD,
    EPISODE_RECORD,
    EVENT_RECORD,
    ReplicationOutput,
    record_table,
)
from ..streams import Streams
from .ar_team import ARTeam
from .contacts import BookedArrivals, generate_contacts
from .economy import FloatArray, WorkClock, daily_unemployment
from .exits import ExitHazards
from .household import N_UNIFORMS
from .intake import IntakeDesk
from .ledger import MonthlyLedger
from .pathway import Pathway
from .routing import Routing
from .staff import Post, StaffRoster
from .workload import Workload


@contextmanager
def no_cyclic_collection() -> Iterator[None]:
    """No cyclic garbage collection while the model runs; the collector's state is restored
    after.

    A run allocates many short-lived objects while holding thousands of long-lived households;
    the collector would scan those again and again and find nothing: a run frees its objects by
    reference counting, and :meth:`CaseloadModel.release` breaks the cycles of a finished run
    (tested: the collector finds nothing left over). With the default thresholds it took about
    half the time of a city-scale run; with rare collections (thresholds 100 000, 50, 100,
    until step 47) still about 3 % (docs/performance.md). Results do not depend on it.
    The collector is the process's: other threads (the workbench's) go without it too, for the
    seconds a replication takes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class CaseloadModel:
    """One replication of one scenario."""

    # the parts that point back to each other, dropped by :meth:`release` (a compiled class
    # allows only attributes named here to be deleted)
    __deletable__ = ("env", "pathway", "intake", "routing", "ar_team", "roster", "arrivals")

    def __init__(
        self, resolved: ResolvedScenario, replication: int, *, events: bool = False
    ) -> None:
        self.resolved = resolved
        self.scenario = sc = resolved.scenario
        self.params: ModelParameters = resolved.parameters
        self.env = env = CaseloadEnvironment()
        self.streams = Streams(sc.seed, replication)
        self.first_day = sc.sim_start_date
        self.report_from = float(sc.warmup_days)
        self.end = float(sc.warmup_days + sc.horizon_days)
        self.unemployment = daily_unemployment(sc.unemployment, self.first_day, int(self.end) + 1)
        self.work_clock = WorkClock(
            self.unemployment,
            sc.unemployment.reference_percent,
            self.params.exits.unemployment_semi_elasticity_work,
        )
        self.settings: Settings = resolved.timeline[0]
        self.hazards = ExitHazards(self.params, self.work_clock)
        self.ledger = MonthlyLedger(self.first_day, self.report_from)
        self.pathway = path = Pathway(
            env,
            self.params,
            self.settings,
            self.hazards,
            self.ledger,
            (sc.seed, replication),
            self.end,
            events=events,
        )
        self.intake = IntakeDesk(
            env, path.first_visit_started, path.first_visit_done, path.drop_out
        )
        self.workload = Workload(self.params)
        self.routing = Routing(
            env,
            path.set_held,
            path.handed_over,
            self.workload,
            work_plan_hours=self.params.workload.work_plan_hours,
            handover_hours=self.params.workload.handover_hours,
        )
        self.ar_team = ARTeam(
            env, self.params.ar_programme, path.rerate, path.close_via_ar, path.log_event
        )
        path.attach(self.intake, self.routing, self.ar_team)
        self.roster = StaffRoster(env, self.streams, self._post_changed)
        self.arrivals = BookedArrivals(env, path.arrive)
        self.contact_times = np.empty(0)

    # staff and settings ---------------------------------------------------------------------
    def _post_changed(self, post: Post) -> None:
        self.ledger.staff_changed(self.env.now, post, self.settings.staff)
        if post.role == "intake_social_workers":
            self.intake.post_changed(post)
        elif post.role in ("ongoing_social_workers", "benefit_administrators"):
            self.routing.post_changed(post)
        else:
            self.ar_team.post_changed(post)

    def apply_settings(self, settings: Settings, *, initial: bool) -> None:
        if not initial and settings.organisation.form != self.settings.organisation.form:
            # a reorganisation re-maps every open case onto the new sections
            self.routing.add_event_hours(self.params.workload.remapping_hours_per_case)
        behaviour_changed = settings.behaviour != self.settings.behaviour
        self.settings = settings
        self.pathway.configure(settings)
        if initial or behaviour_changed:
            self.hazards.set_behaviour(settings.behaviour)
            if not initial:
                for hh in list(self.pathway.open_households):
                    self.pathway.rerate(hh)  # the new hazards from now on
        self.routing.configure(settings)
        self.ar_team.configure(settings)
        for role in STAFF_ROLES:
            self.roster.set_role(role, getattr(settings.staff, role), initial=initial)
        self.routing.share_out_time()
        self.ledger.staff_settings_changed(self.env.now, settings.staff)

    def timed_changes(self) -> Generator[simpy.Event, Any, None]:
        """Settings that change at stated dates (``[[changes]]``).

        A change on the first of a month takes effect after the month that ends then has been
        recorded (its staff at month's end, its payments at its own rates): the zero delay puts
        the change behind the month's end, which was scheduled later but is due at the same time.
        """
        for settings in self.resolved.timeline[1:]:
            day = (settings.since - self.first_day).days
            yield self.env.timeout(max(day - self.env.now, 0))
            yield self.env.timeout(0)
            self.apply_settings(settings, initial=False)

    # initial state --------------------------------------------------------------------------
    def initial_caseload(self) -> None:
        """Households open on day 0 (e.g. 559 at the start of 2015), placed by capacity."""
        init = self.scenario.initial_caseload
        rng = self.streams.get("initial")
        classes = ["a"] * init.by_class.a + ["b"] * init.by_class.b + ["c"] * init.by_class.c
        shares = np.array([init.barrier_shares[b] for b in BARRIERS])
        districts = np.array([d.contact_share for d in self.settings.organisation.districts])
        n = len(classes)
        barrier_index = rng.choice(len(BARRIERS), size=n, p=shares / shares.sum())
        district_index = rng.choice(len(districts), size=n, p=districts / districts.sum())
        uniforms = array("d", rng.random((n, N_UNIFORMS)).tobytes())  # row after row
        elapsed_days = init.duration_months.ppf(rng.random(n)) * DAYS_PER_MONTH
        path = self.pathway
        self.routing.opening = True
        for i, cls in enumerate(classes):
            barrier = BARRIERS[int(barrier_index[i])]
            hh = path.new_household(  # open already: no intake durations needed
                int(district_index[i]),
                barrier,
                uniforms[i * N_UNIFORMS : (i + 1) * N_UNIFORMS],
                intake_days=array("d"),
            )
            path.open_case(hh, elapsed_days=float(elapsed_days[i]), initial=True)
            hh.need = cls  # type: ignore[assignment]
            self.routing.route(hh)
        self.routing.opening = False

    # months ---------------------------------------------------------------------------------
    def month_boundaries(self) -> list[float]:
        """Day numbers of the first of each calendar month after day 0, and the end."""
        days = []
        d = date(self.first_day.year, self.first_day.month, 1)
        while True:
            d = (d + timedelta(days=32)).replace(day=1)
            day = float((d - self.first_day).days)
            if day >= self.end:
                break
            days.append(day)
        days.append(self.end)
        return days

    def monthly_recorder(self) -> Generator[simpy.Event, Any, None]:
        """Record each calendar month's row, then start the month's counters again."""
        start = 0.0
        open_at_start = dict(self.ledger.open_by_barrier)
        contact_index = 0
        for boundary in self.month_boundaries():
            yield self.env.timeout(boundary - self.env.now)
            self.intake.sweep_drop_outs(boundary)
            n_contacts = int(np.searchsorted(self.contact_times, boundary, side="left"))
            self.ledger.flows.contacts += n_contacts - contact_index
            contact_index = n_contacts
            self._close_month(start, boundary, open_at_start)
            open_at_start = dict(self.ledger.open_by_barrier)
            start = boundary

    def _close_month(self, start: float, end: float, open_at_start: dict[Barrier, int]) -> None:
        """Gather the parts' month figures and let the ledger write the month's row."""
        now = self.env.now
        figures: dict[str, Any] = {"waiting_for_class": self.routing.queued_count}
        figures.update(self.routing.month_figures(now))
        figures.update(self.intake.month_figures(now))
        figures.update(self.workload.month_figures(now))
        figures["ar_team_in_programme"] = len(self.ar_team.in_programme)
        figures["ar_team_waiting"] = self.ar_team.waiting_count()
        figures["ar_team_capacity"] = self.ar_team.capacity
        for role in STAFF_ROLES:
            figures[f"staff_in_post_{role}"] = sum(
                1 for p in self.roster.active(role) if p.capacity > 0
            )
        figures["staff_in_post_social_workers"] = (
            figures["staff_in_post_intake_social_workers"]
            + figures["staff_in_post_ongoing_social_workers"]
        )
        # np.mean's own steps (its sum, then one division), without its Python-level checks: a
        # fifth of closing a month
        days = self.unemployment[int(start) : int(end) + 1]
        figures["unemployment_percent"] = float(np.add.reduce(days)) / len(days)
        self.ledger.close_month(
            now,
            start,
            end,
            open_at_start,
            figures,
            self.settings.costs,
        )
        self.routing.month_rollover(end - start)

    def generate_contacts(self) -> tuple[FloatArray, np.ndarray, np.ndarray]:
        """All contacts of the run (times, districts, barriers), from the contacts stream."""
        behaviour = [
            ((s.since - self.first_day).days if i else 0, s.behaviour)
            for i, s in enumerate(self.resolved.timeline)
        ]
        return generate_contacts(
            self.params,
            self.settings.organisation,
            self.scenario.unemployment,
            self.unemployment,
            self.streams,
            int(self.end),
            behaviour,
        )

    # run ------------------------------------------------------------------------------------
    def run(self) -> ReplicationOutput:
        """Simulate the whole horizon and return the event records."""
        with no_cyclic_collection():
            recorder = self.start()
            self.env.run_until_processed(recorder)
        return self.output()

    def start(self) -> simpy.Process:
        """Set up staff, the initial caseload and the processes; return the monthly recorder
        (the run ends when it does). Tests step ``env`` from here to check invariants."""
        self.apply_settings(self.settings, initial=True)
        self.initial_caseload()
        contacts = self.generate_contacts()
        self.contact_times = contacts[0]
        self.arrivals.start(
            self.params, contacts, self.streams.get("screening"), self.streams.get("households")
        )
        self.env.process(self.timed_changes())
        return self.env.process(self.monthly_recorder())

    def release(self) -> None:
        """Free the finished run at once, by reference counting, and leave the model unusable.

        A model is full of reference cycles (its parts call back into the path, queued events
        hold their processes, posts their processes). Left to the cyclic garbage collector, the
        runs of a worker pile up until a collection that scans them all: about a tenth of the
        time of many replications in one process. Call this once the outputs have been taken.
        """
        self.env.discard_pending()
        for posts in self.roster.posts.values():
            for post in posts:
                process = post.process
                if process is not None and process.is_alive and process.target.callbacks:
                    process.target.callbacks.clear()  # an open-ended wait: never queued
                post.process = None
        routing = self.routing
        for worker in [*routing.workers.values(), routing.pool]:
            worker.cases.clear()  # its households point back at it
            worker.a_cases.clear()
            worker.a_queue.clear()
        for queue in (
            routing.with_administrators,
            routing.with_social_workers,
            routing.without_handler,
        ):
            queue.clear()
        self.pathway.detach()
        del self.env, self.pathway, self.intake, self.routing, self.ar_team
        del self.roster, self.arrivals

    def output(self) -> ReplicationOutput:
        """The run's records as tables: months, episodes (closed and open), AR programmes."""
        path = self.pathway
        episodes = record_table(path.episodes + path.open_episode_records(), EPISODE_RECORD)
        ar = record_table(self.ar_team.records + self.ar_team.open_records(), AR_PROGRAMME_RECORD)
        events = None
        if path.log is not None:
            events = record_table(path.log, EVENT_RECORD)
            # drop-outs are logged when found, with their own day: put them in time order
            events = events.sort_values("day", kind="stable", ignore_index=True)
        return ReplicationOutput(pd.DataFrame(self.ledger.rows), episodes, ar, events)
