"""Routing of ongoing cases into classes A/B/C (seed 003), with the capacity staff give.

Social workers own A and B cases up to the caseload norm (an A case weighs ``class_a_weight``,
a B case 1). Benefit administrators own C cases up to theirs. A case whose assessed need
cannot be met is held lower (A as B, A or B as C) or waits without a handler, and sits in an
upgrade queue; when capacity frees, queued cases are upgraded, highest need first.

Routing knows households, the posts of the two ongoing roles and the clock; it tells the
household's path of every change of holding through one callback, ``hold``.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine import CaseloadEnvironment
from ..inputs.scenario import Settings
from .household import HeldState, Household, Need
from .level import Level
from .staff import ABOLISHED, Post
from .workload import Workload

HoldCallback = Callable[[Household, HeldState], None]


@dataclass(eq=False, slots=True)
class Caseworker:
    """One ongoing post as routing sees it: the caseload it may hold and the cases it holds."""

    post: Post
    social_worker: bool  # else a benefit administrator (C cases, counted as a pool)
    room_cap: float = 0.0  # weighted A/B cases it may hold now: the norm times its capacity
    load: float = 0.0  # weighted A/B cases it holds
    cases: dict[Household, None] = field(default_factory=dict)  # ordered: the newest go first
    listed: bool = False  # in its role's list (not abolished)
    holds_cases: bool = False  # a social worker who may be given cases
    counted_cap: float = 0.0  # its share of the capacity totals, as last counted
    counted_working: float = 0.0
    counted_c_cap: float = 0.0
    cases_a: int = 0  # cases held as A (a social worker's)
    cases_b: int = 0
    hours_available: float = 0.0  # case hours per day it has now (sim.model.workload)
    counted_available: float = 0.0  # its share of the workload totals, as last counted
    counted_need_a: float = 0.0
    counted_need_b: float = 0.0
    counted_delivered_a: float = 0.0
    counted_delivered_b: float = 0.0
    counted_mentoring: float = 0.0  # mentoring it draws (a new hire), per day
    counted_giver: bool = False  # gives mentoring (working at full capacity)


class Routing:
    """Classes A/B/C with real capacity: placement, upgrade queues and the capacity totals."""

    def __init__(self, env: CaseloadEnvironment, hold: HoldCallback, workload: Workload) -> None:
        self.env = env
        self.hold = hold
        self.workload = workload
        self.cases_a = 0  # cases held as A or B by any social worker (the payment pool)
        self.cases_b = 0
        self.workers: dict[Post, Caseworker] = {}
        self.social_workers: list[Caseworker] = []
        self.administrators: list[Caseworker] = []
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
        self._room_heap: list[tuple[float, int, int, Caseworker]] = []
        self._heap_seq = 0
        self._admin_share = 0.0
        self._admin_norm = 0.0

    # capacity -------------------------------------------------------------------------------
    def configure(self, settings: Settings) -> None:
        org = settings.organisation
        self.norm = org.caseload_norm
        self.a_weight = org.class_a_weight
        self._admin_share = org.administrators_on_c_share
        self._admin_norm = org.administrator_caseload_norm
        self.refresh_capacity()
        self._recount_hours()

    def _recount_hours(self, changed: Caseworker | None = None) -> None:
        """Time budgets afresh: of the worker whose post changed, or of all (the settings)."""
        now = self.env.now
        workload = self.workload
        workers = [w for w in self.workers.values() if w.social_worker]
        for worker in workers if changed is None else [changed]:
            if worker.social_worker:
                workload.social_worker_changed(now, worker, workers)
        workload.administrators_changed(now, [w.post for w in self.administrators])
        self._pool_changed()

    def _pool_changed(self) -> None:
        self.workload.pool_changed(self.env.now, self.cases_a, self.cases_b, len(self.c_cases))

    def refresh_capacity(self) -> None:
        """Recount every worker's capacity (the norm or the settings changed)."""
        for worker in self.social_workers:
            cap = self.norm * worker.post.capacity
            if worker.room_cap != cap:
                worker.room_cap = cap
                self._touch(worker)
        self._recount()
        for worker in self.social_workers:
            self._trim(worker)
        self._trim_c()
        self.rebalance()

    def _recount(self) -> None:
        """The capacity totals, summed afresh over all workers (the norm or settings changed)."""
        for worker in self.social_workers:
            self._count(worker)
        for worker in self.administrators:
            self._count(worker)

    def _count(self, worker: Caseworker) -> None:
        """Bring one worker's share of the capacity totals up to date (a staff change)."""
        now = self.env.now
        listed = worker.listed
        if worker.social_worker:
            cap = worker.room_cap if listed else 0.0
            working = 1.0 if listed and worker.post.capacity > 0 else 0.0
            self.capacity_level.add(now, cap - worker.counted_cap)
            self.sw_level.add(now, working - worker.counted_working)
            worker.counted_cap, worker.counted_working = cap, working
        else:
            c_cap = worker.post.capacity * self._admin_share * self._admin_norm if listed else 0.0
            self.c_capacity += c_cap - worker.counted_c_cap
            self.c_capacity_level.add(now, c_cap - worker.counted_c_cap)
            worker.counted_c_cap = c_cap

    def _trim_c(self) -> None:
        while len(self.c_cases) > self.c_capacity + 1e-9:
            hh = next(reversed(self.c_cases))
            self._release(hh)
            self._hold(hh, "waiting", None)
            self._enqueue(hh, hh.need)

    def post_changed(self, post: Post) -> None:
        """One worker's capacity changed: only that worker's cases can be over the norm."""
        worker = self.workers.get(post)
        if worker is None:
            worker = Caseworker(post, post.role == "ongoing_social_workers")
            self.workers[post] = worker
        is_social_worker = worker.social_worker
        role_list = self.social_workers if is_social_worker else self.administrators
        worker.room_cap = self.norm * post.capacity  # before any case is re-placed
        if post.state == ABOLISHED:
            worker.holds_cases = False
            if worker.listed:
                worker.listed = False
                role_list.remove(worker)
            if is_social_worker:
                self._evict_all(worker)
        elif not worker.listed:
            worker.listed = True
            role_list.append(worker)
            worker.holds_cases = is_social_worker
        if worker.holds_cases:
            self._touch(worker)
        if is_social_worker and post.capacity == 0:
            self._evict_all(worker)
        self._count(worker)
        if is_social_worker and worker.holds_cases:
            self._trim(worker)
        self._trim_c()
        self.rebalance()
        self._recount_hours(worker)

    def _evict_all(self, worker: Caseworker) -> None:
        """The worker's cases lose their handler; they wait or go to colleagues with room."""
        for hh in list(worker.cases):
            self._release(hh)
            self._place(hh)

    def _trim(self, worker: Caseworker) -> None:
        cases = worker.cases
        while worker.load > worker.room_cap + 1e-9 and cases:
            hh = next(reversed(cases))
            self._release(hh)
            self._place(hh)

    # holding --------------------------------------------------------------------------------
    def weight(self, cls: str) -> float:
        return self.a_weight if cls == "a" else 1.0

    @staticmethod
    def _room(worker: Caseworker) -> float:
        return worker.room_cap - worker.load

    def _touch(self, worker: Caseworker) -> None:
        """Record a social worker's new room in the max-heap (old entries go stale)."""
        heap = self._room_heap
        self._heap_seq += 1
        heapq.heappush(heap, (-self._room(worker), -worker.post.index, self._heap_seq, worker))
        if len(heap) > 4 * len(self.social_workers) + 64:
            # Mostly stale entries: rebuild from the live posts.
            heap[:] = [
                (-self._room(w), -w.post.index, i, w) for i, w in enumerate(self.social_workers)
            ]
            heapq.heapify(heap)

    def _roomiest(self) -> Caseworker | None:
        """The social worker with most room; ties go to the newest post (highest index)."""
        heap = self._room_heap
        while heap:
            neg_room, _, _, worker = heap[0]
            if worker.holds_cases and -neg_room == self._room(worker):
                return worker
            heapq.heappop(heap)
        return None

    def _best_social_worker(self, weight: float, hh: Household | None = None) -> Caseworker | None:
        """A social worker with room for ``weight`` (counting the room ``hh`` already takes
        with its own worker), the one with most room; None if nobody has room."""
        best = self._roomiest()
        best_room = self._room(best) if best is not None else -math.inf
        own = hh.worker if hh is not None else None
        if hh is not None and own is not None and own.holds_cases:
            own_room = self._room(own) + hh.weight
            if own_room > best_room or (
                own_room == best_room and best is not None and own.post.index > best.post.index
            ):
                best, best_room = own, own_room
        return best if best is not None and best_room >= weight - 1e-9 else None

    def _hold(self, hh: Household, held: HeldState, worker: Caseworker | None) -> None:
        now = self.env.now
        self.hold(hh, held)
        if held in ("a", "b"):
            assert worker is not None
            w = self.weight(held)
            hh.worker, hh.weight = worker, w
            worker.load += w
            worker.cases[hh] = None
            if held == "a":
                worker.cases_a += 1
                self.cases_a += 1
            else:
                worker.cases_b += 1
                self.cases_b += 1
            self._touch(worker)
            self.load_level.add(now, w)
            self.workload.worker_changed(now, worker)
            self._pool_changed()
        elif held == "c":
            self.c_cases[hh] = None
            self.c_level.add(now, 1)
            self._pool_changed()

    def _release(self, hh: Household) -> None:
        now = self.env.now
        worker = hh.worker
        if worker is not None:
            worker.load -= hh.weight
            worker.cases.pop(hh, None)
            if hh.held == "a":
                worker.cases_a -= 1
                self.cases_a -= 1
            else:
                worker.cases_b -= 1
                self.cases_b -= 1
            self._touch(worker)
            self.load_level.add(now, -hh.weight)
            hh.worker, hh.weight = None, 0.0
            self.workload.worker_changed(now, worker)
            self._pool_changed()
        if hh.held == "c":
            self.c_cases.pop(hh, None)
            self.c_level.add(now, -1)
            self._pool_changed()

    def _max_room(self) -> float:
        best = self._roomiest()
        return self._room(best) if best is not None else 0.0

    def _serve_social_worker_queue(self, need: Need) -> None:
        queue = self.queues[need]
        weight = self.weight(need)
        kept: list[Household] = []
        while queue:
            hh = queue.popleft()
            if hh.closed or hh.waiting_for_class != need:
                continue
            worker = self._best_social_worker(weight, hh)
            if worker is not None:
                self._set_queued(hh, "")
                self._release(hh)
                self._hold(hh, need, worker)
                continue
            kept.append(hh)
            if hh.worker is None and need == "a":
                worker = self._best_social_worker(1.0)
                if worker is not None:
                    self._release(hh)
                    self._hold(hh, "b", worker)  # still queued for A
            if self._max_room() < 1.0 - 1e-9:
                break
        queue.extendleft(reversed(kept))

    def _c_room(self) -> bool:
        """Room for one more C case within the administrators' norm."""
        return len(self.c_cases) + 1 <= self.c_capacity + 1e-9

    def _enqueue(self, hh: Household, need: Need) -> None:
        self._set_queued(hh, need)
        self.queues[need].append(hh)

    def _set_queued(self, hh: Household, need: Need) -> None:
        """Track how many cases are not held in their assessed class (``waiting_for_class``)."""
        self.queued_count += bool(need) - bool(hh.waiting_for_class)
        hh.waiting_for_class = need

    def _place(self, hh: Household) -> None:
        """Give a case the best holding that capacity allows now."""
        need = hh.need
        self._set_queued(hh, "")
        if need in ("a", "b"):
            worker = self._best_social_worker(self.weight(need))
            if worker is not None:
                self._hold(hh, need, worker)
                return
            if need == "a":
                worker = self._best_social_worker(1.0)
                if worker is not None:
                    self._hold(hh, "b", worker)
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
            if hh.closed or hh.waiting_for_class != "c":
                continue
            self._set_queued(hh, "")
            self._release(hh)
            self._hold(hh, "c", None)

    # the month's figures --------------------------------------------------------------------
    def month_figures(self, now: float) -> dict[str, float]:
        """Social-worker-days in post and the two utilisations since the last month's end."""
        sw_days = self.sw_level.take(now)
        load_days = self.load_level.take(now)
        cap_days = self.capacity_level.take(now)
        c_days = self.c_level.take(now)
        c_cap_days = self.c_capacity_level.take(now)
        return {
            "social_worker_days": sw_days,
            "social_worker_utilisation": load_days / cap_days if cap_days else math.nan,
            "administrator_utilisation": c_days / c_cap_days if c_cap_days else math.nan,
        }
