"""Exit hazards: when, and by which cause, an ongoing case would close (avslutsorsak).

A household's competing exit risks are unit-exponential clocks drawn at its arrival. Each
clock runs down at its cause's hazard: the barrier's base rate, times the contact of the class
it is worked in (work and studies), the AR programme, youth and the job centre, times a
duration multiplier by band of time on assistance. Duration dependence is integrated across
the bands ahead, so passing a band is not an event; unemployment enters the work hazard through
the economy's shared work clock (:class:`~sim.model.economy.WorkClock`), so a changing economy
reschedules nobody. A case's exit time is worked out when its state changes, and only then.

Delivered contact moves the work and studies hazards: λ = λ₀ · max((r · c_class) ^ γ, w),
with r the share of planned contact its handler delivers now, c_class the class's contact
intensity and w the waiting multiplier (a case its handler has no time for leaves as one
without a handler does; where c_class ^ γ is already below w, as for C at high γ, the class's
own rate holds). Since r ≤ 1 and changes whenever the handler's load does, the clocks run at
the bound λ₀ · c_class ^ γ and a clock that runs out is a candidate exit, taken with
probability max(r ^ γ, min(w / c_class ^ γ, 1)) (times the hand-over multiplier while
continuity is lost) at that moment; otherwise the cause's clock starts afresh
(:meth:`ExitHazards.renew`). This thinning is exact for a piecewise-constant r and costs no
event when a handler's r changes.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from math import log1p
from typing import Final

import numpy as np

from ..domain import BARRIERS, DAYS_PER_MONTH, ONGOING_EXIT_CAUSES, Barrier
from ..inputs.parameters import ModelParameters
from ..inputs.scenario import Behaviour
from .economy import WorkClock
from .household import Household

# Final aliases: compiled, each is a C global; an imported name is a dictionary lookup per use.
_log1p: Final = log1p
_bisect_right: Final = bisect_right

# ``rates`` relies on this order: work and studies first (they depend on the class held).
assert ONGOING_EXIT_CAUSES[:2] == ("work", "studies")


class ExitHazards:
    """The exit-hazard arithmetic of one run: base rates and multipliers looked up once."""

    def __init__(self, params: ModelParameters, work_clock: WorkClock) -> None:
        ex = params.exits
        self.work_clock = work_clock
        # band boundaries in days on assistance
        self.band_bounds = [m * DAYS_PER_MONTH for m in ex.duration_bands_months]
        self.monthly_hazard = ex.monthly_hazard
        self.base_rates: dict[Barrier, list[float]] = {}
        ci, gamma, gamma_unknown = (
            ex.contact_intensity,
            ex.contact_elasticity_work,
            ex.contact_elasticity_unknown,
        )
        w = ex.waiting_multiplier_work
        # at full delivered contact (the bound the clocks run at)
        self.intensity: dict[str, float] = {
            "a": float(ci.a**gamma),
            "b": float(ci.b**gamma),
            "c": float(ci.c**gamma),
            "waiting": w,
            "transfer": w,
        }
        self.unknown_intensity: dict[str, float] = {
            "a": float(ci.a**gamma_unknown),
            "b": float(ci.b**gamma_unknown),
            "c": float(ci.c**gamma_unknown),
            "waiting": 1.0,
            "transfer": 1.0,
        }
        self.elasticity = gamma
        self.elasticity_unknown = gamma_unknown
        # The least the contact factor r ^ γ of the work and studies hazards can be, by class:
        # w / c ^ γ, so that a case whose handler has no time for it (r = 0) leaves for work as
        # a case waiting without a handler does, not never (a handler's time cannot make a case
        # worse off than no handler at all).
        self.contact_floor: dict[str, float] = {
            held: min(w / self.intensity[held], 1.0) if self.intensity[held] > 0 else 1.0
            for held in ("a", "b", "c")
        }
        self.handover_multiplier = ex.handover_exit_multiplier
        self.continuity_days = ex.handover_continuity_months * DAYS_PER_MONTH
        self.duration_multiplier = list(ex.duration_multiplier)
        self.max_duration_multiplier = max(self.duration_multiplier)
        self.programme_multiplier = params.ar_programme.in_programme_exit_multiplier
        self.young_multiplier = ex.young_multiplier
        self.jobcentre_multiplier = ex.jobcentre_multiplier_work
        self.short_cause_cumulative: dict[Barrier, list[float]] = {}
        self.set_behaviour(Behaviour())

    def set_behaviour(self, behaviour: Behaviour) -> None:
        """The base hazards with the stated behaviour's exit multipliers (the caller re-rates
        open cases when they change during a run)."""
        hazards = self.monthly_hazard
        for b in BARRIERS:
            monthly = [hazards[c][b] * behaviour.exits(c, b) for c in ONGOING_EXIT_CAUSES]
            self.base_rates[b] = [h / DAYS_PER_MONTH for h in monthly]
            weights = np.array(monthly) if sum(monthly) > 0 else np.ones(len(monthly))
            self.short_cause_cumulative[b] = (np.cumsum(weights) / weights.sum()).tolist()

    def short_need_cause(self, hh: Household, u: float) -> str:
        """The exit cause of a short need closing at intake (not one-time): in proportion to
        the barrier's ongoing exit hazards in force."""
        k = _bisect_right(self.short_cause_cumulative[hh.barrier], u)
        return ONGOING_EXIT_CAUSES[min(k, len(ONGOING_EXIT_CAUSES) - 1)]

    def exposure(
        self, granted: float, t0: float, g0: float, t1: float, g1: float
    ) -> tuple[float, float]:
        """Exposure from ``t0`` to ``t1`` weighted by the duration multiplier of each band:
        in days (for the other causes) and in work-clock units (for work). ``g0``, ``g1``
        are the work clock at ``t0`` and ``t1``."""
        bounds, mult, clock = self.band_bounds, self.duration_multiplier, self.work_clock
        j = _bisect_right(bounds, t0 - granted)
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

    def rates(self, hh: Household) -> tuple[float, float, float, float, float]:
        """Hazards by cause (work, studies, other benefit, moved, unknown) in the state the
        household is in, per unit of band-weighted exposure (the duration multiplier of the
        band is applied by :meth:`exposure`, so passing a band changes no rate)."""
        base = self.base_rates[hh.barrier]
        d = self.programme_multiplier if hh.programme == "programme" else 1.0
        i = d * self.intensity[hh.held] * (self.young_multiplier if hh.young else 1.0)
        jobcentre = self.jobcentre_multiplier if hh.barrier == "unemployment" else 1.0
        unknown = base[4] * d * self.unknown_intensity[hh.held]
        return (base[0] * i * jobcentre, base[1] * i, base[2] * d, base[3] * d, unknown)

    def acceptance(self, hh: Household, cause_index: int, share: float, now: float) -> float:
        """The chance a candidate exit by this cause is taken now, with ``share`` the
        delivered share of the case's planned contact: r ^ γ for work and studies, but not
        below ``waiting_multiplier_work / c ^ γ`` (:attr:`contact_floor`: a case its handler
        has no time for leaves for work as one waiting without a handler does), times the
        hand-over multiplier while the case is new to its handler; r ^ γ_unknown for unknown;
        1 for the other causes and for cases without a handler."""
        held = hh.held
        if held not in ("a", "b", "c"):
            return 1.0
        if cause_index <= 1:
            f = float(share**self.elasticity) if share < 1.0 else 1.0
            if f < 1.0:
                f = max(f, self.contact_floor[held])
            if now < hh.continuity_until:
                f *= self.handover_multiplier
            return f
        if cause_index == 4 and share < 1.0:
            return float(share**self.elasticity_unknown)
        return 1.0

    def renew(self, hh: Household, cause_index: int, now: float, u: float) -> None:
        """A candidate exit was not taken: that cause's clock starts afresh from ``u`` (a
        uniform), the others run on, and the next exit is worked out."""
        g = self._run_down(hh, now)
        hh.start_exit_clock(cause_index, -_log1p(-u))
        hh.exit_day, hh.exit_cause_index = self._first_exit(hh, now, g)

    def _run_down(self, hh: Household, now: float) -> float:
        """Run the clocks down by the exposure since the last rating, at the rates then; the
        work clock now."""
        g = self.work_clock.at(now)
        if now > hh.rated_day:
            days, work = self.exposure(
                hh.granted_day, hh.rated_day, hh.work_clock_at_rating, now, g
            )
            hh.exit_clock_work -= hh.exit_rate_work * work
            hh.exit_clock_studies -= hh.exit_rate_studies * days
            hh.exit_clock_other_benefit -= hh.exit_rate_other_benefit * days
            hh.exit_clock_moved -= hh.exit_rate_moved * days
            hh.exit_clock_unknown -= hh.exit_rate_unknown * days
        hh.rated_day, hh.work_clock_at_rating = now, g
        return g

    def rate(self, hh: Household, now: float, until: float = -math.inf) -> None:
        """Re-rate the exit clocks: when, and by which cause, the household would leave.

        The clocks first run down by the exposure since the last change at the old rates.

        ``until``: the case will be re-rated by then (a hand-over is due). If no clock can run
        out before it even at the highest duration multiplier, the exit time is not worked
        out now (``exit_day`` is inf until the re-rating): a decided case costs one rating and
        no exit event before its hand-over.
        """
        clock = self.work_clock
        g = self._run_down(hh, now)
        (
            hh.exit_rate_work,
            hh.exit_rate_studies,
            hh.exit_rate_other_benefit,
            hh.exit_rate_moved,
            hh.exit_rate_unknown,
        ) = self.rates(hh)
        if until > now:
            # an upper bound on each clock's exposure before ``until`` (with a margin for
            # rounding): if none reaches its clock, nothing is due before the re-rating
            top, span = self.max_duration_multiplier * (1 + 1e-9), until - now
            if (
                hh.exit_rate_work * top * (clock.at(until) - g) < hh.exit_clock_work
                and hh.exit_rate_studies * top * span < hh.exit_clock_studies
                and hh.exit_rate_other_benefit * top * span < hh.exit_clock_other_benefit
                and hh.exit_rate_moved * top * span < hh.exit_clock_moved
                and hh.exit_rate_unknown * top * span < hh.exit_clock_unknown
            ):
                hh.exit_day, hh.exit_cause_index = math.inf, -1
                return
        hh.exit_day, hh.exit_cause_index = self._first_exit(hh, now, g)

    def _first_exit(self, hh: Household, now: float, g: float) -> tuple[float, int]:
        """The earliest time a clock runs out at the household's rates from ``now``, and its
        cause."""
        granted = hh.granted_day
        first_band = _bisect_right(self.band_bounds, now - granted)
        # The other causes: the least band-weighted exposure any of them needs, in days (the
        # first in cause order among equals).
        need, need_k = _sooner(hh.exit_clock_studies, hh.exit_rate_studies, 1, math.inf, -1)
        need, need_k = _sooner(
            hh.exit_clock_other_benefit, hh.exit_rate_other_benefit, 2, need, need_k
        )
        need, need_k = _sooner(hh.exit_clock_moved, hh.exit_rate_moved, 3, need, need_k)
        need, need_k = _sooner(hh.exit_clock_unknown, hh.exit_rate_unknown, 4, need, need_k)
        best_t, best_k = math.inf, -1
        if need_k >= 0:
            best_t = self._reached(granted, first_band, now, now, need, False, math.inf)
            best_k = need_k if best_t < math.inf else -1
        # Work, on the unemployment-adjusted clock; it wins ties (it was rated first).
        if hh.exit_rate_work > 0:
            need_work = hh.exit_clock_work / hh.exit_rate_work
            t = self._reached(granted, first_band, now, g, need_work, True, best_t)
            if t <= best_t and t < math.inf:
                best_t, best_k = t, 0
        return best_t, best_k

    def _reached(
        self, granted: float, band: int, s: float, x: float, need: float, work: bool, limit: float
    ) -> float:
        """When band-weighted exposure counted from time ``s`` (in band ``band``) reaches
        ``need``; inf if not by ``limit``. ``x`` is the clock exposure is counted on at ``s``:
        the work clock for ``work``, otherwise days (then ``x == s``)."""
        bounds, mult, clock = self.band_bounds, self.duration_multiplier, self.work_clock
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


def _sooner(
    clock: float, rate: float, cause_index: int, need: float, need_k: int
) -> tuple[float, int]:
    """The exposure a clock needs at ``rate`` to run out, with its cause, if less than
    ``need`` (that of ``need_k``); otherwise ``need`` and ``need_k``."""
    if rate > 0:
        x = max(clock, 0.0) / rate
        if x < need:
            return x, cause_index
    return need, need_k
