"""The caseload model: the path of each household through intake, routing, follow-up and exit.

Time is in days from the simulated start (``start_date`` less any warm-up). The model produces
event records (one row per episode, per AR programme, per month); :mod:`sim.metrics` turns them
into KPIs. The main activities, each a small function below:

* :meth:`CaseloadModel.contact_arrivals`: contacts by district and barrier; screening books some.
* :class:`IntakeDesk`: the first-visit queue in front of the intake social workers.
* :meth:`CaseloadModel.decide`: grant or reject; short needs stay at intake, long needs go on.
* :meth:`CaseloadModel.transfer`: the hand-over to the ongoing unit (split organisation only).
* :class:`Routing`: A/B/C with caseload norms; cases wait or are held lower when workers are full.
* :meth:`CaseloadModel.follow_up_change`: work-plan follow-ups that change the class.
* :class:`ARTeam`: eligibility, waiting list, places, programme, outcome.
* :meth:`CaseloadModel.close`: exits by cause; some households come back (:meth:`return_contact`).

Event economy: a household's competing exit risks are unit-exponential clocks drawn at its
arrival; its exit time is computed once and recomputed only when its state changes (class,
programme). Duration dependence is integrated across the bands ahead, so passing a band is not
an event. Each household has at most one pending event, the earliest of its exit, next
class-changing follow-up and AR eligibility. Unemployment moves every household's work hazard
through one shared clock (:class:`sim.economy.WorkClock`), so a changing economy schedules no
events at all. Payments and routine meetings change no state and
are accounted in aggregate from time-integrated stocks.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import math
from collections import deque
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import simpy

from ..domain import (
    BARRIERS,
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    ONGOING_EXIT_CAUSES,
    Barrier,
    StaffRole,
)
from ..engine import CaseloadEnvironment
from ..inputs.parameters import ModelParameters
from ..inputs.scenario import ResolvedScenario, Settings
from ..streams import Streams, keyed_uniforms
from .economy import WorkClock, contact_multiplier, daily_unemployment
from .staff import ABOLISHED, Post, StaffRoster

# Fixed positions in a household's uniforms (drawn at arrival: common random numbers).
U_YOUNG, U_CHILDREN, U_DROPOUT, U_DROPOUT_DAYS, U_VISIT_WORK, U_INVESTIGATION = range(6)
U_REJECT, U_SHORT, U_SHORT_DAYS, U_ONE_TIME, U_NEED, U_TRANSFER = range(6, 12)
U_AR_REFER, U_AR_DAYS, U_AR_SUCCESS, U_AR_CAUSE, U_RETURN, U_RETURN_DAYS = range(12, 18)
U_SHORT_CAUSE = 18
# Intake durations turned from those uniforms, in this order (Household.intake_days).
INTAKE_DURATIONS = (
    ("dropout_days", U_DROPOUT_DAYS),
    ("first_visit_work_days", U_VISIT_WORK),
    ("investigation_days", U_INVESTIGATION),
    ("short_need_days", U_SHORT_DAYS),
    ("transfer_days", U_TRANSFER),
)
D_DROPOUT, D_VISIT_WORK, D_INVESTIGATION, D_SHORT_NEED, D_TRANSFER = range(5)
U_EXIT = 19  # five unit-exponential exit clocks, one per ongoing cause
U_FREE = U_EXIT + len(ONGOING_EXIT_CAUSES)  # further uniforms, used in turn (follow-ups)
N_UNIFORMS = U_FREE + 8

HELD_STATES = ("a", "b", "c", "waiting", "transfer", "intake")
# _rates relies on this order: work and studies first (they depend on the class held).
assert ONGOING_EXIT_CAUSES[:2] == ("work", "studies")


@contextmanager
def rare_garbage_collection() -> Iterator[None]:
    """Collect cyclic garbage rarely while the model runs, then restore the thresholds.

    A run allocates many short-lived events while holding thousands of long-lived households;
    with the default thresholds the cyclic collector rescans the households so often that it
    took about half the time of a city-scale run. Results do not depend on it.
    """
    old = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)


class Level:
    """A stock whose time integral is kept: ``area`` over a month gives stock-days."""

    __slots__ = ("area", "t", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.t = 0.0
        self.area = 0.0

    def add(self, now: float, delta: float) -> None:
        self.area += self.value * (now - self.t)
        self.t = now
        self.value += delta

    def take(self, now: float) -> float:
        """The area since the last ``take`` (and start again)."""
        self.area += self.value * (now - self.t)
        self.t = now
        area, self.area = self.area, 0.0
        return area


@dataclass(eq=False, slots=True)
class Household:
    """A household and its current episode on assistance."""

    id: int
    episode: int
    district: int
    barrier: Barrier
    young: bool
    children: bool
    u: list[float]
    intake_days: list[float]  # drop-out, first-visit work, investigation, short need, transfer
    booked_day: float = math.nan
    dropout_t: float = math.inf  # when the household gives up waiting for its first visit
    granted_day: float = math.nan
    need: str = ""
    held: str = ""
    worker: Post | None = None
    weight: float = 0.0
    clock_left: list[float] = field(default_factory=list)  # unit-exponential exit clocks left
    rates: list[float] = field(default_factory=lambda: [0.0] * len(ONGOING_EXIT_CAUSES))
    clock_t: float = 0.0
    clock_g: float = 0.0
    exit_t: float = math.inf  # when each clock next runs out (inf: not running)
    exit_k: int = -1
    follow_t: float = math.inf
    elig_t: float = math.inf
    next_token: int = 0  # the one pending event of the household carries this token
    event_t: float = math.inf  # when that event fires (inf: none pending)
    queued_for: str = ""
    ar: str = ""
    ar_token: int = 0
    ar_start: float = math.nan
    next_u: int = U_FREE
    closed: bool = False
    in_service: bool = False

    def fresh_uniform(self) -> float:
        """The next of the household's spare uniforms (cycled, decorrelated, if used up)."""
        i = self.next_u
        self.next_u += 1
        if i < N_UNIFORMS:
            return self.u[i]
        base = self.u[U_FREE + (i - U_FREE) % (N_UNIFORMS - U_FREE)]
        return (base + 0.6180339887498949 * (i - U_FREE + 1)) % 1.0


@dataclass
class ReplicationOutput:
    """Event records of one replication: months, episodes, AR programmes."""

    monthly: pd.DataFrame
    episodes: pd.DataFrame
    ar_programmes: pd.DataFrame
    events: pd.DataFrame | None = None


