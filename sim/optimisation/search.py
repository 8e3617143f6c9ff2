"""The search: Optuna over the spec's space, then selection among the best, then (if asked)
the finalists over posterior draws.

1. **Search.** Each Optuna trial proposes decision values; the candidate they make runs
   ``replications`` replications with the base's seed (common random numbers). Budget and post
   limits need no simulation: a candidate that breaks them is not run and is recorded as
   infeasible. KPI bounds are checked on the candidate's means. Optuna's samplers (TPE for one
   objective, NSGA-II for several, or the whole grid when the space has no more candidates than
   ``trials``) are told each trial's constraint values (``Trial.set_constraint``), so that
   they rank infeasible candidates below feasible ones. The study lives in a journal file:
   running the same spec again resumes it (only the trials still missing are run).
2. **Selection.** The best feasible candidates by the first objective (with several objectives,
   the best of the objectives' Pareto front) are the finalists; KN++
   (:mod:`sim.optimisation.selection`) adds replications, still under common random numbers,
   until one is left, and reports the probability of correct selection within the
   indifference zone. A finalist whose KPI bounds fail over its selection replications is
   dropped and the selection rerun among the others: no reported choice breaks a bound.
3. **Posterior.** With ``posterior_draws`` the finalists run over the same posterior draws of
   the fitted parameter set (:func:`sim.calibration.uncertainty.run_over_draws`); the share of
   draws in which each is best by the first objective is its probability of being best.

Nothing here prints; progress goes to the callback given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..experiments.paired import paired_differences
from ..experiments.parallel import local_pool, worker_count
from ..inputs.validation import InputError
from .candidates import (
    Candidate,
    Evaluator,
    Key,
    candidate_name,
    fixed_violations,
    kpi_excess,
    kpi_violations,
    make_candidate,
)
from .selection import Selection, kn_plus_plus, probability_of_being_best
from .spec import LoadedSpec, Scalar, Variable, base_values, objective_sign

if TYPE_CHECKING:
    import optuna

Note = Callable[[str], None]
"""Where the search says what it is doing (the command line prints it to stderr)."""


@dataclass
class Evaluated:
    """One distinct candidate the search proposed, and what it showed."""

    number: int  # its first trial's number
    candidate: Candidate
    means: dict[str, float]  # KPI means over the search's replications (empty: not simulated)
    violations: list[str]
    proposed: int = 1  # how many trials proposed it

    @property
    def feasible(self) -> bool:
        return not self.violations


@dataclass
class OptimisationResult:
    """Everything ``caseflow optimise`` writes."""

    loaded: LoadedSpec
    sampler: str
    study_name: str
    trials: int  # trials in the study (resumed ones too)
    new_trials: int  # run by this call
    evaluated: list[Evaluated]
    finalists: list[Evaluated]  # in the order of their mean by the first objective
    selection: Selection | None  # None: fewer than two feasible candidates
    dropped: list[tuple[Evaluated, list[str]]]  # finalists whose bounds failed in selection
    base: Evaluated
    differences: pd.DataFrame  # each finalist's paired differences from the base
    posterior: pd.DataFrame | None = None  # per finalist: mean per draw and share best
    replications_run: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def chosen(self) -> Evaluated | None:
        if not self.finalists:
            return None
        index = self.selection.chosen if self.selection is not None else 0
        return self.finalists[index]


def _suggest(trial: optuna.trial.Trial, variable: Variable) -> Scalar:
    name = variable.key
    if variable.choices is not None:
        value = trial.suggest_categorical(name, list(variable.choices))
        assert value is not None  # the choices are scalars: a None cannot be chosen
        return value
    assert variable.low is not None and variable.high is not None
    if variable.integer:
        return int(
            trial.suggest_int(
                name, int(variable.low), int(variable.high), step=int(variable.step or 1)
            )
        )
    return float(
        trial.suggest_float(name, float(variable.low), float(variable.high), step=variable.step)
    )


def _sampler(loaded: LoadedSpec) -> tuple[optuna.samplers.BaseSampler, str, int]:
    """The sampler, its name, and the trials the study should hold in all."""
    import optuna

    spec = loaded.spec
    size = loaded.space_size()
    kind = spec.sampler
    if kind == "auto":
        if size is not None and size <= spec.trials:
            kind = "grid"
        else:
            kind = "tpe" if len(spec.objectives) == 1 else "nsga2"
    if kind == "grid":
        if size is None:
            raise InputError.single(
                loaded.path,
                "sampler",
                "grid needs every variable to have finitely many "
                "values (give a step to a range of decimal numbers)",
            )
        grid: dict[str, Sequence[Scalar]] = {v.key: v.values() or [] for v in spec.variables}
        sampler: optuna.samplers.BaseSampler = optuna.samplers.GridSampler(
            grid, seed=spec.search_seed
        )
        return sampler, "grid", min(spec.trials, size)
    if kind == "tpe":
        # few start-up trials: a staffing space is small, and each trial costs replications
        startup = max(5, min(10, spec.trials // 4))
        return (
            optuna.samplers.TPESampler(seed=spec.search_seed, n_startup_trials=startup),
            "tpe",
            spec.trials,
        )
    population = max(4, min(20, spec.trials // 4))
    return (
        optuna.samplers.NSGAIISampler(seed=spec.search_seed, population_size=population),
        "nsga2",
        spec.trials,
    )


def _storage(path: Path | None) -> Any:
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return optuna.storages.JournalStorage(JournalFileBackend(str(path)))


def _summary_kpis(loaded: LoadedSpec) -> list[str]:
    """The KPIs a trial keeps (objectives and bounded KPIs): what candidates.csv shows."""
    names = [o.kpi for o in loaded.spec.objectives]
    names += [b.kpi for b in loaded.spec.constraints.kpis if b.kpi not in names]
    if "staff_cost_sek_per_year" not in names:
        names.append("staff_cost_sek_per_year")
    return names


def optimise(
    loaded: LoadedSpec,
    *,
    workers: int | None = None,
    study_file: Path | None = None,
    posterior_draws: int | None = None,
    note: Note | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> OptimisationResult:
    """Search, select and (with posterior draws) compare; see the module's docstring. The
    candidates run on ``pool`` if given (the workbench's warm pool), else on a pool of
    ``workers`` made for the search."""
    import optuna

    # Optuna logs a failed trial (an interrupt, a bad candidate) with its traceback as a
    # warning; the command line reports what happened in one line instead
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    say = note or (lambda _text: None)
    spec = loaded.spec
    sampler, sampler_name, wanted = _sampler(loaded)
    study_name = f"{spec.name}-{loaded.fingerprint()}"
    study = optuna.create_study(
        storage=_storage(study_file),
        sampler=sampler,
        study_name=study_name,
        directions=[
            "maximize" if o.direction == "maximise" else "minimize" for o in spec.objectives
        ],
        load_if_exists=True,
    )
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    new_trials = max(0, wanted - len(done))
    if done:
        say(f"resuming study {study_name}: {len(done)} trials done, {new_trials} to run")
    elif sampler_name != "grid" and _in_space(loaded, base_values(loaded)):
        # the search starts from the staffing the unit has: a planner asks first whether
        # anything beats it (the grid covers it anyway)
        study.enqueue_trial(dict(base_values(loaded)))
    reps = range(spec.replications)
    kept = _summary_kpis(loaded)
    with nullcontext(pool) if pool is not None else local_pool(worker_count(workers)) as pool:
        evaluator = Evaluator(workers=workers, pool=pool)

        def objective(trial: optuna.trial.Trial) -> Sequence[float]:
            values = {v.key: _suggest(trial, v) for v in spec.variables}
            candidate = make_candidate(loaded, values, candidate_name(loaded, trial.number))
            broken = fixed_violations(loaded, candidate)
            limits = spec.constraints
            fixed = [
                (candidate.staff_cost - limits.staff_budget_sek) / limits.staff_budget_sek
                if limits.staff_budget_sek
                else 0.0,
                float(candidate.posts - limits.max_posts) if limits.max_posts is not None else 0.0,
            ]
            trial.set_user_attr("violations", broken)
            if broken:
                # not simulated: the sampler ranks it below every feasible candidate by its
                # constraint values, whatever objective values it is given
                for i, value in enumerate(fixed):
                    trial.set_constraint(f"fixed_{i}", max(value, 0.0))
                for i, _bound in enumerate(spec.constraints.kpis):
                    trial.set_constraint(f"kpi_{i}", 0.0)
                trial.set_constraint("kpi_missing", 0.0)
                say(
                    f"trial {trial.number + 1}/{wanted}: {_describe(values)} (not run: "
                    f"{'; '.join(broken)})"
                )
                trial.set_user_attr("means", {})
                return [0.0] * len(spec.objectives)
            means = evaluator.means(candidate, reps)
            excess = kpi_excess(loaded, means)
            broken = kpi_violations(loaded, means)
            for i in range(len(fixed)):
                trial.set_constraint(f"fixed_{i}", 0.0)
            for i, value in enumerate(excess):
                trial.set_constraint(f"kpi_{i}", value)
            outcome = [means.get(o.kpi, math.nan) for o in spec.objectives]
            missing = [
                o.kpi for o, v in zip(spec.objectives, outcome, strict=True) if math.isnan(v)
            ]
            trial.set_constraint("kpi_missing", 1.0 if missing else 0.0)
            if missing:
                broken.append(f"{', '.join(missing)} has no value")
                outcome = [0.0 if math.isnan(v) else v for v in outcome]
            trial.set_user_attr("violations", broken)
            trial.set_user_attr("means", {k: means.get(k, math.nan) for k in kept})
            say(
                f"trial {trial.number + 1}/{wanted}: {_describe(values)}"
                f"{' (infeasible)' if broken else ''}"
            )
            return outcome

        if new_trials:
            _optimize(study, objective, new_trials)
        evaluated = _evaluated(loaded, study)
        base = _base(loaded, evaluator, reps)
        finalists = _finalists(loaded, evaluated)
        selection, dropped = _select(loaded, evaluator, finalists, say)
        # a finalist dropped for a bound is reported as dropped, never as a finalist
        finalists = [f for f in finalists if all(f is not d for d, _ in dropped)]
        differences = _differences(loaded, evaluator, base, finalists, selection)
        replications_run = evaluator.replications_run
    posterior = None
    draws = spec.posterior_draws if posterior_draws is None else posterior_draws
    if draws and finalists:
        posterior = _over_posterior(loaded, finalists, draws, workers, say)
    notes = _notes(loaded, evaluated, finalists, selection, dropped, base)
    return OptimisationResult(
        loaded,
        sampler_name,
        study_name,
        len(study.trials),
        new_trials,
        evaluated,
        finalists,
        selection,
        dropped,
        base,
        differences,
        posterior,
        replications_run,
        notes,
    )


def _optimize(study: optuna.study.Study, objective: Any, trials: int) -> None:
    """``study.optimize``, an interrupt kept an interrupt: Optuna, interrupted while it writes
    a trial to the journal, raises an error of its own from the interrupt (Optuna 5.1), which
    would show as a traceback instead of "interrupted"."""
    try:
        study.optimize(objective, n_trials=trials)
    except Exception as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):
            raise exc.__context__ from None
        raise


def _describe(values: dict[str, Scalar]) -> str:
    return ", ".join(
        f"{k.split('.')[-2] if k.endswith('.posts') else k.split('.')[-1]}={v}"
        for k, v in values.items()
    )


def _evaluated(loaded: LoadedSpec, study: optuna.study.Study) -> list[Evaluated]:
    """One record per distinct candidate of the study's complete trials, in trial order (a
    resumed study's earlier trials too: their means are kept in the study)."""
    import optuna

    out: dict[Key, Evaluated] = {}
    for trial in study.trials:
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        values = {v.key: trial.params[v.key] for v in loaded.spec.variables}
        key = tuple((v.key, values[v.key]) for v in loaded.spec.variables)
        if key in out:
            out[key].proposed += 1
            continue
        candidate = make_candidate(loaded, values, candidate_name(loaded, trial.number))
        means = {k: float(v) for k, v in trial.user_attrs.get("means", {}).items()}
        out[key] = Evaluated(
            trial.number, candidate, means, list(trial.user_attrs.get("violations", []))
        )
    return list(out.values())


def _in_space(loaded: LoadedSpec, values: dict[str, Scalar]) -> bool:
    """Whether the values are among those the variables may take."""
    for variable in loaded.spec.variables:
        value = values[variable.key]
        allowed = variable.values()
        if allowed is not None:
            if value not in allowed:
                return False
        elif not (
            isinstance(value, int | float)
            and variable.low is not None
            and variable.high is not None
            and variable.low <= value <= variable.high
        ):
            return False
    return True


def _base(loaded: LoadedSpec, evaluator: Evaluator, reps: range) -> Evaluated:
    """The base scenario as a candidate (its own values), run on the same replications."""
    candidate = make_candidate(loaded, base_values(loaded), loaded.base.name)
    means = evaluator.means(candidate, reps)
    return Evaluated(
        -1, candidate, means, fixed_violations(loaded, candidate) + kpi_violations(loaded, means)
    )


def _rank_value(loaded: LoadedSpec, e: Evaluated) -> float:
    """The first objective, larger better."""
    primary = loaded.primary
    return objective_sign(primary.direction) * e.means.get(primary.kpi, math.nan)


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """``a`` is at least as good as ``b`` everywhere and better somewhere (larger better)."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True)
    )


def pareto_front(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the points no other point dominates (larger better in every coordinate)."""
    return [
        i
        for i, p in enumerate(points)
        if not any(dominates(q, p) for j, q in enumerate(points) if j != i)
    ]


def objective_vector(loaded: LoadedSpec, e: Evaluated, *, with_cost: bool) -> list[float]:
    """A candidate's objectives, larger better (and its budgeted cost, negated, if asked)."""
    out = [objective_sign(o.direction) * e.means[o.kpi] for o in loaded.spec.objectives]
    return [-e.candidate.staff_cost, *out] if with_cost else out


def _finalists(loaded: LoadedSpec, evaluated: list[Evaluated]) -> list[Evaluated]:
    """The best feasible candidates by the first objective (with several objectives, among
    the objectives' front), one of each group that behaves identically."""
    feasible = [e for e in distinct_behaviour(evaluated) if e.feasible]
    if len(loaded.spec.objectives) > 1:
        front = pareto_front([objective_vector(loaded, e, with_cost=False) for e in feasible])
        feasible = [feasible[i] for i in front]
    feasible.sort(key=lambda e: -_rank_value(loaded, e))
    return feasible[: loaded.spec.selection.finalists]


def distinct_behaviour(evaluated: list[Evaluated]) -> list[Evaluated]:
    """The candidates without those whose KPI means are exactly another's (the same numbers
    in every kept KPI under the same random numbers: a setting that changes nothing, such as
    AR places beyond what the consultants in post can run); of each such group the one with
    the lowest budgeted cost, then the earliest, is kept. No selection could tell them apart:
    two of them among the finalists would run KN++ to its cap."""
    kept: dict[tuple[tuple[str, float], ...], Evaluated] = {}
    out = []
    for e in sorted(evaluated, key=lambda e: (e.candidate.staff_cost, e.number)):
        if not e.means:
            out.append(e)
            continue
        signature = tuple(sorted(e.means.items()))
        if signature in kept:
            continue
        kept[signature] = e
        out.append(e)
    return sorted(out, key=lambda e: e.number)


def _select(
    loaded: LoadedSpec, evaluator: Evaluator, finalists: list[Evaluated], say: Note
) -> tuple[Selection | None, list[tuple[Evaluated, list[str]]]]:
    """KN++ among the finalists; a chosen finalist whose KPI bounds fail over its selection
    replications is dropped and the selection rerun among the others."""
    chosen_from = list(finalists)
    dropped: list[tuple[Evaluated, list[str]]] = []
    rule = loaded.spec.selection
    primary = loaded.primary
    sign = objective_sign(primary.direction)
    batch = max(1, worker_count(evaluator.workers) // 2)
    while len(chosen_from) >= 2:
        say(
            f"selection among {len(chosen_from)} finalists (KN++, P(correct) "
            f"{rule.probability}, indifference zone {rule.indifference_zone:g})"
        )

        def observe(
            systems: Sequence[int], start: int, stop: int, among: list[Evaluated] = chosen_from
        ) -> np.ndarray:
            evaluator.run([(among[i].candidate, range(start, stop)) for i in systems])
            rows = []
            for i in systems:
                table = evaluator.per_replication(among[i].candidate, range(start, stop))
                rows.append(sign * table[primary.kpi].to_numpy(float))
            return np.asarray(rows)

        selection = kn_plus_plus(
            observe,
            len(chosen_from),
            indifference_zone=rule.indifference_zone,
            probability=rule.probability,
            first_stage=rule.first_stage,
            max_replications=rule.max_replications,
            batch=batch,
        )
        winner = chosen_from[selection.chosen]
        used = range(selection.replications[selection.chosen])
        broken = kpi_violations(loaded, evaluator.means(winner.candidate, used))
        if not broken:
            # the finalists in their order, the dropped ones left out
            return selection, dropped
        say(
            f"{winner.candidate.resolved.name} breaks a bound over {len(used)} replications; "
            "selecting again without it"
        )
        dropped.append((winner, broken))
        chosen_from.remove(winner)
    if len(chosen_from) == 1 and dropped:
        one = chosen_from[0]
        return (
            Selection(
                0,
                rule.probability,
                rule.indifference_zone,
                True,
                (loaded.spec.replications,),
                (None,),
                (_rank_value(loaded, one),),
            ),
            dropped,
        )
    return None, dropped


def _differences(
    loaded: LoadedSpec,
    evaluator: Evaluator,
    base: Evaluated,
    finalists: list[Evaluated],
    selection: Selection | None,
) -> pd.DataFrame:
    """Each finalist's paired differences from the base over the replications it has (the
    search's, and the selection's where it had more), the base run on the same ones."""
    tables = []
    for i, finalist in enumerate(finalists):
        count = loaded.spec.replications
        if selection is not None and i < len(selection.replications):
            count = max(count, selection.replications[i])
        reps = range(count)
        base_rows = evaluator.per_replication(base.candidate, reps)
        mine = evaluator.per_replication(finalist.candidate, reps)
        tables.append(paired_differences(base_rows, mine, finalist.candidate.resolved.name))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def _over_posterior(
    loaded: LoadedSpec,
    finalists: list[Evaluated],
    draws: int,
    workers: int | None,
    say: Note,
) -> pd.DataFrame:
    """Per finalist: its first objective's mean over all draws, its probability of being best
    (share of draws in which its mean is the best), and the share of draws in which its KPI
    bounds hold."""
    from ..calibration.uncertainty import run_over_draws

    say(f"finalists over {draws} posterior draws × {loaded.spec.replications} replications")
    primary = loaded.primary
    runs = run_over_draws([f.candidate.resolved for f in finalists], draws, workers=workers)
    sign = objective_sign(primary.direction)
    by_draw = np.array(
        [[float(r.per_replication[primary.kpi].mean()) for r in results] for results in runs]
    ).T  # draws × finalists
    best = probability_of_being_best(sign * by_draw)
    rows = []
    for i, (finalist, results) in enumerate(zip(finalists, runs, strict=True)):
        holds = [
            not kpi_violations(
                loaded,
                {
                    k: float(v)
                    for k, v in r.per_replication.drop(columns="replication").mean().items()
                },
            )
            for r in results
        ]
        rows.append(
            {
                "candidate": finalist.candidate.resolved.name,
                "draws": draws,
                "replications_per_draw": loaded.spec.replications,
                f"{primary.kpi}_mean": float(np.nanmean(by_draw[:, i])),
                f"{primary.kpi}_p05": float(np.nanquantile(by_draw[:, i], 0.05)),
                f"{primary.kpi}_p95": float(np.nanquantile(by_draw[:, i], 0.95)),
                "probability_best": float(best[i]),
                "share_draws_bounds_hold": float(np.mean(holds)),
            }
        )
    return pd.DataFrame(rows)


def _notes(
    loaded: LoadedSpec,
    evaluated: list[Evaluated],
    finalists: list[Evaluated],
    selection: Selection | None,
    dropped: list[tuple[Evaluated, list[str]]],
    base: Evaluated,
) -> list[str]:
    """What a reader must know about the result (the report's warnings)."""
    out = []
    feasible = [e for e in evaluated if e.feasible]
    if not feasible:
        out.append("no candidate met every constraint: nothing is recommended")
    elif len(feasible) == 1:
        out.append("only one candidate met every constraint: no selection among alternatives")
    if selection is not None and not selection.guaranteed:
        out.append(
            f"the selection stopped at {loaded.spec.selection.max_replications} replications "
            "with several finalists left: the one with the best mean is reported, without the "
            "stated probability of correct selection"
        )
    for finalist, broken in dropped:
        out.append(
            f"{finalist.candidate.resolved.name} was dropped from the selection: over "
            f"its selection replications {'; '.join(broken)}"
        )
    if base.violations:
        out.append(f"the base scenario itself breaks the constraints: {'; '.join(base.violations)}")
    size = loaded.space_size()
    distinct = len(evaluated)
    if size is not None and distinct < size:
        out.append(
            f"the search evaluated {distinct} of the {size} candidates of the space: "
            "a better one may be among those not evaluated"
        )
    return out


def candidates_table(result: OptimisationResult) -> pd.DataFrame:
    """``candidates.csv``: one row per distinct candidate (the base first, as ``base``)."""
    loaded = result.loaded
    finalist_names = {f.candidate.resolved.name for f in result.finalists}
    dropped = _dropped(result)
    chosen = result.chosen
    rows = []
    for e in [result.base, *result.evaluated]:
        name = e.candidate.resolved.name
        # a finalist whose selection replications broke a bound is not feasible after all
        broken = dropped.get(name, []) if e is not result.base else []
        row: dict[str, Any] = {
            "candidate": "base" if e is result.base else name,
            "trial": None if e is result.base else e.number + 1,
            "proposed": None if e is result.base else e.proposed,
            **e.candidate.values,
            "budgeted_staff_cost_sek": e.candidate.staff_cost,
            "posts": e.candidate.posts,
            "simulated": bool(e.means),
            "feasible": e.feasible and not broken,
            "violations": "; ".join(
                [*e.violations, *(f"{b} over its selection replications" for b in broken)]
            ),
        }
        for kpi in _summary_kpis(loaded):
            row[kpi] = e.means.get(kpi, math.nan)
        row["replications"] = loaded.spec.replications if e.means else 0
        row["finalist"] = name in finalist_names and e is not result.base
        row["chosen"] = chosen is not None and e is chosen
        rows.append(row)
    return pd.DataFrame(rows).astype({"trial": "Int64", "proposed": "Int64"})


def _dropped(result: OptimisationResult) -> dict[str, list[str]]:
    """The finalists dropped from the selection for a bound, by name, with what they broke;
    with them the candidates that behave exactly as one of them (the same KPI means under the
    same random numbers, :func:`distinct_behaviour`): they would break the bound alike."""
    out = {d.candidate.resolved.name: broken for d, broken in result.dropped}
    for d, broken in result.dropped:
        name = d.candidate.resolved.name
        for e in result.evaluated:
            if e is not d and e.means and e.means == d.means:
                out.setdefault(
                    e.candidate.resolved.name, [f"behaves as {name}: {b}" for b in broken]
                )
    return out


def pareto_table(result: OptimisationResult) -> pd.DataFrame:
    """``pareto.csv``: the feasible candidates no other feasible one beats on budgeted staff
    cost and every objective at once (the cost–objective front), by cost."""
    table = candidates_table(result)
    dropped = _dropped(result)
    feasible = [
        e for e in result.evaluated if e.feasible and e.candidate.resolved.name not in dropped
    ]
    front = pareto_front([objective_vector(result.loaded, e, with_cost=True) for e in feasible])
    names = {feasible[i].candidate.resolved.name for i in front}
    out = table[table["candidate"].isin(names)]
    return out.sort_values("budgeted_staff_cost_sek").reset_index(drop=True)


def selection_table(result: OptimisationResult) -> pd.DataFrame:
    """``selection.csv``: each finalist's mean, replications and fate in the selection."""
    loaded, sel = result.loaded, result.selection
    rows = []
    for i, finalist in enumerate(result.finalists):
        row: dict[str, Any] = {
            "candidate": finalist.candidate.resolved.name,
            **finalist.candidate.values,
            "budgeted_staff_cost_sek": finalist.candidate.staff_cost,
        }
        if sel is not None:
            row.update(
                objective=loaded.primary.kpi,
                mean=objective_sign(loaded.primary.direction) * sel.means[i],
                replications=sel.replications[i],
                eliminated_at=sel.eliminated_at[i],
                chosen=i == sel.chosen,
                probability_correct_selection=sel.probability if i == sel.chosen else None,
                indifference_zone=sel.indifference_zone,
                guaranteed=sel.guaranteed,
            )
        rows.append(row)
    for finalist, broken in result.dropped:
        rows.append(
            {
                "candidate": finalist.candidate.resolved.name,
                **finalist.candidate.values,
                "budgeted_staff_cost_sek": finalist.candidate.staff_cost,
                "dropped": "; ".join(broken),
            }
        )
    table = pd.DataFrame(rows)
    # counts stay whole numbers where a dropped finalist's row leaves them empty
    counts = {c: "Int64" for c in ("replications", "eliminated_at") if c in table}
    return table.astype(counts)
