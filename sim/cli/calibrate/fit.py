"""``caseflow calibrate fit SPEC``: point fit, posterior (an emulator, or ABC-SMC), checks and
the fit report.

Writes ``fitted/NAME.toml`` (with its posterior sample) next to the spec and a results folder
with the fit report. Interrupted work is kept in ``--work`` and resumed by the same command.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common import (
    add_cluster,
    add_out,
    add_point_replications,
    add_spec,
    add_workers,
    command_line,
    positive_float,
    positive_int,
    results_folder,
)

if TYPE_CHECKING:
    import pandas as pd

    from ...calibration.emulator import EmulatorPosterior
    from ...calibration.point_fit import PointFit
    from ...calibration.posterior import Posterior
    from ...calibration.spec import CalibrationProblem
    from ...output.folders import AtomicFolder, Clock
    from ..common import Subparsers

SETTINGS = (
    "replications",
    "popsize",
    "fit_generations",
    "posterior_method",
    "stages",
    "population",
    "generations",
    "budget_minutes",
    "draws",
    "no_posterior",
)
"""The options the manifest records: what decides how far the fit went."""
DEFAULT_STAGES = (500, 700, 700)
"""The emulator's points per stage (sim.calibration.emulator.DEFAULT_STAGES, kept here so that
the parser does not import the calibration stack)."""


def stage_sizes(text: str) -> tuple[int, ...]:
    """``--stages``: whole numbers of points, each at least 50, separated by commas."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(size < 50 for size in sizes):
        raise argparse.ArgumentTypeError(
            f"give whole numbers of points of at least 50 separated by commas, got {text!r}"
        )
    return sizes


POINT_FIT_SHARE = 0.6
"""Of the budget, for the point fit; the posterior gets the rest (less 30 s for the checks)."""


def add_parser(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="fit a spec to its targets (point fit, posterior, fit report)",
        description="Fit the spec's parameters to its targets (differential evolution with "
        "common random numbers, then a posterior: by a quadratic emulator of the model and "
        "importance sampling, or by ABC-SMC), write calibration/fitted/NAME.toml "
        "with its posterior sample, and a fit report. Interrupted work is kept in --work and "
        "resumed by the same command.",
    )
    add_spec(parser)
    parser.add_argument(
        "--budget-minutes",
        type=positive_float,
        default=15.0,
        help="wall-clock budget (default 15): 60 %% point fit, the rest posterior",
    )
    parser.add_argument(
        "--fit-generations",
        type=positive_int,
        metavar="N",
        default=100,
        help="at most N generations of the point fit's differential evolution (default 100); "
        "the time budget may stop it sooner",
    )
    parser.add_argument(
        "--popsize",
        type=positive_int,
        default=4,
        help="DE points per generation per free parameter",
    )
    parser.add_argument(
        "--posterior-method",
        choices=("emulator", "abc"),
        default="emulator",
        help="emulator (default): a quadratic surrogate fitted to staged simulations and "
        "importance sampling; abc: pyABC's ABC-SMC",
    )
    parser.add_argument(
        "--stages",
        type=stage_sizes,
        default=DEFAULT_STAGES,
        metavar="N,N,...",
        help="emulator: points simulated per stage, the first over the prior box, the rest "
        f"around the posterior so far (default {','.join(map(str, DEFAULT_STAGES))})",
    )
    parser.add_argument("--population", type=positive_int, default=150, help="ABC particles")
    parser.add_argument("--generations", type=positive_int, default=8, help="ABC generations")
    parser.add_argument("--no-posterior", action="store_true", help="point fit only (no posterior)")
    parser.add_argument(
        "--draws", type=positive_int, default=100, help="posterior predictive draws for the report"
    )
    add_point_replications(parser)
    add_workers(parser)
    add_cluster(parser)
    add_out(parser, "fit-NAME-TIMESTAMP")
    parser.add_argument(
        "--work",
        type=Path,
        help="work folder kept for resuming (default: work/NAME beside the spec)",
    )
    parser.add_argument("--fresh", action="store_true", help="discard earlier work, start anew")
    parser.add_argument(
        "--fitted-dir", type=Path, help="where NAME.toml goes (default: fitted/ next to the spec)"
    )
    parser.set_defaults(
        handler=fit_command,
        interrupted_note="the calibration's work so far is kept in its work folder; "
        "the same command resumes it",
    )


