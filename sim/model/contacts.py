"""Contacts and screening (seed 004): people phone intake; screening books some as new cases.

All contacts of a run are drawn up front from the contacts stream, by district and barrier at
rates moved by unemployment, so they do not depend on anything staff do (common random
numbers). Contacts not booked change no state: they are counted per month, not simulated.
Each booked contact is one timed call whose handler books the next, a chain, not a process.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np

from ..domain import BARRIERS, DAYS_PER_YEAR, Barrier
from ..engine import CaseloadEnvironment
from ..inputs.parameters import ModelParameters
from ..inputs.scenario import Behaviour, Organisation, Unemployment
from ..streams import Streams
from .economy import FloatArray, contact_multiplier
from .household import (
    INTAKE_DURATIONS,
    N_INTAKE_DURATIONS,
    N_UNIFORMS,
    U_DROPOUT,
    U_REJECT,
    U_SHORT,
)

_BARRIERS: Final = BARRIERS  # compiled, a C global: no dictionary lookup per arrival

# (array[float] quoted: not subscriptable at run time before Python 3.12)
ArriveCallback = Callable[[int, Barrier, "array[float]", "array[float]"], None]
"""Called with a booked contact's district, barrier, uniforms and intake durations."""


def generate_contacts(
    params: ModelParameters,
    organisation: Organisation,
    unemployment_path: Unemployment,
    unemployment: FloatArray,
    streams: Streams,
    days: int,
    behaviour: Sequence[tuple[int, Behaviour]] = (),
) -> tuple[FloatArray, np.ndarray, np.ndarray]:
    """All contacts of the run (times, district and barrier indices), in time order.
    ``behaviour``: the stated behaviour in force from each day on (its contact multipliers).

    Each barrier group of each district draws its daily counts and their times within the day
    from streams of its own (``contacts`` and ``contact_times``, keyed by their indices): a
    stated change of one group's contacts from a date leaves every other group's contacts, and
    this group's before the date, as they were."""
    c = params.contacts
    district_share = np.array([d.contact_share for d in organisation.districts], dtype=float)
    district_share /= district_share.sum()
    per_day = c.per_year * organisation.contacts_scale / DAYS_PER_YEAR
    unemployment = unemployment[:days]
    times_list, district_list, barrier_list = [], [], []
    for b_index, barrier in enumerate(BARRIERS):
        mult = contact_multiplier(
            unemployment, unemployment_path.reference_percent, c.unemployment_elasticity[barrier]
        )
        stated = np.ones(days)
        for day, in_force in behaviour:  # in date order: each holds until the next
            stated[max(day, 0) :] = in_force.contacts(barrier)
        rate = per_day * c.barrier_shares[barrier] * mult * stated
        for d_index, share in enumerate(district_share):
            counts = streams.get("contacts", b_index, d_index).poisson(rate * share)
            day_of = np.repeat(np.arange(days), counts)
            within_day = streams.get("contact_times", b_index, d_index).random(day_of.size)
            times_list.append(day_of + within_day)
            district_list.append(np.full(day_of.size, d_index))
            barrier_list.append(np.full(day_of.size, b_index))
    times = np.concatenate(times_list)
    order = np.argsort(times, kind="stable")
    times = times[order]
    districts = np.concatenate(district_list)[order]
    barriers = np.concatenate(barrier_list)[order]
    return times, districts, barriers


def intake_durations(
    params: ModelParameters, uniforms: np.ndarray, barriers: np.ndarray
) -> np.ndarray:
    """Intake durations of many households at once (rows of uniforms, barrier indices): one
    vectorised inverse-CDF call per duration rather than one scalar draw per household.

    Each duration is worked out only for the households whose path can reach it, as the
    household's own uniforms decide (:class:`~sim.model.pathway.Pathway`: drop-out at booking
    and after the first visit, rejection and short need at the decision); the others are NaN
    and never read. About half of the values are needed, and a gamma quantile is costly.
    """
    ip = params.intake
    dropout = uniforms[:, U_DROPOUT] < ip.dropout_share
    stays = ~dropout
    decided = stays & (uniforms[:, U_REJECT] >= ip.rejected_share)
    short_share = np.array([ip.short_need_share[b] for b in BARRIERS])[barriers]
    short = decided & (uniforms[:, U_SHORT] < short_share)
    every = np.ones(len(uniforms), dtype=bool)
    reached = {  # which households' paths read each duration
        "dropout_days": dropout,
        "first_visit_work_days": every,
        "investigation_days": stays,
        "short_need_days": short,
        "transfer_days": decided & ~short,  # whatever the organisation's form (it may change)
    }
    days = np.full((len(uniforms), len(INTAKE_DURATIONS)), np.nan)
    for j, (name, k) in enumerate(INTAKE_DURATIONS):
        rows = reached[name]
        days[rows, j] = getattr(ip, name).ppf(uniforms[rows, k])
    return days


