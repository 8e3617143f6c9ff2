"""The ``caseflow`` command line: a thin layer over the library. Only this module prints.

Exit status: 0 success, 2 bad input (a clear message, no traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__, compiled
from ..calibration.fit_report import (
    correlated_pairs,
    identifiability,
    point_check,
    posterior_predictive,
    render_fit_report,
    target_table,
    tensions,
)
from ..calibration.holdout import HoldoutCheck, validate_model
from ..calibration.point_fit import point_fit, write_fitted
from ..calibration.posterior import abc_posterior
from ..calibration.screening import (
    important_parameters,
    plot_screening,
    plot_sobol,
    screen,
    sobol_indices,
)
from ..calibration.spec import load_problem
from ..calibration.targets import check_targets, find_seeds, load_targets
from ..calibration.uncertainty import run_posterior
from ..experiments.parallel import ClusterError, ProgressCallback
from ..experiments.runner import ScenarioResults, compare_scenarios, run_scenario
from ..experiments.stopping import DEFAULT_KPIS, ReplicationRule, run_until_precise
from ..inputs.loading import load_scenarios
from ..inputs.reference import scenario_json_schema, scenario_reference_markdown
from ..inputs.scenario import ResolvedScenario
from ..inputs.validation import InputError, read_toml, suggest
from ..metrics import kpi_names
from ..output.folders import (
    MANIFEST,
    OutputFolderError,
    atomic_folder,
    base_manifest,
    check_target,
    default_folder,
    git_commit,
    now_utc,
    write_manifest,
    write_scenario_files,
)
from ..output.report import UNCERTAINTY_FILE, render_comparison_report, render_report

EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def _replications(text: str) -> int | str:
    return "auto" if text == "auto" else _positive_int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caseflow",
        description="Discrete-event simulation of economic-assistance caseload flow.",
    )
    parser.add_argument("--version", action="version", version=f"caseflow {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and write a results folder")
    run.add_argument("scenario", type=Path, help="scenario file (TOML)")
    run.add_argument("--out", type=Path, help="results folder (default: results/NAME-TIMESTAMP)")
    run.add_argument(
        "--replications",
        type=_replications,
        help="override the file's replications; 'auto' adds replications until the chosen KPIs' "
        "95 %% intervals are within --precision (Hoad, Robinson & Davies 2010)",
    )
    run.add_argument(
        "--precision",
        type=_positive_float,
        default=0.05,
        help="with --replications auto: target relative half-width (default 0.05)",
    )
    run.add_argument(
        "--auto-kpis",
        default=",".join(DEFAULT_KPIS),
        help="with --replications auto: comma-separated KPIs the rule watches "
        f"(default {','.join(DEFAULT_KPIS)})",
    )
    run.add_argument(
        "--max-replications",
        type=_positive_int,
        default=200,
        help="with --replications auto: the most it will run (default 200)",
    )
    run.add_argument("--seed", type=_non_negative_int, help="override the file's seed")
    run.add_argument(
        "--posterior",
        type=_positive_int,
        metavar="N",
        help="run over N draws of the fitted parameters' posterior × the replications; the "
        "report splits each figure's spread into parameter uncertainty and noise",
    )
    run.add_argument(
        "--workers", type=_positive_int, help="parallel processes (default: all cores)"
    )
    run.add_argument("--years", type=_positive_float, help="override the horizon in years")
    run.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="run the replications on this Dask scheduler instead of local processes "
        "(needs caseflow[dask] on the client and every worker)",
    )
    run.add_argument(
        "--events",
        action="store_true",
        help="also write every household's event log as events.parquet (needs pyarrow)",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override any scenario key (validated like the file); repeatable",
    )

    compare = sub.add_parser(
        "compare",
        help="run a base and alternatives with common random numbers; paired differences",
    )
    compare.add_argument(
        "scenarios",
        nargs="+",
        type=Path,
        help="base first, then alternatives; a file with [sweep] adds each point",
    )
    compare.add_argument("--out", type=Path, help="folder (default: results/compare-BASE-TIME)")
    compare.add_argument("--replications", type=_positive_int, help="override the base's")
    compare.add_argument("--seed", type=_non_negative_int, help="override the base's seed")
    compare.add_argument("--workers", type=_positive_int, help="parallel processes (default: all)")
    compare.add_argument("--years", type=_positive_float, help="override every horizon")
    compare.add_argument("--cluster", metavar="tcp://HOST:8786", help="run on a Dask scheduler")

    calibrate = sub.add_parser(
        "calibrate",
        help="calibrate a spec to its targets (point fit, posterior, fit report); "
        "--check targets; --screen a spec",
        description="Without --check or --screen: fit the spec's parameters to its targets "
        "(differential evolution with common random numbers, then an ABC-SMC posterior), "
        "write calibration/fitted/NAME.toml with its posterior sample, and a fit report. "
        "Interrupted work is kept in --work and resumed by the same command.",
    )
    calibrate.add_argument("files", nargs="+", type=Path, help="targets file(s) or one spec")
    calibrate.add_argument(
        "--check",
        action="store_true",
        help="validate the targets and report contradictions and provenance problems",
    )
    calibrate.add_argument(
        "--screen",
        action="store_true",
        help="Morris screening of a calibration spec's parameters against its targets",
    )
    calibrate.add_argument("--trajectories", type=_positive_int, default=10, help="screening")
    calibrate.add_argument(
        "--sobol",
        action="store_true",
        help="with --screen: then Sobol indices of the parameters that Morris found to matter "
        "(those moving a target by at least 1 sd)",
    )
    calibrate.add_argument(
        "--sobol-samples", type=_positive_int, default=64, help="Sobol base samples (power of 2)"
    )
    calibrate.add_argument(
        "--replications",
        type=_positive_int,
        default=3,
        help="common-random-number replications per point (screening and point fit)",
    )
    calibrate.add_argument("--workers", type=_positive_int)
    calibrate.add_argument("--cluster", metavar="tcp://HOST:8786", help="run on a Dask scheduler")
    calibrate.add_argument("--out", type=Path, help="results folder (default: results/...-TIME)")
    calibrate.add_argument(
        "--budget-minutes",
        type=_positive_float,
        default=15.0,
        help="wall-clock budget of a calibration (default 15): 40 %% point fit, the rest posterior",
    )
    calibrate.add_argument(
        "--fit-generations", type=_positive_int, default=25, help="differential evolution"
    )
    calibrate.add_argument(
        "--popsize", type=_positive_int, default=4, help="DE points per generation per parameter"
    )
    calibrate.add_argument("--population", type=_positive_int, default=150, help="ABC particles")
    calibrate.add_argument("--generations", type=_positive_int, default=8, help="ABC generations")
    calibrate.add_argument(
        "--no-posterior", action="store_true", help="point fit only (no ABC-SMC posterior)"
    )
    calibrate.add_argument(
        "--draws", type=_positive_int, default=100, help="posterior predictive draws for the report"
    )
    calibrate.add_argument(
        "--work", type=Path, help="work folder kept for resuming (default: calibration/work/NAME)"
    )
    calibrate.add_argument("--fresh", action="store_true", help="discard earlier work, start anew")
    calibrate.add_argument(
        "--fitted-dir", type=Path, help="where NAME.toml goes (default: fitted/ next to the spec)"
    )

    holdout = sub.add_parser(
        "validate-model",
        help="compare the model with reported figures never used in fitting (holdouts)",
    )
    holdout.add_argument(
        "--calibration",
        type=Path,
        default=Path("calibration"),
        help="folder with targets/ and validation/ (default: calibration)",
    )
    holdout.add_argument(
        "--parameters", type=Path, help="parameter set to check (default: each scenario's own)"
    )
    holdout.add_argument("--replications", type=_positive_int, default=10)
    holdout.add_argument("--workers", type=_positive_int)
    holdout.add_argument("--out", type=Path, help="folder (default: results/validate-TIME)")

    validate = sub.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", nargs="+", type=Path)

    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.add_argument(
        "--markdown", action="store_true", help="print the key reference as Markdown instead"
    )

    report = sub.add_parser("report", help="rebuild report.html of a results folder")
    report.add_argument("folder", type=Path)

    sub.add_parser(
        "compile",
        help="compile the model's inner loop with mypyc (make does it; if it fails, the "
        "model runs as Python)",
    )
    return parser


def _progress(label: str) -> ProgressCallback | None:
    if not sys.stderr.isatty():
        return None
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        elapsed = time.monotonic() - started
        left = elapsed / done * (total - done) if done else 0.0
        filled = round(24 * done / total) if total else 24
        bar = "#" * filled + "." * (24 - filled)
        sys.stderr.write(f"\r{label} [{bar}] {done}/{total} replications, ~{left:.0f} s left ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def _write_one(folder: Path, results: ScenarioResults, manifest: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    results.monthly.to_csv(folder / "monthly.csv", index=False)
    results.summary.to_csv(folder / "summary.csv", index=False)
    results.per_replication.to_csv(folder / "per_replication.csv", index=False)
    if results.events is not None:
        results.events.to_parquet(folder / "events.parquet", index=False)
    write_scenario_files(folder, results.resolved)
    (folder / "report.html").write_text(
        render_report(folder, results.summary, results.monthly, manifest), encoding="utf-8"
    )
    write_manifest(folder, manifest)


def _check_parquet() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError.single(
            "--events", "", "writing Parquet needs pyarrow: pip install 'caseflow[events]'"
        ) from None


def _auto_rule(args: argparse.Namespace) -> ReplicationRule | None:
    if args.replications != "auto":
        return None
    kpis = tuple(k.strip() for k in args.auto_kpis.split(",") if k.strip())
    known = kpi_names()
    for kpi in kpis:
        if kpi not in known:
            raise InputError.single(
                "--auto-kpis",
                kpi,
                f"unknown KPI{suggest(kpi, known)} (see summary.csv's kpi column)",
            )
    if not kpis:
        raise InputError.single("--auto-kpis", "", "name at least one KPI")
    return ReplicationRule(kpis=kpis, precision=args.precision, cap=max(args.max_replications, 5))


def cmd_run(args: argparse.Namespace) -> int:
    if args.events:
        _check_parquet()
    rule = _auto_rule(args)
    if rule is not None and args.posterior:
        raise InputError.single(
            "--posterior", "", "give a number of --replications (per draw), not auto"
        )
    if rule is not None and args.cluster:
        raise InputError.single(
            "--cluster", "", "--replications auto runs on local processes only (for now)"
        )
    resolved_list = load_scenarios(
        args.scenario,
        args.overrides,
        years=args.years,
        seed=args.seed,
        replications=None if rule else args.replications,
    )
    started = now_utc()
    name = resolved_list[0].name if len(resolved_list) == 1 else args.scenario.stem
    target = args.out or default_folder(Path("results"), name, started)
    with atomic_folder(target) as work:
        t0 = time.monotonic()
        points = []
        for resolved in resolved_list:
            auto: dict[str, object] | None = None
            folder = work if len(resolved_list) == 1 else work / resolved.name
            posterior_info: dict[str, object] | None = None
            if args.posterior:
                run = run_posterior(
                    resolved,
                    args.posterior,
                    workers=args.workers,
                    progress=_progress(resolved.name),
                    cluster=args.cluster,
                )
                results = run.results
                folder.mkdir(parents=True, exist_ok=True)
                run.uncertainty.to_csv(folder / UNCERTAINTY_FILE, index=False)
                fit = resolved.parameters.fit
                posterior_info = {
                    "draws": args.posterior,
                    "replications_per_draw": resolved.scenario.replications,
                    "sample": None if fit is None else fit.posterior,
                    "draw_seed": resolved.scenario.seed,
                }
            elif rule is not None:
                results, outcome = run_until_precise(
                    resolved, rule, workers=args.workers, progress=_progress(resolved.name)
                )
                auto = outcome.as_dict(rule)
            else:
                results = run_scenario(
                    resolved,
                    workers=args.workers,
                    progress=_progress(resolved.name),
                    events=args.events,
                    cluster=args.cluster,
                )
            manifest = base_manifest(results.resolved)
            if auto is not None:
                manifest["replications_auto"] = auto
            if posterior_info is not None:
                manifest["posterior"] = posterior_info
            manifest.update(
                {
                    "command": shlex.join(["caseflow", *args.argv]),
                    "started": started.isoformat(),
                    "finished": now_utc().isoformat(),
                    "wall_seconds": round(time.monotonic() - t0, 3),
                    "workers": args.workers,
                }
            )
            _write_one(folder, results, manifest)
            points.append({"name": resolved.name, "sweep_point": resolved.sweep_point})
        if len(resolved_list) > 1:
            write_manifest(
                work,
                {
                    "sweep_of": str(args.scenario),
                    "points": points,
                    "started": started.isoformat(),
                    "finished": now_utc().isoformat(),
                    "wall_seconds": round(time.monotonic() - t0, 3),
                },
            )
    if len(resolved_list) == 1:
        summary = pd.read_csv(target / "summary.csv").set_index("kpi")
        for kpi in ("mean_monthly_households", "exits_work_per_year", "first_visit_wait_days"):
            r = summary.loc[kpi]
            print(f"{kpi}: {r['mean']:.1f} (95 % CI {r['ci_low']:.1f} to {r['ci_high']:.1f})")
        print(f"report: {target / 'report.html'}")
    print(f"results: {target}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    resolved: list[ResolvedScenario] = []
    for i, path in enumerate(args.scenarios):
        overrides = {"years": args.years}
        if i == 0:
            overrides.update(seed=args.seed, replications=args.replications)
        resolved.extend(load_scenarios(path, **overrides))
    if len(resolved) < 2:
        raise InputError.single(
            args.scenarios[0],
            "",
            "compare needs a base and at least one alternative (several files, or a [sweep])",
        )
    names = [r.name for r in resolved]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError.single(
            "compare", "name", f"scenario names must differ; repeated: {', '.join(repeated)}"
        )
    base, alternatives = resolved[0], resolved[1:]
    started = now_utc()
    target = args.out or default_folder(Path("results"), f"compare-{base.name}", started)
    with atomic_folder(target) as work:
        t0 = time.monotonic()
        comparison = compare_scenarios(
            base,
            alternatives,
            workers=args.workers,
            progress=_progress("compare"),
            cluster=args.cluster,
        )
        finished = now_utc().isoformat()
        command = shlex.join(["caseflow", *args.argv])
        every = [comparison.base, *comparison.alternatives]
        for results in every:
            manifest = base_manifest(results.resolved)
            manifest.update({"command": command, "started": started.isoformat(),
                             "finished": finished, "compared_with": base.name})  # fmt: skip
            _write_one(work / results.resolved.name, results, manifest)
        comparison.differences.to_csv(work / "comparison.csv", index=False)
        manifest = {
            "comparison_of": [r.name for r in resolved],
            "base": base.name,
            "seed": base.scenario.seed,
            "replications": base.scenario.replications,
            "parameters_name": base.parameters.name,
            "command": command,
            "started": started.isoformat(),
            "finished": now_utc().isoformat(),
            "wall_seconds": round(time.monotonic() - t0, 3),
            "package": {"name": "caseflow", "version": __version__},
            "git": git_commit(),
        }
        (work / "report.html").write_text(
            render_comparison_report(
                work,
                comparison.differences,
                [(r.resolved.name, r.monthly) for r in every],
                [r.resolved.as_dict() for r in every],
                manifest,
            ),
            encoding="utf-8",
        )
        write_manifest(work, manifest)
    diffs = comparison.differences.set_index(["alternative", "kpi"])
    for alt in alternatives:
        for kpi in ("mean_monthly_households", "exits_work_per_year"):
            r = diffs.loc[(alt.name, kpi)]
            print(
                f"{alt.name}: {kpi} {r['difference']:+.1f} "
                f"(paired 95 % CI {r['ci_low']:+.1f} to {r['ci_high']:+.1f})"
            )
    print(f"report: {target / 'report.html'}")
    print(f"results: {target}")
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    if len(args.files) != 1:
        raise InputError.single("--screen", "", "screen one calibration spec at a time")
    spec_path: Path = args.files[0]
    started = now_utc()
    target = args.out or default_folder(Path("results"), f"screen-{spec_path.stem}", started)
    with atomic_folder(target) as work:
        t0 = time.monotonic()
        try:
            import SALib  # noqa: F401
        except ImportError:
            raise InputError.single(
                "--screen", "", "screening needs SALib: pip install 'caseflow[calibration]'"
            ) from None
        result = screen(
            spec_path,
            trajectories=args.trajectories,
            replications=args.replications,
            workers=args.workers,
            progress=_progress("screening"),
        )
        result.table.to_csv(work / "screening.csv", index=False)
        result.samples.to_csv(work / "samples.csv", index=False)
        plot_screening(result).savefig(work / "screening.png", dpi=110, bbox_inches="tight")
        sobol_info: dict[str, Any] | None = None
        if args.sobol:
            chosen = important_parameters(result)
            sobol = sobol_indices(
                spec_path,
                chosen,
                base_samples=args.sobol_samples,
                replications=args.replications,
                workers=args.workers,
                progress=_progress("sobol"),
            )
            sobol.to_csv(work / "sobol.csv", index=False)
            plot_sobol(sobol).savefig(work / "sobol.png", dpi=110, bbox_inches="tight")
            sobol_info = {
                "parameters": chosen,
                "base_samples": args.sobol_samples,
                "model_runs": args.sobol_samples * (len(chosen) + 3),
            }
        write_manifest(
            work,
            {
                "screening_of": str(spec_path),
                "spec": result.spec.model_dump(mode="json"),
                "method": "Morris elementary effects (SALib), with a dummy parameter",
                "trajectories": args.trajectories,
                "replications_per_point": args.replications,
                "model_runs": len(result.samples),
                "sobol": sobol_info,
                "command": shlex.join(["caseflow", *args.argv]),
                "started": started.isoformat(),
                "wall_seconds": round(time.monotonic() - t0, 3),
                "package": {"name": "caseflow", "version": __version__},
                "git": git_commit(),
            },
        )
    top = result.table[result.table["parameter"] != "dummy"]
    top = top.sort_values("mu_star_per_sd", ascending=False).head(8)
    for _, r in top.iterrows():
        print(f"{r['parameter']} -> {r['target']}: {r['mu_star_per_sd']:.1f} target sd")
    dummy = result.table[result.table["parameter"] == "dummy"]["mu_star"].abs().max()
    print(f"dummy parameter (noise floor): largest mu* {dummy:.3g}")
    if args.sobol:
        sobol = pd.read_csv(target / "sobol.csv")
        total = sobol.groupby("parameter")["ST"].max().sort_values(ascending=False)
        for parameter, value in total.items():
            print(f"Sobol: {parameter}: largest total-order index {value:.2f}")
    print(f"results: {target}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Exit 0: consistent or only known contradictions; 1: new problems; 2: bad input."""
    if args.screen:
        return cmd_screen(args)
    if not args.check:
        return cmd_fit(args)
    new_problems = 0
    for path in args.files:
        targets = load_targets(path)
        seeds = find_seeds(Path(path).parent)
        print(f"{path}: {len(targets.targets)} targets, {len(targets.sums)} sum rules")
        where = f"checked against {seeds}" if seeds else "not checked (no shared/seeds found)"
        print(f"  provenance: {where}")
        findings = check_targets(targets, seeds)
        for finding in findings:
            label = "known contradiction" if finding.known else "PROBLEM"
            print(f"  {label} [{finding.rule}]: {finding.message}")
        new_problems += sum(not f.known for f in findings)
        if not findings:
            print("  consistent")
    return 1 if new_problems else 0