class IntakeDesk:
    """The first-visit queue: booked households wait (FIFO) for an intake social worker.

    Each first visit (with its investigation work) occupies one worker for a time drawn from
    ``first_visit_work_days``, longer for a worker in introduction. With Poisson arrivals and
    exponential work this is an M/M/c queue, which the tests check against Erlang C.
    """

    def __init__(self, model: CaseloadModel) -> None:
        self.model = model
        self.queue: deque[Household] = deque()
        self.idle: list[Post] = []
        self.busy: set[Post] = set()
        self.available = Level()
        self.busy_level = Level()

    def book(self, hh: Household) -> None:
        self.queue.append(hh)
        self._dispatch()

    def _dispatch(self) -> None:
        now = self.model.env.now
        while self.idle and self.queue:
            hh = self.queue.popleft()
            if hh.closed:  # dropped out while waiting (counted at a month's end)
                continue
            if hh.dropout_t <= now:  # gave up before its turn came
                self.model.drop_out(hh)
                continue
            post = self.idle.pop()
            self._start(hh, post)

    def sweep_drop_outs(self, before: float) -> None:
        """Record the queued households that gave up before ``before`` (a month's end), so
        that each drop-out is counted in its month. A drop-out schedules no event: it is found
        here or when the household's turn comes, whichever is first."""
        for hh in self.queue:
            if not hh.closed and hh.dropout_t < before:
                self.model.drop_out(hh)

    def _start(self, hh: Household, post: Post) -> None:
        model = self.model
        now = model.env.now
        hh.in_service = True
        model.record_first_visit(now - hh.booked_day)
        self.busy.add(post)
        self.busy_level.add(now, 1)
        work = hh.intake_days[D_VISIT_WORK]
        model.after(work / post.capacity, self._finish, hh, post)

    def _finish(self, hh: Household, post: Post) -> None:
        now = self.model.env.now
        self.busy.discard(post)
        self.busy_level.add(now, -1)
        if post.capacity > 0:
            self.idle.append(post)
        else:  # left during the visit: unavailable from now on
            self._set_available(post, False)
        self.model.first_visit_done(hh)
        self._dispatch()

    def _set_available(self, post: Post, available: bool) -> None:
        post.data["intake_available"] = available
        self.available.add(self.model.env.now, 1 if available else -1)

    def post_changed(self, post: Post) -> None:
        """A worker who leaves mid-visit finishes it first, so busy never exceeds available."""
        counted = post.data.get("intake_available", False)
        works = post.capacity > 0
        if works and not counted:
            self._set_available(post, True)
            if post not in self.busy:
                self.idle.append(post)
                self._dispatch()
        elif not works and counted and post not in self.busy:
            self._set_available(post, False)
            self.idle.remove(post)


class Routing:
    """Classes A/B/C with real capacity (seed 003).

    Social workers own A and B cases up to the caseload norm (an A case weighs ``class_a_weight``,
    a B case 1). Benefit administrators own C cases up to theirs. A case whose assessed need
    cannot be met is held lower (A as B, A or B as C) or waits without a handler, and sits in an
    upgrade queue; when capacity frees, queued cases are upgraded, highest need first.
    """

    def __init__(self, model: CaseloadModel) -> None:
        self.model = model
        self.social_workers: list[Post] = []
        self.administrators: list[Post] = []
        self.c_cases: dict[Household, None] = {}
        self.queues: dict[str, deque[Household]] = {"a": deque(), "b": deque(), "c": deque()}
        self.norm = 0.0
        self.a_weight = 1.0
        self.c_capacity = 0.0
        self.load_level = Level()
        self.capacity_level = Level()
        self.c_level = Level()
        self.c_capacity_level = Level()
        self.sw_level = Level()
        self.queued_count = 0
        self._room_heap: list[tuple[float, int, int, Post]] = []
        self._heap_seq = 0
        self._admin_share = 0.0
        self._admin_norm = 0.0

    # capacity -------------------------------------------------------------------------------
    def sw_capacity(self, post: Post) -> float:
        """The weighted caseload this social worker may hold now (cached in ``refresh``)."""
        return float(post.data["cap"])

    def configure(self, settings: Settings) -> None:
        org = settings.organisation
        self.norm = org.caseload_norm
        self.a_weight = org.class_a_weight
        self._admin_share = org.administrators_on_c_share
        self._admin_norm = org.administrator_caseload_norm
        self.refresh_capacity()

    def refresh_capacity(self) -> None:
        """Recount every worker's capacity (the norm or the settings changed)."""
        for post in self.social_workers:
            cap = self.norm * post.capacity
            if post.data["cap"] != cap:
                post.data["cap"] = cap
                self._touch(post)
        self._recount()
        for post in self.social_workers:
            self._trim(post)
        self._trim_c()
        self.rebalance()

    def _recount(self) -> None:
        """The capacity totals, summed afresh over all workers (the norm or settings changed)."""
        for post in self.social_workers:
            self._count(post)
        for post in self.administrators:
            self._count(post)

    def _count(self, post: Post) -> None:
        """Bring one worker's share of the capacity totals up to date (a staff change)."""
        now = self.model.env.now
        data = post.data
        listed = data.get("listed", False)
        if post.role == "ongoing_social_workers":
            cap = data["cap"] if listed else 0.0
            working = 1.0 if listed and post.capacity > 0 else 0.0
            self.capacity_level.add(now, cap - data.get("counted_cap", 0.0))
            self.sw_level.add(now, working - data.get("counted_working", 0.0))
            data["counted_cap"], data["counted_working"] = cap, working
        else:
            c_cap = post.capacity * self._admin_share * self._admin_norm if listed else 0.0
            self.c_capacity += c_cap - data.get("counted_c", 0.0)
            self.c_capacity_level.add(now, c_cap - data.get("counted_c", 0.0))
            data["counted_c"] = c_cap

    def _trim_c(self) -> None:
        while len(self.c_cases) > self.c_capacity + 1e-9:
            hh = next(reversed(self.c_cases))
            self._release(hh)
            self._hold(hh, "waiting", None)
            self._enqueue(hh, hh.need)

    def post_changed(self, post: Post) -> None:
        """One worker's capacity changed: only that worker's cases can be over the norm."""
        is_social_worker = post.role == "ongoing_social_workers"
        role_list = self.social_workers if is_social_worker else self.administrators
        post.data["cap"] = self.norm * post.capacity  # before any case is re-placed
        if post.state == ABOLISHED:
            post.data["member"] = False
            if post.data.pop("listed", False):
                role_list.remove(post)
            if is_social_worker:
                self._evict_all(post)
        elif not post.data.get("listed"):
            post.data["listed"] = True
            role_list.append(post)
            post.data.setdefault("load", 0.0)
            post.data.setdefault("cases", {})
            post.data["member"] = is_social_worker
        if post.data.get("member"):
            self._touch(post)
        if is_social_worker and post.capacity == 0:
            self._evict_all(post)
        self._count(post)
        if is_social_worker and post.data.get("member"):
            self._trim(post)
        self._trim_c()
        self.rebalance()

    def _evict_all(self, post: Post) -> None:
        """The worker's cases lose their handler; they wait or go to colleagues with room."""
        for hh in list(post.data.get("cases", {})):
            self._release(hh)
            self._place(hh)

    def _trim(self, post: Post) -> None:
        cases: dict[Household, None] = post.data.get("cases", {})
        while post.data.get("load", 0.0) > self.sw_capacity(post) + 1e-9 and cases:
            hh = next(reversed(cases))
            self._release(hh)
            self._place(hh)

    # holding --------------------------------------------------------------------------------
    def weight(self, cls: str) -> float:
        return self.a_weight if cls == "a" else 1.0

    @staticmethod
    def _room(post: Post) -> float:
        data = post.data
        return float(data["cap"] - data["load"])

    def _touch(self, post: Post) -> None:
        """Record a social worker's new room in the max-heap (old entries go stale)."""
        heap = self._room_heap
        self._heap_seq += 1
        heapq.heappush(heap, (-self._room(post), -post.index, self._heap_seq, post))
        if len(heap) > 4 * len(self.social_workers) + 64:
            # Mostly stale entries: rebuild from the live posts.
            heap[:] = [(-self._room(p), -p.index, i, p) for i, p in enumerate(self.social_workers)]
            heapq.heapify(heap)

    def _roomiest(self) -> Post | None:
        """The social worker with most room; ties go to the newest post (highest index)."""
        heap = self._room_heap
        while heap:
            neg_room, _, _, post = heap[0]
            if post.data.get("member") and -neg_room == self._room(post):
                return post
            heapq.heappop(heap)
        return None

    def _best_social_worker(self, weight: float, hh: Household | None = None) -> Post | None:
        """A social worker with room for ``weight`` (counting the room ``hh`` already takes
        with its own worker), the one with most room; None if nobody has room."""
        best = self._roomiest()
        best_room = self._room(best) if best is not None else -math.inf
        own = hh.worker if hh is not None else None
        if hh is not None and own is not None and own.data.get("member"):
            own_room = self._room(own) + hh.weight
            if own_room > best_room or (
                own_room == best_room and best is not None and own.index > best.index
            ):
                best, best_room = own, own_room
        return best if best is not None and best_room >= weight - 1e-9 else None

    def _hold(self, hh: Household, held: str, post: Post | None) -> None:
        now = self.model.env.now
        self.model.set_held(hh, held)
        if held in ("a", "b"):
            assert post is not None
            w = self.weight(held)
            hh.worker, hh.weight = post, w
            post.data["load"] += w
            post.data["cases"][hh] = None
            self._touch(post)
            self.load_level.add(now, w)
        elif held == "c":
            self.c_cases[hh] = None
            self.c_level.add(now, 1)

    def _release(self, hh: Household) -> None:
        now = self.model.env.now
        post = hh.worker
        if post is not None:
            post.data["load"] -= hh.weight
            post.data["cases"].pop(hh, None)
            self._touch(post)
            self.load_level.add(now, -hh.weight)
            hh.worker, hh.weight = None, 0.0
        if hh.held == "c":
            self.c_cases.pop(hh, None)
            self.c_level.add(now, -1)

    def _max_room(self) -> float:
        best = self._roomiest()
        return self._room(best) if best is not None else 0.0

    def _serve_social_worker_queue(self, need: str) -> None:
        queue = self.queues[need]
        weight = self.weight(need)
        kept: list[Household] = []
        while queue:
            hh = queue.popleft()
            if hh.closed or hh.queued_for != need:
                continue
            post = self._best_social_worker(weight, hh)
            if post is not None:
                self._set_queued(hh, "")
                self._release(hh)
                self._hold(hh, need, post)
                continue
            kept.append(hh)
            if hh.worker is None and need == "a":
                post = self._best_social_worker(1.0)
                if post is not None:
                    self._release(hh)
                    self._hold(hh, "b", post)  # still queued for A
            if self._max_room() < 1.0 - 1e-9:
                break
        queue.extendleft(reversed(kept))

    def _c_room(self) -> bool:
        """Room for one more C case within the administrators' norm."""
        return len(self.c_cases) + 1 <= self.c_capacity + 1e-9

    def _enqueue(self, hh: Household, need: str) -> None:
        self._set_queued(hh, need)
        self.queues[need].append(hh)

    def _set_queued(self, hh: Household, need: str) -> None:
        """Track how many cases are not held in their assessed class (``waiting_for_class``)."""
        self.queued_count += bool(need) - bool(hh.queued_for)
        hh.queued_for = need

    def _place(self, hh: Household) -> None:
        """Give a case the best holding that capacity allows now."""
        need = hh.need
        self._set_queued(hh, "")
        if need in ("a", "b"):
            post = self._best_social_worker(self.weight(need))
            if post is not None:
                self._hold(hh, need, post)
                return
            if need == "a":
                post = self._best_social_worker(1.0)
                if post is not None:
                    self._hold(hh, "b", post)
                    self._enqueue(hh, "a")
                    return
        if self._c_room():
            self._hold(hh, "c", None)
            if need != "c":
                self._enqueue(hh, need)
            return
        self._hold(hh, "waiting", None)
        self._enqueue(hh, need)

    def route(self, hh: Household) -> None:
        """A case arrives (or its assessed need changed): place it and let others move up."""
        self._release(hh)
        self._place(hh)
        self.rebalance()

    def leave(self, hh: Household) -> None:
        self._release(hh)
        self._set_queued(hh, "")
        self.rebalance()

    def rebalance(self) -> None:
        """Upgrade queued cases while capacity allows: A-need first, then B, then C.

        An A-need case that finds room for a B case but not an A case is held as B by a social
        worker (still queued for A) before any B-need case gets that room.
        """
        if self.queued_count == 0:
            return  # nothing waits for a class (entries left in the queues are stale)
        if self._max_room() >= 1.0 - 1e-9:
            self._serve_social_worker_queue("a")
            self._serve_social_worker_queue("b")
        queue = self.queues["c"]
        while queue and self._c_room():
            hh = queue.popleft()
            if hh.closed or hh.queued_for != "c":
                continue
            self._set_queued(hh, "")
            self._release(hh)
            self._hold(hh, "c", None)


