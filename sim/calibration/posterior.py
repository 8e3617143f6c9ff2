"""Posterior: approximate Bayesian computation by sequential Monte Carlo (pyABC).

The prior is uniform over each spec parameter's range (in logs where the spec says
``log_scale``). Each particle is one simulated replication with its own seed, so the model's
stochastic noise is part of what a particle must get past; the distance is the same weighted
sum of squared discrepancies as the point fit's (the stated target uncertainty is the
observation-noise scale). Tolerances shrink generation by generation to the median distance of
the last population (pyABC's quantile epsilon).

pyABC keeps every generation in an SQLite database in the work folder: an interrupted
calibration, called again with the same settings, loads it and continues with the next
generation. Note: which particles the worker processes return first depends on their timing,
so two posterior runs of the same spec are two samples of the same posterior, not the same
numbers; the point fit, the fitted parameter file and every scenario run are exactly
reproducible.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..experiments.runner import run_replication
from ..inputs.validation import InputError
from .point_fit import open_work_folder, settings_fingerprint
from .spec import CalibrationProblem

ABC_DB = "abc.db"


def _pyabc_name(path: str) -> str:
    return path.replace(".", "__")


@dataclasses.dataclass
class Posterior:
    """The last population: parameter values by path, with normalised weights."""

    sample: pd.DataFrame  # one row per particle: each parameter's value, and "weight"
    diagnostics: pd.DataFrame  # per generation: epsilon, simulations, acceptance, ESS
    simulations: int  # all generations (incl. earlier calls)
    wall_seconds: float  # this call
    stopped_by: str
    database: Path


class _ParticleModel:
    """One replication at a parameter point, with a fresh seed: pyABC's model function."""

    def __init__(self, problem: CalibrationProblem) -> None:
        self.problem = problem

    def __call__(self, pars: dict[str, float]) -> dict[str, float]:
        problem = self.problem
        x = [pars[_pyabc_name(p)] for p in problem.names]
        kpis = dict.fromkeys((t.kpi for t in problem.compared if t.kpi), math.nan)
        try:
            scenario = problem.scenario(
                problem.values(x),
                replications=1,
                seed=int(np.random.randint(0, 2**31 - 1)),  # pyABC seeds each worker
            )
        except InputError:
            return kpis  # an invalid point: NaN everywhere, rejected by the distance
        computed = run_replication(scenario, 0).kpis
        return {k: float(computed[k]) for k in kpis}


class _Distance:
    def __init__(self, problem: CalibrationProblem) -> None:
        self.problem = problem

    def __call__(self, x: dict[str, float], _x0: dict[str, float]) -> float:
        return self.problem.distance(x)


def _twice_covariance(_n: int, _dim: int) -> float:
    return math.sqrt(2.0)  # pyABC squares the factor


def _sampler(workers: int | None, cluster: str | None) -> tuple[Any, Any]:
    """pyABC's sampler, and the Dask client to close afterwards (None on local processes)."""
    from pyabc.sampler import DaskDistributedSampler, MulticoreEvalParallelSampler

    if cluster:
        from dask.distributed import Client

        client = Client(cluster)  # type: ignore[no-untyped-call]
        return DaskDistributedSampler(dask_client=client, batch_size=4), client
    return MulticoreEvalParallelSampler(n_procs=workers or os.cpu_count() or 1), None


def _import_pyabc() -> Any:
    """pyABC, quietened to warnings; an input error naming the extra to install if missing."""
    try:
        import pyabc
    except ImportError:
        raise InputError.single(
            "calibrate", "", "the posterior needs pyABC: pip install 'caseflow[calibration]'"
        ) from None
    # pyABC sets its level on the "ABC" logger at import; its module loggers inherit it
    logging.getLogger("ABC").setLevel(logging.WARNING)
    return pyabc


def _open_database(
    problem: CalibrationProblem, work: Path, population: int, seed: int, fresh: bool
) -> tuple[bool, Path]:
    """Prepare the work folder; whether it holds generations of the same posterior to resume,
    and the database path (removed when ``fresh``)."""
    settings = {"method": "pyabc-smc", "population": population, "seed": seed}
    resume = open_work_folder(work, settings_fingerprint(problem, settings), fresh=fresh)
    db_path = work / ABC_DB
    if fresh and db_path.exists():
        db_path.unlink()
    return resume, db_path


