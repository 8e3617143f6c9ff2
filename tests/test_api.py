"""The Python API (``sim.run``, ``sim.compare``) against the command line (issue 16, item 16):
the same results folder and report, ``replications="auto"``, errors by the API's own
parameter names, and a short summary as the results' repr."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main as cli


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_save_writes_the_folder_the_command_line_writes(small, tmp_path):
    results = sim.run(small, workers=1)
    saved = results.save(tmp_path / "api")
    assert cli.main(["run", str(small), "--out", str(tmp_path / "cli"), "--workers", "1"]) == 0
    assert _files(saved) == _files(tmp_path / "cli")
    for name in ("summary.csv", "monthly.csv", "per_replication.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(saved / name), pd.read_csv(tmp_path / "cli" / name), check_exact=True
        )
    # the summary in memory is the one saved: intervals cut to what a KPI can take
    on_disk = pd.read_csv(saved / "summary.csv")
    for column in ("ci_low", "ci_high"):
        assert results.summary[column].round(6).equals(on_disk[column].round(6)), column
    assert (results.summary["ci_low"].dropna() >= 0).all() or (
        results.summary.loc[results.summary["ci_low"] < 0, "unit"] == "SEK"
    ).all()
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["command"] == f"sim.run({str(small)!r}, workers=1)"
    assert manifest["seed"] == 7 and manifest["git"]["commit"]
    assert "sim.run(" in (saved / "report.html").read_text()


def test_a_comparison_saves_the_folder_compare_writes(small, write, tmp_path):
    alt = write("alt.toml", f'extends = "{small.name}"\nname = "alt"\n[ar_team]\nplaces = 10\n')
    cmp = sim.compare(small, alt, workers=1)
    saved = cmp.save(tmp_path / "api")
    args = ["compare", str(small), str(alt), "--out", str(tmp_path / "cli"), "--workers", "1"]
    assert cli.main(args) == 0
    assert _files(saved) == _files(tmp_path / "cli")
    pd.testing.assert_frame_equal(
        pd.read_csv(saved / "comparison.csv"), pd.read_csv(tmp_path / "cli" / "comparison.csv")
    )
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["comparison_of"] == ["small", "alt"]
    assert manifest["command"].startswith("sim.compare(")


def test_replications_auto(small):
    results = sim.run(small, replications="auto", precision=0.5, workers=2)
    auto = results.manifest()["replications_auto"]
    assert auto["reached"] and auto["replications_used"] == len(results.per_replication) >= 5
    with pytest.raises(ValueError, match="precision"):
        sim.run(small, replications="auto", precision=0)


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({"workers": 0}, "workers"),
        ({"replications": 0}, "replications"),
        ({"replications": "many"}, "replications"),
        ({"seed": -1}, "seed"),
        ({"years": 0}, "years"),
        ({"years": 60}, "years="),
        ({"replications": 200_000}, "replications must be at most 100000"),
        ({"seed": 2**70}, "seed must be at most 9223372036854775807"),
        ({"overrides": {"ar_team.places": None}}, "ar_team.places is None"),
        ({"overrides": 5}, "a list of 'KEY.PATH=VALUE' strings or a dict"),
        ({"overrides": ["staff.ongoing_social_workers.posts=-1"]}, "overrides="),
        ({"overrides": ["x"]}, "sim.run(overrides=['x'])"),
        ({"overrides": ["horizon_years=2"], "years": 1}, "by years="),
        ({"overrides": "ar_team.places=9"}, "not one string"),
        ({"overrides": [9]}, "each override is a 'KEY.PATH=VALUE' string"),
        ({"events": "yes"}, "events must be True or False"),
        ({"cluster": 5}, "cluster must be a Dask scheduler's address"),
    ],
)
def test_errors_name_the_apis_own_parameters(small, keywords, named):
    """Not ``--replications``: the notebook user typed ``replications=``."""
    with pytest.raises((ValueError, TypeError, sim.InputError)) as caught:
        sim.run(small, **keywords)
    assert named in str(caught.value)
    assert "--" not in str(caught.value)


def test_a_loaded_scenario_takes_the_files_limits_and_dict_overrides_stay_what_they_are(small):
    """A loaded scenario's seed and replications are checked as a file's would be (a seed of
    2**70 ran, and its saved scenario.toml could not be run again); a dict override's string
    stays a string, even one that looks like a date, and numpy values are their own."""
    import numpy as np

    loaded = sim.load_scenarios(small)[0]
    with pytest.raises(ValueError, match="seed must be at most"):
        sim.run(loaded, seed=2**70)
    overrides = {"description": "2020-01-01\nsecond line", "ar_team.places": np.int64(9)}
    results = sim.run(small, overrides=overrides, replications=1, workers=1)
    assert results.resolved.scenario.ar_team.places == 9
    assert results.resolved.scenario.description == "2020-01-01\nsecond line"


def test_arguments_of_the_wrong_type_are_named(small, tmp_path):
    """A number where a path goes failed nine frames deep in pathlib; each is named by the
    API's parameter. Overrides may also be a dict of keys to values."""
    with pytest.raises(TypeError, match=r"sim\.run\(scenario=\.\.\.\): a scenario file's path"):
        sim.run(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"sim\.compare\(alternatives=\.\.\.\)"):
        sim.compare(small, [small])  # type: ignore[arg-type]
    results = sim.run(small, overrides={"ar_team.places": 9}, replications=1, workers=1)
    assert results.resolved.timeline[0].ar_team.places == 9
    with pytest.raises(TypeError, match=r"save\(folder=\.\.\.\)"):
        results.save(123)  # type: ignore[arg-type]
    # None for no overrides, as for the other optional parameters; one KPI name as itself
    assert len(sim.run(small, overrides=None, replications=1, workers=1).per_replication) == 1
    from sim.api import _rule

    assert _rule(0.1, "mean_monthly_households", 50).kpis == ("mean_monthly_households",)


