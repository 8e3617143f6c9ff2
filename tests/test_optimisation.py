"""``caseflow optimise`` (issue 20): the spec's validation, the KN++ selection's guarantee, the
search finding the known best of a small space, constraints never broken by a reported
candidate, and a chosen alternative's scenario file reproducing its numbers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli.main import main
from sim.inputs.validation import InputError
from sim.optimisation.selection import kn_plus_plus, probability_of_being_best
from sim.optimisation.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "baseline.toml"

TINY = f"""
name = "tiny"
base = "{BASE.as_posix()}"
years = 0.5
replications = 3
trials = 12
sampler = "tpe"

[[variables]]
key = "staff.ongoing_social_workers.posts"
low = 9
high = 11

[[variables]]
key = "staff.benefit_administrators.posts"
low = 5
high = 6

[constraints]
staff_budget_sek = 15_000_000

[[objectives]]
kpi = "assistance_paid_sek_per_year"
direction = "minimise"

[selection]
finalists = 2
indifference_zone = 200_000
first_stage = 5
max_replications = 10
"""


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the spec -------------------------------------------------------------------------------


def test_the_shipped_spec_loads() -> None:
    loaded = load_spec(ROOT / "scenarios" / "optimise" / "staffing_2015.toml")
    assert loaded.spec.constraints.staff_budget_sek == 15_660_000
    assert loaded.space_size() == 5 * 9 * 6 * 5 * 5 * 2


BROKEN = [
    # (what is changed in TINY, the key named, a phrase of the message)
    (("low = 9", "low = -1"), "variables[0].low", "greater than or equal to 0"),
    (("low = 9", "low = 12"), "variables[0]", "must be below high"),
    (
        ('key = "staff.ongoing_social_workers.posts"', 'key = "staff.ongoing_social_worker.posts"'),
        "variables[0].key",
        "did you mean 'ongoing_social_workers'",
    ),
    (
        ('kpi = "assistance_paid_sek_per_year"', 'kpi = "assistance_paid"'),
        "objectives[0].kpi",
        "unknown KPI",
    ),
    (
        ('direction = "minimise"', 'direction = "smallest"'),
        "objectives[0].direction",
        "'minimise' or 'maximise'",
    ),
    (
        ("indifference_zone = 200_000", "indifference_zone = 0"),
        "selection.indifference_zone",
        "greater than 0",
    ),
    (("trials = 12", "trials = 12\ntrails = 3"), "trails", "unknown key"),
    (
        ("staff_budget_sek = 15_000_000", "staff_budget_sek = -5"),
        "constraints.staff_budget_sek",
        "greater than 0",
    ),
    (("replications = 3", 'replications = "three"'), "replications", "integer"),
    (
        ("staff_budget_sek = 15_000_000", 'kpis = [{ kpi = "first_visit_wait", max = 14 }]'),
        "constraints.kpis[0].kpi",
        "did you mean 'first_visit_wait_days'",
    ),
    (
        ("staff_budget_sek = 15_000_000", 'kpis = [{ kpi = "first_visit_wait_days" }]'),
        "constraints.kpis[0]",
        "give max, min or both",
    ),
]


@pytest.mark.parametrize(("change", "key", "phrase"), BROKEN)
def test_a_broken_spec_names_the_file_the_key_and_what_is_allowed(
    tmp_path: Path, change: tuple[str, str], key: str, phrase: str
) -> None:
    path = write(tmp_path, TINY.replace(*change))
    with pytest.raises(InputError) as caught:
        load_spec(path)
    problems = caught.value.problems
    assert any(p.file == str(path) and p.key == key and phrase in p.message for p in problems), str(
        caught.value
    )


def test_a_broken_spec_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, TINY.replace("low = 9", "low = -1"))
    assert main(["optimise", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"error: {path}: variables[0].low: -1" in err
    assert not (tmp_path / "out").exists()


def test_a_missing_base_and_bad_toml_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace(BASE.as_posix(), "nowhere.toml"))
    with pytest.raises(InputError, match="base: base scenario not found"):
        load_spec(path)
    path = write(tmp_path, "name = ", "bad.toml")
    with pytest.raises(InputError, match="not valid TOML"):
        load_spec(path)


def test_decimal_variables_and_choices_make_the_space(tmp_path: Path) -> None:
    """Administrators' share on C in steps of 0.1, the caseload norm continuous, the form a
    choice: a decimal range without a step makes the space infinite (no grid)."""
    extra = """
