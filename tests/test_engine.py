"""The simulation clock: plain timed calls interleave with SimPy events exactly as timeouts."""

from __future__ import annotations

import heapq
import math
from collections.abc import Generator
from typing import Any

import pytest
import simpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import engine
from sim.engine import CaseloadEnvironment, runs_compiled

# A schedule: each item is (delay, schedule-more?) - fired items schedule their children.
delays = st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.5])  # repeats: ties at the same instant
plans = st.lists(st.tuples(delays, st.lists(delays, max_size=3)), min_size=1, max_size=12)


def _schedule(env: simpy.Environment, lean: bool, delay: float, action: Any, *args: Any) -> None:
    """``action(*args)`` after ``delay``: a plain call (``lean``) or a SimPy timeout."""
    if lean:
        assert isinstance(env, CaseloadEnvironment)
        env.call_later(delay, action, *args)
    else:
        env.timeout(delay).callbacks.append(lambda _e: action(*args))


def _fire_order(env: simpy.Environment, plan: list[tuple[float, list[float]]], lean: bool) -> list:
    """Run ``plan`` with plain calls (``lean``) or SimPy timeouts and a process; return the
    order in which things fired, with their times."""
    fired: list[tuple[float, str]] = []

    def schedule(delay: float, action: Any, *args: Any) -> None:
        _schedule(env, lean, delay, action, *args)

    def item(name: str, children: list[float]) -> None:
        fired.append((env.now, name))
        for j, d in enumerate(children):
            schedule(d, item, f"{name}.{j}", [])

    def ticker() -> Generator[simpy.Event, Any, None]:
        for k in range(4):
            yield env.timeout(0.75)
            fired.append((env.now, f"tick{k}"))

    env.process(ticker())
    for i, (delay, children) in enumerate(plan):
        schedule(delay, item, str(i), children)
    env.run()
    return fired


@settings(max_examples=60, deadline=None)
@given(plans)
def test_calls_fire_in_the_order_timeouts_would(plan: list[tuple[float, list[float]]]) -> None:
    """A plain call takes the place a timeout scheduled at the same moment would take: same
    time, same priority, the next event id. So ties at one instant run in the same order, and
    a process's own events interleave with the calls as they would with timeouts."""
    assert _fire_order(CaseloadEnvironment(), plan, lean=True) == _fire_order(
        simpy.Environment(), plan, lean=False
    )


# Continuous delays and exact ties around the spans' starts (16, 32, 48 days), processes
# started, interrupted and woken from calls, runs in pieces (``run(until=...)``).
TIES = [0.0, 16.0, 32.0, 32.0 + 1e-9, 31.999999, 48.0, 64.0, 33.0, 47.99999999999999]
far_delay = st.one_of(st.sampled_from(TIES), st.floats(0, 200, allow_nan=False))
far_kind = st.sampled_from(["call", "spawn", "interrupt", "succeed"])


def _far_nodes(depth: int) -> st.SearchStrategy[Any]:
    """A call and the calls it makes, ``depth`` levels deep (three is ample for the orders
    tested; unbounded, the trees made Hypothesis spend most of a 20 s test generating them)."""
    children = st.just([]) if depth == 1 else st.lists(_far_nodes(depth - 1), max_size=3)
    return st.tuples(far_delay, far_kind, children)


far_node = _far_nodes(3)


def _bucket_order(env: simpy.Environment, plan: list[Any], lean: bool, pieces: list[float]) -> list:
    """Run a nested ``plan`` of calls (``lean``) or SimPy timeouts that start processes,
    interrupt them and trigger an event they wait for; the order in which things fired."""
    fired: list[tuple[Any, ...]] = []
    procs: list[simpy.Process] = []
    shared = [env.event()]

    def schedule(delay: float, action: Any, *args: Any) -> None:
        _schedule(env, lean, delay, action, *args)

    def proc(name: str, waits: list[float]) -> Generator[simpy.Event, Any, None]:
        for wait in [*waits, None, 0.0]:
            try:
                yield shared[0] if wait is None else env.timeout(wait)
                fired.append((env.now, name, "woke"))
            except simpy.Interrupt as stop:
                fired.append((env.now, name, "interrupted", stop.cause))

    def item(name: str, kind: str, children: list[Any]) -> None:
        fired.append((env.now, name, kind))
        if kind == "spawn":
            procs.append(env.process(proc(name, [c[0] for c in children] or [5.0])))
        elif kind == "interrupt":
            alive = [p for p in procs if p.is_alive]
            if alive:
                alive[0].interrupt(name)
        elif kind == "succeed" and not shared[0].triggered:
            shared[0].succeed()
            shared[0] = env.event()
        for j, (delay, child_kind, grandchildren) in enumerate(children):
            schedule(delay, item, f"{name}.{j}", child_kind, grandchildren)

    for i, (delay, kind, children) in enumerate(plan):
        schedule(delay, item, str(i), kind, children)
    for until in pieces:
        if until > env.now:
            env.run(until=until)
            fired.append((env.now, "until"))
    env.run()
    return fired


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(far_node, min_size=1, max_size=10),
    st.lists(st.floats(0, 300), max_size=3).map(sorted),
    st.sampled_from([(32.0, 16.0), (0.75, 0.5), (5.0, 3.0), (1.0, 0.1), (16.0, 16.0)]),
)
def test_far_calls_wait_in_buckets_and_fire_in_the_same_order(
    plan: list[Any], pieces: list[float], spans: tuple[float, float]
) -> None:
    """A call due far ahead waits in the bucket of its span and joins the queue when the clock
    reaches the span's start: it fires in the place the queue alone would give it, with ties
    at one instant and at a span's start, processes started, woken and interrupted by calls,
    and runs stopped and resumed, exactly as SimPy's own timeouts (and as without buckets)."""
    far, span = spans
    buckets = CaseloadEnvironment(far_days=far, bucket_days=span)
    order = _bucket_order(buckets, plan, True, pieces)
    assert order == _bucket_order(CaseloadEnvironment(far_days=math.inf), plan, True, pieces)
    assert order == _bucket_order(simpy.Environment(), plan, False, pieces)
    assert not buckets.clock.buckets  # every bucket was opened


