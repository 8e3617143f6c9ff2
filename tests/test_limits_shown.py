"""What cannot happen is shown, not hidden (issue 16, item 10).

A scenario can ask for something the unit cannot do, or a run can be too short or too unlike
its base to mean what its figures seem to say. The results must then say so rather than print
plausible-looking numbers:

* With no one at intake, booked households wait for ever: they never reach the caseload, so
  the caseload and its costs come out low. The month record keeps the stock of households
  waiting for a first visit, and the report warns when it grows out of hand.
* A horizon shorter than a month reports a few days as if they were a year ("228 exits to work
  a year" from 4 days): it is refused, in the file, on the command line and in the Python API.
* A comparison of alternatives that differ from the base in when, how long, which unit or which
  parameter set is not a comparison of policies: it warns, naming the alternative and the
  setting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import sim
from sim.cli import main as cli
from sim.inputs.loading import load_scenarios
from sim.inputs.validation import InputError
from sim.model.caseload import CaseloadModel
from sim.output.caveats import run_warnings
from sim.records import KPI, MONTH

NO_INTAKE = "staff.intake_social_workers.posts=0"

# --- the stock waiting for a first visit ----------------------------------------------------


def _month_of(days: pd.Series, model: CaseloadModel) -> np.ndarray:
    """The month (row number) each day falls in."""
    return np.searchsorted(np.array(model.month_boundaries()), days.to_numpy(), side="right")


@pytest.mark.parametrize("posts", [4, 0])
def test_waiting_for_first_visit_is_the_booked_not_yet_visited_nor_dropped_out(small, posts):
    """The month column ``waiting_for_first_visit`` is a stock at the month's end: every
    household booked so far, less those whose first visit has started and those that gave up
    before it. With four intake workers it stays small; with none it only grows."""
    resolved = load_scenarios(small, [f"staff.intake_social_workers.posts={posts}"])[0]
    model = CaseloadModel(resolved, 0, events=True)
    out = model.run()
    column = MONTH["waiting_for_first_visit"]
    assert (column.kind, column.unit) == ("stock", "households")
    assert "mean_monthly_waiting_for_first_visit" in KPI
    log = out.events
    assert log is not None
    months = len(out.monthly)
    booked = np.bincount(_month_of(log.loc[log["event"] == "booked", "day"], model), None, months)
    before = log[(log["event"] == "dropped_out") & (log["detail"] == "before first visit")]
    gave_up = np.bincount(_month_of(before["day"], model), None, months)
    visited = out.monthly["first_visits"].to_numpy()
    expected = np.cumsum(booked) - np.cumsum(gave_up) - np.cumsum(visited)
    waiting = out.monthly["waiting_for_first_visit"].to_numpy()
    assert waiting.tolist() == expected.tolist()
    assert waiting[-1] == sum(1 for hh in model.intake.queue if not hh.closed)
    if posts:
        assert waiting.max() < out.monthly["booked"].mean()
    else:
        assert (np.diff(waiting) > 0).all() and waiting[-1] > 300


# --- the warning ------------------------------------------------------------------------------


def _backlog_warnings(monthly: pd.DataFrame) -> list[str]:
    manifest = {"replications": 20, "parameters": {"name": "fitted"}}
    scenario = {"warmup_days": 365}
    return [w for w in run_warnings(scenario, manifest, monthly) if "first visit" in w]


def test_no_one_at_intake_warns_that_the_caseload_is_understated(small):
    """With no intake social worker in post, no booked household is ever visited: the caseload
    looks small and cheap only because nobody is let in. The run's warnings say so, with the
    stock left waiting; a unit that keeps up gives no such warning."""
    staffed = sim.run(small, replications=2, workers=1).monthly
    assert _backlog_warnings(staffed) == []
    empty = sim.run(small, overrides=[NO_INTAKE], replications=2, workers=1).monthly
    (warning,) = _backlog_warnings(empty)
    assert "No intake social worker is in post in 12 of the 12 reported months" in warning
    assert "never visited" in warning and "understated" in warning
    waiting = empty[empty["month"] == empty["month"].max()]["waiting_for_first_visit"].mean()
    assert f"{waiting:.0f} households are waiting for a first visit" in warning


def test_a_backlog_of_more_than_three_months_of_bookings_warns():
    """Staff in post but too few: the stock waiting for a first visit at each month's end is
    compared with the run's bookings. Above three months of bookings (a booked household then
    waits three months or more on average, by Little's law) the run warns, also when the queue
    has cleared by the end (a shock that passed: its households reached the caseload late);
    below, it does not. A results folder from before the column existed gives no warning and no
    error."""

    def monthly(waiting_mid: float, waiting_at_end: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "replication": 0,
                "month": ["2014-12", "2015-01", "2015-02", "2015-03"],
                "period": ["warmup", "run", "run", "run"],
                "booked": [70, 70, 70, 70],
                "waiting_for_first_visit": [0, 100, waiting_mid, waiting_at_end],
                "staff_in_post_intake_social_workers": [1, 1, 1, 1],
            }
        )

    (warning,) = _backlog_warnings(monthly(150, 250))
    assert "At the end of the run 250 households are waiting for a first visit" in warning
    assert "3.6 months of bookings" in warning and "understated" in warning
    assert _backlog_warnings(monthly(150, 200)) == []
    (passed,) = _backlog_warnings(monthly(300, 20))
    assert "At the end of 2015-02 300 households were waiting for a first visit" in passed
    assert "4.3 months of bookings; at the end of the run 20." in passed
    assert _backlog_warnings(monthly(600, 20)) != [] and _backlog_warnings(monthly(0, 200)) == []
    blank = monthly(150, 250).assign(waiting_for_first_visit=float("nan"))
    assert _backlog_warnings(blank) == []  # months without the figure: nothing to warn of
    old = monthly(150, 250).drop(columns=["waiting_for_first_visit"])
    assert _backlog_warnings(old) == []


def test_a_backlog_in_some_replications_warns_though_the_mean_stays_below():
    """A backlog that builds in two of five replications (each with its own bookings) is lost
    in the mean over them: the run warns all the same, saying in how many replications."""
    months = ["2015-01", "2015-02", "2015-03"]
    rows = []
    for r, waiting_at_end in enumerate([360, 340, 20, 10, 15]):
        for m, waiting in zip(months, [10, waiting_at_end // 2, waiting_at_end], strict=True):
            rows.append(
                {
                    "replication": r,
                    "month": m,
                    "period": "run",
                    "booked": 110,
                    "waiting_for_first_visit": waiting,
                    "staff_in_post_intake_social_workers": 1,
                }
            )
    (warning,) = _backlog_warnings(pd.DataFrame(rows))
    assert "149 households are waiting for a first visit (mean over replications)" in warning
    assert "in 2 of the 5 replications more households than 3 months of bookings" in warning
    assert "(up to 360)" in warning


# --- a horizon of at least a month ------------------------------------------------------------


def test_a_horizon_under_a_month_is_refused_in_the_file(small, write):
    """Four days reported as a year are not a result: ``horizon_years`` below 1/12 is refused
    with the usual input error naming the file and the key; one month is accepted."""
    short = write(
        "short.toml", small.read_text().replace("horizon_years = 1", "horizon_years = 0.01")
    )
    with pytest.raises(InputError) as caught:
        load_scenarios(short)
    (problem,) = caught.value.problems
    assert problem.file == str(short) and problem.key == "horizon_years"
    assert "at least one month" in problem.message and "0.0833" in problem.message
    assert "(got 0.01)" in problem.message
    assert load_scenarios(small, years=1 / 12)[0].scenario.horizon_days == 30
    assert load_scenarios(small, years=0.0833)[0].scenario.horizon_days == 30


def test_a_horizon_under_a_month_is_refused_on_the_command_line(small, tmp_path, capsys):
    """``--years 0.01`` exits 2 with one line naming the option, and writes nothing."""
    out = tmp_path / "short"
    assert cli.main(["run", str(small), "--years", "0.01", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("error: --years: horizon_years: must be at least one month")
    assert not out.exists()
    assert cli.main(["compare", str(small), str(small), "--years", "0.01"]) == 2
    assert "--years: horizon_years: must be at least one month" in capsys.readouterr().err


def test_a_horizon_under_a_month_is_refused_by_the_python_api(small):
    """``sim.run(years=0.01)`` names the API's own parameter, as its other errors do."""
    with pytest.raises(InputError) as caught:
        sim.run(small, years=0.01)
    text = str(caught.value)
    assert text.startswith("sim.run(years=...): horizon_years: must be at least one month")
    assert "--" not in text
    with pytest.raises(InputError, match=r"sim.compare\(years=...\)"):
        sim.compare(small, small, years=0.01)


