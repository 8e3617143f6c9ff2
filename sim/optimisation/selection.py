"""Ranking and selection: choose the best of a few alternatives with a stated probability.

The procedure is **KN++**, the fully sequential indifference-zone procedure of Kim & Nelson
(S.-H. Kim and B. L. Nelson, "A fully sequential procedure for indifference-zone selection in
simulation", ACM TOMACS 11(3), 2001: procedure KN) with the variance updating of KN++ (Kim &
Nelson, "On the asymptotic validity of fully sequential selection procedures for steady-state
simulation", Operations Research 54(3), 2006). Given k alternatives, an indifference zone δ
and a probability 1 − α, it takes n0 replications of each, then one more of each surviving
alternative at a time, and eliminates alternative i as soon as its mean falls clearly below
another's:

    X̄_i(r) < X̄_l(r) − W_il(r),   W_il(r) = max(0, δ / (2r) · (h² S²_il(r) / δ² − r))

where S²_il(r) is the sample variance of the r paired differences X_i − X_l (so common random
numbers, which make the differences less noisy, shorten the procedure), β = 1 − (1 − α)^(1/(k−1))
(the per-pair error of KN++), and h² = (r − 1)·((2β)^(−2/(r−1)) − 1), the KN constant 2η(n0 − 1)
recomputed with the r − 1 degrees of freedom of the updated variances. If the best mean exceeds
every other by at least δ, the survivor is the best with probability at least 1 − α (KN's
guarantee for normal data; with the updated variances it holds as δ shrinks, and the tests
check it empirically); otherwise the survivor is within δ of the best with that probability.

The procedure maximises; pass the negated values to minimise. Observations come from a
callback, so that this module knows nothing of the model: ``observe(systems, start, stop)``
returns, for each system asked, its observations of replications ``start`` to ``stop − 1``.
A cap on the replications ends the procedure with the best mean of those left, and says that
the guarantee was not reached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Observe = Callable[[Sequence[int], int, int], np.ndarray]
"""``observe(systems, start, stop)``: an array of shape (len(systems), stop − start)."""


@dataclass(frozen=True)
class Selection:
    """What the procedure chose and how sure it is."""

    chosen: int  # index of the chosen alternative
    probability: float  # 1 − α asked
    indifference_zone: float
    guaranteed: bool  # False: stopped at the cap with several alternatives left
    replications: tuple[int, ...]  # observations used, per alternative
    eliminated_at: tuple[int | None, ...]  # the stage r it was eliminated at (None: survived)
    means: tuple[float, ...]  # each alternative's mean over its observations used


def kn_constant(alpha: float, k: int, dof: int) -> float:
    """h² of KN++ with ``dof`` degrees of freedom of the variances (r − 1 at stage r)."""
    beta = 1 - (1 - alpha) ** (1 / (k - 1))
    return float(dof * ((2 * beta) ** (-2 / dof) - 1))


def kn_plus_plus(
    observe: Observe,
    k: int,
    *,
    indifference_zone: float,
    probability: float = 0.95,
    first_stage: int = 10,
    max_replications: int = 200,
    batch: int = 1,
) -> Selection:
    """Select the alternative with the largest mean among ``k`` (see the module's docstring).

    ``batch`` replications of every survivor are asked at a time (to keep parallel workers
    busy); the eliminations are still checked after every single replication, in order, so
    the decision is the procedure's own and a batch only costs replications not needed.
    """
    if k < 1:
        raise ValueError("no alternatives to select from")
    if not indifference_zone > 0:
        raise ValueError("the indifference zone must be above 0")
    if not 0.5 < probability < 1:
        raise ValueError("the probability of correct selection must be between 0.5 and 1")
    if first_stage < 2 or max_replications < first_stage:
        raise ValueError("need first_stage >= 2 and max_replications >= first_stage")
    if k == 1:
        data = np.asarray(observe([0], 0, first_stage), float)
        return Selection(
            0,
            probability,
            indifference_zone,
            True,
            (first_stage,),
            (None,),
            (float(data[0].mean()),),
        )
    alpha, delta = 1 - probability, indifference_zone
    obs: list[list[float]] = [[] for _ in range(k)]
    first = np.asarray(observe(list(range(k)), 0, first_stage), float)
    for i in range(k):
        obs[i].extend(first[i].tolist())
    alive = list(range(k))
    eliminated: list[int | None] = [None] * k
    used = [first_stage] * k
    r = first_stage
    while True:
        while len(alive) > 1 and all(len(obs[i]) >= r for i in alive):
            alive = _survivors(obs, alive, r, alpha, k, delta)
            for i in range(k):
                if eliminated[i] is None and i not in alive:
                    eliminated[i], used[i] = r, r
            if len(alive) == 1 or r >= max_replications:
                break
            r += 1
        if len(alive) == 1 or r >= max_replications:
            break
        start = len(obs[alive[0]])
        stop = min(start + batch, max_replications)
        more = np.asarray(observe(alive, start, stop), float)
        for row, i in zip(more, alive, strict=True):
            obs[i].extend(row.tolist())
    for i in alive:
        used[i] = r
    means = tuple(float(np.mean(obs[i][: used[i]])) for i in range(k))
    chosen = max(alive, key=lambda i: means[i])
    return Selection(
        chosen, probability, delta, len(alive) == 1, tuple(used), tuple(eliminated), means
    )


def _survivors(
    obs: list[list[float]], alive: list[int], r: int, alpha: float, k: int, delta: float
) -> list[int]:
    """Those of ``alive`` not eliminated at stage ``r`` (their first r observations)."""
    h2 = kn_constant(alpha, k, r - 1)
    data = {i: np.asarray(obs[i][:r]) for i in alive}
    means = {i: float(data[i].mean()) for i in alive}
    keep = []
    for i in alive:
        beaten = False
        for other in alive:
            if other == i:
                continue
            s2 = float(np.var(data[i] - data[other], ddof=1))
            w = max(0.0, delta / (2 * r) * (h2 * s2 / delta**2 - r))
            if means[i] < means[other] - w:
                beaten = True
                break
        if not beaten:
            keep.append(i)
    return keep  # never empty: the largest mean cannot be beaten


def probability_of_being_best(values: np.ndarray) -> np.ndarray:
    """For a (draws × alternatives) array of means (larger better): the share of draws in
    which each alternative is the best; ties share the draw."""
    values = np.asarray(values, float)
    out = np.zeros(values.shape[1])
    for row in values:
        finite = np.where(np.isnan(row), -math.inf, row)
        best = np.flatnonzero(finite == finite.max())
        out[best] += 1 / len(best)
    return out / len(values)