@dataclass(frozen=True)
class _Outcome:
    """The fit and what the report shows of it: the targets at the point fit and under the
    posterior, the pulls between targets, and how well the posterior pins each parameter."""

    problem: CalibrationProblem
    fit: PointFit
    post: Posterior | EmulatorPosterior | None
    point: pd.DataFrame
    predictive: pd.DataFrame | None
    tolerance: dict[str, float] | None  # the posterior's distance against the noise's
    table: pd.DataFrame
    tension: pd.DataFrame
    identified: pd.DataFrame | None
    pairs: pd.DataFrame | None
    unfitted: pd.DataFrame
    holdouts: pd.DataFrame | None  # verdicts with the fitted set (None: no holdout files)

    @property
    def sample(self) -> pd.DataFrame | None:
        return None if self.post is None else self.post.sample

    @property
    def diagnostics(self) -> pd.DataFrame | None:
        return None if self.post is None else self.post.diagnostics


def _refuse_contradictions(problem: CalibrationProblem) -> None:
    """A sum rule of the targets that does not add up and says nothing of it (``known``) is
    what ``caseflow calibrate check`` fails on: a fit would chase both figures, so it is
    refused before it starts, as the check reports it."""
    from ...calibration.targets import check_targets
    from ...inputs.validation import InputError, Problem

    unknown = [f for f in check_targets(problem.targets, None) if not f.known]
    if unknown:
        raise InputError(
            [
                Problem(
                    str(problem.targets_path),
                    f"sums ({f.rule})",
                    f"{f.message}: a contradiction the file does not explain; correct it, or "
                    "say why in the rule's `known` (caseflow calibrate check lists them)",
                )
                for f in unknown
            ]
        )


def fit_command(args: argparse.Namespace) -> int:
    """Point fit, posterior, predictive checks, fit report and the fitted parameter files."""
    from ...calibration.spec import load_problem
    from ...output.folders import Clock, check_target

    problem = load_problem(args.spec)
    _refuse_contradictions(problem)
    for target, what in problem.period_notes:
        print(f"note [{target}]: {what}", file=sys.stderr)
    work_root = args.work or args.spec.parent / "work" / problem.spec.name
    clock = Clock.start()
    folder = results_folder(args.out, f"fit-{problem.spec.name}", clock.started)
    check_target(folder.target)  # refuse a wrong --out before the fit, not after
    fitted_path = (args.fitted_dir or args.spec.parent / "fitted") / f"{problem.spec.name}.toml"
    # likewise: not after the fit (named as the user gave it, or as the default it is)
    _refuse_a_file(fitted_path.parent, "--fitted-dir" if args.fitted_dir else "fitted folder")
    _refuse_a_file(work_root, "--work" if args.work else "work folder")
    earlier_fit = _earlier_fit(fitted_path)
    if earlier_fit is not None:
        print(
            f"note: {fitted_path} holds an earlier fit ({earlier_fit}); it is replaced when "
            "this one completes, and every scenario that names it will run on the new fit "
            "(--fitted-dir DIR writes a trial fit elsewhere)",
            file=sys.stderr,
        )
    fit = _point_fit(problem, work_root / "point_fit", args, clock)
    fit_seconds = clock.seconds()
    print(
        f"point fit: distance {fit.distance:.2f} over {len(problem.compared)} targets after "
        f"{fit.generations} generations ({fit.stopped_by}); {fit.new_evaluations} points run, "
        f"{len(fit.evaluations) - fit.new_evaluations} replayed; {fit_seconds:.0f} s"
    )
    post = None if args.no_posterior else _posterior(problem, work_root / "posterior", args, clock)
    outcome = _check(problem, fit, post, args, work_root)
    wall = clock.seconds()
    manifest = _manifest(outcome, args, clock, fit_seconds)
    html = _report_html(outcome, _fit_summary(outcome, args, wall), manifest)
    fitted = _write(folder, outcome, html, manifest, args, clock)
    if outcome.tolerance is not None:
        tol = outcome.tolerance
        print(
            f"posterior predictive distance {tol['posterior_distance']:.1f} (median), "
            f"{tol['ratio']:.2f} times the distance at the point fit "
            f"({tol['noise_distance']:.1f}: the model's noise and the point's own misfit; 90 % "
            f"bootstrap interval of the ratio {tol['ratio_low']:.2f}-{tol['ratio_high']:.2f}); "
            "draws fit about as well as the point when this ratio is at most 2"
        )
    reproduced = int(outcome.table["reproduced"].sum())
    print(
        f"{reproduced} of {len(outcome.table)} targets reproduced by the point fit "
        "(within 2 sd, or inside their range)"
    )
    for note in _unfinished(outcome):
        print(f"warning: {note}", file=sys.stderr)
    replaced = f" (replaces the earlier fit: {earlier_fit})" if earlier_fit is not None else ""
    print(f"fitted parameters: {fitted}{replaced}")
    print(f"report: {folder.target / 'report.html'}")
    print(f"total: {wall:.0f} s")
    return 0