# --- alternatives of other settings ----------------------------------------------------------


def test_comparing_another_unit_or_period_warns(small, write, tmp_path, capsys):
    """An alternative with another start date or contact volume is not an alternative for the
    same unit: ``caseflow compare`` says so on stderr before it runs, and the comparison report
    carries the warning; an alternative that only changes staff gives no such warning."""
    other = write(
        "other.toml",
        f'extends = "{small.name}"\nname = "other"\nstart_date = 2016-01-01\n'
        "organisation.contacts_scale = 2\n",
    )
    staff = write(
        "staff.toml",
        f'extends = "{small.name}"\nname = "staff"\nstaff.ongoing_social_workers.posts = 9\n',
    )
    out = tmp_path / "cmp"
    args = ["compare", str(small), str(other), str(staff), "--replications", "2", "--out", str(out)]
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if "differs from the base" in line]
    assert len(warned) == 1  # before the run; the report's warnings said after leave it out
    assert "other differs from the base small" in warned[0]
    assert "start date" in warned[0] and "contact volume" in warned[0]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "other differs from the base small in start date" in report
    assert "staff differs" not in report


def test_sim_compare_warns_of_another_parameter_set(small, write):
    """From Python, ``sim.compare`` gives the same warning as a ``UserWarning``."""
    from .conftest import PARAMETERS

    params = write(
        "p2.toml", PARAMETERS.read_text().replace("young_share = 0.33", "young_share = 0.3")
    )
    other = write("p.toml", f'extends = "{small.name}"\nname = "p"\nparameters = "{params.name}"\n')
    with pytest.warns(UserWarning, match="p differs from the base small in parameter set"):
        sim.compare(small, other, replications=2, workers=1)


