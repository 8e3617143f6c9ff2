"""The simulation clock: SimPy's environment with a lean path for timed calls.

Most of the model's events do nothing but call one handler at a time (a first visit ends, a
decision is due, a household's clock runs out). As SimPy events each would be a ``Timeout``
object with a callback list and a closure; here they are plain calls (:class:`Entry`) in a
queue of their own, under the ordering key (time, priority, event id) that SimPy gives its
events and numbered from SimPy's own counter, so calls and ordinary events interleave exactly
as if the calls were timeouts scheduled at the same moments: the run takes whichever of the
two queues' first entries comes first. Processes (staff, months, timed changes) use ordinary
SimPy events in SimPy's queue and are stepped by SimPy itself.

The time, the queue of calls and the run loop live in :class:`Clock`, which the model's parts
hold: a class of this module, so that when compiled, reading the time or queueing a call is a
native field access or call. The environment is a subclass of SimPy's Python class, whose
attributes are dictionary lookups; it keeps its time in its clock.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, Final, NamedTuple, final

import simpy

# SimPy's own queue: (time, priority, event id, event).
EventQueue = list[tuple[float, int, int, simpy.Event]]
NORMAL: Final = 1  # SimPy's priority of a timeout (simpy.events.NORMAL), which a call takes
URGENT: Final = 0  # SimPy's first priority: a bucket opens before anything due at its start
FAR_DAYS: Final = 32.0
"""A call due further ahead than this waits in a bucket, not in the queue (:class:`Clock`)."""
BUCKET_DAYS: Final = 16.0
"""The span of time whose far calls share a bucket."""
INFINITY: Final = float("inf")
# Final aliases: compiled, each is a C global; an imported name is a dictionary lookup per use.
_push: Final = heappush
_pop: Final = heappop


@final
class Entry:
    """A call in the queue: ``action`` with ``arity`` arguments (``first``, ``second``,
    ``third``; ``args`` if ``arity`` is -1) at ``time``, ordered as SimPy orders its events, by
    time, then priority, then event id (ids are unique, so no two entries tie).

    Compiled, the comparison is one native call on unboxed fields, where SimPy's tuples cost
    a comparison of each item as a Python object: the queue's comparisons were the largest
    single cost of a run. The model's calls take one to three arguments, held in fields
    rather than in a tuple made and freed at every call (step 52). As Python,
    :class:`_EntryTuple` takes its place (below)."""

    def __init__(
        self,
        time: float,
        priority: int,
        eid: int,
        action: Callable[..., None],
        arity: int,
        first: object,
        second: object,
        third: object,
        args: tuple[Any, ...],
    ) -> None:
        self.time = time
        self.priority = priority
        self.eid = eid
        self.action = action
        self.arity = arity
        self.first = first
        self.second = second
        self.third = third
        self.args = args

    def __lt__(self, other: Entry) -> bool:
        if self.time != other.time:
            return self.time < other.time
        if self.priority != other.priority:
            return self.priority < other.priority
        return self.eid < other.eid


class _EntryTuple(NamedTuple):
    """:class:`Entry` as a tuple, for the Python build: tuples compare in C, where an
    ``__lt__`` written in Python would be called at every comparison."""

    time: float
    priority: int
    eid: int
    action: Callable[..., None]
    arity: int
    first: Any  # Any, not object: compiled, a NamedTuple's ``object`` field fails at import
    second: Any
    third: Any
    args: tuple[Any, ...]


def runs_compiled(function: object) -> bool:
    """Whether ``function`` (of a module of the model) runs compiled: a compiled function or
    method has no Python code object. The compiled modules are used all together or not at
    all (:mod:`sim.compiled`)."""
    return not hasattr(function, "__code__")


if not runs_compiled(Entry.__lt__):
    Entry = _EntryTuple  # type: ignore[misc,assignment]  # the same fields, compared as a tuple


@final
class EventIds:
    """SimPy's event counter (``next`` gives the next id), as a compiled class: the plain
    calls are numbered from it too, one at each call queued."""

    def __init__(self) -> None:
        self.count = 0

    def __iter__(self) -> EventIds:
        return self

    def __next__(self) -> object:  # object: mypyc's iterator slot wants a Python object
        return self.take()

    def take(self) -> int:
        i = self.count
        self.count = i + 1
        return i


@final
class Clock:
    """The time, and the queue of calls beside SimPy's queue of events, as the model's parts
    use them.

    A call due more than ``far_days`` ahead (most of a large caseload's household clocks,
    months or years away) does not enter the queue at once: it waits, with its place in the
    order (time, priority, event id) already given, in the bucket of its ``bucket_days`` span,
    and the bucket's calls enter the queue when the clock reaches the span's start (one
    urgent call, queued when the bucket is made, opens it). The calls run in the same order
    as from the queue alone, and the queue stays short: at city scale it held one entry per
    open household, and every entry taken from the queue pays for its depth. (Opening a bucket
    is a step of its own: ``env.step()`` may move the clock to a span's start and call nothing
    else.)"""

    def __init__(self, far_days: float = FAR_DAYS, bucket_days: float = BUCKET_DAYS) -> None:
        if not 0 < bucket_days <= far_days:  # a bucket must open after the call into it
            raise ValueError(f"need 0 < bucket_days <= far_days, got {bucket_days}, {far_days}")
        self.now = 0.0
        self.queue: list[Entry] = []  # the calls
        self.events: EventQueue = []  # replaced by SimPy's own queue
        self.ids = EventIds()  # SimPy's event counter (the environment hands it to SimPy)
        self.far_days = far_days
        self.bucket_days = bucket_days
        self.buckets: dict[int, list[Entry]] = {}

    def call_later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        """Call ``action(*args)`` after ``delay`` (one queue entry: no event object)."""
        self._queue(
            delay,
            Entry(self.now + delay, NORMAL, self.ids.take(), action, -1, None, None, None, args),
        )

    def call_later_1(self, delay: float, action: Callable[[Any], None], first: Any) -> None:
        """Call ``action(first)`` after ``delay``: :meth:`call_later` without a tuple."""
        entry = Entry(self.now + delay, NORMAL, self.ids.take(), action, 1, first, None, None, ())
        self._queue(delay, entry)

    def call_later_2(
        self, delay: float, action: Callable[[Any, Any], None], first: Any, second: Any
    ) -> None:
        """Call ``action(first, second)`` after ``delay``."""
        entry = Entry(self.now + delay, NORMAL, self.ids.take(), action, 2, first, second, None, ())
        self._queue(delay, entry)

    def call_later_3(
        self,
        delay: float,
        action: Callable[[Any, Any, Any], None],
        first: Any,
        second: Any,
        third: Any,
    ) -> None:
        """Call ``action(first, second, third)`` after ``delay``."""
        entry = Entry(
            self.now + delay, NORMAL, self.ids.take(), action, 3, first, second, third, ()
        )
        self._queue(delay, entry)

    def _queue(self, delay: float, entry: Entry) -> None:
        """Queue ``entry``, due after ``delay``: in the queue, or in its bucket if far."""
        when = entry.time
        if not (self.far_days < delay and when < INFINITY):  # near, or never: no bucket's
            _push(self.queue, entry)
            return
        key = int(when // self.bucket_days)
        bucket = self.buckets.get(key)
        if bucket is not None:
            bucket.append(entry)
            return
        start = key * self.bucket_days
        if not self.now < start <= when:  # rounding at extreme times: the queue is always right
            _push(self.queue, entry)
            return
        self.buckets[key] = [entry]
        opening = Entry(start, URGENT, self.ids.take(), _OPEN_BUCKET, 2, self, key, None, ())
        _push(self.queue, opening)

    def _open_bucket(self, key: int) -> None:
        """The clock has reached the bucket's span: its calls join the queue, in their places."""
        queue = self.queue
        for entry in self.buckets.pop(key):
            _push(queue, entry)

    def call_is_next(self) -> bool:
        """Whether the next entry of the two queues is a call (not a SimPy event)."""
        queue = self.queue
        if not queue:
            return False
        events = self.events
        if not events:
            return True
        call = queue[0]
        time, priority, eid, _ = events[0]
        if call.time != time:
            return call.time < time
        if call.priority != priority:
            return call.priority < priority
        return call.eid < eid

    def call_next(self) -> bool:
        """Make the next call, if the next entry is one (not a SimPy event)."""
        if not self.call_is_next():
            return False
        call = _pop(self.queue)
        self.now = call.time
        _make(call)
        return True

    def peek(self) -> float:
        """The time of the next entry of either queue (infinity if there is none)."""
        queue, events = self.queue, self.events
        call = queue[0].time if queue else INFINITY
        return min(call, events[0][0]) if events else call

    def run_until_processed(self, until: simpy.Event, simpy_step: Callable[[], None]) -> None:
        """Make the queued calls and step SimPy's events (``simpy_step``) until ``until`` has
        been processed. Only SimPy's step processes an event, so ``until`` is checked after
        those steps alone."""
        queue = self.queue
        events = self.events
        pop = _pop
        if until.processed:
            return
        while True:
            # call_is_next, inlined: calling it here costs 0.6 % more instructions a replication
            # (0.654 G against 0.658 G, callgrind, benchmarks/one_replication.py)
            if queue:
                call = queue[0]
                if events:
                    time, priority, eid, _ = events[0]
                    if call.time != time:
                        is_call = call.time < time
                    elif call.priority != priority:
                        is_call = call.priority < priority
                    else:
                        is_call = call.eid < eid
                else:
                    is_call = True
            elif events:
                is_call = False
            else:
                raise RuntimeError(f"no events left before {until!r} was processed")
            if is_call:
                pop(queue)
                self.now = call.time
                _make(call)
            else:
                simpy_step()
                if until.processed:
                    return


