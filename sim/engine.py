"""The simulation clock: SimPy's environment with a lean path for timed calls.

Most of the model's events do nothing but call one handler at a time (a first visit ends, a
decision is due, a household's clock runs out). As SimPy events each would be a ``Timeout``
object with a callback list and a closure; here they are queued in SimPy's own event queue as
plain ``(handler, args)`` entries, under the same ordering key (time, priority, event id) that
SimPy gives its events, so calls and ordinary events interleave exactly as if the calls were
timeouts scheduled at the same moments. Processes (staff, months, timed changes) use ordinary
SimPy events and are stepped by SimPy itself.

The time, the queue and the run loop live in :class:`Clock`, which the model's parts hold: a
class of this module, so that when compiled, reading the time or queueing a call is a native
field access or call. The environment is a subclass of SimPy's Python class, whose attributes
are dictionary lookups; it keeps its time in its clock.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, Final, cast, final

import simpy

# SimPy's queue as this module uses it: entries whose last item is an event or a plain call.
Queue = list[tuple[float, int, int, Any]]
Call = tuple[Callable[..., None], tuple[Any, ...]]
NORMAL: Final = 1  # SimPy's priority of a timeout (simpy.events.NORMAL), which a call takes
URGENT: Final = 0  # SimPy's first priority: a bucket opens before anything due at its start
FAR_DAYS: Final = 32.0
"""A call due further ahead than this waits in a bucket, not in the queue (:class:`Clock`)."""
BUCKET_DAYS: Final = 16.0
"""The span of time whose far calls share a bucket."""
INFINITY: Final = float("inf")


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
    """The time, and the queue shared with SimPy, as the model's parts use them.

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
        self.queue: Queue = []  # replaced by SimPy's own queue
        self.ids = EventIds()  # SimPy's event counter (the environment hands it to SimPy)
        self.far_days = far_days
        self.bucket_days = bucket_days
        self.buckets: dict[int, Queue] = {}

    def call_later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        """Call ``action(*args)`` after ``delay`` (one queue entry: no event object)."""
        when = self.now + delay
        entry = (when, NORMAL, self.ids.take(), (action, args))
        if not (self.far_days < delay and when < INFINITY):  # near, or never: no bucket's
            heappush(self.queue, entry)
            return
        key = int(when // self.bucket_days)
        bucket = self.buckets.get(key)
        if bucket is not None:
            bucket.append(entry)
            return
        start = key * self.bucket_days
        if not self.now < start <= when:  # rounding at extreme times: the queue is always right
            heappush(self.queue, entry)
            return
        self.buckets[key] = [entry]
        heappush(self.queue, (start, URGENT, self.ids.take(), (self._open_bucket, (key,))))

    def _open_bucket(self, key: int) -> None:
        """The clock has reached the bucket's span: its calls join the queue, in their places."""
        queue = self.queue
        for entry in self.buckets.pop(key):
            heappush(queue, entry)

    def call_next(self) -> bool:
        """Make the next queued call, if the next entry is one (not a SimPy event)."""
        queue = self.queue
        if not queue or type(queue[0][3]) is not tuple:
            return False
        when, _, _, entry = heappop(queue)
        self.now = when
        action, args = cast(Call, entry)
        action(*args)
        return True

    def run_until_processed(self, until: simpy.Event, simpy_step: Callable[[], None]) -> None:
        """Make the queued calls and step SimPy's events (``simpy_step``) until ``until`` has
        been processed. Only SimPy's step processes an event, so ``until`` is checked after
        those steps alone."""
        queue = self.queue
        pop = heappop
        if until.processed:
            return
        while True:
            if not queue:
                raise RuntimeError(f"no events left before {until!r} was processed")
            when, _, _, entry = queue[0]
            if type(entry) is tuple:
                pop(queue)
                self.now = when
                action, args = cast(Call, entry)
                action(*args)
            else:
                simpy_step()
                if until.processed:
                    return


class CaseloadEnvironment(simpy.Environment):
    """A ``simpy.Environment`` that can also schedule plain calls (:meth:`call_later`)."""

    def __init__(self, far_days: float = FAR_DAYS, bucket_days: float = BUCKET_DAYS) -> None:
        # first: SimPy's __init__ sets the time (``_now``)
        self.clock: Final = Clock(far_days, bucket_days)
        super().__init__()
        self.clock.queue = cast(Queue, self._queue)
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
        free. Emptying the callbacks and the queue lets reference counting free a finished run.
        """
        queue = self.clock.queue
        for entry in queue:
            item = entry[3]
            if type(item) is not tuple and item.callbacks:
                item.callbacks.clear()
        queue.clear()
        self.clock.buckets.clear()