CHUNK: Final = 4096
"""Booked contacts whose draws are made at a time, as the chain of arrivals reaches them."""


class BookedArrivals:
    """The booked contacts of a run (a city run books 234 000) and the chain of timed calls
    that brings them in.

    Their uniforms and intake durations are drawn a chunk at a time as the chain reaches them,
    and a chunk is dropped once its households have arrived, so that the draws of the whole
    horizon are never held at once (about 8 MB per simulated year at city scale). A generator
    draws the same numbers in chunks as at once, so the households are the same."""

    def __init__(self, env: CaseloadEnvironment, arrive: ArriveCallback) -> None:
        self.clock = env.clock
        self.arrive = arrive
        self.params: ModelParameters | None = None
        self.households: np.random.Generator | None = None
        self.times = np.empty(0)
        self.districts = np.empty(0, dtype=np.int64)
        self.barriers = np.empty(0, dtype=np.int64)
        self.count = 0
        self.next_index = 0  # the next booked contact to arrive
        self.chunk_start = 0  # the index of the chunk's first booked contact
        # the chunk's draws; a household's row is sliced out when it arrives (rows made up
        # front for the whole chunk cost a baseline replication about 4 %: docs/performance.md,
        # "Memory against the horizon")
        self.chunk_times: list[float] = []
        self.chunk_districts: list[int] = []
        self.chunk_barriers: list[int] = []
        self.chunk_uniforms: array[float] = array("d")  # row after row
        self.chunk_intake_days: array[float] = array("d")

    def start(
        self,
        params: ModelParameters,
        contacts: tuple[FloatArray, np.ndarray, np.ndarray],
        screening: np.random.Generator,
        households: np.random.Generator,
    ) -> None:
        """Screen the contacts (the ``screening`` stream); the booked households' uniforms are
        drawn from the ``households`` stream in chunks. Schedule the first arrival."""
        times, districts, barriers = contacts
        booked = np.flatnonzero(screening.random(times.size) < params.intake.booked_share)
        self.params, self.households = params, households
        self.times, self.districts = times[booked], districts[booked]
        self.barriers = barriers[booked]
        self.count = booked.size
        self.next_index = 0
        self.chunk_start = 0
        self._draw_chunk(0)
        if self.count:
            self.clock.call_later_1(self.chunk_times[0] - self.clock.now, _ARRIVE, self)

    def _draw_chunk(self, start: int) -> None:
        """Draw the uniforms and intake durations of the booked contacts from ``start``."""
        assert self.params is not None and self.households is not None
        stop = min(start + CHUNK, self.count)
        uniforms = self.households.random((stop - start, N_UNIFORMS))
        barriers = self.barriers[start:stop]
        self.chunk_start = start
        self.chunk_times = self.times[start:stop].tolist()
        self.chunk_districts = self.districts[start:stop].tolist()
        self.chunk_barriers = barriers.tolist()
        self.chunk_uniforms = array("d", uniforms.tobytes())
        self.chunk_intake_days = array(
            "d", intake_durations(self.params, uniforms, barriers).tobytes()
        )

    def _arrive(self) -> None:
        """The next booked contact arrives; the one after it is scheduled."""
        i = self.next_index
        self.next_index = i + 1
        k = i - self.chunk_start
        self.arrive(
            self.chunk_districts[k],
            _BARRIERS[self.chunk_barriers[k]],
            self.chunk_uniforms[k * N_UNIFORMS : (k + 1) * N_UNIFORMS],
            self.chunk_intake_days[k * N_INTAKE_DURATIONS : (k + 1) * N_INTAKE_DURATIONS],
        )
        if i + 1 < self.count:
            if k + 1 == len(self.chunk_times):
                self._draw_chunk(i + 1)
                k = -1
            self.clock.call_later_1(self.chunk_times[k + 1] - self.clock.now, _ARRIVE, self)


# Handlers queued unbound, with their object as first argument: compiled, naming a bound method
# (self._arrive) makes a new method object through attribute lookup at every call queued.
_ARRIVE: Final = BookedArrivals._arrive
