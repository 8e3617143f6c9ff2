"""``caseflow run SWEEP.toml``: each point's headline as it runs, sub-folders that list in the
sweep's order, and a summary and a report across the points (issue 16, item 14)."""

from __future__ import annotations

import json

import pandas as pd

import sim
from sim.cli import main as cli


def _sweep(small, values: str):
    sweep = small.parent / "sweep.toml"
    sweep.write_text(small.read_text() + f'\n[sweep]\n"ar_team.places" = [{values}]\n')
    return sweep


def test_a_sweep_prints_each_point_and_writes_a_summary_and_report(small, tmp_path, capsys):
    out = tmp_path / "sw"
    args = ["run", str(_sweep(small, "8, 11, 14")), "--out", str(out), "--workers", "1"]
    assert cli.main([*args, "--replications", "1"]) == 0
    printed = capsys.readouterr().out
    for i, places in enumerate((8, 11, 14)):
        assert f"point {i + 1} of 3 (ar_team.places = {places})" in printed
    assert printed.count("mean_monthly_households: ") == 3
    assert "no interval" in printed and "nan" not in printed
    assert printed.strip().splitlines()[-2:] == [
        f"report: {out / 'report.html'}",
        f"results: {out}",
    ]

    manifest = json.loads((out / "manifest.json").read_text())
    folders = [p["name"] for p in manifest["points"]]
    on_disk = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "figures")
    assert on_disk == folders  # listed in the sweep's order: 8, 11, 14, not 11, 14, 8
    assert [p["sweep_point"]["ar_team.places"] for p in manifest["points"]] == [8, 11, 14]

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:4]) == ["point", "folder", "scenario", "ar_team.places"]
    assert summary.groupby("point")["ar_team.places"].first().tolist() == [8, 11, 14]
    assert set(summary["kpi"]) == set(pd.read_csv(out / folders[0] / "summary.csv")["kpi"])
    page = (out / "report.html").read_text()
    for folder in folders:
        assert f'href="{folder}/report.html"' in page
    assert "varies most" in page and (out / "figures" / "sweep.png").exists()


def test_a_sweeps_summary_has_each_points_intervals_as_its_own_file(small, tmp_path):
    """Each point's summary.csv cuts its intervals where the KPI ends (no wait below 0 days);
    the sweep's summary.csv across the points held the uncut ones (a ci_low of -0.15 days)."""
    out = tmp_path / "sw"
    args = ["run", str(_sweep(small, "8, 14")), "--out", str(out), "--workers", "1"]
    assert cli.main([*args, "--replications", "2"]) == 0
    top = pd.read_csv(out / "summary.csv")
    for point, folder in enumerate(
        sorted(p for p in out.iterdir() if (p / "summary.csv").is_file())
    ):
        own = pd.read_csv(folder / "summary.csv").set_index("kpi")
        mine = top[top["point"] == point + 1].set_index("kpi")
        columns = ["mean", "ci_low", "ci_high"]
        pd.testing.assert_frame_equal(mine[columns], own.loc[mine.index, columns])


def test_a_sweeps_report_carries_each_points_warnings(small, tmp_path):
    """The point whose unemployment leaves the calibrated range warns in the sweep's report."""
    sweep = small.parent / "shock.toml"
    paths = "[[{date = 2015-01-01, percent = 3.2}], [{date = 2015-01-01, percent = 8.0}]]"
    sweep.write_text(small.read_text() + f'\n[sweep]\n"unemployment.path" = {paths}\n')
    out = tmp_path / "sw"
    args = ["run", str(sweep), "--out", str(out), "--workers", "1", "--replications", "1"]
    assert cli.main(args) == 0
    second = json.loads((out / "manifest.json").read_text())["points"][1]["name"]
    page = (out / "report.html").read_text()
    warnings = page[page.index("<h2>Warnings</h2>") :]
    assert f"{second}: " in warnings[: warnings.index("</ul>")]


def test_report_rebuilds_a_sweeps_report_across_its_points(small, tmp_path, capsys):
    """``caseflow report`` on a sweep's folder rebuilds the report across the points too."""
    out = tmp_path / "sw"
    args = ["run", str(_sweep(small, "8, 11")), "--out", str(out), "--workers", "1"]
    assert cli.main([*args, "--replications", "1"]) == 0
    (out / "report.html").unlink()
    capsys.readouterr()
    assert cli.main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "varies most" in page
    assert str(out / "report.html") in capsys.readouterr().out


