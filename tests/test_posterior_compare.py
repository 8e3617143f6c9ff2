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


def _tables(by_draw: list[float], noise: float, reps: int = 4, seed: int = 1):
    """A base of zeros and an alternative whose difference is ``by_draw[d]`` in draw d plus
    noise of sd ``noise`` per replication."""
    rng = np.random.default_rng(seed)
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
