"""The simulation clock: SimPy's environment with a lean path for timed calls.

Most of the model's events do nothing but call one handler at a time (a first visit ends, a
decision is due, a household's clock runs out). As SimPy events each would be a ``Timeout``
object with a callback list and a closure; here they are queued in SimPy's own event queue as
plain ``(handler, args)`` entries, under the same ordering key (time, priority, event id) that
SimPy gives its events, so calls and ordinary events interleave exactly as if the calls were
timeouts scheduled at the same moments. Processes (staff, months, timed changes) use ordinary
SimPy events and are stepped by SimPy itself.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, cast

import simpy
from simpy.events import NORMAL

# SimPy's queue as this module uses it: entries whose last item is an event or a plain call.
Queue = list[tuple[float, int, int, Any]]


class CaseloadEnvironment(simpy.Environment):
    """A ``simpy.Environment`` that can also schedule plain calls (:meth:`call_later`)."""

    def __init__(self) -> None:
        super().__init__()
        self._entries = cast(Queue, self._queue)  # the same list, typed for both kinds

    @property
    def now(self) -> float:
        """The current simulation time (as SimPy's; compiled, reading it needs no Python call)."""
        return self._now

    def call_later(self, delay: float, action: Callable[..., None], *args: Any) -> None:
        """Call ``action(*args)`` after ``delay`` (one queue entry: no event object)."""
        heappush(self._entries, (self._now + delay, NORMAL, next(self._eid), (action, args)))

    def step(self) -> None:
        """Process the next entry: a plain call here, an ordinary event by SimPy."""
        queue = self._entries
        if queue and type(queue[0][3]) is tuple:
            self._now, _, _, (action, args) = heappop(queue)
            action(*args)
            return
        super().step()

    def run_until_processed(self, until: simpy.Event) -> None:
        """Step until ``until`` has been processed (the loop of :meth:`simpy.Environment.run`
        with the plain calls dispatched inline, which is where a run spends its events)."""
        queue = self._entries
        simpy_step = super().step
        while not until.processed:
            if not queue:
                raise RuntimeError(f"no events left before {until!r} was processed")
            when, _, _, entry = queue[0]
            if type(entry) is tuple:
                heappop(queue)
                self._now = when
                entry[0](*entry[1])
            else:
                simpy_step()

    def discard_pending(self) -> None:
        """Drop everything still queued (a run that is over).

        An event waiting in the queue holds, in its callbacks, the process waiting for it,
        which holds the event: a reference cycle that only the cyclic garbage collector could
        free. Emptying the callbacks and the queue lets reference counting free a finished run.
        """
        for entry in self._entries:
            item = entry[3]
            if type(item) is not tuple and item.callbacks:
                item.callbacks.clear()
        self._entries.clear()
