"""Paired comparisons under common random numbers."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim
from sim.cli import main as cli
from sim.output.formatting import NON_NEGATIVE_UNITS


def test_identical_scenarios_differ_by_exactly_zero(small):
    with pytest.warns(UserWarning, match="share a name"):  # fine in memory, not to save
        cmp = sim.compare(small, small, workers=1)
    d = cmp.differences
    assert (d["difference"].dropna() == 0).all()
    assert (d["ci_low"].dropna() == 0).all() and (d["ci_high"].dropna() == 0).all()
    assert not d["significant"].any()


def test_a_kpi_the_alternative_has_no_value_for_keeps_the_bases_mean():
    """A share of nothing (the administrators' utilisation where there are none) has no value
    in the alternative: the pair leaves the difference, not the base's own mean."""
    from sim.experiments.paired import paired_differences

    base = pd.DataFrame({"replication": [0, 1, 2], "administrator_utilisation": [0.4, 0.5, 0.6]})
    alternative = base.assign(administrator_utilisation=float("nan"))
    row = paired_differences(base, alternative, "none").iloc[0]
    assert row["base_mean"] == pytest.approx(0.5)
    assert pd.isna(row["alternative_mean"]) and pd.isna(row["difference"])
    assert row["replications"] == 0 and not row["significant"]
    # some pairs left: the means are over them, so that they agree with the difference
    some = base.assign(administrator_utilisation=[0.5, float("nan"), 0.8])
    row = paired_differences(base, some, "some").iloc[0]
    assert row["base_mean"] == pytest.approx(0.5) and row["alternative_mean"] == pytest.approx(0.65)
    assert row["difference"] == pytest.approx(row["alternative_mean"] - row["base_mean"])


def test_paired_interval_is_narrower_than_unpaired(small):
    """Four ongoing social workers (overloaded from day one): the paired interval is much
    narrower for most KPIs, and the contact B cases lose is a clear effect."""
    cmp = sim.compare(
        small,
        sim.load_scenarios(small, ["name=fewer", "staff.ongoing_social_workers.posts=4"])[0],
        replications=6,
        workers=2,
    )
    d = cmp.differences.set_index("kpi")
    paired = d["ci_high"] - d["ci_low"]
    unpaired = d["unpaired_ci_high"] - d["unpaired_ci_low"]
    assert paired["mean_monthly_households"] < unpaired["mean_monthly_households"] / 3
    assert (paired.dropna() <= unpaired.dropna() * 1.5).mean() > 0.8
    # fewer workers: less of the B cases' planned contact delivered, a real effect
    assert d.loc["delivered_share_b", "ci_high"] < 0
    assert d.loc["caseload_per_social_worker", "ci_low"] > 0


def test_alternatives_get_the_base_seed_and_replications(small, write):
    alt = write(
        "alt.toml", f'extends = "{small.name}"\nname = "alt"\nseed = 99\nreplications = 5\n'
    )
    with pytest.warns(UserWarning, match="alt sets seed 99 and replications 5"):
        cmp = sim.compare(small, alt, workers=1)
    assert cmp.alternatives[0].resolved.scenario.seed == 7
    assert len(cmp.alternatives[0].per_replication) == 2


def test_compare_cli_writes_one_report(small, write, tmp_path, capsys):
    alt = write(
        "alt.toml",
        f'extends = "{small.name}"\nname = "alt"\ndescription = "fewer"\n'
        "[staff.ongoing_social_workers]\nposts = 5\n",
    )
    out = tmp_path / "cmp"
    assert cli.main(["compare", str(small), str(alt), "--out", str(out), "--workers", "1"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"results: {out}"
    for name in (
        "comparison.csv",
        "report.html",
        "manifest.json",
        "small/summary.csv",
        "alt/summary.csv",
    ):
        assert (out / name).exists(), name
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "small" in html and "alt" in html
    assert "staff.ongoing_social_workers.posts" in html  # the difference from the base is shown
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["comparison_of"] == ["small", "alt"]
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["alternative"]) == {"alt"}
    # as the report: no interval where the alternative would have fewer than none of a count
    counts = table[table["unit"].isin(NON_NEGATIVE_UNITS) & table["base_mean"].notna()]
    for low in ("ci_low", "unpaired_ci_low"):
        assert (counts[low].fillna(0) >= -counts["base_mean"] - 1e-9).all(), low


def test_a_sweep_is_compared_with_its_first_point(small, tmp_path):
    sweep = small.parent / "sweep.toml"
    sweep.write_text(small.read_text() + '\n[sweep]\n"ar_team.places" = [30, 10, 40]\n')
    out = tmp_path / "sw"
    assert cli.main(["compare", str(sweep), "--out", str(out), "--workers", "1"]) == 0
    table = pd.read_csv(out / "comparison.csv")
    assert table["alternative"].nunique() == 2
    assert all("places=30" not in a for a in table["alternative"].unique())


def test_compare_needs_two(small, capsys):
    assert cli.main(["compare", str(small)]) == 2
    assert "at least one alternative" in capsys.readouterr().err


def test_two_scenarios_of_one_name_are_refused_naming_the_file(small, tmp_path, capsys):
    """Each scenario's results go in a sub-folder named after it: a name given twice (the same
    file twice, most often) is refused, naming the file and how to give it a name of its own."""
    out = tmp_path / "cmp"
    assert cli.main(["compare", str(small), str(small), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{small}: name: 'small' is already the name of another scenario" in err
    assert 'give this one a name = "..." of its own (the same file given twice?)' in err
    assert not out.exists()


def test_api_run_rejects_a_sweep(small):
    sweep = small.parent / "sweep.toml"
    sweep.write_text(small.read_text() + '\n[sweep]\n"ar_team.places" = [30, 10]\n')
    with pytest.raises(ValueError, match="sweeps 2"):
        sim.run(sweep)
    assert len(sim.run(small, replications=1, workers=1).per_replication) == 1


def test_report_rebuilds_a_comparison_and_a_sweep(small, write, tmp_path):
    alt = write("alt.toml", f'extends = "{small.name}"\nname = "alt"\n[ar_team]\nplaces = 10\n')
    out = tmp_path / "cmp"
    assert cli.main(["compare", str(small), str(alt), "--out", str(out), "--workers", "1"]) == 0
    (out / "report.html").unlink()
    (out / "alt" / "report.html").unlink()
    assert cli.main(["report", str(out)]) == 0
    assert (out / "report.html").exists() and (out / "alt" / "report.html").exists()
    sweep = small.parent / "sweep.toml"
    sweep.write_text(small.read_text() + '\n[sweep]\n"ar_team.places" = [10, 20]\n')
    sw = tmp_path / "sw"
    assert (
        cli.main(["run", str(sweep), "--out", str(sw), "--workers", "1", "--replications", "1"])
        == 0
    )
    for point in json.loads((sw / "manifest.json").read_text())["points"]:
        (sw / point["name"] / "report.html").unlink()
    assert cli.main(["report", str(sw)]) == 0
    for point in json.loads((sw / "manifest.json").read_text())["points"]:
        assert (sw / point["name"] / "report.html").exists()


# --- issue 16 --------------------------------------------------------------------------------

SHOCK = "unemployment.path=[{date = 2015-01-01, percent = 3.2}, {date = 2015-06-01, percent = 8.0}]"


def test_comparison_report_carries_an_alternatives_warning(small, write, tmp_path):
    """The alternative leaves the calibrated range of unemployment: its own report warns, and
    so does the comparison report a planner mails (naming it), not "none"."""
    path = SHOCK.split("=", 1)[1]
    alt = write(
        "shock.toml",
        f'extends = "{small.name}"\nname = "shock"\n[unemployment]\npath = {path}\n',
    )
    out = tmp_path / "cmp"
    assert cli.main(["compare", str(small), str(alt), "--out", str(out), "--workers", "1"]) == 0
    assert "extrapolates" in (out / "shock" / "report.html").read_text()
    page = (out / "report.html").read_text()
    warnings = page[page.index("<h2>Warnings</h2>") :]
    warnings = warnings[: warnings.index("</ul>")]
    assert "shock: Unemployment rate ranges over" in warnings
    assert "small: Unemployment rate" not in warnings


def test_compare_takes_set_and_events(small, write, tmp_path):
    """``--set`` applies to every scenario compared; ``--events`` writes each one's log."""
    alt = write("alt.toml", f'extends = "{small.name}"\nname = "alt"\n[ar_team]\nplaces = 10\n')
    out = tmp_path / "cmp"
    args = ["compare", str(small), str(alt), "--out", str(out), "--workers", "1"]
    assert cli.main([*args, "--set", "organisation.caseload_norm=40", "--events"]) == 0
    for name in ("small", "alt"):
        manifest = json.loads((out / name / "manifest.json").read_text())
        assert manifest["scenario"]["organisation"]["caseload_norm"] == 40
        assert (out / name / "events.parquet").exists()
    assert "--set organisation.caseload_norm=40" in (out / "report.html").read_text()


def test_an_alternative_runs_and_records_the_bases_seed_and_replications(small, write):
    """Every scenario of a comparison runs the base's seed and replications (that pairs them):
    an alternative's own replications are not said to be "changed here", and the base's
    ``--replications`` is recorded for the alternative too, since it ran with it."""
    from sim.experiments.runner import align_to_base

    alt = write("alt.toml", f'extends = "{small.name}"\nname = "alt"\nreplications = 5\n')
    base = sim.load_scenarios(small, replications=3)[0]
    aligned = align_to_base(sim.load_scenarios(alt)[0], base)
    assert aligned.scenario.replications == 3 and aligned.scenario.seed == base.scenario.seed
    assert "replications" not in aligned.own_keys and "name" in aligned.own_keys
    assert ("replications", "--replications") in aligned.command_keys


def test_compare_of_a_sweep_says_which_point_is_the_base(small, tmp_path, capsys):
    sweep = small.parent / "sweep.toml"
    sweep.write_text(small.read_text() + '\n[sweep]\n"ar_team.places" = [30, 10]\n')
    out = tmp_path / "sw"
    assert cli.main(["compare", str(sweep), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "base: small_places_30, the first point of the sweep" in printed
    assert "ar_team.places = 30" in printed
    page = (out / "report.html").read_text()
    assert "first point of the sweep" in page and "ar_team.places = 30" in page


def test_compare_with_one_replication_prints_no_interval(small, write, tmp_path, capsys):
    alt = write("alt.toml", f'extends = "{small.name}"\nname = "alt"\n[ar_team]\nplaces = 10\n')
    out = tmp_path / "cmp"
    args = ["compare", str(small), str(alt), "--out", str(out), "--workers", "1"]
    assert cli.main([*args, "--replications", "1"]) == 0
    printed = capsys.readouterr().out
    assert "no interval" in printed and "nan" not in printed


def test_compare_reports_every_broken_file_before_running(small, write, tmp_path, capsys):
    """As validate does: one bad file does not hide the next, and nothing is written."""
    negative = write("neg.toml", f'extends = "{small.name}"\nname = "neg"\nar_team.places = -1\n')
    badly = write("date.toml", f'extends = "{small.name}"\nname = "d"\nstart_date = 2015-02-30\n')
    out = tmp_path / "cmp"
    assert cli.main(["compare", str(small), str(negative), str(badly), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "neg.toml: ar_team.places" in err and "date.toml: start_date" in err
    assert not out.exists()