def test_a_sweeps_points_share_one_pool_of_workers(small, tmp_path, monkeypatch):
    """Worker processes start once for the whole sweep, not once a point (starting them is
    a fixed cost of every run), and each point's numbers are those it gives alone."""
    from sim.experiments import parallel

    made = []
    new_pool = parallel.new_pool

    def counted(workers: int):
        made.append(workers)
        return new_pool(workers)

    monkeypatch.setattr(parallel, "new_pool", counted)
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)  # as on a 2-core machine
    out = tmp_path / "sw"
    sweep = _sweep(small, "8, 14")
    args = ["run", str(sweep), "--out", str(out), "--workers", "2", "--replications", "2"]
    assert cli.main(args) == 0
    assert made == [2]
    alone = tmp_path / "alone"
    solo = ["run", str(small), "--out", str(alone), "--workers", "1", "--replications", "2"]
    assert cli.main([*solo, "--set", "ar_team.places=14"]) == 0
    point = next(p for p in out.iterdir() if p.is_dir() and p.name.startswith("02"))
    pd.testing.assert_frame_equal(
        pd.read_csv(point / "per_replication.csv"), pd.read_csv(alone / "per_replication.csv")
    )


def test_a_sweeps_summary_writes_words_and_numbers_as_a_spreadsheet_reads_them():
    """A swept word is ``split`` in summary.csv, not ``"split"`` (which the CSV file would
    quote again as ``\"\"\"split\"\"\"``); numbers stay numbers; a table is written as TOML."""
    from sim.output.sweep_report import _csv_value

    assert _csv_value("split") == "split"
    assert _csv_value(12) == 12 and _csv_value(0.5) == 0.5
    assert _csv_value(True) == "true"
    assert _csv_value({"dist": "fixed", "value": 3}) == '{ dist = "fixed", value = 3 }'


def test_a_sweep_given_on_the_command_line_runs_as_one_in_the_file(small, tmp_path):
    """``--set 'sweep.ar_team.places=[12, 24]'`` is a ``[sweep]`` given on the command line
    (docs/scenarios.md): a folder per point, in the sweep's order."""
    out = tmp_path / "sweep"
    args = ["run", str(small), "--set", "sweep.ar_team.places=[12, 24]", "--replications", "1",
            "--workers", "1", "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    points = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name[:2].isdigit())
    assert points == ["01_small_places_12", "02_small_places_24"]


def test_a_swept_key_that_changes_at_a_date_warns(small, write):
    """A ``[[changes]]`` entry that sets a swept key from a date undoes the sweep from then:
    each point's report (and the command's warnings) say so."""
    from sim.output.caveats import run_warnings

    sweep = '\n[sweep]\n"ar_team.places" = [24, 36]\n'
    text = small.read_text() + "\n[[changes]]\nat = 2015-07-01\nar_team.places = 10\n" + sweep
    points = sim.load_scenarios(write("swept.toml", text))
    manifest = {"replications": 20, "sweep_point": points[1].sweep_point, "parameters": {}}
    warnings = run_warnings(points[1].as_dict(), manifest, pd.DataFrame({"month": []}))
    said = [w for w in warnings if w.startswith("The sweep sets")]
    assert said == [
        "The sweep sets ar_team.places (36 at this point), but [[changes]] at 2015-07-01 sets "
        "ar_team.places = 10: the swept value holds only until then, and the points differ "
        "only before it."
    ]
    # a change of another key of a swept table leaves the swept value alone: no warning
    tables = small.read_text() + (
        "\n[[changes]]\nat = 2015-07-01\nstaff.ongoing_social_workers.annual_turnover = 0.2\n"
        '\n[sweep]\n"staff.ongoing_social_workers" = [{posts = 8}, {posts = 9}]\n'
    )
    swept_table = sim.load_scenarios(write("tables.toml", tables))[0]
    manifest["sweep_point"] = swept_table.sweep_point
    assert not any(
        w.startswith("The sweep sets")
        for w in run_warnings(swept_table.as_dict(), manifest, pd.DataFrame({"month": []}))
    )
    unchanged = sim.load_scenarios(
        write("plain.toml", small.read_text() + '\n[sweep]\n"ar_team.places" = [24, 36]\n')
    )
    manifest["sweep_point"] = unchanged[1].sweep_point
    assert not any(
        w.startswith("The sweep sets")
        for w in run_warnings(unchanged[1].as_dict(), manifest, pd.DataFrame({"month": []}))
    )
