"""The automatic replication rule (Hoad, Robinson & Davies 2010) stops when it should."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from sim.cli import main as cli
from sim.experiments.stopping import ReplicationRule, decide, relative_half_width


def frame(values) -> pd.DataFrame:
    return pd.DataFrame({"replication": range(len(values)), "x": values})


def test_relative_half_width():
    assert relative_half_width(np.array([5.0, 5.0, 5.0])) == 0.0
    assert relative_half_width(np.array([1.0])) == np.inf
    # two values 9 and 11: mean 10, sd sqrt(2), t(1) = 12.706 -> half-width 12.706
    assert abs(relative_half_width(np.array([9.0, 11.0])) - 1.2706) < 1e-3


def test_stops_after_the_look_ahead_when_precision_holds():
    rule = ReplicationRule(kpis=("x",), precision=0.05, initial=5, look_ahead=5, cap=100)
    outcome, done = decide(frame([10.0] * 30), rule)
    assert done and outcome.reached
    assert (outcome.solution, outcome.used) == (5, 10)


def test_not_done_before_the_look_ahead_is_complete():
    rule = ReplicationRule(kpis=("x",), precision=0.05, initial=5, look_ahead=5, cap=100)
    outcome, done = decide(frame([10.0] * 8), rule)
    assert not done and outcome.solution == 5


def test_losing_precision_in_the_look_ahead_restarts_the_search():
    rule = ReplicationRule(kpis=("x",), precision=0.05, initial=5, look_ahead=5, cap=100)
    values = [10.0] * 6 + [20.0] + [10.0] * 200
    outcome, done = decide(frame(values), rule)
    assert done and outcome.reached
    assert outcome.solution > 7  # n = 5 was found, then lost at the 7th value
    widths = {int(h["n"]): h["x"] for h in outcome.history}
    assert widths[outcome.solution] <= 0.05 < widths[outcome.solution - 1]


def test_cap_ends_the_search_unreached():
    rng = np.random.default_rng(0)
    rule = ReplicationRule(kpis=("x",), precision=0.001, initial=5, look_ahead=5, cap=20)
    outcome, done = decide(frame(rng.normal(10, 5, 50)), rule)
    assert done and not outcome.reached and outcome.used == 20


def test_a_cap_reached_with_the_precision_unconfirmed_says_so():
    """At the cap the intervals may be within the precision, but not yet through the look-ahead
    that confirms it: the warning says that, not that the precision was never met; a cap
    below the first replications and the look-ahead cannot confirm anything and is refused."""
    from sim.output.caveats import auto_replications_warning

    rule = ReplicationRule(kpis=("x",), precision=0.2, initial=5, look_ahead=5, cap=12)
    values = [10.0] * 6 + [20.0] + [10.0] * 20  # lost at 7, back from 11: confirmed at 16
    outcome, done = decide(frame(values), rule)
    assert done and not outcome.reached and outcome.used == 12
    (said,) = auto_replications_warning(outcome.as_dict(rule))
    assert "had only just come within ±20 %: not yet confirmed over 5 more" in said
    rule = ReplicationRule(kpis=("x",), precision=0.001, cap=10)
    outcome, _ = decide(frame(np.random.default_rng(0).normal(10, 5, 10)), rule)
    (said,) = auto_replications_warning(outcome.as_dict(rule))
    assert said.endswith("was reached before x were within ±0.1 %.")


def test_a_cap_that_cannot_confirm_a_precision_is_refused(small, capsys):
    import pytest

    import sim

    args = ["run", str(small), "--replications", "auto", "--max-replications", "9"]
    assert cli.main(args) == 2
    assert "--max-replications: must be at least 10" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_replications must be a whole number of at least 10"):
        sim.run(small, replications="auto", max_replications=9)


def test_cli_auto_replications_records_the_rule_and_is_worker_independent(small, tmp_path, capsys):
    """The choice is recorded and said (a note on the terminal, the report's run line), not
    warned of: a precision reached is no caveat."""
    runs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"auto{workers}"
        args = ["run", str(small), "--out", str(out), "--workers", workers, "--replications",
                "auto", "--precision", "0.2", "--max-replications", "30"]  # fmt: skip
        assert cli.main(args) == 0
        manifest = json.loads((out / "manifest.json").read_text())
        auto = manifest["replications_auto"]
        assert auto["reached"] and auto["replications_used"] == manifest["replications"]
        assert manifest["scenario"]["replications"] == auto["replications_used"]
        runs[workers] = pd.read_csv(out / "summary.csv")
        assert "(replications chosen automatically:" in (out / "report.html").read_text()
        said = capsys.readouterr()
        assert "note: Replications chosen automatically:" in said.out
        assert "chosen automatically" not in said.err
    pd.testing.assert_frame_equal(runs["1"], runs["2"])


def test_cli_unknown_auto_kpi(small, capsys):
    assert (
        cli.main(["run", str(small), "--replications", "auto", "--auto-kpis", "exits_wrk_per_year"])
        == 2
    )
    err = capsys.readouterr().err
    assert "did you mean 'exits_work_per_year'" in err
    assert "allowed: the kpi column of summary.csv: contacts_per_year, " in err  # all of them


def test_kpi_names_match_what_replications_produce(small):
    from sim.metrics import kpi_names

    results = __import__("sim").run(small, replications=1, workers=1)
    assert list(results.per_replication.columns.drop("replication")) == kpi_names()


def test_auto_options_without_auto_replications_are_named_as_ignored(small, tmp_path, capsys):
    """``--precision 0.1 --replications 2`` ran two replications without a word, as if the
    precision had been met: the options that only apply with ``--replications auto`` are
    named as ignored; a run without them says nothing of the kind."""
    args = ["run", str(small), "--workers", "1", "--replications", "1", "--years", "0.25"]
    assert cli.main([*args, "--out", str(tmp_path / "a"), "--precision", "0.1"]) == 0
    assert "note: --precision applies only with --replications auto: ignored" in (
        capsys.readouterr().err
    )
    assert cli.main([*args, "--out", str(tmp_path / "b")]) == 0
    assert "only with --replications auto" not in capsys.readouterr().err
