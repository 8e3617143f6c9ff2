"""The economy: how the unemployment path moves contact rates and exits to work.

Contacts of barrier ``b`` scale as ``(u / u_ref) ** elasticity_b`` (seed 001: the
unemployment-related group is the most sensitive). The hazard of exit to work scales as
``exp(beta * (u - u_ref))`` with ``u`` in percentage points (``beta`` < 0: fewer jobs, fewer exits).

Because that factor is common to every household, the model never reschedules households when
unemployment moves: it keeps a cumulative "work-exposure clock" ``G(t) = integral of the factor``
and inverts it to find when a household's exit clock runs out.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date

import numpy as np
from numpy.typing import NDArray

from ..inputs.scenario import Unemployment

FloatArray = NDArray[np.float64]


def daily_unemployment(path: Unemployment, first_day: date, days: int) -> FloatArray:
    """Unemployment in percent for each simulated day ``0..days`` (inclusive): the path's
    :meth:`~sim.inputs.scenario.Unemployment.percent_at` for every day, segment by segment
    over arrays (the same operations in the same order, so the same floats; a day at a time
    it was most of a replication's set-up)."""
    day = np.arange(days + 1)
    points = path.path
    offsets = [(p.date - first_day).days for p in points]
    out = np.full(days + 1, float(points[-1].percent))  # after the last point: flat
    out[day <= offsets[0]] = points[0].percent  # up to the first point: flat
    for k in range(len(points) - 1):
        start, end = offsets[k], offsets[k + 1]
        low, high = points[k].percent, points[k + 1].percent
        inside = (day > start) & (day <= end)  # each day in the first segment that ends on
        # or after it, as percent_at finds it (the points' dates increase)
        out[inside] = low + ((day[inside] - start) / (end - start)) * (high - low)
    return out


def contact_multiplier(unemployment: FloatArray, reference: float, elasticity: float) -> FloatArray:
    return np.asarray((unemployment / reference) ** elasticity)


class WorkClock:
    """Cumulative work-exit exposure ``G(t)``, piecewise linear over days, and its inverse.

    Kept as Python lists: it is read once per household state change, where numpy scalar
    indexing would cost more than the arithmetic.
    """

    def __init__(self, unemployment: FloatArray, reference: float, semi_elasticity: float) -> None:
        factor = np.exp(semi_elasticity * (unemployment - reference))
        self.factor: list[float] = factor.tolist()
        # G at integer days; the factor of day d applies on [d, d + 1).
        self.cumulative: list[float] = np.concatenate(([0.0], np.cumsum(factor))).tolist()
        self._last_day = len(self.factor)

    def at(self, t: float) -> float:
        """``G(t)``; beyond the horizon the last day's factor continues."""
        if t >= self._last_day:
            return self.cumulative[-1] + (t - self._last_day) * self.factor[-1]
        day = int(t)
        return self.cumulative[day] + (t - day) * self.factor[day]

    def inverse(self, g: float) -> float:
        """The time ``t`` with ``G(t) = g``."""
        if g >= self.cumulative[-1]:
            return self._last_day + (g - self.cumulative[-1]) / self.factor[-1]
        day = bisect_right(self.cumulative, g) - 1
        return day + (g - self.cumulative[day]) / self.factor[day]