def test_the_api_says_what_the_command_line_says_before_it_runs(small, tmp_path):
    """As ``caseflow``: options of ``replications='auto'`` given without it are ignored with a
    warning; repeated scenario names are said before anything runs (``save`` refuses them);
    saving over earlier results says they are replaced."""
    with pytest.warns(UserWarning, match="precision applies only with replications='auto'"):
        results = sim.run(small, replications=1, workers=1, precision=0.2)
    with pytest.warns(UserWarning, match="share a name: small; the comparison runs, but save"):
        same = sim.compare(small, small, replications=1, workers=1)
    with pytest.raises(ValueError, match="these repeat: small"):
        same.save(tmp_path / "same")
    results.save(tmp_path / "r")
    with pytest.warns(UserWarning, match="holds earlier results .* they are replaced"):
        results.save(tmp_path / "r")


def test_compare_rejects_workers_zero(small):
    with pytest.raises(ValueError, match="workers"):
        sim.compare(small, small, workers=0)


def test_results_show_a_short_summary(small, write):
    results = sim.run(small, replications=2, workers=1)
    text = repr(results)
    assert text.startswith("caseflow results: small (2 replications")
    assert "Households per month: " in text and "95 % CI" in text
    shown = [line for line in text.splitlines() if "warning" not in line]  # 2 replications
    assert len(shown) <= 6 and "DataFrame" not in text
    assert "<table>" in results._repr_html_()
    alt = write("alt.toml", f'extends = "{small.name}"\nname = "alt"\n[ar_team]\nplaces = 10\n')
    cmp = sim.compare(small, alt, replications=2, workers=1)
    text = repr(cmp)
    assert text.startswith("caseflow comparison with small: 1 alternative")
    assert "alt: " in text and "changes most" in text
    assert "<table>" in cmp._repr_html_()
    assert repr(cmp.base).startswith("caseflow results: small")


BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


def test_results_show_the_reports_warnings_with_their_figures(small, tmp_path):
    """A notebook user who never saves the results still sees what the report warns of:
    ``.warnings``, in the text and HTML displays, the same words as the saved report."""
    import html as html_module

    results = sim.run(small, replications=2, workers=1)
    assert any("Fewer than 10 replications" in w for w in results.warnings)
    text, page = repr(results), results._repr_html_()
    assert all(html_module.escape(w) in page for w in results.warnings)
    assert text.count("  warning: ") == len(results.warnings) and ".warnings has them" in text
    report = html_module.unescape((results.save(tmp_path / "r") / "report.html").read_text())
    assert all(w in report for w in results.warnings)


def test_posterior_runs_as_the_command_line_does(tmp_path):
    """``sim.run(..., posterior=N)`` is ``caseflow run --posterior N``: the same draws, the same
    numbers, and the variance split (``uncertainty.csv``) in the results and the saved folder."""
    results = sim.run(BASELINE, years=1, replications=2, posterior=2, workers=1)
    split = results.tables["uncertainty.csv"].set_index("kpi")
    assert np.allclose((split["parameter_share"] + split["noise_share"]).dropna(), 1.0)
    assert sorted(results.per_replication["replication"]) == [0, 1, 2, 3]
    assert "(2 posterior draws × 2 replications, 2015-01-01 + 1 years" in repr(results)
    saved = results.save(tmp_path / "api")
    args = ["run", str(BASELINE), "--years", "1", "--replications", "2", "--posterior", "2",
            "--workers", "1", "--out", str(tmp_path / "cli")]  # fmt: skip
    assert cli.main(args) == 0
    assert _files(saved) == _files(tmp_path / "cli")
    for name in ("summary.csv", "per_replication.csv", "uncertainty.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(saved / name), pd.read_csv(tmp_path / "cli" / name), check_exact=True
        )
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["posterior"]["draws"] == 2 and "posterior=2" in manifest["command"]
    assert "Parameter uncertainty and noise" in (saved / "report.html").read_text()
    # the folder's scenario file says how to rerun it: over the same number of draws
    for folder in (saved, tmp_path / "cli"):
        first = (folder / "scenario.toml").read_text().splitlines()[0]
        assert first.endswith("Rerun: caseflow run scenario.toml --posterior 2"), first