[[variables]]
key = "organisation.administrators_on_c_share"
low = 0.3
high = 0.7
step = 0.1

[[variables]]
key = "organisation.form"
choices = ["split", "merged"]
"""
    text = TINY.replace("[constraints]", extra + "\n[constraints]")
    loaded = load_spec(write(tmp_path, text))
    assert loaded.spec.variables[2].values() == [0.3, 0.4, 0.5, 0.6, 0.7]
    assert loaded.space_size() == 3 * 2 * 5 * 2
    norm = '\n[[variables]]\nkey = "organisation.caseload_norm"\nlow = 45.0\nhigh = 65.0\n'
    loaded = load_spec(write(tmp_path, text.replace("[constraints]", norm + "\n[constraints]")))
    assert loaded.space_size() is None
    with pytest.raises(
        InputError,
        match=r"variables\[3\]\.choices\[1\]: \"huge\": Input should be 'split' or 'merged'",
    ):
        load_spec(write(tmp_path, text.replace('"merged"]', '"huge"]')))


def test_a_variable_needs_a_range_or_choices_not_both(tmp_path: Path) -> None:
    text = TINY.replace("low = 5\nhigh = 6", "low = 5\nhigh = 6\nchoices = [5, 6]")
    with pytest.raises(InputError, match=r"variables\[1\]: .*either choices, or low and high"):
        load_spec(write(tmp_path, text))


# --- the selection --------------------------------------------------------------------------


def _normal_trial(
    seed: int, k: int, delta: float, sd: float, corr: float, probability: float
) -> tuple[bool, int]:
    """One run of KN++ on k normal alternatives, the first better than the rest by exactly
    ``delta`` (the slippage configuration, the hardest for a procedure's guarantee), with
    correlation ``corr`` between alternatives in a replication (common random numbers)."""
    rng = np.random.default_rng(seed)
    means = np.zeros(k)
    means[0] = delta
    drawn: dict[int, np.ndarray] = {}

    def observe(systems: list[int], start: int, stop: int) -> np.ndarray:
        for r in range(start, stop):
            if r not in drawn:
                shared = rng.normal()
                own = rng.normal(size=k)
                drawn[r] = means + sd * (math.sqrt(corr) * shared + math.sqrt(1 - corr) * own)
        return np.array([[drawn[r][i] for r in range(start, stop)] for i in systems])

    chosen = kn_plus_plus(
        observe,
        k,
        indifference_zone=delta,
        probability=probability,
        first_stage=10,
        max_replications=100_000,
    )
    assert chosen.guaranteed
    return chosen.chosen == 0, sum(chosen.replications)


def _at_least(hits: int, trials: int, probability: float) -> bool:
    """The observed share of correct selections is not below ``probability`` by more than
    sampling error allows (one-sided binomial test at 1 %, normal approximation)."""
    sd = math.sqrt(probability * (1 - probability) / trials)
    return hits / trials >= probability - 2.33 * sd


def test_kn_plus_plus_picks_the_best_at_its_stated_probability_small() -> None:
    trials = 200
    hits = sum(_normal_trial(s, 4, 1.0, 2.0, 0.5, 0.9)[0] for s in range(trials))
    assert _at_least(hits, trials, 0.9), hits


@pytest.mark.slow
@pytest.mark.parametrize(
    ("k", "sd", "corr"), [(2, 3.0, 0.0), (5, 3.0, 0.0), (5, 3.0, 0.8), (10, 1.0, 0.0)]
)
def test_kn_plus_plus_picks_the_best_at_its_stated_probability(
    k: int, sd: float, corr: float
) -> None:
    trials = 2000
    hits = sum(_normal_trial(10_000 + s, k, 1.0, sd, corr, 0.9)[0] for s in range(trials))
    assert _at_least(hits, trials, 0.9), hits / trials


def test_common_random_numbers_shorten_the_selection() -> None:
    independent = [_normal_trial(s, 4, 1.0, 3.0, 0.0, 0.9)[1] for s in range(30)]
    paired = [_normal_trial(s, 4, 1.0, 3.0, 0.8, 0.9)[1] for s in range(30)]
    assert np.mean(paired) < 0.5 * np.mean(independent)


def test_a_clear_best_is_chosen_after_the_first_stage_and_a_cap_is_reported() -> None:
    def clear(systems: list[int], start: int, stop: int) -> np.ndarray:
        return np.array([[10.0 * (i == 2) + 0.01 * r for r in range(start, stop)] for i in systems])

    chosen = kn_plus_plus(clear, 3, indifference_zone=1.0, first_stage=5)
    assert chosen.chosen == 2 and chosen.replications == (5, 5, 5) and chosen.guaranteed

    def tied(systems: list[int], start: int, stop: int) -> np.ndarray:
        rng = np.random.default_rng(start)
        return rng.normal(size=(len(systems), stop - start))

    capped = kn_plus_plus(tied, 3, indifference_zone=0.001, first_stage=5, max_replications=12)
    assert not capped.guaranteed and max(capped.replications) == 12


def test_probability_of_being_best_shares_ties() -> None:
    values = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 5.0, 1.0]])
    assert probability_of_being_best(values).tolist() == [0.375, 0.625, 0.0]


# --- the search on the model ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``caseflow optimise`` on a space of 6 candidates (one over budget), 12 TPE trials."""
    folder = tmp_path_factory.mktemp("optimise")
    spec = write(folder, TINY)
    out = folder / "out"
    status = main(
        [
            "optimise",
            str(spec),
            "--out",
            str(out),
            "--workers",
            "2",
            "--study",
            str(folder / "study.journal"),
        ]
    )
    assert status == 0
    return out


def _exhaustive(spec_path: Path) -> pd.DataFrame:
    """Every candidate of the tiny space, evaluated with the same replications."""
    from sim.optimisation.candidates import Evaluator, fixed_violations, make_candidate

    loaded = load_spec(spec_path)
    evaluator = Evaluator(workers=2)
    rows = []
    for ongoing in (9, 10, 11):
        for administrators in (5, 6):
            values = {
                "staff.ongoing_social_workers.posts": ongoing,
                "staff.benefit_administrators.posts": administrators,
            }
            candidate = make_candidate(loaded, values, f"x{ongoing}-{administrators}")
            over = bool(fixed_violations(loaded, candidate))
            mean = evaluator.means(candidate, range(3))["assistance_paid_sek_per_year"]
            rows.append({**values, "over_budget": over, "mean": mean, "cost": candidate.staff_cost})
    return pd.DataFrame(rows)


def test_the_search_finds_the_best_of_a_space_enumerated_exhaustively(tiny_run: Path) -> None:
    truth = _exhaustive(tiny_run.parent / "spec.toml")
    assert truth["over_budget"].sum() == 2  # 11 social workers: 15.1 and 15.66 Mkr
    best = truth[~truth["over_budget"]].sort_values("mean").iloc[0]
    candidates = pd.read_csv(tiny_run / "candidates.csv")
    searched = candidates[(candidates["candidate"] != "base") & candidates["feasible"]]
    top = searched.sort_values("assistance_paid_sek_per_year").iloc[0]
    assert top["staff.ongoing_social_workers.posts"] == best["staff.ongoing_social_workers.posts"]
    assert top["staff.benefit_administrators.posts"] == best["staff.benefit_administrators.posts"]
    assert top["assistance_paid_sek_per_year"] == pytest.approx(best["mean"], rel=1e-12)


def test_no_reported_candidate_breaks_a_constraint(tiny_run: Path) -> None:
    candidates = pd.read_csv(tiny_run / "candidates.csv")
    reported = candidates[candidates["finalist"] | candidates["chosen"]]
    assert len(reported) >= 1
    assert (reported["budgeted_staff_cost_sek"] <= 15_000_000).all()
    assert reported["feasible"].all()
    over = candidates[candidates["budgeted_staff_cost_sek"] > 15_000_000]
    assert not over["feasible"].any()
    # candidates over the budget are not run; the base is, as what the others are paired with
    assert over["simulated"].tolist() == [c == "base" for c in over["candidate"]]
    pareto = pd.read_csv(tiny_run / "pareto.csv")
    assert (pareto["budgeted_staff_cost_sek"] <= 15_000_000).all() and pareto["feasible"].all()
    selection = pd.read_csv(tiny_run / "selection.csv")
    assert set(selection["candidate"]) <= set(reported["candidate"])


def test_the_folder_holds_what_the_issue_asks(tiny_run: Path) -> None:
    import json

    for name in (
        "manifest.json",
        "candidates.csv",
        "pareto.csv",
        "selection.csv",
        "differences.csv",
        "report.html",
        "figures/front.png",
    ):
        assert (tiny_run / name).exists(), name
    manifest = json.loads((tiny_run / "manifest.json").read_text())
    assert manifest["seed"] == 2015 and manifest["git"]["commit"]
    assert manifest["selection"]["procedure"].startswith("KN++")
    html = (tiny_run / "report.html").read_text()
    assert "Recommended:" in html and "against the base" in html
    assert len(list((tiny_run / "chosen").iterdir())) >= 1


def test_a_chosen_scenario_reproduces_its_numbers_with_caseflow_run(
    tiny_run: Path, tmp_path: Path
) -> None:
    chosen = sorted((tiny_run / "chosen").iterdir())[0]
    name = chosen.name.split("_", 1)[1]
    out = tmp_path / "rerun"
    assert main(["run", str(chosen / "scenario.toml"), "--out", str(out), "--workers", "1"]) == 0
    rerun = pd.read_csv(out / "summary.csv").set_index("kpi")["mean"]
    candidates = pd.read_csv(tiny_run / "candidates.csv").set_index("candidate")
    for kpi in ("assistance_paid_sek_per_year", "staff_cost_sek_per_year"):
        assert rerun[kpi] == pytest.approx(candidates.loc[name, kpi], rel=1e-12), kpi


def test_running_again_resumes_the_study(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tiny_run.parent / "spec.toml"
    out = tmp_path / "again"
    assert (
        main(
            [
                "optimise",
                str(spec),
                "--out",
                str(out),
                "--workers",
                "2",
                "--study",
                str(tiny_run.parent / "study.journal"),
            ]
        )
        == 0
    )
    assert "resuming study" in capsys.readouterr().err
    first = pd.read_csv(tiny_run / "candidates.csv")
    second = pd.read_csv(out / "candidates.csv")
    pd.testing.assert_frame_equal(first, second)


def test_optimise_help_does_not_import_optuna() -> None:
    import subprocess
    import sys

    code = "import sys, sim.cli.main as m; m.build_parser(); print('optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_several_objectives_search_with_nsga2_and_the_finalists_over_the_posterior(
    tmp_path: Path,
) -> None:
    """Two objectives: NSGA-II, the finalists from the objectives' front, pareto.csv holds
    no candidate another beats on cost and both objectives; with --posterior each finalist's
    probability of being best, adding up to 1."""
    text = TINY.replace('sampler = "tpe"', 'sampler = "nsga2"').replace("trials = 12", "trials = 8")
    text += '\n[[objectives]]\nkpi = "exits_work_per_year"\ndirection = "maximise"\n'
    spec = write(tmp_path, text)
    out = tmp_path / "out"
    argv = [
        "optimise",
        str(spec),
        "--out",
        str(out),
        "--posterior",
        "2",
        "--study",
        str(tmp_path / "s.journal"),
    ]
    assert main(argv) == 0
    manifest = (out / "manifest.json").read_text()
    assert '"sampler": "nsga2"' in manifest
    pareto = pd.read_csv(out / "pareto.csv")
    points = [
        (-r.budgeted_staff_cost_sek, -r.assistance_paid_sek_per_year, r.exits_work_per_year)
        for r in pareto.itertuples()
    ]
    for p in points:
        assert not any(all(a >= b for a, b in zip(q, p, strict=True)) and q != p for q in points)
    posterior = pd.read_csv(out / "posterior.csv")
    assert posterior["probability_best"].sum() == pytest.approx(1.0)
    assert (posterior["draws"] == 2).all()


@pytest.mark.slow
def test_on_the_model_the_selection_is_within_the_zone_of_the_true_best(tmp_path: Path) -> None:
    """KN++ on the model itself: three staffings (3, 4 and 5 intake social workers, one year),
    the first objective assistance paid. Their true means are estimated from 200 replications
    each (numbered apart from those the trials use); 40 seeded trials, each on replications of
    its own, must choose one within the indifference zone of the true best at least at the
    stated probability (allowing for sampling error)."""
    from sim.optimisation.candidates import Evaluator, make_candidate

    text = TINY.replace("years = 0.5", "years = 1").replace(
        'key = "staff.benefit_administrators.posts"\nlow = 5\nhigh = 6',
        'key = "staff.intake_social_workers.posts"\nlow = 3\nhigh = 5',
    )
    spec = write(tmp_path, text)
    loaded = load_spec(spec)
    evaluator = Evaluator(workers=2)
    kpi, zone, probability = "assistance_paid_sek_per_year", 300_000.0, 0.9
    staffings = [
        make_candidate(
            loaded,
            {"staff.ongoing_social_workers.posts": 11, "staff.intake_social_workers.posts": n},
            f"intake{n}",
        )
        for n in (3, 4, 5)
    ]
    truth_reps = range(100_000, 100_200)
    truth = [-evaluator.means(c, truth_reps)[kpi] for c in staffings]  # larger better
    good = {i for i, t in enumerate(truth) if t >= max(truth) - zone}
    hits, trials = 0, 40
    for trial in range(trials):
        offset = 1_000 * trial

        def observe(systems: list[int], start: int, stop: int, offset: int = offset) -> np.ndarray:
            reps = range(offset + start, offset + stop)
            return np.array(
                [-evaluator.per_replication(staffings[i], reps)[kpi].to_numpy() for i in systems]
            )

        chosen = kn_plus_plus(
            observe,
            3,
            indifference_zone=zone,
            probability=probability,
            first_stage=10,
            max_replications=400,
        )
        hits += chosen.chosen in good
    assert _at_least(hits, trials, probability), (hits, truth)


def test_caseflow_report_rebuilds_an_optimisation_report(tiny_run: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy)
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert (copy / "report.html").read_text() == (tiny_run / "report.html").read_text()


def test_a_small_space_is_searched_whole_by_the_grid(tmp_path: Path) -> None:
    """sampler auto with no more candidates than trials: every candidate once (the grid), the
    best of them found whatever the sampler would have guessed."""
    spec = write(tmp_path, TINY.replace('sampler = "tpe"\n', ""))
    out = tmp_path / "out"
    assert main(["optimise", str(spec), "--out", str(out), "--study", str(tmp_path / "j")]) == 0
    candidates = pd.read_csv(out / "candidates.csv")
    assert len(candidates) == 1 + 6 and (candidates["proposed"].dropna() == 1).all()
    assert '"sampler": "grid"' in (out / "manifest.json").read_text()
    feasible = candidates[(candidates["candidate"] != "base") & candidates["feasible"]]
    best = feasible.sort_values("assistance_paid_sek_per_year").iloc[0]
    finalists = candidates[candidates["finalist"]]
    assert best["candidate"] in set(finalists["candidate"])


def test_a_chosen_finalist_that_breaks_a_bound_over_more_replications_is_dropped(
    tmp_path: Path,
) -> None:
    """The selection's replications re-estimate the bounded KPIs: a finalist best by the
    objective whose wait, over its selection replications, exceeds the bound is dropped and
    the selection rerun among the others; it is reported as dropped, never as chosen."""
    from sim.optimisation.candidates import make_candidate
    from sim.optimisation.search import Evaluated, _select

    text = TINY.replace(
        "staff_budget_sek = 15_000_000", 'kpis = [{ kpi = "first_visit_wait_days", max = 14 }]'
    )
    loaded = load_spec(write(tmp_path, text))
    objective = {0: 40.0, 1: 42.0, 2: 43.0}  # 0 is best (minimise), by far

    class FakeEvaluator:
        """Replications of three finalists: finalist 0's wait is 10 days in the first three
        replications (as the search saw) and 30 after."""

        workers = 1

        def run(self, requests: object) -> None:
            return None

        def per_replication(self, candidate: object, reps: range) -> pd.DataFrame:
            i = int(str(candidate.resolved.name)[-1])  # type: ignore[attr-defined]
            rows = [
                {
                    "replication": r,
                    "assistance_paid_sek_per_year": objective[i] + 0.1 * ((r * 7 + i) % 5),
                    "first_visit_wait_days": 30.0 if i == 0 and r >= 3 else 10.0,
                }
                for r in reps
            ]
            return pd.DataFrame(rows)

        def means(self, candidate: object, reps: range) -> dict[str, float]:
            table = self.per_replication(candidate, reps).drop(columns="replication")
            return {k: float(v) for k, v in table.mean().items()}

    values = {"staff.ongoing_social_workers.posts": 9, "staff.benefit_administrators.posts": 5}
    finalists = [Evaluated(i, make_candidate(loaded, values, f"f{i}"), {}, []) for i in range(3)]
    selection, dropped = _select(loaded, FakeEvaluator(), finalists, lambda _t: None)  # type: ignore[arg-type]
    assert [d.candidate.resolved.name for d, _ in dropped] == ["f0"]
    assert "first_visit_wait_days" in dropped[0][1][0]
    assert selection is not None and selection.chosen == 0  # of the two left: f1

    # the tables say so too: f0 is not feasible after all, and not on the front (where, the
    # cheapest and best by the search's replications, it hid the others)
    from sim.optimisation.search import OptimisationResult, candidates_table, pareto_table

    searched = [
        Evaluated(
            i,
            make_candidate(loaded, values, f"f{i}"),
            {"assistance_paid_sek_per_year": objective[i]},
            [],
        )
        for i in range(3)
    ]
    # f3 behaves exactly as f0 (a setting that changes nothing): it breaks the bound alike
    searched.append(Evaluated(3, make_candidate(loaded, values, "f3"), dict(searched[0].means), []))
    dropped = [(searched[0], broken) for _, broken in dropped]  # the searched f0
    result = OptimisationResult(
        loaded, "grid", "s", 3, 0, searched, searched[1:3], selection, dropped,
        Evaluated(-1, make_candidate(loaded, values, "b"), {}, []), pd.DataFrame(),
    )  # fmt: skip
    table = candidates_table(result).set_index("candidate")
    assert not table.loc["f0", "feasible"] and table.loc["f1", "feasible"]
    assert "over its selection replications" in table.loc["f0", "violations"]
    assert "f0" not in set(pareto_table(result)["candidate"])
    assert not table.loc["f3", "feasible"] and "behaves as f0" in table.loc["f3", "violations"]
    assert "f3" not in set(pareto_table(result)["candidate"])


def test_an_interrupt_inside_optunas_journal_write_stays_an_interrupt() -> None:
    """Optuna 5.1, interrupted while writing a trial, raises an UnboundLocalError from the
    KeyboardInterrupt; the search re-raises the interrupt (the command then says
    "interrupted", exit 130) and lets any other error through."""
    from sim.optimisation.search import _optimize

    class Study:
        def optimize(self, objective: object, n_trials: int) -> None:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                raise UnboundLocalError("updated_state")  # noqa: B904 (as Optuna does)

    with pytest.raises(KeyboardInterrupt):
        _optimize(Study(), None, 1)  # type: ignore[arg-type]

    class Plain:
        def optimize(self, objective: object, n_trials: int) -> None:
            raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        _optimize(Plain(), None, 1)  # type: ignore[arg-type]


def test_the_numbers_do_not_depend_on_the_workers(tiny_run: Path, tmp_path: Path) -> None:
    spec = tiny_run.parent / "spec.toml"
    out = tmp_path / "one"
    argv = ["optimise", str(spec), "--out", str(out), "--workers", "1"]
    assert main([*argv, "--study", str(tmp_path / "one.journal")]) == 0
    for name in ("candidates.csv", "selection.csv", "differences.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(tiny_run / name))


def test_a_study_journal_that_cannot_be_one_is_refused_before_any_trial(tmp_path, capsys):
    """``--study`` names the journal that keeps the trials: a folder, a file that is not a
    journal, a place inside the results folder (replaced, journal and all, when the run
    ends), the results folder itself or a folder above it is one line naming ``--study``,
    before anything runs."""
    spec = write(tmp_path, TINY)
    out = tmp_path / "out"
    (tmp_path / "garbage").write_text("garbage\n")
    cases = {
        str(tmp_path): "is a folder: name a journal file",
        str(tmp_path / "garbage"): "is not an Optuna journal (line 1",
        str(out / "s.journal"): "is inside the results folder",
        str(out): "is the results folder (--out) itself",
        str(tmp_path / "nested"): "is a folder above the results folder",
    }
    for study, said in cases.items():
        where = tmp_path / "nested" / "out" if "nested" in study else out
        assert main(["optimise", str(spec), "--out", str(where), "--study", study]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --study: ") and said in err
        assert not out.exists() and not (tmp_path / "nested").exists()


def test_a_step_wider_than_its_range_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"step \(5\) is wider than the range 9 to 11"):
        load_spec(write(tmp_path, TINY.replace("high = 11\n", "high = 11\nstep = 5\n", 1)))


def test_a_base_that_is_a_folder_is_named_by_the_key(tmp_path):
    spec = write(tmp_path, TINY.replace(BASE.as_posix(), tmp_path.as_posix()))
    with pytest.raises(InputError, match=r"spec.toml: base: .* is a folder: name a scenario"):
        load_spec(spec)


def test_a_budget_or_post_limit_no_candidate_can_meet_is_refused_before_any_trial(tmp_path, capsys):
    """The cheapest candidate (every variable at its lowest) already costs more than the
    budget, or has more posts than allowed: no search can find one that meets it, so the spec
    (or --budget) is refused before any trial, naming the cheapest cost; no folder, no study."""
    out, study = tmp_path / "out", tmp_path / "j"
    spec = write(tmp_path, TINY.replace("staff_budget_sek = 15_000_000", "staff_budget_sek = 1000"))
    assert main(["optimise", str(spec), "--out", str(out), "--study", str(study), "--yes"]) == 2
    err = capsys.readouterr().err
    assert "constraints.staff_budget_sek: 1,000 SEK is below the cheapest candidate's" in err
    argv = ["optimise", str(write(tmp_path, TINY)), "--out", str(out), "--study", str(study),
            "--yes", "--budget", "2000000"]  # fmt: skip
    assert main(argv) == 2
    assert "--budget: 2,000,000 SEK is below" in capsys.readouterr().err
    posts = TINY.replace("staff_budget_sek = 15_000_000", "max_posts = 5")
    assert main(["optimise", str(write(tmp_path, posts)), "--out", str(out), "--yes"]) == 2
    assert "constraints.max_posts: 5 is below the fewest posts a candidate has" in (
        capsys.readouterr().err
    )
    assert not out.exists() and not study.exists()
    # a variable that is a word (the organisation's form) takes the base's value there
    form = '[[variables]]\nkey = "organisation.form"\nchoices = ["split", "merged"]\n\n'
    worded = TINY.replace("[constraints]", form + "[constraints]").replace(
        "staff_budget_sek = 15_000_000", "staff_budget_sek = 1000"
    )
    assert main(["optimise", str(write(tmp_path, worded)), "--out", str(out), "--yes"]) == 2
    assert "is below the cheapest candidate's" in capsys.readouterr().err


def test_no_feasible_candidate_still_writes_a_report(tmp_path, capsys):
    """A bound on a KPI no candidate meets (found only by simulating): nothing is recommended,
    said as a warning, and the report says no candidate was compared (it failed on the empty
    comparison before)."""
    spec = write(
        tmp_path,
        TINY.replace(
            "staff_budget_sek = 15_000_000",
            'kpis = [{ kpi = "first_visit_wait_days", max = 0.001 }]',
        ),
    )
    out = tmp_path / "out"
    argv = ["optimise", str(spec), "--out", str(out), "--study", str(tmp_path / "j"), "--yes"]
    assert main(argv) == 0
    assert "no candidate met every constraint" in capsys.readouterr().err
    assert "none met the constraints" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("high = 11\n", "high = true\n", r"variables\[0\]\.high: must be a number \(got true\)"),
        ("high = 11\n", 'high = "11"\n', r'variables\[0\]\.high: must be a number \(got "11"\)'),
        ("high = 11\n", "high = inf\n", r"variables\[0\]\.high: must be a finite number"),
        ("trials = 12", 'trials = "12"', r"trials: Input should be a valid integer"),
        ("trials = 12", "trials = 12.0", r"trials: Input should be a valid integer"),
        (
            'key = "staff.ongoing_social_workers.posts"',
            'key = "seed"',
            r"variables\[0\]\.key: 'seed' is not a setting to decide",
        ),
    ],
)
def test_an_optimisation_spec_is_read_as_strictly_as_a_scenario(tmp_path, old, new, said):
    """``high = true`` was read as 1 and ``trials = "12"`` as 12; each is now one line."""
    with pytest.raises(InputError, match=said) as info:
        load_spec(write(tmp_path, TINY.replace(old, new, 1)))
    assert str(info.value).count("\n") == 0