def _emulator_form(last_stage: pd.Series) -> str:
    """What the emulator fitted at its last stage: "quadratic", or "linear (too few points for
    a quadratic)" (:class:`sim.calibration.emulator.Quadratic` falls back to it)."""
    form = str(last_stage.get("emulator", "quadratic"))
    return form if form == "quadratic" else f"{form} (too few points for a quadratic)"


def _earlier_fit(path: Path) -> str | None:
    """What the fitted set at ``path`` is, if one is there (None: nothing to replace)."""
    import tomllib

    if not path.is_file():
        return None
    try:
        fit = tomllib.loads(path.read_text(encoding="utf-8")).get("fit", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "a file that does not read as a fitted set"
    when = fit.get("fitted_at") if isinstance(fit, dict) else None
    return f"fitted at {when}" if isinstance(when, str) else "written by hand or by another tool"


def _point_fit(
    problem: CalibrationProblem, work: Path, args: argparse.Namespace, clock: Clock
) -> PointFit:
    """Differential evolution within its share of the budget, its progress on a terminal."""
    from ...calibration.point_fit import point_fit

    tty = sys.stderr.isatty()

    def progress(generation: int, best: float, evaluations: int) -> None:
        if tty:
            print(
                f"\rpoint fit: generation {generation}, best distance {best:.2f}, "
                f"{evaluations} points, {clock.seconds():.0f} s",
                end="",
                file=sys.stderr,
            )

    fit = point_fit(
        problem,
        work,
        replications=args.replications,
        popsize=args.popsize,
        max_generations=args.fit_generations,
        budget_seconds=POINT_FIT_SHARE * args.budget_minutes * 60.0,
        workers=args.workers,
        cluster=args.cluster,
        fresh=args.fresh,
        progress=progress,
    )
    if tty:
        print(file=sys.stderr)
    return fit


def _posterior(
    problem: CalibrationProblem, work: Path, args: argparse.Namespace, clock: Clock
) -> Posterior | EmulatorPosterior | None:
    """The posterior in what is left of the budget (at least 30 s), with a one-line summary."""
    budget = max(args.budget_minutes * 60.0 - clock.seconds() - 30.0, 30.0)
    if sys.stderr.isatty():
        print(f"posterior: {args.posterior_method} running ...", file=sys.stderr)
    if args.posterior_method == "emulator":
        from ...calibration.emulator import emulator_posterior

        emulated = emulator_posterior(
            problem,
            work / "emulator",
            stages=args.stages,
            budget_seconds=budget,
            workers=args.workers,
            cluster=args.cluster,
            fresh=args.fresh,
        )
        last = emulated.diagnostics.iloc[-1]
        print(
            f"posterior: emulator, {len(emulated.diagnostics)} stages ({emulated.stopped_by}), "
            f"{emulated.simulations} simulations, {_emulator_form(last)} R² median "
            f"{last['r2_median']:.2f}, ESS {last['effective_sample_size']:.0f}; "
            f"{emulated.wall_seconds:.0f} s"
        )
        if not emulated.converged:
            # a tempered likelihood is not the posterior: written, it would widen every
            # --posterior run without saying so
            print(
                "warning: the emulator's sampling did not reach the posterior (exponent 1 with "
                "the effective sample size asked); no posterior is written. Give larger --stages "
                "or --budget-minutes (the work folder keeps the simulations), or "
                "--posterior-method abc",
                file=sys.stderr,
            )
            return None
        return emulated
    from ...calibration.posterior import abc_posterior

    post = abc_posterior(
        problem,
        work,
        population=args.population,
        max_generations=args.generations,
        budget_seconds=budget,
        workers=args.workers,
        cluster=args.cluster,
        fresh=args.fresh,
    )
    last = post.diagnostics.iloc[-1]
    print(
        f"posterior: {len(post.diagnostics)} generations ({post.stopped_by}), "
        f"{post.simulations} simulations, final tolerance {last['epsilon']:.2f}, "
        f"acceptance {last['acceptance_rate']:.2f}, ESS {last['effective_sample_size']:.0f}; "
        f"{post.wall_seconds:.0f} s"
    )
    return post


def _check(
    problem: CalibrationProblem,
    fit: PointFit,
    post: Posterior | EmulatorPosterior | None,
    args: argparse.Namespace,
    work_root: Path,
) -> _Outcome:
    """The point fit rerun with 20 replications, the posterior predictive, the holdouts with
    the fitted set, and the tables."""
    from ...calibration.fit_report import (
        correlated_pairs,
        identifiability,
        point_check,
        posterior_predictive,
        target_table,
        tensions,
        tolerance_check,
        unfitted_table,
    )

    point = point_check(problem, fit.values, replications=20, workers=args.workers)
    predictive = (
        None
        if post is None
        else posterior_predictive(
            problem,
            post.sample,
            draws=args.draws,
            seed=problem.resolved.scenario.seed,
            workers=args.workers,
        )
    )
    return _Outcome(
        problem=problem,
        fit=fit,
        post=post,
        point=point,
        predictive=predictive,
        tolerance=None if predictive is None else tolerance_check(problem, point, predictive),
        table=target_table(problem, point, predictive),
        tension=tensions(problem, fit.evaluations),
        identified=None if post is None else identifiability(problem, post.sample),
        pairs=None if post is None else correlated_pairs(problem, post.sample),
        unfitted=unfitted_table(problem, point),
        holdouts=_holdouts(problem, fit, args, work_root),
    )


def _holdouts(
    problem: CalibrationProblem, fit: PointFit, args: argparse.Namespace, work_root: Path
) -> pd.DataFrame | None:
    """``validate-model``'s checks with the parameters this fit found (written to the work
    folder first: the fitted file itself is written only when everything succeeded); None
    when the spec's folder holds no holdout files (a spec of one's own)."""
    from ...calibration.fit_report import holdout_verdicts
    from ...calibration.holdout import has_holdouts, validate_model
    from ...calibration.point_fit import write_fitted

    calibration = problem.spec_path.parent
    if not has_holdouts(calibration):
        return None
    record = {"fitted_at": "candidate (not yet written)", "package_version": ""}
    candidate = write_fitted(problem, fit, work_root / "candidate", posterior=None, record=record)
    checks = validate_model(
        calibration, replications=10, workers=args.workers, parameters=candidate
    )
    return holdout_verdicts(checks)


def _fit_summary(outcome: _Outcome, args: argparse.Namespace, wall: float) -> dict[str, Any]:
    """The fit report's opening table."""
    fit, post = outcome.fit, outcome.post
    return {
        "spec": str(args.spec),
        "targets": str(outcome.problem.targets_path),
        "compared targets": len(outcome.problem.compared),
        "point fit distance (sum of squared z)": round(fit.distance, 3),
        "point fit": f"{fit.generations} generations, {fit.stopped_by}, "
        f"{len(fit.evaluations)} points × {fit.replications} replications",
        "posterior": "not run"
        if post is None
        else f"{args.posterior_method}, {len(post.diagnostics)} "
        f"{'stages' if args.posterior_method == 'emulator' else 'generations'}, "
        f"{post.stopped_by}, {post.simulations} simulations, {len(post.sample)} draws kept",
        **_tolerance_rows(outcome.tolerance),
        "wall time (s)": round(wall, 1),
        "workers": args.workers or "all cores",
    }


def _tolerance_rows(tolerance: dict[str, float] | None) -> dict[str, Any]:
    if tolerance is None:
        return {}
    return {
        "distance at the point fit (median over its check's replications: noise and the "
        "point's own misfit)": round(tolerance["noise_distance"], 2),
        "distance, posterior predictive (median over its draws)": round(
            tolerance["posterior_distance"], 2
        ),
        RATIO_LABEL: round(tolerance["ratio"], 2),
        "posterior / point fit, 90 % bootstrap interval (the medians' own spread)": (
            f"{tolerance['ratio_low']:.2f} to {tolerance['ratio_high']:.2f}"
        ),
    }


def _unfinished(outcome: _Outcome) -> list[str]:
    """A note when the point fit stopped at its cap (generations or time) with under half the
    targets reproduced: the fitted file is written, but it is a search cut short."""
    fit, table = outcome.fit, outcome.table
    within = int(table["reproduced"].sum())
    if fit.stopped_by == "converged" or 2 * within >= len(table):
        return []
    what = {"max_generations": "generation cap", "time budget": "time budget"}
    return [
        f"The point fit stopped at its {what.get(fit.stopped_by, fit.stopped_by)} after "
        f"{fit.generations} generation"
        f"{'s' * (fit.generations != 1)} with {within} of {len(table)} targets reproduced: "
        "a search cut short, not a fit; raise --fit-generations or --budget-minutes before "
        "using the fitted set."
    ]


RATIO_LABEL = "posterior / point fit (a ratio; at most 2: the draws fit about as well as the point)"
"""The fit summary's row of the posterior check's ratio (a ratio, not a count of draws)."""


def _git_record() -> dict[str, Any]:
    """The fitted set's record of the code that fitted it: the commit, and whether the tree
    had local changes (the commit alone would claim a fit that code never made)."""
    from ...output.folders import git_commit

    git = git_commit()
    commit, dirty = git.get("commit"), git.get("dirty")
    if not commit or commit == "unknown":
        return {}
    return {"git_commit": commit, **({"git_dirty": dirty} if dirty is not None else {})}


def _refuse_a_file(folder: Path, option: str) -> None:
    """Refuse, before any work, a folder option that names a file or a path through one (the
    folder itself is made when needed)."""
    from ...inputs.validation import InputError

    for path in (folder, *folder.parents):
        if path.exists():
            if not path.is_dir():
                what = "a file" if path == folder else f"a path through {path}, a file"
                raise InputError.single(
                    option, str(folder), f"{what}, not a folder: give a folder (made if missing)"
                )
            return


def _report_html(outcome: _Outcome, summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    from ...calibration.fit_report import render_fit_report
    from ...output.page import reproduce_html

    sums = outcome.problem.targets.sums
    return render_fit_report(
        problem=outcome.problem,
        targets=outcome.table,
        point=outcome.fit.values,
        fit_summary=summary,
        history=outcome.fit.history,
        tension=outcome.tension,
        sample=outcome.sample,
        identified=outcome.identified,
        pairs=outcome.pairs,
        diagnostics=outcome.diagnostics,
        notes=[
            *_unfinished(outcome),
            *(f"[{target}] {what}" for target, what in outcome.problem.period_notes),
            *(f"Known contradiction [{rule.id}]: {rule.known}" for rule in sums if rule.known),
        ],
        unfitted=outcome.unfitted,
        holdouts=outcome.holdouts,
        reproduce=reproduce_html(
            manifest["command"],
            manifest,
            f"Seed {manifest['seed']} (the target run's; design and draws are seeded from it). "
            + _repeatable(outcome)
            + " <code>manifest.json</code> records the files and their SHA-256.",
        ),
    )


def _repeatable(outcome: _Outcome) -> str:
    """What the same command gives again: the same fit, unless the point fit stopped at its
    time budget (how far it got depends on the machine's speed) or the posterior is ABC's
    (pyABC's sampler is not bit-for-bit repeatable)."""
    from ...calibration.posterior import Posterior

    fit, abc = outcome.fit, isinstance(outcome.post, Posterior)
    post_timed = outcome.post is not None and "time budget" in outcome.post.stopped_by
    if fit.stopped_by == "time budget":
        said = (
            f"The point fit stopped at its time budget after {fit.generations} generation"
            f"{'s' * (fit.generations != 1)}: the same command on a slower or busier machine "
            "may stop sooner and find another point; give <code>--fit-generations "
            f"{fit.generations}</code> and a budget it cannot reach to repeat this fit exactly."
        )
    else:
        said = "The same command on the same spec, targets and base set gives the same point fit"
        same_posterior = outcome.post is not None and not abc and not post_timed
        said += " and posterior." if same_posterior else "."
    if post_timed and not abc:
        said += (
            " The posterior stopped at its time budget, so on a slower or busier machine it may "
            "stop at another stage; give a budget it cannot reach to repeat it exactly."
        )
    if abc:
        said += (
            " The ABC posterior is not repeatable bit for bit (pyABC's sampler); the emulator's is."
        )
    return said


def inputs_record(problem: CalibrationProblem) -> dict[str, Any]:
    """What a fit or a screening read, for its manifest: the targets, the seed, and each file
    with its SHA-256, to repeat the work or to tell that a file has changed since."""
    return {
        "targets": problem.targets.name,
        "seed": problem.resolved.scenario.seed,
        "files": {
            role: {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
            for role, path in (
                ("spec", problem.spec_path),
                ("targets", problem.targets_path),
                ("base_parameters", (problem.spec_path.parent / problem.spec.parameters).resolve()),
                ("scenario", problem.resolved.source),
            )
        },
    }


def _manifest(
    outcome: _Outcome, args: argparse.Namespace, clock: Clock, fit_seconds: float
) -> dict[str, Any]:
    from ...output.folders import folder_manifest

    post = outcome.post
    problem = outcome.problem
    content = {
        "calibration_of": str(args.spec),
        "spec": problem.spec.model_dump(mode="json"),
        **inputs_record(problem),
        "scenario": problem.resolved.scenario.model_dump(mode="json"),
        "fitted_values": outcome.fit.values,
        "settings": {k: getattr(args, k) for k in SETTINGS},
        "point_fit_seconds": round(fit_seconds, 1),
        "posterior_seconds": None if post is None else round(post.wall_seconds, 1),
        "posterior_check": outcome.tolerance,
    }
    return folder_manifest(content, command=command_line(args), clock=clock, workers=args.workers)


def _write(
    folder: AtomicFolder,
    outcome: _Outcome,
    html: str,
    manifest: dict[str, Any],
    args: argparse.Namespace,
    clock: Clock,
) -> Path:
    """The results folder (tables, fit report, manifest) and, inside the same atomic step,
    the fitted parameter files: a failure leaves neither. Returns the fitted set's path."""
    from ... import __version__
    from ...calibration.point_fit import write_fitted
    from ...output.folders import (
        write_manifest,
        write_tables,
        write_text,
    )

    tables = {
        "targets.csv": outcome.table,
        "tensions.csv": outcome.tension,
        "point_fit_evaluations.csv": outcome.fit.evaluations,
        "point_fit_history.csv": outcome.fit.history,
        "point_check.csv": outcome.point,
        "posterior.csv": outcome.sample,
        f"{args.posterior_method}_diagnostics.csv": outcome.diagnostics,
        "emulator_design.csv": getattr(outcome.post, "design", None),
        "posterior_predictive.csv": outcome.predictive,
        "identifiability.csv": outcome.identified,
        "unfitted_targets.csv": outcome.unfitted,
        "holdouts.csv": outcome.holdouts,
    }
    diagnostics = outcome.diagnostics
    if args.posterior_method == "abc":
        method = "ABC-SMC (pyABC)"
    elif diagnostics is not None and len(diagnostics):
        method = f"{_emulator_form(diagnostics.iloc[-1])} emulator, importance sampling"
    else:
        method = "emulator, importance sampling"
    record = {
        **({"posterior_method": method} if outcome.post else {}),
        "fitted_at": clock.started.isoformat(timespec="seconds"),
        "package_version": __version__,
        **_git_record(),
    }
    fitted_dir = args.fitted_dir or args.spec.parent / "fitted"
    with folder as out:
        write_tables(out, tables)
        write_text(out, "report.html", html)
        write_manifest(out, manifest)
        fitted = write_fitted(
            outcome.problem, outcome.fit, fitted_dir, posterior=outcome.sample, record=record
        )
    return fitted