def test_posterior_comparison_as_the_command_line_with_each_scenarios_uncertainty(write, tmp_path):
    """``sim.compare(..., posterior=N)`` is ``caseflow compare --posterior N``; each scenario's
    own folder and report carry its spread over the draws too (its uncertainty section)."""
    fewer = write(
        "fewer.toml",
        f'extends = "{BASELINE.as_posix()}"\nname = "fewer"\n'
        "[staff.ongoing_social_workers]\nposts = 8\n",
    )
    cmp = sim.compare(BASELINE, fewer, years=1, replications=2, posterior=2, workers=1)
    assert (cmp.differences["draws"] <= 2).all() and "parameter_share" in cmp.differences
    assert "(2 posterior draws × 2 replications, 2015-01-01" in repr(cmp)
    saved = cmp.save(tmp_path / "api")
    args = ["compare", str(BASELINE), str(fewer), "--years", "1", "--replications", "2",
            "--posterior", "2", "--workers", "1", "--out", str(tmp_path / "cli")]  # fmt: skip
    assert cli.main(args) == 0
    assert _files(saved) == _files(tmp_path / "cli")
    pd.testing.assert_frame_equal(
        pd.read_csv(saved / "comparison.csv"), pd.read_csv(tmp_path / "cli" / "comparison.csv")
    )
    for name in ("baseline", "fewer"):
        assert (saved / name / "uncertainty.csv").is_file()
        assert "Parameter uncertainty and noise" in (saved / name / "report.html").read_text()
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["posterior"]["draws"] == 2
    assert "Parameter uncertainty in the differences" in (saved / "report.html").read_text()


@pytest.mark.parametrize(
    ("keywords", "named"),
    [
        ({"posterior": 0}, "posterior must be a whole number of at least 1"),
        ({"posterior": 2.5}, "posterior must be a whole number"),
        ({"posterior": 2, "replications": "auto"}, "not 'auto'"),
        ({"posterior": 2, "events": True}, "without posterior=N"),
    ],
)
def test_posterior_values_are_checked_by_the_apis_names(keywords, named):
    with pytest.raises(ValueError, match=named):
        sim.run(BASELINE, years=1, **keywords)


def test_posterior_errors_name_the_apis_parameter(small):
    """A set without a posterior sample, asked for posterior draws: the message names
    ``sim.run(posterior=N)``, not the command line's option."""
    from sim.inputs.validation import InputError

    with pytest.raises(InputError, match=r"sim\.run\(posterior=N\) needs a fitted parameter set"):
        sim.run(small, posterior=2, workers=1)


def test_save_reads_a_tilde_as_the_home_folder(small, tmp_path, monkeypatch):
    """``save("~/runs/x")`` writes under the home folder, as a shell reads it: not a folder
    named "~" in the working folder, which then failed deep inside pandas."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    saved = sim.run(small, replications=1, workers=1).save("~/runs/x")
    assert saved == tmp_path / "home" / "runs" / "x"
    assert (saved / "summary.csv").exists() and not (tmp_path / "~").exists()


def test_load_scenarios_speaks_the_apis_language(small):
    """``sim.load_scenarios`` is what ``sim.run`` points to for a loaded scenario: it takes
    overrides as ``sim.run`` does (a list or a dict; one string is refused, not read letter
    by letter) and names a problem by its own parameters, not ``--set`` or ``--years``."""
    assert sim.load_scenarios(small, {"ar_team.places": 30})[0].scenario.ar_team.places == 30
    with pytest.raises(TypeError, match="not one string"):
        sim.load_scenarios(small, "ar_team.places=3")  # type: ignore[arg-type]
    with pytest.raises(sim.InputError) as caught:
        sim.load_scenarios(small, ["ar_team.placez=3"], years=100)
    said = str(caught.value)
    assert "sim.load_scenarios(overrides=['ar_team.placez=3']): ar_team.placez" in said
    assert "sim.load_scenarios(years=...): horizon_years" in said and "--" not in said
    with pytest.raises(sim.InputError, match=r"sim\.load_scenarios\(years=\.\.\.\)"):
        sim.load_scenarios(small, years=100)
