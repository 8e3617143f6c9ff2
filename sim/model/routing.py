"""Allocation of ongoing cases to handlers, and the class each is worked in (seed 003).

A unit never leaves a case without a handler (seed 003 ~514-516). A and B cases go to the
ongoing social worker with most room under the caseload norm: the norm is the target the
allocation aims for, not a cap, so when everyone is above it the least loaded takes the case.
C cases go to the benefit administrators who own C cases, as a pool. When a role has no one in
post, the other role holds its cases (A and B cases as C with an administrator, to go back to a
social worker with the hand-back rule; C cases with a social worker) until someone is in post
again; only with nobody of either role do cases wait without a handler.

Which A-need cases are worked as A is decided by time, worker by worker: a social worker works
an A-need case as A while its hours cover its events and its A cases and still give its B and C
cases ``minimum_b_contact_share`` of their contact (:meth:`Workload.a_fits`); otherwise the
case is worked as B and upgraded, oldest first, when time frees. When a worker's hours fall,
its newest A cases are worked as B. A change of handler is a hand-over (hours for the new
handler, and lost continuity: :mod:`sim.model.exits`).

Routing knows households, the posts of the two ongoing roles and the clock; it tells the
household's path of every change of holding through one callback, ``hold``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush
from typing import Final, NamedTuple, final

from ..engine import CaseloadEnvironment, runs_compiled
from ..inputs.scenario import Settings
from .household import HeldState, Household, Need
from .level import Level
from .staff import ABOLISHED, Post
from .workload import Workload

# Final aliases: compiled, each is a C global; an imported name is a dictionary lookup per use.
_push: Final = heappush
_pop: Final = heappop

HoldCallback = Callable[[Household, HeldState], None]
HandoverCallback = Callable[[Household], None]


@dataclass(eq=False, slots=True)
class Caseworker:
    """A handler as routing sees it: an ongoing social worker, or the administrators owning C
    cases as one pool (``post`` None). Its cases, its room under the norm and its time."""

    post: Post | None
    social_worker: bool
    room_cap: float = 0.0  # weighted cases the norm aims for now: the norm times its capacity
    load: float = 0.0  # weighted cases it holds
    cases: dict[Household, None] = field(default_factory=dict)  # ordered: the newest last
    a_cases: dict[Household, None] = field(default_factory=dict)  # held as A, newest last
    a_queue: deque[Household] = field(default_factory=deque)  # A-need held as B, oldest first
    cases_b: int = 0
    cases_c: int = 0
    listed: bool = False  # in its role's list (not abolished)
    holds_cases: bool = False  # may be given cases (in post, or the pool with C hours)
    counted_cap: float = 0.0  # its share of the capacity totals, as last counted
    counted_working: float = 0.0
    hours_available: float = 0.0  # case hours per day it has now (sim.model.workload)
    assist_hours: float = 0.0  # hours per day assisting administrators give its B cases
    event_hours: float = 0.0  # hours of events (hand-overs, plans) so far this month
    event_rate: float = 0.0  # last month's event hours per day, needed through this month
    share_a: float = 1.0  # the share of planned contact its cases of each class get now
    share_b: float = 1.0
    share_c: float = 1.0
    # its part of the workload totals, as last counted (sim.model.workload.Workload.recount)
    counted_hours: float = 0.0
    counted_needed: float = 0.0
    counted_delivered: float = 0.0
    counted_need_a: float = 0.0
    counted_need_b: float = 0.0
    counted_need_c: float = 0.0
    counted_done_a: float = 0.0
    counted_done_b: float = 0.0
    counted_done_c: float = 0.0
    counted_follow_ups_a: float = 0.0
    counted_follow_ups_b: float = 0.0
    counted_follow_ups_c: float = 0.0
    counted_assist_given: float = 0.0
    counted_mentoring: float = 0.0  # mentoring it draws (a new hire), per day
    counted_giver: bool = False  # gives mentoring (working at full capacity)


@final
class RoomEntry:
    """A social worker's room in the max-heap (:meth:`Routing._roomiest`): most room first
    (``neg_room`` is minus the room), then the newest post, then the earliest entry. Compared
    natively when compiled; as Python, :class:`_RoomTuple` takes its place (a tuple compares in
    C, where an ``__lt__`` written in Python would be called at every comparison)."""

    def __init__(self, neg_room: float, neg_index: int, seq: int, worker: Caseworker) -> None:
        self.neg_room = neg_room
        self.neg_index = neg_index
        self.seq = seq
        self.worker = worker

    def __lt__(self, other: RoomEntry) -> bool:
        if self.neg_room != other.neg_room:
            return self.neg_room < other.neg_room
        if self.neg_index != other.neg_index:
            return self.neg_index < other.neg_index
        return self.seq < other.seq


class _RoomTuple(NamedTuple):
    """:class:`RoomEntry` as a tuple, for the Python build."""

    neg_room: float
    neg_index: int
    seq: int
    worker: Caseworker


if not runs_compiled(RoomEntry.__lt__):
    RoomEntry = _RoomTuple  # type: ignore[misc,assignment]  # the same fields, as a tuple


class Routing:
    """Handlers for every ongoing case, classes by time, hand-overs and the capacity totals."""

    def __init__(
        self,
        env: CaseloadEnvironment,
        hold: HoldCallback,
        handover: HandoverCallback,
        workload: Workload,
        *,
        work_plan_hours: float,
        handover_hours: float,
    ) -> None:
        self.clock = env.clock
        self.hold = hold
        self.handover = handover
        self.workload = workload
        self.work_plan_hours = work_plan_hours
        self.handover_hours = handover_hours
        self.workers: dict[Post, Caseworker] = {}
        self.social_workers: list[Caseworker] = []
        self.administrators: list[Post] = []
        self.pool = Caseworker(None, False)
        self.pool.listed = True
        # cases held by the other role, or by nobody, until their own role is in post
        self.with_administrators: deque[Household] = deque()  # A/B need, held as C
        self.with_social_workers: deque[Household] = deque()  # C need, held by a social worker
        self.without_handler: deque[Household] = deque()
        self.norm = 0.0
        self.a_weight = 1.0
        self.load_level = Level()  # weighted cases social workers hold
        self.capacity_level = Level()  # the norm times social workers' capacity
        self.sw_cases_level = Level()  # cases social workers hold
        self.c_level = Level()  # C cases the pool holds
        self.c_capacity_level = Level()
        self.sw_level = Level()  # social workers in post
        self.queued_count = 0
        self.opening = False  # placing the opening caseload: no hours, no hand-overs
        self.handovers = 0  # changes of handler so far this month
        self._room_heap: list[RoomEntry] = []
        self._heap_seq = 0
        self._admin_share = 0.0
        self._admin_norm = 0.0

    # settings and staff -----------------------------------------------------------------------
    def configure(self, settings: Settings) -> None:
        """The organisation's settings in force (the norms are targets: nothing moves)."""
        org = settings.organisation
        self.norm = org.caseload_norm
        self.a_weight = org.class_a_weight
        self._admin_share = org.administrators_on_c_share
        self._admin_norm = org.administrator_caseload_norm
        for worker in self.social_workers:
            worker.room_cap = self.norm * worker.post.capacity if worker.post else 0.0
            self._count(worker)
            self._touch(worker)
        self._administrators_changed()  # time is shared out once the staff are set too

    def post_changed(self, post: Post) -> None:
        """A post of an ongoing role changed (filled, left, on leave, in or out of
        introduction, abolished): its cases and its colleagues' time follow."""
        if post.role == "benefit_administrators":
            if post.state == ABOLISHED:
                if post in self.administrators:
                    self.administrators.remove(post)
            elif post not in self.administrators:
                self.administrators.append(post)
            self._administrators_changed()
            return
        worker = self.workers.get(post)
        if worker is None:
            worker = Caseworker(post, True)
            self.workers[post] = worker
        was_holding = worker.holds_cases
        worker.room_cap = self.norm * post.capacity
        if post.state == ABOLISHED:
            if worker.listed:
                worker.listed = False
                self.social_workers.remove(worker)
        elif not worker.listed:
            worker.listed = True
            self.social_workers.append(worker)
        worker.holds_cases = worker.listed and post.capacity > 0
        self._count(worker)
        self.workload.social_worker_changed(worker)
        if worker.holds_cases:
            self._touch(worker)
        else:
            self._evict_all(worker)
        self._settle(worker)
        if worker.holds_cases and not was_holding:
            self._serve_social_worker_queues()
            self._balance_to(worker)
        if not any(w.holds_cases for w in self.social_workers):
            self._settle(self.pool)

    def _administrators_changed(self) -> None:
        """The administrators' hours or the share owning C cases changed."""
        now = self.clock.now
        pool = self.pool
        c_cap = self._admin_norm * self._admin_share * sum(p.capacity for p in self.administrators)
        self.c_capacity_level.add(now, c_cap - pool.room_cap)
        pool.room_cap = c_cap
        self.workload.administrators_changed(now, pool, self.administrators, self._admin_share)
        was_holding = pool.holds_cases
        pool.holds_cases = pool.hours_available > 0
        if was_holding and not pool.holds_cases:
            self._evict_all(pool)
        self._settle(self.pool)
        if pool.holds_cases and not was_holding:
            self._serve_pool_queues()

    def _count(self, worker: Caseworker) -> None:
        """Bring one social worker's share of the capacity totals up to date."""
        now = self.clock.now
        cap = worker.room_cap if worker.listed else 0.0
        working = 1.0 if worker.holds_cases else 0.0
        if cap != worker.counted_cap:
            self.capacity_level.add(now, cap - worker.counted_cap)
            worker.counted_cap = cap
        if working != worker.counted_working:
            self.sw_level.add(now, working - worker.counted_working)
            worker.counted_working = working

    def share_out_time(self) -> None:
        """Share out mentoring and assistance afresh (a month's start, new settings) and let
        every handler's classes follow its time."""
        self.workload.share_out(self.social_workers)
        for w in [*self.social_workers, self.pool]:
            self._settle(w)

    def month_rollover(self, days: float) -> None:
        """A month ended: each handler's event hours of the month become what it needs per
        day through the next, time is shared out afresh, and hand-overs are counted anew."""
        for w in [*self.social_workers, self.pool]:
            w.event_rate = w.event_hours / days if days > 0 else 0.0
            w.event_hours = 0.0
        self.share_out_time()
        self.handovers = 0

    def add_event_hours(self, hours: float) -> None:
        """Hours every open case costs its handler at once (re-mapping at a reorganisation)."""
        for w in [*self.social_workers, self.pool]:
            w.event_hours += hours * len(w.cases)

    # the heap of social workers by room ---------------------------------------------------------
    @staticmethod
    def _room(worker: Caseworker) -> float:
        return worker.room_cap - worker.load

    def _touch(self, worker: Caseworker) -> None:
        """Record a social worker's new room in the max-heap (old entries go stale)."""
        heap = self._room_heap
        self._heap_seq += 1
        index = worker.post.index if worker.post is not None else -1
        _push(heap, RoomEntry(-self._room(worker), -index, self._heap_seq, worker))
        if len(heap) > 4 * len(self.social_workers) + 64:
            # Mostly stale entries: rebuild from the live posts.
            heap[:] = [
                RoomEntry(-self._room(w), -w.post.index if w.post else 1, i, w)
                for i, w in enumerate(self.social_workers)
            ]
            heapify(heap)

    def _roomiest(self) -> Caseworker | None:
        """The social worker with most room under the norm (possibly negative: all above it);
        ties go to the newest post (highest index). None if no social worker is in post."""
        heap = self._room_heap
        while heap:
            top = heap[0]
            worker = top.worker
            if worker.holds_cases and -top.neg_room == self._room(worker):
                return worker
            _pop(heap)
        return None

    # holding --------------------------------------------------------------------------------
    def weight(self, cls: str) -> float:
        return self.a_weight if cls == "a" else 1.0

    def _hold(self, hh: Household, held: HeldState, worker: Caseworker | None) -> None:
        """``worker`` takes the case (None: nobody), held in class ``held``. A case new to the
        ongoing unit costs a social worker ``work_plan_hours`` (not the opening caseload); a
        change of handler is a hand-over, costing the new handler ``handover_hours``."""
        now = self.clock.now
        if worker is not None:
            w = self.weight(held)
            hh.worker, hh.weight = worker, w
            worker.load += w
            worker.cases[hh] = None
            if held == "a":
                worker.a_cases[hh] = None
            elif held == "b":
                worker.cases_b += 1
            else:
                worker.cases_c += 1
            if worker.social_worker:
                self._touch(worker)
                self.load_level.add(now, w)
                self.sw_cases_level.add(now, 1)
            else:
                self.c_level.add(now, 1)
            previous = hh.handler
            hh.handler = worker
            if previous is not worker and not self.opening:
                if previous is None:  # new to the ongoing unit: its work plan is written
                    if worker.social_worker:
                        worker.event_hours += self.work_plan_hours
                else:  # the new handler takes over the plan
                    self.handovers += 1
                    worker.event_hours += self.handover_hours
                    self.handover(hh)
        self.hold(hh, held)

    def _release(self, hh: Household) -> None:
        """The case leaves its handler (it keeps ``handler``: the next one is a hand-over)."""
        worker = hh.worker
        if worker is None:
            return
        now = self.clock.now
        worker.load -= hh.weight
        worker.cases.pop(hh, None)
        if hh.held == "a":
            worker.a_cases.pop(hh, None)
        elif hh.held == "b":
            worker.cases_b -= 1
        else:
            worker.cases_c -= 1
        if worker.social_worker:
            self._touch(worker)
            self.load_level.add(now, -hh.weight)
            self.sw_cases_level.add(now, -1)
        else:
            self.c_level.add(now, -1)
        hh.worker, hh.weight = None, 0.0

    def _reclassify(self, hh: Household, worker: Caseworker, held: HeldState) -> None:
        """The same social worker works the case in another class."""
        now = self.clock.now
        old = hh.held
        if old == "a":
            worker.a_cases.pop(hh, None)
        elif old == "b":
            worker.cases_b -= 1
        else:
            worker.cases_c -= 1
        if held == "a":
            worker.a_cases[hh] = None
        elif held == "b":
            worker.cases_b += 1
        else:
            worker.cases_c += 1
        old_weight, new_weight = hh.weight, self.weight(held)
        if new_weight != old_weight:
            hh.weight = new_weight
            worker.load += new_weight - old_weight
            self.load_level.add(now, new_weight - old_weight)
            self._touch(worker)
        self.hold(hh, held)

    def _set_queued(self, hh: Household, need: Need) -> None:
        """Track how many cases are not held in their assessed class (``waiting_for_class``)."""
        self.queued_count += bool(need) - bool(hh.waiting_for_class)
        hh.waiting_for_class = need

    # time decides the class ---------------------------------------------------------------------
    def _settle(self, w: Caseworker) -> None:
        """Work as A as many of the worker's A-need cases as its time allows, then bring its
        delivered shares up to date."""
        workload = self.workload
        if w.social_worker:
            a_cases, queue = w.a_cases, w.a_queue
            while a_cases and not workload.a_fits(w, len(a_cases), w.cases_b, w.cases_c):
                hh = next(reversed(a_cases))  # the newest A case is worked as B
                self._reclassify(hh, w, "b")
                self._set_queued(hh, "a")
                queue.appendleft(hh)
            while queue and workload.a_fits(w, len(a_cases) + 1, w.cases_b - 1, w.cases_c):
                hh = queue.popleft()
                if hh.worker is w and hh.held == "b" and hh.waiting_for_class == "a":
                    self._set_queued(hh, "")
                    self._reclassify(hh, w, "a")
            if len(queue) > 2 * len(w.cases) + 16:  # drop entries of cases gone elsewhere
                w.a_queue = deque(
                    hh for hh in queue if hh.worker is w and hh.waiting_for_class == "a"
                )
        self.workload.recount(self.clock.now, w)

    def _assign(self, hh: Household, w: Caseworker) -> None:
        """Social worker ``w`` takes an A or B case: as A if its time allows."""
        need = hh.need
        self._set_queued(hh, "")
        a = need == "a" and self.workload.a_fits(w, len(w.a_cases) + 1, w.cases_b, w.cases_c)
        self._hold(hh, "a" if a else "b", w)
        if need == "a" and not a:
            self._set_queued(hh, "a")
            w.a_queue.append(hh)
        self._settle(w)

    # placing cases ------------------------------------------------------------------------------
    def _place(self, hh: Household) -> None:
        """Give a case without a handler the handler its role and the staff in post allow."""
        need = hh.need
        self._set_queued(hh, "")
        pool = self.pool
        if need in ("a", "b"):
            worker = self._roomiest()
            if worker is not None:
                self._assign(hh, worker)
                return
            if pool.holds_cases:
                self._hold(hh, "c", pool)
                self._set_queued(hh, need)
                self.with_administrators.append(hh)
                self._settle(pool)
                return
        else:
            if pool.holds_cases:
                self._hold(hh, "c", pool)
                self._settle(pool)
                return
            worker = self._roomiest()
            if worker is not None:
                self._hold(hh, "c", worker)
                self.with_social_workers.append(hh)
                self._settle(worker)
                return
        self._hold(hh, "waiting", None)
        self._set_queued(hh, need)
        self.without_handler.append(hh)

    def _evict_all(self, worker: Caseworker) -> None:
        """The worker can hold no cases: each goes to a colleague (or the other role), and the
        events it had to do go with them."""
        for hh in list(worker.cases):
            self._release(hh)
            self._place(hh)
        worker.event_hours = worker.event_rate = 0.0
        self._settle(worker)

    def _serve_social_worker_queues(self) -> None:
        """A social worker is in post again: A and B cases held by administrators, and cases
        held by nobody, get a handler (the hand-back rule)."""
        queue = self.with_administrators
        while queue:
            hh = queue.popleft()
            if not hh.closed and hh.worker is self.pool and hh.need in ("a", "b"):
                self._move(hh)
        self._serve_without_handler()

    def _serve_pool_queues(self) -> None:
        """Administrators own C cases again: C cases held by social workers, and cases held by
        nobody, go to them."""
        queue = self.with_social_workers
        while queue:
            hh = queue.popleft()
            worker = hh.worker
            if not hh.closed and worker is not None and worker.social_worker and hh.need == "c":
                self._move(hh)
        self._serve_without_handler()

    def _serve_without_handler(self) -> None:
        queue = self.without_handler
        for _ in range(len(queue)):
            hh = queue.popleft()
            if not hh.closed and hh.held == "waiting":
                self._move(hh)  # held by nobody again if its roles are still absent

    def _move(self, hh: Household) -> None:
        old = hh.worker
        self._release(hh)
        self._place(hh)
        if old is not None:
            self._settle(old)

    def _balance_to(self, new: Caseworker) -> None:
        """A social worker came into post: it takes cases from colleagues above the norm,
        newest first, until its room is no more than theirs."""
        while True:
            donor, donor_room = None, 0.0
            for w in self.social_workers:
                room = self._room(w)
                if w is not new and w.holds_cases and w.cases and room < donor_room:
                    donor, donor_room = w, room
            if donor is None:
                return
            hh = next(reversed(donor.cases))
            weight = hh.weight
            if self._room(new) - weight < donor_room + weight:
                return
            self._release(hh)
            if hh.need in ("a", "b"):
                self._assign(hh, new)
            else:
                self._hold(hh, "c", new)
                self._settle(new)
            self._settle(donor)

    # the household's path calls these -----------------------------------------------------------
    def route(self, hh: Household, arrival_hours: float = 0.0) -> None:
        """A case arrives at the ongoing unit (its handler spends ``arrival_hours`` on it), or
        its assessed need changed at a follow-up."""
        worker = hh.worker
        need = hh.need
        if (
            worker is not None
            and worker.social_worker
            and (need in ("a", "b") or not self.pool.holds_cases)
        ):
            # the same social worker goes on with it: A -> B (or B -> C with no administrator
            # to take it) is sparser contact, not a hand-over
            if need != "a" and hh.held != need:
                self._reclassify(hh, worker, need)
                if need == "c":
                    self.with_social_workers.append(hh)
            self._settle(worker)
            return
        self._release(hh)
        self._place(hh)
        if worker is not None:
            self._settle(worker)
        if arrival_hours and hh.worker is not None:
            hh.worker.event_hours += arrival_hours

    def handed_over_from_intake(self, hh: Household) -> None:
        """A case leaves intake for the ongoing unit (split organisation): a hand-over (its
        hours are the second assessment's, charged on arrival)."""
        self.handovers += 1
        self.handover(hh)

    def leave(self, hh: Household) -> None:
        """The case closes."""
        worker = hh.worker
        self._release(hh)
        self._set_queued(hh, "")
        if worker is not None:
            self._settle(worker)

    def delivered_share(self, hh: Household) -> float:
        """The share of its planned contact the case gets from its handler now (1 without a
        handler: waiting has its own exit multiplier)."""
        worker = hh.worker
        if worker is None:
            return 1.0
        held = hh.held
        if held == "a":
            return worker.share_a
        if held == "b":
            return worker.share_b
        return worker.share_c

    # the month's figures --------------------------------------------------------------------
    def month_figures(self, now: float) -> dict[str, float]:
        """Social-worker-days in post, cases they carried, utilisations, cases above the
        norm at the month's end and the month's hand-overs."""
        sw_days = self.sw_level.take(now)
        load_days = self.load_level.take(now)
        cap_days = self.capacity_level.take(now)
        c_days = self.c_level.take(now)
        c_cap_days = self.c_capacity_level.take(now)
        case_days = self.sw_cases_level.take(now)
        above = sum(max(w.load - w.room_cap, 0.0) for w in self.social_workers if w.holds_cases)
        return {
            "social_worker_days": sw_days,
            "caseload_per_social_worker": case_days / sw_days if sw_days else math.nan,
            "social_worker_utilisation": load_days / cap_days if cap_days else math.nan,
            "administrator_utilisation": c_days / c_cap_days if c_cap_days else math.nan,
            "cases_above_norm": above,
            "handovers": self.handovers,
        }
