"""Work plans and their follow-ups (arbetsplan, uppföljning): when a plan moves a case.

A case held in its assessed class is followed up every ``interval_days[class]``. At each
follow-up it progresses one class (A->B, B->C) with probability ``progress_share[class]``; a C
case goes back to a social worker (need B) with probability ``deviation_share``. Follow-ups
that change nothing change no state: only the one that changes the class is scheduled (a
geometric number of intervals ahead); the staff time of the others is accounted from the time
cases spend in each class (:mod:`sim.model.ledger`).
"""

from __future__ import annotations

import math
from math import log1p
from typing import Final

from ..inputs.parameters import FollowUp
from .household import Household, Need

# Final aliases: compiled, each is a C global; an imported name is a dictionary lookup per use.
_log1p: Final = log1p

NEXT_NEED: dict[str, Need] = {"a": "b", "b": "c", "c": "b"}
"""The need a follow-up that changes the class moves a case to: progress A->B, B->C;
deviation C->B."""


class WorkPlans:
    """The follow-up tables of one run, looked up once."""

    def __init__(self, follow_up: FollowUp) -> None:
        self.change_share = {
            "a": follow_up.progress_share.a,
            "b": follow_up.progress_share.b,
            "c": follow_up.deviation_share,
        }
        self.interval = {k: getattr(follow_up.interval_days, k) for k in ("a", "b", "c")}

    def plan(self, hh: Household, now: float) -> None:
        """Set the day of the follow-up at which the plan moves the case (inf: none): one
        draw per stay in a class, from the household's spare uniforms."""
        hh.follow_up_day = math.inf  # any pending change belonged to the old holding
        held = hh.held
        if held != hh.need or held not in self.change_share:
            return
        share = self.change_share[held]
        if share <= 0:
            return
        u = hh.fresh_uniform()
        n = 1 if share >= 1 else math.ceil(_log1p(-u) / _log1p(-share))
        hh.follow_up_day = now + n * self.interval[held]
