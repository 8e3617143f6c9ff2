"""``caseflow compare --posterior N`` (issue 18, item 5): differences over posterior draws ×
replications, paired by draw and replication, with the share of their variance that comes
from the parameters."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import special

from sim.calibration.uncertainty import posterior_differences


def _tables(by_draw: list[float], noise: float, reps: int = 4, seed: int = 1, rng=None):
    """A base of 100 and an alternative whose difference is ``by_draw[d]`` in draw d plus
    noise of sd ``noise`` per replication, independent between draws (each draw has random
    numbers of its own, as ``run_over_draws`` gives it)."""
    rng = rng or np.random.default_rng(seed)
    rows_b, rows_a = [], []
    for d, effect in enumerate(by_draw):
        for r in range(reps):
            key = {"draw": d, "replication": d * reps + r}
            rows_b.append({**key, "exits_work_per_year": 100.0})
            rows_a.append({**key, "exits_work_per_year": 100.0 + effect + noise * rng.normal()})
    return pd.DataFrame(rows_b), pd.DataFrame(rows_a)


def test_a_difference_that_only_the_parameters_move_is_all_parameter_share():
    """With no noise, all the spread of the differences is between draws: parameter share 1,
    and the interval is the t interval over the draws' differences."""
    effects = [2.0, 4.0, 6.0, 8.0]
    base, alt = _tables(effects, noise=0.0)
    row = posterior_differences(base, alt, "more staff", reps=4).iloc[0]
    assert row["difference"] == pytest.approx(5.0)
    assert row["parameter_share"] == pytest.approx(1.0)
    half = special.stdtrit(3, 0.975) * np.std(effects, ddof=1) / math.sqrt(4)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((5.0 - half, 5.0 + half))
    assert row["draws"] == 4 and row["replications"] == 16


def test_a_difference_the_parameters_do_not_move_is_mostly_noise():
    base, alt = _tables([5.0] * 8, noise=2.0, reps=10, seed=3)
    row = posterior_differences(base, alt, "same", reps=10).iloc[0]
    assert row["parameter_share"] < 0.2
    assert row["ci_low"] < 5.0 < row["ci_high"]


def test_the_forest_plot_says_the_parameters_share():
    """Over posterior draws each forest point is labelled with the parameters' share of its
    difference's variance; without draws the label is as before."""
    from sim.output.comparison_figures import forest_rows, plot_forest

    base, alt = _tables([2.0, 4.0, 6.0, 8.0], noise=1.0)
    differences = posterior_differences(base, alt, "more staff", reps=4)
    rows = forest_rows(differences, ["exits_work_per_year"])
    assert 0 < rows["parameter_share"].iloc[0] <= 1
    fig = plot_forest(differences, ["exits_work_per_year"])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("parameters" in t for t in texts)
    plain = differences.drop(columns=["parameter_share", "draws"])
    fig = plot_forest(plain, ["exits_work_per_year"])
    assert not any("parameters" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_the_interval_covers_the_posterior_mean_difference_as_stated():
    """Over many constructed comparisons (20 draws × 5 replications, the parameters' sd 1 and
    the noise's sd 2), the 95 % interval covers the true mean difference about 95 % of the
    time: it carries the parameters' spread and the noise, not one of them."""
    rng = np.random.default_rng(7)
    trials, covered = 300, 0
    for _ in range(trials):
        effects = list(3.0 + rng.normal(size=20))  # the parameters' effect in each draw
        base, alt = _tables(effects, noise=2.0, reps=5, rng=rng)
        row = posterior_differences(base, alt, "alt", reps=5).iloc[0]
        covered += row["ci_low"] <= 3.0 <= row["ci_high"]
    assert 0.91 <= covered / trials <= 0.99


def test_pairs_missing_a_value_are_left_out():
    base, alt = _tables([1.0, 2.0], noise=0.0, reps=3)
    alt.loc[0, "exits_work_per_year"] = float("nan")  # draw 0, replication 0
    row = posterior_differences(base, alt, "alt", reps=3).iloc[0]
    assert row["replications"] == 5 and row["draws"] == 2
    assert row["difference"] == pytest.approx(1.5)


def test_one_replication_cannot_tell_parameters_from_noise():
    base, alt = _tables([1.0, 2.0, 4.0], noise=1.0, reps=1)
    row = posterior_differences(base, alt, "alt", reps=1).iloc[0]
    assert math.isnan(row["parameter_share"])


def test_each_draw_has_random_numbers_of_its_own_shared_by_the_scenarios(small, monkeypatch):
    """Draw d's replication r runs as replication d × R + r (the number that keys its random
    streams) in every scenario: draws do not share their noise (else it would cancel between
    draws and drop out of the intervals), scenarios within a draw do (common random numbers)."""
    from sim.calibration import uncertainty
    from sim.experiments.runner import ReplicationResult
    from sim.inputs.loading import load_scenarios

    resolved = load_scenarios(small, [], replications=2)[0]
    monkeypatch.setattr(uncertainty, "posterior_scenarios", lambda r, draws: [r] * draws)
    seen = []

    def fake_map(run, scenarios, reps, **kwargs):
        seen.append(list(reps))
        return [
            ReplicationResult(rep, pd.DataFrame({"month": []}), {"x": float(rep)}) for rep in reps
        ]

    monkeypatch.setattr(uncertainty, "map_replications", fake_map)
    monkeypatch.setattr(uncertainty, "collect_results", lambda scenario, results: results)
    runs = uncertainty.run_over_draws([resolved, resolved], draws=3)
    assert seen == [[0, 1, 2, 3, 4, 5] * 2]  # base, then the alternative: the same numbers
    assert [[r.replication for r in draw] for draw in runs[1]] == [[0, 1], [2, 3], [4, 5]]
