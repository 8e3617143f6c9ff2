"""Posterior by an emulator: a quadratic surrogate of the model, a Gaussian likelihood and
importance sampling (a synthetic-likelihood method; Wood 2010, Price et al. 2018).

Why not ABC alone: each particle of ABC-SMC is one simulation, and in 16 dimensions with a
noisy model the acceptance rate falls so fast that a 15-minute budget stops the tolerance far
above the noise (measured: tolerance 74 against a point-fit distance of 15, ESS 85 of 150).
Here every simulation informs the whole posterior instead of being accepted or rejected:

1. **Design**, in stages. Stage 1 spreads points over the prior box (a Latin hypercube);
   each later stage draws its points around the previous stage's posterior (its weighted mean
   and twice its standard deviations, four times its covariance, inside the box). Each point
   is one replication with a seed of its own, so its figures carry the model's noise.
2. **Emulator**: per compared KPI, a quadratic polynomial in the (scaled) parameters, fitted by
   least squares to the last two stages' points. Its residuals, a mix of the model's noise and
   what a quadratic misses, give a covariance ``C`` between the KPIs.
3. **Likelihood**: a reported figure ``y`` with its stated standard deviation ``s`` (a range:
   flat inside, its quarter outside, as the distance has it) against the emulator's mean
   ``m(θ)``: ``log L = -½ rᵀ (S + C)⁻¹ r`` with ``r`` each target's gap to ``m`` and
   ``S = diag(s²)``: the reported uncertainty and one replication's noise, as in the ABC
   distance.
4. **Sampling** on the emulator, where a draw costs microseconds: adaptive importance sampling
   with a Student-t proposal refitted to the weighted draws, tempered (``L^β``, β raised to 1
   while keeping the effective sample size up) from the prior box; it stops when β = 1 and the
   effective sample size (Kish) of the last round is at least ``ess_target``. Draws whose
   parameter set is invalid (the prior is zero there) are dropped.

The result is checked against the model itself, not the emulator: the fit report's posterior
predictive runs the model at posterior draws, and ``fit_report.tolerance_check`` sets its
distance against the point fit's (its replications: the model's noise and the point's own
misfit), the yardstick for the posterior's.

Resumable: each stage's simulated points are stored in the work folder as they finish, keyed
by their exact coordinates; a run with the same settings recomputes the same design and runs
only the points not stored.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiments.runner import run_scenarios
from ..inputs.validation import InputError
from .point_fit import open_work_folder, settings_fingerprint
from .spec import CalibrationProblem, target_sd

#: points simulated per stage: the prior box, then twice around the posterior so far
DEFAULT_STAGES = (500, 700, 700)

#: importance draws per sampling round on the emulator
DRAWS_PER_ROUND = 40_000

#: draws kept in the posterior sample (resampled by weight, so all weigh the same)
KEPT = 2_000

#: seeds of the design points: the targets' scenario seed plus this, plus the point's number
SEED_OFFSET = 100_000


@dataclasses.dataclass
class EmulatorPosterior:
    """The posterior sample, how each stage went, and what it cost."""

    sample: pd.DataFrame  # parameter values by path and "weight" (equal after resampling)
    diagnostics: pd.DataFrame  # per stage: points, emulator fit, sampling, ESS
    simulations: int
    wall_seconds: float
    stopped_by: str
    design: pd.DataFrame  # every simulated point: stage, parameters (search space), KPIs
    converged: bool  # the last sampling reached exponent 1 with the effective sample size asked


EMULATOR_FORMS = {1: "linear", 2: "quadratic"}
"""What :class:`Quadratic` fitted, by degree (the diagnostics' ``emulator`` column)."""


class Quadratic:
    """Least-squares quadratic surfaces, one per output, over a box scaled to [0, 1]; linear
    where there are too few points for a quadratic (fewer than twice its terms), so that the
    residuals still measure the noise rather than vanish into an interpolation."""

    def __init__(self, low: np.ndarray, high: np.ndarray) -> None:
        self.low, self.span = low, high - low
        self.degree = 2

    @staticmethod
    def terms(dimensions: int, degree: int) -> int:
        return 1 + dimensions + (dimensions * (dimensions + 1) // 2 if degree == 2 else 0)

    def features(self, x: np.ndarray) -> np.ndarray:
        u = (np.atleast_2d(x) - self.low) / self.span
        n, d = u.shape
        if self.degree == 1:
            return np.hstack([np.ones((n, 1)), u])
        i, j = np.triu_indices(d)
        return np.hstack([np.ones((n, 1)), u, u[:, i] * u[:, j]])

    def fit(self, x: np.ndarray, y: np.ndarray) -> Quadratic:
        d = len(self.low)
        self.degree = 2 if len(x) >= 2 * self.terms(d, 2) else 1
        if len(x) < 2 * self.terms(d, 1):
            raise InputError.single(
                "calibrate",
                "--stages",
                f"{len(x)} simulated points cannot fit an emulator of {d} parameters (at least "
                f"{2 * self.terms(d, 1)}; {2 * self.terms(d, 2)} for a quadratic): give larger "
                "stages or a larger --budget-minutes",
            )
        f = self.features(x)
        # a little ridge keeps the fit stable where a stage's points are close together
        gram = f.T @ f + 1e-8 * len(f) * np.eye(f.shape[1])
        self.coef = np.linalg.solve(gram, f.T @ y)
        self.residuals = y - f @ self.coef
        self.residual_dof = len(x) - f.shape[1]
        return self

    def residual_covariance(self) -> np.ndarray:
        """The residuals' covariance, corrected for the terms fitted (n − p degrees of
        freedom): the noise and the misfit the likelihood adds to the reported uncertainty."""
        r = self.residuals - self.residuals.mean(axis=0)
        return np.asarray(np.atleast_2d(r.T @ r) / self.residual_dof)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.features(x) @ self.coef)


@dataclasses.dataclass
class _Likelihood:
    """Each compared target's reported figure against the emulator's mean."""

    low: np.ndarray  # range ends (both the reported value for a figure with an sd)
    high: np.ndarray
    precision: np.ndarray  # (S + C)^-1

    def log(self, mean: np.ndarray) -> np.ndarray:
        gap = np.where(mean < self.low, mean - self.low, 0.0)
        gap = np.where(mean > self.high, mean - self.high, gap)
        return np.asarray(-0.5 * np.einsum("ni,ij,nj->n", gap, self.precision, gap))


def _likelihood(problem: CalibrationProblem, emulator: Quadratic) -> _Likelihood:
    targets = problem.compared
    low = np.array([t.range[0] if t.range else t.value for t in targets], dtype=float)
    high = np.array([t.range[1] if t.range else t.value for t in targets], dtype=float)
    reported = np.diag([target_sd(t) ** 2 for t in targets])
    noise = emulator.residual_covariance()
    return _Likelihood(low, high, np.linalg.inv(reported + noise))


def _ess(weights: np.ndarray) -> float:
    total = weights.sum()
    return float(total * total / np.sum(weights * weights)) if total > 0 else 0.0


def _t_draws(
    rng: np.random.Generator, mean: np.ndarray, cov: np.ndarray, n: int, df: float = 10.0
) -> tuple[np.ndarray, np.ndarray]:
    """Student-t draws and their log density (up to a constant shared by all draws)."""
    chol = np.linalg.cholesky(cov)
    z = rng.standard_normal((n, len(mean)))
    scale = np.sqrt(df / rng.chisquare(df, size=n))
    x = mean + (z * scale[:, None]) @ chol.T
    solved = np.linalg.solve(chol, (x - mean).T).T
    log_q = -0.5 * (df + len(mean)) * np.log1p(np.sum(solved**2, axis=1) / df)
    return x, log_q


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = w / w.sum()
    mean = w @ x
    centred = x - mean
    cov = (centred * w[:, None]).T @ centred
    return mean, cov + 1e-12 * np.eye(len(mean))


def _to_box(z: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.asarray(low + (high - low) / (1.0 + np.exp(-z)))


def _log_prior(z: np.ndarray) -> np.ndarray:
    """The uniform prior on the box, as a density of the logits (its Jacobian)."""
    return np.asarray(-np.sum(np.logaddexp(0.0, z) + np.logaddexp(0.0, -z), axis=1))


def sample_posterior(
    emulator: Quadratic,
    likelihood: _Likelihood,
    low: np.ndarray,
    high: np.ndarray,
    rng: np.random.Generator,
    *,
    ess_target: float = 300.0,
    draws: int = DRAWS_PER_ROUND,
    max_rounds: int = 200,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Tempered adaptive importance sampling of prior box × likelihood on the emulator: draws,
    normalised weights and how it went. It works on each parameter's logit within the box
    (a proposal cut off at the box's faces would waste most draws in 16 dimensions). Round 0
    draws from the prior itself; each later round from a Student-t fitted to the last round's
    weighted draws, at the highest β (≤ 1) that keeps the effective sample size at a twentieth
    of the draws at least."""
    u = rng.random((draws, len(low)))
    z = np.log(u) - np.log1p(-u)
    log_q = _log_prior(z)  # round 0 draws from the prior: weights are the likelihood's
    beta, rounds = 0.0, 0
    while True:
        log_like = likelihood.log(emulator.predict(_to_box(z, low, high)))
        log_target = _log_prior(z)
        beta = _next_beta(log_like, log_q - log_target, beta, draws / 20)
        log_w = beta * log_like + log_target - log_q
        w = np.exp(log_w - np.max(log_w))
        rounds += 1
        ess = _ess(w)
        if (beta >= 1.0 and ess >= ess_target) or rounds >= max_rounds:
            break
        mean, cov = _weighted_moments(z, w)
        # a wider proposal is safer but in 16 dimensions costs its width to the 16th power
        z, log_q = _t_draws(rng, mean, 1.2**2 * cov, draws)
    converged = beta >= 1.0 and ess >= ess_target
    stop = "ESS reached at beta = 1" if converged else f"round limit at beta = {beta:.3g}"
    info = {"rounds": rounds, "beta": beta, "ess": ess, "stopped_by": stop, "converged": converged}
    return _to_box(z, low, high), w / w.sum(), info


def _next_beta(log_like: np.ndarray, log_q: np.ndarray, beta: float, ess_floor: float) -> float:
    """The largest tempering exponent in [beta, 1] whose weights keep ``ess_floor``."""

    def ess_at(b: float) -> float:
        log_w = b * log_like - log_q
        finite = np.isfinite(log_w)
        if not finite.any():
            return 0.0
        w = np.exp(log_w[finite] - log_w[finite].max())
        return _ess(w)

    if ess_at(1.0) >= ess_floor:
        return 1.0
    lo, hi = beta, 1.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        if ess_at(mid) >= ess_floor:
            lo = mid
        else:
            hi = mid
    # where even ``beta`` falls short the exponent stays: the next round refits the proposal
    # at it (crawling upwards regardless would leave a tempered likelihood, not the posterior)
    return lo


def _stage_points(
    stage: int,
    size: int,
    low: np.ndarray,
    high: np.ndarray,
    previous: tuple[np.ndarray, np.ndarray] | None,
    seed: int,
) -> np.ndarray:
    """Stage 1: a Latin hypercube over the box; later: around the posterior so far."""
    rng = np.random.default_rng([seed, stage])
    if previous is None:
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(low), seed=rng).random(size)
        return np.asarray(low + (high - low) * unit)
    mean, cov = previous
    chosen: list[np.ndarray] = []
    while sum(len(c) for c in chosen) < size:
        x = rng.multivariate_normal(mean, 2.0**2 * cov, size=4 * size)
        chosen.append(x[np.all((x >= low) & (x <= high), axis=1)])
    return np.asarray(np.vstack(chosen)[:size])


def _simulate(
    problem: CalibrationProblem,
    points: np.ndarray,
    seeds: np.ndarray,
    workers: int | None,
    cluster: str | None = None,
) -> np.ndarray:
    """The compared KPIs of one replication at each point, with its own seed (NaN where the
    parameter set is invalid)."""
    kpis = [t.kpi for t in problem.compared]
    out = np.full((len(points), len(kpis)), np.nan)
    runnable, rows = [], []
    for i, (x, seed) in enumerate(zip(points, seeds, strict=True)):
        try:
            values = problem.values(x.tolist())
            runnable.append(problem.scenario(values, replications=1, seed=int(seed)))
            rows.append(i)
        except InputError:
            continue
    results = run_scenarios(runnable, workers=workers, cluster=cluster)
    for i, result in zip(rows, results, strict=True):
        record = result.per_replication.iloc[0]
        out[i] = [float(record[k]) for k in kpis]
    return out


def _key(x: np.ndarray) -> str:
    return ",".join(float(v).hex() for v in x)


def _stored(path: Path, points: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The KPIs simulated before at these very points (NaN rows, not done, where not)."""
    out = np.full((len(points), width), np.nan)
    done = np.zeros(len(points), dtype=bool)
    if path.exists():
        table = pd.read_csv(path)
        rows = table.drop(columns="key").to_numpy(float)
        stored = dict(zip(table["key"], rows, strict=True))
        for i, x in enumerate(points):
            row = stored.get(_key(x))
            if row is not None:
                out[i], done[i] = row, True
    return out, done


def emulator_posterior(
    problem: CalibrationProblem,
    work: Path,
    *,
    stages: tuple[int, ...] = DEFAULT_STAGES,
    batch: int = 100,
    ess_target: float = 300.0,
    budget_seconds: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    fresh: bool = False,
) -> EmulatorPosterior:
    """The spec's posterior by a quadratic emulator and importance sampling (resumable)."""
    started = time.monotonic()
    seed = problem.resolved.scenario.seed if seed is None else seed
    settings = {"method": "emulator", "stages": list(stages), "seed": seed, "ess": ess_target}
    open_work_folder(work, settings_fingerprint(problem, settings), fresh=fresh)
    low = np.array([b[0] for b in problem.bounds], dtype=float)
    high = np.array([b[1] for b in problem.bounds], dtype=float)
    kpis = [t.kpi for t in problem.compared]
    designs: list[tuple[np.ndarray, np.ndarray]] = []
    rows, stopped_by, simulations = [], "stages done", 0
    previous: tuple[np.ndarray, np.ndarray] | None = None
    draws = weights = np.empty(0)
    info: dict[str, Any] = {}
    for stage, size in enumerate(stages):
        points = _stage_points(stage, size, low, high, previous, seed)
        store = work / f"emulator_stage_{stage + 1}.csv"
        values, done = _stored(store, points, len(kpis))
        first_seed = seed + SEED_OFFSET + sum(stages[:stage])
        for start in range(0, size, batch):
            todo = [i for i in range(start, min(start + batch, size)) if not done[i]]
            if not todo:
                continue
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                stopped_by = "time budget"
                break
            seeds = first_seed + np.asarray(todo)  # point i's seed, whenever it is run
            values[todo] = _simulate(problem, points[todo], seeds, workers, cluster)
            simulations += len(todo)
            done[todo] = True
            keys = [_key(x) for x in points[done]]
            partial = store.with_suffix(".csv.partial")  # whole or not at all, if killed
            pd.DataFrame(values[done], columns=kpis).assign(key=keys).to_csv(partial, index=False)
            partial.replace(store)
        valid = done & np.all(np.isfinite(values), axis=1)
        if not valid.any() and previous is not None:
            break  # the budget ran out before this stage ran a point: the last posterior stands
        designs.append((points[valid], values[valid]))
        recent = designs[-2:]
        x = np.vstack([d[0] for d in recent])
        y = np.vstack([d[1] for d in recent])
        emulator = Quadratic(low, high).fit(x, y)
        likelihood = _likelihood(problem, emulator)
        rng = np.random.default_rng([seed, stage, 1])
        draws, weights, info = sample_posterior(
            emulator, likelihood, low, high, rng, ess_target=ess_target
        )
        previous = _weighted_moments(draws, weights)
        rows.append(_stage_row(stage, int(valid.sum()), len(x), emulator, y, info))
        if stopped_by == "time budget":
            break
    sample = _kept_sample(problem, draws, weights, np.random.default_rng([seed, 99]))
    design = pd.concat(
        [
            pd.DataFrame(np.hstack(d), columns=[*problem.names, *kpis]).assign(stage=k + 1)
            for k, d in enumerate(designs)
        ],
        ignore_index=True,
    )
    return EmulatorPosterior(
        sample=sample,
        diagnostics=pd.DataFrame(rows),
        simulations=simulations,
        wall_seconds=time.monotonic() - started,
        stopped_by=f"{stopped_by}; sampling: {info.get('stopped_by', 'not run')}",
        design=design,
        converged=bool(info.get("converged", False)),
    )


def _stage_row(
    stage: int, points: int, fitted: int, emulator: Quadratic, y: np.ndarray, info: dict[str, Any]
) -> dict[str, Any]:
    """One stage in the diagnostics: its points, the emulator's fit (quadratic, or linear where
    the points were too few for a quadratic; the share of each KPI's variance over the design
    that it explains, lowest and median), the sampling."""
    explained = 1.0 - emulator.residuals.var(axis=0) / np.maximum(y.var(axis=0), 1e-300)
    return {
        "stage": stage + 1,
        "points": points,
        "fitted_on": fitted,
        "emulator": EMULATOR_FORMS[emulator.degree],
        "r2_min": float(explained.min()),
        "r2_median": float(np.median(explained)),
        "sampling_rounds": info["rounds"],
        "beta": info["beta"],
        "effective_sample_size": info["ess"],
    }


def _kept_sample(
    problem: CalibrationProblem, draws: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """``KEPT`` draws resampled by weight (systematic), in parameter units, invalid sets
    dropped (the prior is zero there), each weighing the same."""
    positions = (rng.random() + np.arange(KEPT)) / KEPT
    index = np.minimum(np.searchsorted(np.cumsum(weights), positions), len(weights) - 1)
    rows = []
    for x in draws[index]:
        values = problem.values(x.tolist())
        try:
            problem.parameters(values)
        except InputError:
            continue
        rows.append(values)
    sample = pd.DataFrame(rows)
    sample["weight"] = 1.0 / max(len(sample), 1)
    return sample