def test_a_comparison_flags_the_differences_of_a_unit_whose_intake_cannot_keep_up(small):
    """The alternative that leaves intake unstaffed looks cheapest: its households wait outside
    the caseload. Its differences carry the caveat beside them in the comparison's tables, not
    only in the list of warnings; an alternative whose intake keeps up carries none."""
    from sim.experiments.paired import paired_differences
    from sim.output.comparison_report import backlogged, differences_html

    base = sim.run(small, replications=2, workers=1)
    empty = sim.run(small, overrides=[NO_INTAKE], replications=2, workers=1)
    same = sim.run(small, overrides=["ar_team.places=10"], replications=2, workers=1)
    differences = pd.concat(
        [
            paired_differences(base.per_replication, empty.per_replication, "no_intake"),
            paired_differences(base.per_replication, same.per_replication, "fewer_places"),
        ]
    )
    named = [("small", base.monthly), ("no_intake", empty.monthly), ("fewer_places", same.monthly)]
    assert backlogged(named) == ["no_intake"]
    page = differences_html(differences, "small", backlogged(named))
    flagged, unflagged = page.split("<h3>fewer_places</h3>")
    assert "The intake of no_intake could not take its inflow" in flagged
    assert "understated, and these differences with them" in flagged
    assert "could not take its inflow" not in unflagged


def test_the_intake_caveat_reaches_the_report_and_the_notebook(small, write, tmp_path):
    """The caveat is wired where a planner reads the differences: the comparison report's
    page and a notebook's display of ``sim.compare``'s result."""
    alt = write(
        "no_intake.toml",
        f'extends = "{small.name}"\nname = "no_intake"\n[staff.intake_social_workers]\nposts = 0\n',
    )
    cmp = sim.compare(small, alt, replications=2, workers=1)
    assert "The intake of no_intake could not take its inflow" in cmp._repr_html_()
    page = (cmp.save(tmp_path / "cmp") / "report.html").read_text()
    assert "The intake of no_intake could not take its inflow" in page


def test_a_reference_rate_outside_the_calibrated_unemployment_is_warned_of():
    """``unemployment.reference_percent`` is the rate at which the parameter set's rates
    apply. A scenario written from scratch easily sets it to the rate it studies (6.2 %), and
    then a path at that rate moves nothing: warned of, naming the set's own rate; a reference
    inside the calibrated range is not."""
    from sim.output.caveats import reference_warning

    ranges = {"unemployment_percent": [3.0, 4.0]}
    (warning,) = reference_warning({"unemployment": {"reference_percent": 6.2}}, ranges)
    assert "reference_percent is 6.2 %, outside the 3–4 % the parameter set was calibrated at" in (
        warning
    )
    assert "unemployment at the reference rate moves nothing" in warning
    assert reference_warning({"unemployment": {"reference_percent": 3.2}}, ranges) == []
    assert reference_warning({}, ranges) == [] and reference_warning({"unemployment": {}}, {}) == []
    # and a run's warnings carry it (what the report and the terminal say)
    manifest = {"replications": 20, "parameters": {"name": "x", "calibrated_range": ranges}}
    scenario = {"warmup_days": 365, "unemployment": {"reference_percent": 6.2}}
    monthly = pd.DataFrame({"month": ["2015-01"], "period": ["run"]})
    assert any("reference_percent is 6.2 %" in w for w in run_warnings(scenario, manifest, monthly))