def _abc_smc(
    pyabc: Any,
    problem: CalibrationProblem,
    population: int,
    workers: int | None,
    cluster: str | None,
) -> tuple[Any, Any]:
    """pyABC's ABC-SMC over the uniform prior box, and the Dask client to close (or None)."""
    prior = pyabc.Distribution(
        **{
            _pyabc_name(name): pyabc.RV("uniform", low, high - low)
            for name, (low, high) in zip(problem.names, problem.bounds, strict=True)
        }
    )
    sampler, client = _sampler(workers, cluster)
    abc = pyabc.ABCSMC(
        _ParticleModel(problem),
        prior,
        _Distance(problem),
        population_size=population,
        sampler=sampler,
        eps=pyabc.QuantileEpsilon(alpha=0.5),
        # Proposals with twice the weighted covariance of the last population (Beaumont et al.
        # 2009). pyABC's default (Silverman's bandwidth) is much narrower in 16 dimensions and
        # left a handful of particles with nearly all the weight.
        transitions=pyabc.MultivariateNormalTransition(bandwidth_selector=_twice_covariance),
    )
    return abc, client


def _new_or_resumed(
    abc: Any, problem: CalibrationProblem, db_path: Path, resume: bool
) -> tuple[Any, int]:
    """The run's history (a new database, or the stored one) and the generations it holds."""
    db = f"sqlite:///{db_path}"
    observed = {t.kpi: t.value for t in problem.compared if t.kpi}
    if resume and db_path.exists():
        history = abc.load(db, 1)
        return history, history.max_t + 1
    return abc.new(db, observed), 0


def _run_generations(
    abc: Any,
    history: Any,
    client: Any,
    *,
    remaining: int,
    max_generations: int,
    min_acceptance_rate: float,
    budget_seconds: float | None,
    started: float,
) -> tuple[Any, str]:
    """Run the ``remaining`` generations, close the Dask client, and say what stopped them."""
    if remaining <= 0:
        if client is not None:
            client.close()
        return history, "max_generations"
    try:
        history = abc.run(
            max_nr_populations=remaining,
            min_acceptance_rate=min_acceptance_rate,
            max_walltime=None if budget_seconds is None else timedelta(seconds=budget_seconds),
        )
    finally:
        if client is not None:
            client.close()
    if history.max_t + 1 >= max_generations:
        return history, "max_generations"
    elapsed = time.monotonic() - started
    if budget_seconds is not None and elapsed >= budget_seconds:
        return history, "time budget"
    return history, "acceptance rate below minimum"


def abc_posterior(
    problem: CalibrationProblem,
    work: Path,
    *,
    population: int = 150,
    max_generations: int = 8,
    min_acceptance_rate: float = 0.02,
    budget_seconds: float | None = None,
    seed: int | None = None,
    workers: int | None = None,
    cluster: str | None = None,
    fresh: bool = False,
) -> Posterior:
    """ABC-SMC posterior of the spec's parameters given its targets (resumable)."""
    pyabc = _import_pyabc()
    seed = problem.resolved.scenario.seed if seed is None else seed
    resume, db_path = _open_database(problem, work, population, seed, fresh)
    abc, client = _abc_smc(pyabc, problem, population, workers, cluster)
    np.random.seed(seed)  # the first generation's prior draws in this process
    history, done = _new_or_resumed(abc, problem, db_path, resume)
    started = time.monotonic()
    history, stopped_by = _run_generations(
        abc,
        history,
        client,
        remaining=max_generations - done,
        max_generations=max_generations,
        min_acceptance_rate=min_acceptance_rate,
        budget_seconds=budget_seconds,
        started=started,
    )
    return Posterior(
        sample=posterior_sample(problem, history),
        diagnostics=diagnostics(history),
        simulations=int(history.total_nr_simulations),
        wall_seconds=time.monotonic() - started,
        stopped_by=stopped_by,
        database=db_path,
    )


def posterior_sample(problem: CalibrationProblem, history: Any) -> pd.DataFrame:
    """The last population in parameter units (by path), with normalised weights."""
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    out = pd.DataFrame(
        [
            problem.values([row[_pyabc_name(p)] for p in problem.names])
            for _, row in frame.iterrows()
        ]
    )
    out["weight"] = np.asarray(weights, dtype=float) / float(np.sum(weights))
    return out


def diagnostics(history: Any) -> pd.DataFrame:
    """Per generation: tolerance, simulations, acceptance rate and effective sample size."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for _, pop in pops.iterrows():
        t = int(pop["t"])
        _, weights = history.get_distribution(m=0, t=t)
        rows.append(
            {
                "generation": t + 1,
                "epsilon": float(pop["epsilon"]),
                "simulations": int(pop["samples"]),
                "accepted": int(pop["particles"]),
                "acceptance_rate": float(pop["particles"]) / float(pop["samples"]),
                "effective_sample_size": float(effective_sample_size(np.asarray(weights))),
            }
        )
    return pd.DataFrame(rows)