def test_a_journal_cut_by_an_interrupt_says_which_line_to_remove(tmp_path):
    """An interrupt can cut the journal's last record. Optuna skips it when reading but
    appends its next record to it, spoiling both, so the command stops first and says which
    line to remove (the trials before it are kept); a file that is no journal is refused."""
    from sim.cli.optimise import _check_study

    journal = tmp_path / "s.journal"
    journal.write_text("")
    _check_study(journal, tmp_path / "out")
    journal.write_text('{"op_code": 0}\n{"op_code": 4}\n')
    _check_study(journal, tmp_path / "out")
    journal.write_text('{"op_code": 0}\n{"op_code": 4, "worker')
    with pytest.raises(InputError, match=r"last record was cut .* remove that last line"):
        _check_study(journal, tmp_path / "out")
    for text in ("garbage", "garbage\n", '{"op_code": 0}\nnot a record\n{"op_code": 4}\n'):
        journal.write_text(text)
        with pytest.raises(InputError, match="is not an Optuna journal"):
            _check_study(journal, tmp_path / "out")


def test_a_decimal_step_that_fits_its_range_is_taken(tmp_path):
    """0.3 - 0.1 is just under 0.2 in floating point: a step of 0.2 still fits."""
    text = TINY.replace(
        'key = "staff.benefit_administrators.posts"\nlow = 5\nhigh = 6',
        'key = "organisation.administrators_on_c_share"\nlow = 0.1\nhigh = 0.3\nstep = 0.2',
    )
    assert "administrators_on_c_share" in text
    load_spec(write(tmp_path, text))