def test_a_bucket_never_opens_before_its_calls_are_made() -> None:
    """Spans longer than the distance that makes a call far would open a bucket in the past;
    refused. A call at the far end of time goes to the queue (no bucket for infinity)."""
    with pytest.raises(ValueError, match="bucket_days <= far_days"):
        CaseloadEnvironment(far_days=1.0, bucket_days=16.0)
    env = CaseloadEnvironment()
    env.clock.now = 1e308
    env.call_later(1e308, lambda: None)
    assert not env.clock.buckets and env.clock.queue[0].time == math.inf


def test_step_runs_one_call_at_a_time() -> None:
    """``step`` processes one queue entry: a call is made, the clock moves to its time."""
    env = CaseloadEnvironment()
    calls: list[float] = []
    env.call_later(2.0, lambda: calls.append(env.now))
    env.call_later(1.0, lambda: calls.append(env.now))
    env.step()
    assert calls == [1.0] and env.now == 1.0
    env.step()
    assert calls == [1.0, 2.0] and env.now == 2.0
    with pytest.raises(simpy.core.EmptySchedule):
        env.step()


def test_run_until_processed_stops_at_its_event_and_reports_a_missing_one() -> None:
    """The run ends when the given event has been processed; later entries stay queued. If
    the queue runs dry first, that is an error, as in ``simpy.Environment.run``."""
    env = CaseloadEnvironment()
    calls: list[float] = []
    for t in (1.0, 3.0, 5.0):
        env.call_later(t, calls.append, t)
    env.run_until_processed(env.timeout(3.0))
    assert calls == [1.0, 3.0]  # the call at 3 was queued first: it runs before the timeout
    assert env.peek() == 5.0
    never = env.event()
    with pytest.raises(RuntimeError, match="no events left"):
        env.run_until_processed(never)


def test_a_failing_process_stops_the_run() -> None:
    """An exception raised in a process surfaces from the run, as SimPy's own run does."""
    env = CaseloadEnvironment()

    def broken() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1.0)
        raise ValueError("broken process")

    proc = env.process(broken())
    env.call_later(0.5, lambda: None)
    with pytest.raises(ValueError, match="broken process"):
        env.run_until_processed(proc)


def test_calls_take_the_priority_of_a_timeout() -> None:
    """A plain call is queued with SimPy's priority of a timeout (the engine's own constant)."""
    from sim import engine

    assert engine.NORMAL == simpy.events.NORMAL


@pytest.mark.skipif(
    not runs_compiled(engine.Entry.__lt__), reason="as Python the entries are tuples themselves"
)
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0, 1.0, 2.5, 1e300, math.inf]), st.sampled_from([-1, 0, 1])
        ),
        min_size=1,
        max_size=30,
    )
)
def test_calls_are_ordered_as_simpy_orders_its_tuples(keys: list[tuple[float, int]]) -> None:
    """A queued call (:class:`sim.engine.Entry`, compared natively when compiled) sorts as
    SimPy's ``(time, priority, event id)`` tuples do, ties and infinite times included; and the
    social workers' room entries (:class:`sim.model.routing.RoomEntry`) as their tuples."""
    from sim.model import routing

    queue: list[Any] = []
    rooms: list[Any] = []
    worker = routing.Caseworker(None, True)
    for eid, (time, priority) in enumerate(keys):
        heapq.heappush(queue, engine.Entry(time, priority, eid, print, -1, None, None, None, ()))
        heapq.heappush(rooms, routing.RoomEntry(-time, priority, eid, worker))
    popped = [heapq.heappop(queue) for _ in keys]
    expected = sorted((time, priority, eid) for eid, (time, priority) in enumerate(keys))
    assert [(e.time, e.priority, e.eid) for e in popped] == expected
    popped_rooms = [heapq.heappop(rooms) for _ in keys]
    assert [(e.neg_room, e.neg_index, e.seq) for e in popped_rooms] == sorted(
        (-time, priority, eid) for eid, (time, priority) in enumerate(keys)
    )