class ARTeam:
    """Work-oriented rehabilitation (seed 004): limited places, a waiting list, a programme."""

    def __init__(self, model: CaseloadModel) -> None:
        self.model = model
        self.waiting: deque[Household] = deque()
        self.in_programme: dict[Household, None] = {}  # ordered: output rows reproducible
        self.places = 0
        self.places_per_consultant = 1.0
        self.consultants: list[Post] = []
        self.records: list[tuple[int, int, float, float, int]] = []
        self.capacity = 0  # places that can run now (recounted when places or staff change)

    def _recount(self) -> None:
        staffed = sum(p.capacity for p in self.consultants) * self.places_per_consultant
        self.capacity = min(self.places, int(staffed + 1e-9))

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
        hh.ar = "waiting"
        self.model.log_event(hh, "ar_referral", "")
        self.waiting.append(hh)
        self.fill()

    def fill(self) -> None:
        """Keep the programme within capacity, then start waiting cases in free places."""
        capacity = self.capacity
        while len(self.in_programme) > capacity:
            # Places were cut or a consultant left: the latest starters pause and go back to
            # the head of the waiting list (the team never runs more than its places).
            hh = max(self.in_programme, key=lambda h: (h.ar_start, h.id))
            del self.in_programme[hh]
            hh.ar = "waiting"
            hh.ar_token += 1
            self.waiting.appendleft(hh)
            self.model.log_event(hh, "ar_paused", "places cut")
            self.model.rerate(hh)
        while self.waiting and len(self.in_programme) < capacity:
            hh = self.waiting.popleft()
            if hh.closed or hh.ar != "waiting":
                continue
            self._start(hh)

    def _start(self, hh: Household) -> None:
        model = self.model
        hh.ar = "programme"
        hh.ar_start = model.env.now
        hh.ar_token += 1
        self.in_programme[hh] = None
        model.log_event(hh, "ar_start", "")
        model.rerate(hh)
        days = model.params.ar_programme.programme_days.draw(hh.u[U_AR_DAYS])
        model.after(days, self._end, hh, hh.ar_token)

    def _end(self, hh: Household, token: int) -> None:
        if hh.closed or hh.ar_token != token:
            return
        p = self.model.params.ar_programme
        success = hh.u[U_AR_SUCCESS] < p.success_share
        self._finish(hh, success)
        hh.ar = "done"  # unsuccessful: back to ordinary handling
        self.model.log_event(hh, "ar_end", "success" if success else "back to ordinary handling")
        self.model.rerate(hh)
        if success:
            cause = "work" if hh.u[U_AR_CAUSE] < p.success_work_share else "other_benefit"
            self.model.close(hh, cause, via_ar=True)
        self.fill()

    def _finish(self, hh: Household, success: bool) -> None:
        self.in_programme.pop(hh, None)
        self.records.append((hh.id, hh.episode, hh.ar_start, self.model.env.now, int(success)))

    def leave(self, hh: Household) -> None:
        """A participant's case closed by another cause: the place frees."""
        if hh.ar == "programme":
            self._finish(hh, False)
            self.fill()
        hh.ar = "done"