def test_a_lone_finalist_among_several_feasible_is_not_called_the_only_feasible_one():
    """With one candidate on the objectives' front there is no selection to make, but other
    candidates may have met the constraints: the report said "One candidate met every
    constraint" whenever the selection had one row."""
    from sim.output.optimisation_report import _lead

    one = pd.DataFrame([{"candidate": "c002", "ar_team.places": 36}])
    several = _lead(one, None, ["ar_team.places"], [("exits_work_per_year", "max")], 8)
    assert "8 candidates met every constraint; <b>c002</b> (ar_team.places = 36)" in several
    assert "only finalist" in several and "One candidate met" not in several
    alone = _lead(one, None, ["ar_team.places"], [("exits_work_per_year", "max")], 1)
    assert "One candidate met every constraint: <b>c002</b>" in alone


def test_a_variable_the_bases_changes_set_from_a_date_is_refused(tmp_path: Path) -> None:
    """A base whose ``[[changes]]`` set a decision variable from a date would give candidates
    that differ only before it: the search would optimise a year and report five."""
    base = tmp_path / "base.toml"
    base.write_text(
        f'extends = "{BASE.as_posix()}"\nname = "changing"\n\n[[changes]]\nat = 2016-01-01\n'
        "staff.ongoing_social_workers.posts = 9\n",
        encoding="utf-8",
    )
    text = TINY.replace(f'base = "{BASE.as_posix()}"', f'base = "{base.as_posix()}"')
    with pytest.raises(
        InputError,
        match=r"variables\[0\]\.key: the base's \[\[changes\]\] at 2016-01-01 sets "
        r"staff\.ongoing_social_workers\.posts from then",
    ):
        load_spec(write(tmp_path, text))