def _make(call: Entry) -> None:
    """Make the call ``call`` queued."""
    action = call.action  # a field read: called as call.action(...), a method lookup
    arity = call.arity
    if arity == 1:
        action(call.first)
    elif arity == 2:
        action(call.first, call.second)
    elif arity == 3:
        action(call.first, call.second, call.third)
    else:
        action(*call.args)


# Queued unbound, with the clock as first argument (see :func:`_make`).
_OPEN_BUCKET: Final = Clock._open_bucket


class CaseloadEnvironment(simpy.Environment):
    """A ``simpy.Environment`` that can also schedule plain calls (:meth:`call_later`)."""

    def __init__(self, far_days: float = FAR_DAYS, bucket_days: float = BUCKET_DAYS) -> None:
        # first: SimPy's __init__ sets the time (``_now``)
        self.clock: Final = Clock(far_days, bucket_days)
        super().__init__()
        self.clock.events = self._queue  # type: ignore[assignment]  # SimPy types its ids loosely
        self._eid = self.clock.ids  # type: ignore[assignment]  # SimPy's is an itertools.count

    @property
    def _now(self) -> float:
        """SimPy's time, kept in the clock (SimPy reads and sets it under this name)."""
        return self.clock.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.clock.now = value

    @property
    def now(self) -> float:
        """The current simulation time."""
        return self.clock.now

    def call_later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        """Call ``action(*args)`` after ``delay`` (one queue entry: no event object)."""
        self.clock.call_later(delay, action, *args)

    def peek(self) -> float:
        """The time of the next entry of the queues (infinity if nothing is queued): a call, an
        event, or the opening of a bucket of far calls (:class:`Clock`), which moves the clock
        and calls nothing else."""
        return self.clock.peek()

    def step(self) -> None:
        """Process the next entry: a plain call here, an ordinary event by SimPy."""
        if not self.clock.call_next():
            super().step()

    def run_until_processed(self, until: simpy.Event) -> None:
        """Step until ``until`` has been processed (the loop of :meth:`simpy.Environment.run`
        with the plain calls made inline, which is where a run spends its events)."""
        self.clock.run_until_processed(until, super().step)

    def discard_pending(self) -> None:
        """Drop everything still queued (a run that is over).

        An event waiting in the queue holds, in its callbacks, the process waiting for it,
        which holds the event: a reference cycle that only the cyclic garbage collector could
        free. Emptying the callbacks and the queues lets reference counting free a finished
        run.
        """
        events = self.clock.events
        for entry in events:
            event = entry[3]
            if event.callbacks:
                event.callbacks.clear()
        events.clear()
        self.clock.queue.clear()
        self.clock.buckets.clear()