class CaseloadModel:
    """One replication of one scenario."""

    # the parts that point back to the model, dropped by :meth:`release` (a compiled class
    # allows only attributes named here to be deleted)
    __deletable__ = ("env", "intake", "routing", "ar_team", "roster")

    def __init__(
        self, resolved: ResolvedScenario, replication: int, *, events: bool = False
    ) -> None:
        self.resolved = resolved
        self.scenario = resolved.scenario
        self.params: ModelParameters = resolved.parameters
        self.env = CaseloadEnvironment()
        # ``after(delay, action, *args)`` runs ``action(*args)`` after ``delay`` days: one
        # queue entry, no event object or process (see :mod:`sim.engine`)
        self.after: Callable[..., None] = self.env.call_later
        self.streams = Streams(self.scenario.seed, replication)
        sc = self.scenario
        self.first_day = sc.sim_start_date
        self.report_from = float(sc.warmup_days)
        self.end = float(sc.warmup_days + sc.horizon_days)
        self.unemployment = daily_unemployment(sc.unemployment, self.first_day, int(self.end) + 1)
        ex = self.params.exits
        self.work_clock = WorkClock(
            self.unemployment,
            sc.unemployment.reference_percent,
            ex.unemployment_semi_elasticity_work,
        )
        # band boundaries in days on assistance
        self._band_bounds = [m * DAYS_PER_MONTH for m in ex.duration_bands_months]
        self._prepare_rates()
        self.settings = resolved.timeline[0]
        self.intake = IntakeDesk(self)
        self.routing = Routing(self)
        self.ar_team = ARTeam(self)
        self.roster = StaffRoster(self.env, self.streams, self._post_changed)
        self.next_id = 0
        self.open_households: dict[Household, None] = {}
        self._waking: Household | None = None
        self.entered = 0  # households that have had an episode opened (incl. the initial ones)
        self.closed_by_cause: dict[str, int] = {}
        self.log: list[tuple[float, int, int, str, str]] | None = [] if events else None
        self.contact_times = np.empty(0)
        self.contact_districts = np.empty(0, dtype=int)
        self.contact_barriers = np.empty(0, dtype=int)
        # booked contacts: times, districts, barriers, and rows of uniforms and of intake
        # durations, kept as arrays until each household arrives (a city run books 234 000)
        self._arrival_times: list[float] = []
        self._arrival_districts: list[int] = []
        self._arrival_barriers: list[int] = []
        self._arrival_uniforms = np.empty((0, N_UNIFORMS))
        self._arrival_days = np.empty((0, len(INTAKE_DURATIONS)))
        self._next_arrival = 0
        self.held_count = dict.fromkeys(HELD_STATES, 0)
        self.held_level = {k: Level() for k in HELD_STATES}
        self.open_by_barrier = dict.fromkeys(BARRIERS, 0)
        self.open_children = Level()
        self.open_without_children = Level()
        self.staff_cost_rate = Level()
        self.filled_posts = dict.fromkeys(self.roster_roles(), 0)
        self.flows: dict[str, float] = {}
        self.opened_by_barrier = dict.fromkeys(BARRIERS, 0)
        self.month_rows: list[dict[str, Any]] = []
        self.episodes: list[tuple[Any, ...]] = []
        self.sw_hours_accrued = 0.0
        self._reset_flows()

    def log_event(self, hh: Household, event: str, detail: str, at: float | None = None) -> None:
        """Append to the per-household event log (only when asked for with ``events=True``);
        ``at`` is the time of an event recorded after it happened (a drop-out)."""
        if self.log is not None:
            day = self.env.now if at is None else at
            self.log.append((day, hh.id, hh.episode, event, detail))

    def rerate(self, hh: Household) -> None:
        """Re-rate the exit clocks of a case whose circumstances changed (if it has clocks)."""
        if not hh.closed and hh.held in ("a", "b", "c", "waiting", "transfer"):
            self.reschedule_exit(hh)

    # staff ----------------------------------------------------------------------------------
    def _post_changed(self, post: Post) -> None:
        self._refresh_staff_cost(post)
        if post.role == "intake_social_workers":
            self.intake.post_changed(post)
        elif post.role in ("ongoing_social_workers", "benefit_administrators"):
            self.routing.post_changed(post)
        else:
            self.ar_team.post_changed(post)

    def _refresh_staff_cost(self, post: Post | None = None) -> None:
        """Staff cost per day: filled posts by role (counted as posts change) times the role's
        cost under the settings in force."""
        if post is not None:
            paid = post.filled
            if paid != post.data.get("paid", False):
                post.data["paid"] = paid
                self.filled_posts[post.role] += 1 if paid else -1
        staff = self.settings.staff
        rate = sum(
            n * getattr(staff, role).annual_cost_sek / DAYS_PER_YEAR
            for role, n in self.filled_posts.items()
        )
        self.staff_cost_rate.add(self.env.now, rate - self.staff_cost_rate.value)

    def apply_settings(self, settings: Settings, *, initial: bool) -> None:
        self.settings = settings
        self.routing.configure(settings)
        self.ar_team.configure(settings)
        for role in self.roster_roles():
            self.roster.set_role(role, getattr(settings.staff, role), initial=initial)
        self._refresh_staff_cost()

    @staticmethod
    def roster_roles() -> tuple[StaffRole, ...]:
        return (
            "intake_social_workers",
            "ongoing_social_workers",
            "benefit_administrators",
            "employment_consultants",
        )

    def timed_changes(self) -> Generator[simpy.Event, Any, None]:
        """Settings that change at stated dates (``[[changes]]``)."""
        for settings in self.resolved.timeline[1:]:
            day = (settings.since - self.first_day).days
            yield self.env.timeout(max(day - self.env.now, 0))
            self.apply_settings(settings, initial=False)

    # households -----------------------------------------------------------------------------
    def intake_durations(self, uniforms: np.ndarray) -> np.ndarray:
        """Intake durations of many households at once (rows of uniforms): one vectorised
        inverse-CDF call per duration rather than one scalar draw per household."""
        ip = self.params.intake
        columns = [getattr(ip, name).ppf(uniforms[:, k]) for name, k in INTAKE_DURATIONS]
        return np.column_stack(columns)

    def new_household(
        self,
        district: int,
        barrier: Barrier,
        u: list[float],
        hh_id: int | None = None,
        intake_days: list[float] | None = None,
    ) -> Household:
        c = self.params.contacts
        if intake_days is None:
            ip = self.params.intake
            intake_days = [getattr(ip, name).draw(u[k]) for name, k in INTAKE_DURATIONS]
        if hh_id is None:
            hh_id = self.next_id
            self.next_id += 1
        return Household(
            id=hh_id,
            episode=1,
            district=district,
            barrier=barrier,
            young=u[U_YOUNG] < c.young_share,
            children=u[U_CHILDREN] < c.children_share,
            u=u,
            intake_days=intake_days,
        )

    def set_held(self, hh: Household, held: str, until: float = -math.inf) -> None:
        """Change the class a case is held in; its exit clocks are re-rated (``until``: the
        time by which the case will be re-rated anyway, see :meth:`_rate_exit`)."""
        now = self.env.now
        count, level = self.held_count, self.held_level
        old = hh.held
        if old:
            count[old] -= 1
            level[old].add(now, -1)
        hh.held = held
        if self.log is not None:
            self.log_event(hh, "held", held)
        count[held] += 1
        level[held].add(now, 1)
        if held != "intake":
            self._rate_exit(hh, until)
        self._plan_follow_up(hh)
        self._schedule_next(hh)

    # contacts and intake ----------------------------------------------------------------------
    def generate_contacts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All contacts of the run by district and barrier, at rates moved by unemployment.

        Drawn up front from the contacts stream, so they do not depend on anything staff do.
        """
        c = self.params.contacts
        sc = self.scenario
        rng = self.streams.get("contacts")
        days = int(self.end)
        org = self.settings.organisation
        district_share = np.array([d.contact_share for d in org.districts], dtype=float)
        district_share /= district_share.sum()
        per_day = c.per_year * org.contacts_scale / DAYS_PER_YEAR
        unemployment = self.unemployment[:days]
        times_list, district_list, barrier_list = [], [], []
        for b_index, barrier in enumerate(BARRIERS):
            mult = contact_multiplier(
                unemployment, sc.unemployment.reference_percent, c.unemployment_elasticity[barrier]
            )
            rate = per_day * c.barrier_shares[barrier] * mult
            for d_index, share in enumerate(district_share):
                counts = rng.poisson(rate * share)
                day_of = np.repeat(np.arange(days), counts)
                times_list.append(day_of + rng.random(day_of.size))
                district_list.append(np.full(day_of.size, d_index))
                barrier_list.append(np.full(day_of.size, b_index))
        times = np.concatenate(times_list)
        order = np.argsort(times, kind="stable")
        times = times[order]
        districts = np.concatenate(district_list)[order]
        barriers = np.concatenate(barrier_list)[order]
        return times, districts, barriers

    def contact_arrivals(self) -> None:
        """Contacts by district and barrier; screening books some as new cases (seed 004).

        Contacts not booked change no state: they are counted per month, not simulated. Each
        booked contact is one event whose handler books the next, a chain rather than a process.
        """
        rng = self.streams.get("screening")
        booked = np.flatnonzero(
            rng.random(self.contact_times.size) < self.params.intake.booked_share
        )
        uniforms = self.streams.get("households").random((booked.size, N_UNIFORMS))
        self._arrival_times = self.contact_times[booked].tolist()
        self._arrival_districts = self.contact_districts[booked].tolist()
        self._arrival_barriers = self.contact_barriers[booked].tolist()
        self._arrival_uniforms = uniforms
        self._arrival_days = self.intake_durations(uniforms)
        self._next_arrival = 0
        if self._arrival_times:
            self.after(self._arrival_times[0] - self.env.now, self._arrive)

    def _arrive(self) -> None:
        """The next booked contact arrives; the one after it is scheduled."""
        i = self._next_arrival
        self._next_arrival = i + 1
        hh = self.new_household(
            self._arrival_districts[i],
            BARRIERS[self._arrival_barriers[i]],
            self._arrival_uniforms[i].tolist(),
            intake_days=self._arrival_days[i].tolist(),
        )
        self.book_first_visit(hh)
        if i + 1 < len(self._arrival_times):
            self.after(self._arrival_times[i + 1] - self.env.now, self._arrive)

    def book_first_visit(self, hh: Household) -> None:
        """Screening booked the household: it waits for a first visit, or drops out first."""
        ip = self.params.intake
        hh.booked_day = self.env.now
        self.flows["booked"] += 1
        self.log_event(hh, "booked", hh.barrier)
        if hh.u[U_DROPOUT] < ip.dropout_share:
            hh.dropout_t = self.env.now + hh.intake_days[D_DROPOUT]
        self.intake.book(hh)

    def drop_out(self, hh: Household) -> None:
        """The application is never completed (seed 004: booked 884, opened 539): the
        household gave up at ``dropout_t`` while waiting for its first visit."""
        self._end_application(hh, "dropped_out", "before first visit", at=hh.dropout_t)

    def _end_application(
        self, hh: Household, outcome: str, detail: str, at: float | None = None
    ) -> None:
        """The application ends without a case (dropped out or rejected)."""
        hh.closed = True
        self.flows[outcome] += 1
        self.log_event(hh, outcome, detail, at)

    def record_first_visit(self, wait: float) -> None:
        self.flows["first_visits"] += 1
        self.flows["first_visit_wait_sum"] += wait

    def first_visit_done(self, hh: Household) -> None:
        ip = self.params.intake
        if hh.u[U_DROPOUT] < ip.dropout_share:
            # visited but never completed the application
            self._end_application(hh, "dropped_out", "after first visit")
            return
        if self.log is not None:
            self.log_event(hh, "first_visit", f"waited {self.env.now - hh.booked_day:.1f} days")
        self.after(hh.intake_days[D_INVESTIGATION], self.decide, hh)

    def decide(self, hh: Household) -> None:
        """The decision: rejected, a short need kept at intake, or a long need going on."""
        ip = self.params.intake
        if hh.u[U_REJECT] < ip.rejected_share:
            self._end_application(hh, "rejected", "")
            return
        self.open_case(hh)
        self.log_event(hh, "granted", "")
        if hh.u[U_SHORT] < ip.short_need_share[hh.barrier]:
            self.set_held(hh, "intake")
            days = hh.intake_days[D_SHORT_NEED]
            self.after(days, self.close_short_need, hh)
            return
        if self.settings.organisation.form == "split":
            days = hh.intake_days[D_TRANSFER]
            self.set_held(hh, "transfer", until=self.env.now + days)  # re-rated at hand-over
            self.after(days, self.transfer, hh)
        else:
            self.assess_need(hh)

    def open_case(self, hh: Household, elapsed_days: float = 0.0, *, initial: bool = False) -> None:
        """The episode opens (granted). ``initial`` cases were open before day 0."""
        now = self.env.now
        self.open_households[hh] = None
        hh.granted_day = now - elapsed_days
        hh.clock_t = now
        hh.clock_g = self.work_clock.at(now)
        hh.clock_left = [-math.log1p(-hh.u[U_EXIT + k]) for k in range(len(ONGOING_EXIT_CAUSES))]
        self.open_by_barrier[hh.barrier] += 1
        (self.open_children if hh.children else self.open_without_children).add(now, 1)
        if not initial:
            self.flows["cases_opened"] += 1
            self.opened_by_barrier[hh.barrier] += 1
        self.entered += 1
        ap = self.params.ar_programme
        if hh.barrier in ap.eligible_barriers:
            hh.elig_t = now + max(ap.min_months_on_assistance * DAYS_PER_MONTH - elapsed_days, 0.0)
        # no event yet: the caller places the case (set_held), which schedules its clocks

    def close_short_need(self, hh: Household) -> None:
        if hh.closed:
            return
        ip = self.params.intake
        if hh.u[U_ONE_TIME] < ip.one_time_share:
            self.close(hh, "one_time")
            return
        # the cause in proportion to the barrier's ongoing exit hazards
        k = bisect.bisect_right(self._short_cause_cumulative[hh.barrier], hh.u[U_SHORT_CAUSE])
        self.close(hh, ONGOING_EXIT_CAUSES[min(k, len(ONGOING_EXIT_CAUSES) - 1)])

    def transfer(self, hh: Household) -> None:
        """Hand-over from intake to the income-support unit (split organisation only)."""
        if hh.closed:
            return
        self.flows["transferred"] += 1
        self.sw_hours_accrued += self.params.intake.second_assessment_hours
        self.assess_need(hh)

    def assess_need(self, hh: Household) -> None:
        shares = self.params.routing.need_class_shares[hh.barrier]
        u = hh.u[U_NEED]
        hh.need = "a" if u < shares.a else ("b" if u < shares.a + shares.b else "c")
        self.log_event(hh, "need", hh.need)
        if hh.barrier == "unemployment":
            # Every adult with unemployment as barrier is referred to Jobbtorg (seed 003); the
            # effect is the work-exit multiplier ``jobcentre_multiplier_work``.
            self.flows["jobcentre_referrals"] += 1
            self.log_event(hh, "jobcentre_referral", "")
        self.routing.route(hh)

    # follow-ups -----------------------------------------------------------------------------
    def _plan_follow_up(self, hh: Household) -> None:
        """The follow-up at which the plan moves the case: one clock per class stay.

        Follow-ups that change nothing are not simulated; their staff time is accounted from
        the time cases spend in each class.
        """
        hh.follow_t = math.inf  # any pending change belonged to the old holding
        held = hh.held
        if held != hh.need or held not in self._follow_share:
            return
        share = self._follow_share[held]
        if share <= 0:
            return
        interval = self._follow_interval[held]
        u = hh.fresh_uniform()
        n = 1 if share >= 1 else math.ceil(math.log1p(-u) / math.log1p(-share))
        hh.follow_t = self.env.now + n * interval

    def follow_up_change(self, hh: Household) -> None:
        """A follow-up moves the case: progress (A->B, B->C) or deviation (C->B)."""
        hh.need = {"a": "b", "b": "c", "c": "b"}[hh.held]
        self.log_event(hh, "need", hh.need)
        self.routing.route(hh)

    # exits ----------------------------------------------------------------------------------
    def _prepare_rates(self) -> None:
        """Per-day base hazards by barrier and the multipliers, looked up once per run."""
        ex = self.params.exits
        self._base_rates = {
            b: [ex.monthly_hazard[c][b] / DAYS_PER_MONTH for c in ONGOING_EXIT_CAUSES]
            for b in BARRIERS
        }
        cm = ex.class_multiplier_work
        w = ex.waiting_multiplier_work
        self._intensity = {"a": cm.a, "b": cm.b, "c": cm.c, "waiting": w, "transfer": w}
        self._duration_multiplier = list(ex.duration_multiplier)
        self._max_duration_multiplier = max(self._duration_multiplier)
        self._programme_multiplier = self.params.ar_programme.in_programme_exit_multiplier
        self._young_multiplier = ex.young_multiplier
        self._jobcentre_multiplier = ex.jobcentre_multiplier_work
        fu = self.params.follow_up
        self._follow_share = {
            "a": fu.progress_share.a,
            "b": fu.progress_share.b,
            "c": fu.deviation_share,
        }
        self._follow_interval = {k: getattr(fu.interval_days, k) for k in ("a", "b", "c")}
        hazards = ex.monthly_hazard
        self._short_cause_cumulative: dict[Barrier, list[float]] = {}
        for b in BARRIERS:
            weights = np.array([hazards[c][b] for c in ONGOING_EXIT_CAUSES])
            self._short_cause_cumulative[b] = (np.cumsum(weights) / weights.sum()).tolist()

    def _exposure(
        self, granted: float, t0: float, g0: float, t1: float, g1: float
    ) -> tuple[float, float]:
        """Exposure from ``t0`` to ``t1`` weighted by the duration multiplier of each band:
        in days (for the other causes) and in work-clock units (for work). ``g0``, ``g1``
        are the work clock at ``t0`` and ``t1``."""
        bounds, mult, clock = self._band_bounds, self._duration_multiplier, self.work_clock
        j = bisect.bisect_right(bounds, t0 - granted)
        days = work = 0.0
        s, gs = t0, g0
        while j < len(bounds):
            e = granted + bounds[j]
            if e >= t1:
                break
            ge = clock.at(e)
            m = mult[j]
            days += m * (e - s)
            work += m * (ge - gs)
            s, gs = e, ge
            j += 1
        m = mult[j]
        return days + m * (t1 - s), work + m * (g1 - gs)

    def _rates(self, hh: Household) -> list[float]:
        """Hazards by cause (work, studies, other benefit, moved, unknown) in the state the
        household is in, per unit of band-weighted exposure (the duration multiplier of the
        band is applied by :meth:`_exposure`, so passing a band changes no rate)."""
        base = self._base_rates[hh.barrier]
        d = self._programme_multiplier if hh.ar == "programme" else 1.0
        i = d * self._intensity[hh.held] * (self._young_multiplier if hh.young else 1.0)
        jobcentre = self._jobcentre_multiplier if hh.barrier == "unemployment" else 1.0
        return [base[0] * i * jobcentre, base[1] * i, base[2] * d, base[3] * d, base[4] * d]

    def reschedule_exit(self, hh: Household) -> None:
        """Re-rate the household's exit clocks and reschedule its pending event."""
        self._rate_exit(hh)
        self._schedule_next(hh)

    def _rate_exit(self, hh: Household, until: float = -math.inf) -> None:
        """Re-rate the exit clocks: when, and by which cause, the household would leave.

        The clocks first run down by the exposure since the last change at the old rates.
        Duration dependence is integrated across the bands ahead, so a household crossing a
        band needs no event of its own; unemployment enters through the work clock.

        ``until``: the case will be re-rated by then (a hand-over is due). If no clock can run
        out before it even at the highest duration multiplier, the exit time is not worked
        out now (``exit_t`` is inf until the re-rating): a decided case costs one rating and
        no exit event before its hand-over.
        """
        now = self.env.now
        clock = self.work_clock
        g = clock.at(now)
        left = hh.clock_left
        granted = hh.granted_day
        if now > hh.clock_t:
            days, work = self._exposure(granted, hh.clock_t, hh.clock_g, now, g)
            old = hh.rates
            left[0] -= old[0] * work
            left[1] -= old[1] * days
            left[2] -= old[2] * days
            left[3] -= old[3] * days
            left[4] -= old[4] * days
        hh.clock_t, hh.clock_g = now, g
        hh.rates = rates = self._rates(hh)
        if until > now:
            # an upper bound on each clock's exposure before ``until`` (with a margin for
            # rounding): if none reaches its clock, nothing is due before the re-rating
            top, span = self._max_duration_multiplier * (1 + 1e-9), until - now
            if rates[0] * top * (clock.at(until) - g) < left[0] and all(
                rates[k] * top * span < left[k] for k in range(1, 5)
            ):
                hh.exit_t, hh.exit_k = math.inf, -1
                return
        first_band = bisect.bisect_right(self._band_bounds, now - granted)
        # The other causes: the least band-weighted exposure any of them needs, in days.
        need, need_k = math.inf, -1
        for k in range(1, 5):
            rate = rates[k]
            if rate > 0:
                x = max(left[k], 0.0) / rate
                if x < need:
                    need, need_k = x, k
        best_t, best_k = math.inf, -1
        if need_k >= 0:
            best_t = self._reached(granted, first_band, now, now, need, False, math.inf)
            best_k = need_k if best_t < math.inf else -1
        # Work, on the unemployment-adjusted clock; it wins ties (it was rated first).
        if rates[0] > 0:
            t = self._reached(granted, first_band, now, g, left[0] / rates[0], True, best_t)
            if t <= best_t and t < math.inf:
                best_t, best_k = t, 0
        hh.exit_t, hh.exit_k = best_t, best_k

    def _reached(
        self, granted: float, band: int, s: float, x: float, need: float, work: bool, limit: float
    ) -> float:
        """When band-weighted exposure counted from time ``s`` (in band ``band``) reaches
        ``need``; inf if not by ``limit``. ``x`` is the clock exposure is counted on at ``s``:
        the work clock for ``work``, otherwise days (then ``x == s``)."""
        bounds, mult, clock = self._band_bounds, self._duration_multiplier, self.work_clock
        need = max(need, 0.0)
        while s <= limit:
            m = mult[band]
            if band == len(bounds):  # the last band runs for ever
                if m <= 0:
                    return math.inf
                end = x + need / m
                return clock.inverse(end) if work else end
            e = granted + bounds[band]
            xe = clock.at(e) if work else e
            span = m * (xe - x)
            if m > 0 and need <= span:
                end = x + need / m
                return clock.inverse(end) if work else end
            need -= span
            s, x = e, xe
            band += 1
        return math.inf

    def _schedule_next(self, hh: Household) -> None:
        """Make sure the household's one pending event fires no later than its earliest clock.

        If the pending event fires earlier than needed (a clock moved later), it is kept: it
        wakes the household, finds nothing due and schedules the next. So a re-rated case costs
        a new event only when its earliest clock moved earlier; the old event then goes stale
        (its token no longer matches). While the household itself is being woken, scheduling
        waits until its handler is done.
        """
        if hh is self._waking:
            return
        t = min(hh.exit_t, hh.follow_t, hh.elig_t)
        if t >= hh.event_t or t >= self.end + 1:
            return
        hh.next_token += 1
        hh.event_t = t
        self.after(max(t - self.env.now, 0.0), self._wake, hh, hh.next_token)

    def _wake(self, hh: Household, token: int) -> None:
        """The household's earliest clock ran out: AR eligibility, a follow-up change or an
        exit (in that order when they coincide)."""
        if hh.closed or token != hh.next_token:
            return
        due, hh.event_t = hh.event_t, math.inf
        t = min(hh.exit_t, hh.follow_t, hh.elig_t)
        if t > due:  # woken early: the clock that was due moved later
            self._schedule_next(hh)
            return
        self._waking = hh
        try:
            if hh.elig_t == t:
                hh.elig_t = math.inf
                self.ar_eligibility(hh)
            elif hh.follow_t == t:
                hh.follow_t = math.inf
                self.follow_up_change(hh)
            else:
                hh.exit_t = math.inf
                self.close(hh, ONGOING_EXIT_CAUSES[hh.exit_k])
        finally:
            self._waking = None
        if not hh.closed:
            self._schedule_next(hh)

    def ar_eligibility(self, hh: Household) -> None:
        """Long enough on assistance with an eligible barrier: referred to the AR team or not."""
        if hh.ar:
            return
        if hh.u[U_AR_REFER] < self.params.ar_programme.referral_share:
            self.ar_team.refer(hh)

    def close(self, hh: Household, cause: str, *, via_ar: bool = False) -> None:
        """The case closes (avslut) with ``cause``; the household may come back later."""
        now = self.env.now
        hh.closed = True
        hh.next_token += 1  # the pending event, if any, goes stale
        if hh.ar:
            self.ar_team.leave(hh)
        if hh.held in ("a", "b", "c", "waiting"):
            self.routing.leave(hh)
        if hh.held:
            self.held_count[hh.held] -= 1
            self.held_level[hh.held].add(now, -1)
        self.open_households.pop(hh, None)
        self.open_by_barrier[hh.barrier] -= 1
        (self.open_children if hh.children else self.open_without_children).add(now, -1)
        self.flows["cases_closed"] += 1
        self.flows[f"exits_{cause}"] += 1
        self.closed_by_cause[cause] = self.closed_by_cause.get(cause, 0) + 1
        self.log_event(hh, "exit", cause)
        self.episodes.append(self._episode_row(hh, now, cause, via_ar))
        rp = self.params.returns
        key = "ar_team" if via_ar else cause
        if hh.u[U_RETURN] < getattr(rp.probability, key):
            delay = getattr(rp.delay_days, key).draw(hh.u[U_RETURN_DAYS])
            if now + delay < self.end:
                self.after(delay, self.return_contact, hh)

    def _episode_row(
        self, hh: Household, close_day: float, cause: str, via_ar: bool
    ) -> tuple[Any, ...]:
        return (
            hh.id,
            hh.episode,
            hh.barrier,
            hh.district,
            hh.young,
            hh.children,
            hh.granted_day,
            close_day,
            cause,
            via_ar,
            hh.need,
        )

    def return_contact(self, old: Household) -> None:
        """A closed household applies again: a new episode with its own draws."""
        # keyed by household and episode: the same draws whatever order returns come in
        u = keyed_uniforms(
            self.streams.seed,
            self.streams.replication,
            "returns",
            (old.id, old.episode),
            N_UNIFORMS,
        )
        hh = self.new_household(old.district, old.barrier, u, hh_id=old.id)
        hh.episode = old.episode + 1
        hh.young, hh.children = old.young, old.children
        self.flows["contacts"] += 1
        self.flows["returns"] += 1
        self.log_event(hh, "returned", "")
        self.book_first_visit(hh)

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
        uniforms = rng.random((n, N_UNIFORMS))
        elapsed_days = init.duration_months.ppf(rng.random(n)) * DAYS_PER_MONTH
        for i, cls in enumerate(classes):
            barrier = BARRIERS[int(barrier_index[i])]
            hh = self.new_household(  # open already: no intake durations needed
                int(district_index[i]), barrier, uniforms[i].tolist(), intake_days=[]
            )
            self.open_case(hh, elapsed_days=float(elapsed_days[i]), initial=True)
            hh.need = cls
            self.routing.route(hh)

    # months ---------------------------------------------------------------------------------
    def _reset_flows(self) -> None:
        keys = [
            "contacts",
            "returns",
            "booked",
            "dropped_out",
            "first_visits",
            "first_visit_wait_sum",
            "rejected",
            "cases_opened",
            "cases_closed",
            "transferred",
            "jobcentre_referrals",
            *(f"exits_{c}" for c in (*ONGOING_EXIT_CAUSES, "one_time")),
        ]
        self.flows = dict.fromkeys(keys, 0.0)
        self.opened_by_barrier = dict.fromkeys(BARRIERS, 0)
        self.sw_hours_accrued = 0.0

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
        open_at_start = dict(self.open_by_barrier)
        contact_index = 0
        for boundary in self.month_boundaries():
            yield self.env.timeout(boundary - self.env.now)
            self.intake.sweep_drop_outs(boundary)
            n_contacts = int(np.searchsorted(self.contact_times, boundary, side="left"))
            self.flows["contacts"] += n_contacts - contact_index
            contact_index = n_contacts
            self.month_rows.append(self._month_row(start, boundary, open_at_start))
            self._reset_flows()
            open_at_start = dict(self.open_by_barrier)
            start = boundary

    def _month_row(
        self, start: float, end: float, open_at_start: dict[Barrier, int]
    ) -> dict[str, Any]:
        now = self.env.now
        days = end - start
        f = self.flows
        fu = self.params.follow_up
        row: dict[str, Any] = {
            "month": (self.first_day + timedelta(days=int(start))).strftime("%Y-%m"),
            "period": "warmup" if start < self.report_from else "run",
            "days": days,
        }
        per_barrier = {b: open_at_start[b] + self.opened_by_barrier[b] for b in BARRIERS}
        row["households"] = sum(per_barrier.values())
        for key in ("cases_opened", "cases_closed"):
            row[key] = int(f[key])
        for cause in ("work", "studies", "other_benefit", "moved", "one_time", "unknown"):
            row[f"exits_{cause}"] = int(f[f"exits_{cause}"])
        held_days = {k: lvl.take(now) for k, lvl in self.held_level.items()}
        for k in ("a", "b", "c"):
            row[f"open_class_{k}"] = self.held_count[k]
        row["waiting_for_class"] = self.routing.queued_count
        row["without_handler"] = self.held_count["waiting"]
        row["in_intake"] = self.held_count["intake"] + self.held_count["transfer"]
        visits = f["first_visits"]
        row["first_visits"] = int(visits)
        row["first_visit_wait_days"] = f["first_visit_wait_sum"] / visits if visits else math.nan
        for key in (
            "contacts",
            "returns",
            "booked",
            "dropped_out",
            "rejected",
            "transferred",
            "jobcentre_referrals",
        ):
            row[key] = int(f[key])
        sw_days = self.routing.sw_level.take(now)
        load_days = self.routing.load_level.take(now)
        cap_days = self.routing.capacity_level.take(now)
        ab_days = held_days["a"] + held_days["b"]
        row["caseload_per_social_worker"] = ab_days / sw_days if sw_days else math.nan
        row["social_worker_utilisation"] = load_days / cap_days if cap_days else math.nan
        c_days = self.routing.c_level.take(now)
        c_cap_days = self.routing.c_capacity_level.take(now)
        row["administrator_utilisation"] = c_days / c_cap_days if c_cap_days else math.nan
        avail = self.intake.available.take(now)
        busy = self.intake.busy_level.take(now)
        row["intake_utilisation"] = busy / avail if avail else math.nan
        sw_hours = self.sw_hours_accrued + sum(
            held_days[k]
            / getattr(fu.interval_days, k)
            * getattr(fu.social_worker_hours_per_follow_up, k)
            for k in ("a", "b", "c")
        )
        row["social_worker_hours"] = sw_hours
        row["administrator_hours"] = sum(
            held_days[k] / DAYS_PER_MONTH * getattr(fu.administrator_hours_per_case_month, k)
            for k in ("a", "b", "c")
        )
        row["ar_team_in_programme"] = len(self.ar_team.in_programme)
        row["ar_team_waiting"] = sum(
            1 for hh in self.ar_team.waiting if hh.ar == "waiting" and not hh.closed
        )
        row["ar_team_capacity"] = self.ar_team.capacity
        for role in self.roster_roles():
            row[f"staff_in_post_{role}"] = sum(
                1 for p in self.roster.active(role) if p.capacity > 0
            )
        row["staff_in_post_social_workers"] = (
            row["staff_in_post_intake_social_workers"] + row["staff_in_post_ongoing_social_workers"]
        )
        costs = self.settings.costs
        row["assistance_paid_sek"] = (
            self.open_children.take(now) * costs.assistance_sek_per_month_with_children
            + self.open_without_children.take(now) * costs.assistance_sek_per_month_without_children
        ) / DAYS_PER_MONTH
        row["staff_cost_sek"] = self.staff_cost_rate.take(now)
        row["unemployment_percent"] = float(np.mean(self.unemployment[int(start) : int(end) + 1]))
        for b in BARRIERS:
            row[f"households_{b}"] = per_barrier[b]
        return row

    # run ------------------------------------------------------------------------------------
    def run(self) -> ReplicationOutput:
        """Simulate the whole horizon and return the event records."""
        with rare_garbage_collection():
            recorder = self.start()
            self.env.run_until_processed(recorder)
        return self._output()

    def release(self) -> None:
        """Free the finished run at once, by reference counting, and leave the model unusable.

        A model is full of reference cycles (its parts point back to it, queued events to their
        processes, posts to their processes). Left to the cyclic garbage collector, the runs of
        a worker pile up until a collection that scans them all: about a tenth of the time of
        many replications in one process. Call this once the outputs have been taken.
        """
        self.env.discard_pending()
        for posts in self.roster.posts.values():
            for post in posts:
                process = post.process
                if process is not None and process.is_alive and process.target.callbacks:
                    process.target.callbacks.clear()  # an open-ended wait: never queued
                post.process = None
                post.data.clear()
        del self.env, self.intake, self.routing, self.ar_team, self.roster

    def start(self) -> simpy.Process:
        """Set up staff, the initial caseload and the processes; return the monthly recorder
        (the run ends when it does). Tests step ``env`` from here to check invariants."""
        self.apply_settings(self.settings, initial=True)
        self.initial_caseload()
        self.contact_times, self.contact_districts, self.contact_barriers = self.generate_contacts()
        self.contact_arrivals()
        self.env.process(self.timed_changes())
        return self.env.process(self.monthly_recorder())

    def _output(self) -> ReplicationOutput:
        open_rows = [self._episode_row(hh, math.nan, "", False) for hh in self.open_households]
        columns = [
            "household",
            "episode",
            "barrier",
            "district",
            "young",
            "children",
            "start_day",
            "end_day",
            "cause",
            "via_ar_team",
            "need_class",
        ]
        episodes = pd.DataFrame(self.episodes + open_rows, columns=columns)
        ar = pd.DataFrame(
            self.ar_team.records,
            columns=["household", "episode", "start_day", "end_day", "success"],
        )
        in_prog = [
            (hh.id, hh.episode, hh.ar_start, math.nan, 0) for hh in self.ar_team.in_programme
        ]
        if in_prog:
            ar = pd.concat([ar, pd.DataFrame(in_prog, columns=ar.columns)], ignore_index=True)
        events = None
        if self.log is not None:
            events = pd.DataFrame(
                self.log, columns=["day", "household", "episode", "event", "detail"]
            )
            # drop-outs are logged when found, with their own day: put them in time order
            events = events.sort_values("day", kind="stable", ignore_index=True)
        return ReplicationOutput(pd.DataFrame(self.month_rows), episodes, ar, events)