def cmd_fit(args: argparse.Namespace) -> int:
    """Point fit, posterior, predictive checks, fit report and the fitted parameter files."""
    if len(args.files) != 1:
        raise InputError.single("calibrate", "", "calibrate one spec at a time")
    spec_path: Path = args.files[0]
    if spec_path.exists() and isinstance(read_toml(spec_path).get("targets"), list):
        raise InputError.single(
            spec_path,
            "",
            "this is a targets file: calibrate takes a calibration spec (e.g. "
            "calibration/spec_2015.toml); use --check to check targets",
        )
    problem = load_problem(spec_path)
    name = problem.spec.name
    work_root = args.work or spec_path.parent / "work" / name
    fitted_dir = args.fitted_dir or spec_path.parent / "fitted"
    started = now_utc()
    target = args.out or default_folder(Path("results"), f"fit-{name}", started)
    check_target(target)
    budget = args.budget_minutes * 60.0
    t0 = time.monotonic()
    tty = sys.stderr.isatty()

    def fit_progress(generation: int, best: float, evaluations: int) -> None:
        if tty:
            print(
                f"\rpoint fit: generation {generation}, best distance {best:.2f}, "
                f"{evaluations} points, {time.monotonic() - t0:.0f} s",
                end="",
                file=sys.stderr,
            )

    fit = point_fit(
        problem,
        work_root / "point_fit",
        replications=args.replications,
        popsize=args.popsize,
        max_generations=args.fit_generations,
        budget_seconds=0.4 * budget,
        workers=args.workers,
        cluster=args.cluster,
        fresh=args.fresh,
        progress=fit_progress,
    )
    if tty:
        print(file=sys.stderr)
    fit_seconds = time.monotonic() - t0
    print(
        f"point fit: distance {fit.distance:.2f} over {len(problem.compared)} targets after "
        f"{fit.generations} generations ({fit.stopped_by}); {fit.new_evaluations} points run, "
        f"{len(fit.evaluations) - fit.new_evaluations} replayed; {fit_seconds:.0f} s"
    )
    post = None
    if not args.no_posterior:
        if tty:
            print("posterior: ABC-SMC running ...", file=sys.stderr)
        post = abc_posterior(
            problem,
            work_root / "posterior",
            population=args.population,
            max_generations=args.generations,
            budget_seconds=max(budget - (time.monotonic() - t0) - 30.0, 30.0),
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
    point = point_check(problem, fit.values, replications=20, workers=args.workers)
    predictive = (
        posterior_predictive(
            problem,
            post.sample,
            draws=args.draws,
            seed=problem.resolved.scenario.seed,
            workers=args.workers,
        )
        if post is not None
        else None
    )
    table = target_table(problem, point, predictive)
    tension = tensions(problem, fit.evaluations)
    identified = identifiability(problem, post.sample) if post is not None else None
    pairs = correlated_pairs(problem, post.sample) if post is not None else None
    notes = [
        f"Known contradiction [{rule.id}]: {rule.known}"
        for rule in problem.targets.sums
        if rule.known
    ]
    wall = time.monotonic() - t0
    summary = {
        "spec": str(spec_path),
        "targets": str(problem.targets_path),
        "compared targets": len(problem.compared),
        "point fit distance (sum of squared z)": round(fit.distance, 3),
        "point fit": f"{fit.generations} generations, {fit.stopped_by}, "
        f"{len(fit.evaluations)} points × {fit.replications} replications",
        "posterior": "not run"
        if post is None
        else f"{len(post.diagnostics)} generations, {post.stopped_by}, "
        f"{post.simulations} simulations, {len(post.sample)} particles",
        "wall time (s)": round(wall, 1),
        "workers": args.workers or "all cores",
    }
    record = {
        "fitted_at": started.isoformat(timespec="seconds"),
        "package_version": __version__,
        **({"git_commit": c} if (c := git_commit().get("commit")) else {}),
    }
    with atomic_folder(target) as out:
        table.to_csv(out / "targets.csv", index=False)
        tension.to_csv(out / "tensions.csv", index=False)
        fit.evaluations.to_csv(out / "point_fit_evaluations.csv", index=False)
        fit.history.to_csv(out / "point_fit_history.csv", index=False)
        point.to_csv(out / "point_check.csv", index=False)
        if post is not None and predictive is not None and identified is not None:
            post.sample.to_csv(out / "posterior.csv", index=False)
            post.diagnostics.to_csv(out / "abc_diagnostics.csv", index=False)
            predictive.to_csv(out / "posterior_predictive.csv", index=False)
            identified.to_csv(out / "identifiability.csv", index=False)
        (out / "report.html").write_text(
            render_fit_report(
                problem=problem,
                targets=table,
                point=fit.values,
                fit_summary=summary,
                history=fit.history,
                tension=tension,
                sample=None if post is None else post.sample,
                identified=identified,
                pairs=pairs,
                diagnostics=None if post is None else post.diagnostics,
                notes=notes,
            ),
            encoding="utf-8",
        )
        write_manifest(
            out,
            {
                "calibration_of": str(spec_path),
                "spec": problem.spec.model_dump(mode="json"),
                "targets": problem.targets.name,
                "fitted_values": fit.values,
                "settings": {
                    k: getattr(args, k)
                    for k in (
                        "replications",
                        "popsize",
                        "fit_generations",
                        "population",
                        "generations",
                        "budget_minutes",
                        "draws",
                        "no_posterior",
                    )
                },
                "point_fit_seconds": round(fit_seconds, 1),
                "posterior_seconds": None if post is None else round(post.wall_seconds, 1),
                "wall_seconds": round(wall, 1),
                "command": shlex.join(["caseflow", *args.argv]),
                "started": started.isoformat(),
                "package": {"name": "caseflow", "version": __version__},
                "git": git_commit(),
            },
        )
        fitted = write_fitted(
            problem, fit, fitted_dir, posterior=None if post is None else post.sample, record=record
        )
    reproduced = int(table["reproduced"].sum())
    print(f"{reproduced} of {len(table)} targets within 2 sd of the point fit")
    print(f"fitted parameters: {fitted}")
    print(f"report: {target / 'report.html'}")
    print(f"total: {wall:.0f} s")
    return 0


def cmd_validate_model(args: argparse.Namespace) -> int:
    """Exit 0 whether or not each check is reproduced: the verdicts are the output."""
    if args.parameters is not None and not args.parameters.exists():
        raise InputError.single("--parameters", "", f"file not found: {args.parameters}")
    started = now_utc()
    target = args.out or default_folder(Path("results"), "validate", started)
    check_target(target)
    t0 = time.monotonic()
    checks = validate_model(
        args.calibration,
        replications=args.replications,
        workers=args.workers,
        parameters=args.parameters,
        progress=_progress("holdouts"),
    )
    with atomic_folder(target) as out:
        frames = []
        for check in checks:
            frame = check.table.copy()
            frame.insert(0, "check", check.name)
            frame["reproduced"] = check.reproduced
            frames.append(frame)
        pd.concat(frames, ignore_index=True).to_csv(out / "holdouts.csv", index=False)
        (out / "holdouts.md").write_text(holdout_markdown(checks), encoding="utf-8")
        write_manifest(
            out,
            {
                "validation_of": [c.scenario for c in checks],
                "parameters": None if args.parameters is None else str(args.parameters),
                "replications": args.replications,
                "reproduced": {c.name: c.reproduced for c in checks},
                "command": shlex.join(["caseflow", *args.argv]),
                "started": started.isoformat(),
                "wall_seconds": round(time.monotonic() - t0, 1),
                "package": {"name": "caseflow", "version": __version__},
                "git": git_commit(),
            },
        )
    for check in checks:
        verdict = "REPRODUCED" if check.reproduced else "NOT REPRODUCED"
        print(f"{verdict}: {check.name}")
        for row in check.table.itertuples():
            reported = "" if pd.isna(row.reported) else f"reported {row.reported:.3g}, "
            print(
                f"    {row.figure}: {reported}model {row.model_mean:.3g} "
                f"({row.model_ci_low:.3g} to {row.model_ci_high:.3g})"
            )
    print(f"results: {target}")
    return 0


def holdout_markdown(checks: Sequence[HoldoutCheck]) -> str:
    """The checks as Markdown (for docs/calibration.md)."""
    out = []
    for check in checks:
        verdict = "reproduced" if check.reproduced else "**not reproduced**"
        out.append(f"### {check.name}: {verdict}\n")
        out.append(f"Source: {check.source}. Compared: {check.compared}.\n")
        out.append(f"Criterion: {check.criterion}.\n")
        out.append("| figure | reported | model mean | model 95 % interval |\n|---|---|---|---|")
        for row in check.table.itertuples():
            reported = "" if pd.isna(row.reported) else f"{row.reported:.3g}"
            out.append(
                f"| {row.figure} | {reported} | {row.model_mean:.3g} | "
                f"{row.model_ci_low:.3g} – {row.model_ci_high:.3g} |"
            )
        out.append("")
    return "\n".join(out)


def cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            resolved = load_scenarios(path)
        except InputError as exc:
            failed += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        n = len(resolved)
        print(f"ok: {path} ({n} scenario{'s' if n != 1 else ''})")
    return EXIT_INPUT if failed else 0


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.exists():
        raise InputError.single(folder, "", f"not a results folder (no {MANIFEST})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _rebuild_run_report(folder: Path) -> Path:
    manifest = _read_manifest(folder)
    try:
        summary = pd.read_csv(folder / "summary.csv")
        monthly = pd.read_csv(folder / "monthly.csv")
    except FileNotFoundError as exc:
        raise InputError.single(
            folder, "", f"incomplete results folder: {exc.filename} is missing"
        ) from None
    (folder / "report.html").write_text(
        render_report(folder, summary, monthly, manifest), encoding="utf-8"
    )
    return folder / "report.html"


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild report.html of a run, a sweep (each point) or a comparison folder."""
    folder: Path = args.folder
    manifest = _read_manifest(folder)
    if "comparison_of" in manifest:
        names = manifest["comparison_of"]
        subs = [_read_manifest(folder / name) for name in names]
        monthly = [(name, pd.read_csv(folder / name / "monthly.csv")) for name in names]
        (folder / "report.html").write_text(
            render_comparison_report(
                folder,
                pd.read_csv(folder / "comparison.csv"),
                monthly,
                [sub["scenario"] for sub in subs],
                manifest,
            ),
            encoding="utf-8",
        )
        for name in names:
            _rebuild_run_report(folder / name)
    elif "sweep_of" in manifest:
        for point in manifest["points"]:
            print(f"report: {_rebuild_run_report(folder / point['name'])}")
        return 0
    else:
        _rebuild_run_report(folder)
    print(f"report: {folder / 'report.html'}")
    return 0


def cmd_compile(_args: argparse.Namespace) -> int:
    """Build the compiled model; a failure is explained and leaves the Python model in use
    (the build is an option, never a requirement), so it does not fail ``make``."""
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            where = compiled.build()
    except Exception as exc:  # any failure means: run as Python
        sys.stderr.write(log.getvalue()[-4000:])
        print(
            f"caseflow: the compiled build failed ({type(exc).__name__}: {exc}); "
            "the model runs as Python, about 1.8 times slower",
            file=sys.stderr,
        )
        return 0
    print(f"caseflow: compiled {', '.join(compiled.COMPILED_MODULES)} into {where}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "calibrate":
            return cmd_calibrate(args)
        if args.command == "compare":
            return cmd_compare(args)
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "validate-model":
            return cmd_validate_model(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "compile":
            return cmd_compile(args)
        if args.markdown:
            print(scenario_reference_markdown())
        else:
            print(json.dumps(scenario_json_schema(), indent=2))
        return 0
    except InputError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return EXIT_INPUT
    except (OutputFolderError, ClusterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted: no results were written", file=sys.stderr)
        if args.command == "calibrate" and not (args.check or args.screen):
            print(
                "the calibration's work so far is kept in its work folder; the same command "
                "resumes it",
                file=sys.stderr,
            )
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
