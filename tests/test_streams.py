"""Random streams: reproducible, independent of workers, common across staffing alternatives."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.experiments.runner import run_scenario
from sim.inputs.loading import load_scenarios
from sim.model.caseload import CaseloadModel
from sim.streams import keyed_uniforms, make_stream


@given(seed=st.integers(0, 2**32), rep=st.integers(0, 1000), name=st.text(min_size=1, max_size=12))
@settings(max_examples=50)
def test_reseeding_reproduces_draws(seed, rep, name):
    a = make_stream(seed, rep, name).random(5)
    b = make_stream(seed, rep, name).random(5)
    assert np.array_equal(a, b)


def test_streams_differ_by_name_and_replication():
    base = make_stream(1, 0, "contacts").random(4)
    assert not np.array_equal(base, make_stream(1, 1, "contacts").random(4))
    assert not np.array_equal(base, make_stream(1, 0, "households").random(4))


@given(
    seed=st.integers(0, 2**63 - 1),
    rep=st.integers(0, 10_000),
    key=st.tuples(st.integers(0, 10**9), st.integers(1, 50)),
    n=st.integers(1, 40),
)
@settings(max_examples=50)
def test_keyed_uniforms_are_reproducible_and_in_the_unit_interval(seed, rep, key, n):
    """A counter-based draw: the same key gives the same numbers, all in [0, 1)."""
    u = keyed_uniforms(seed, rep, "returns", key, n)
    assert u == keyed_uniforms(seed, rep, "returns", key, n)
    assert len(u) == n and all(0.0 <= x < 1.0 for x in u)
    # a longer draw starts with the shorter one (SHAKE is an extendable output)
    assert keyed_uniforms(seed, rep, "returns", key, n + 3)[:n] == u


def test_keyed_uniforms_are_the_top_53_bits_of_the_keys_shake_128_words():
    """The definition, restated here, and four numbers it gives written out: every returning
    household's draws, and so every stored result, rest on these exact numbers."""
    import hashlib

    for seed, rep, key, n in ((1, 0, (7, 2), 4), (2015, 99, (123456, 3), 9), (0, 5, (1,), 1)):
        label = f"{seed}|{rep}|returns|{'|'.join(map(str, key))}".encode()
        words = np.frombuffer(hashlib.shake_128(label).digest(8 * n), dtype="<u8")
        expected = ((words >> np.uint64(11)).astype(np.float64) * 2.0**-53).tolist()
        assert keyed_uniforms(seed, rep, "returns", key, n).tolist() == expected
    assert keyed_uniforms(1, 0, "returns", (7, 2), 4).tolist() == [
        0.6323497218091773,
        0.6870110523106976,
        0.7285791418797274,
        0.4217351941765465,
    ]


def test_keyed_uniforms_differ_by_every_part_of_the_key():
    base = keyed_uniforms(1, 0, "returns", (7, 2), 4)
    for other in (
        keyed_uniforms(2, 0, "returns", (7, 2), 4),
        keyed_uniforms(1, 1, "returns", (7, 2), 4),
        keyed_uniforms(1, 0, "other", (7, 2), 4),
        keyed_uniforms(1, 0, "returns", (7, 3), 4),
        keyed_uniforms(1, 0, "returns", (72,), 4),  # no collision by joining digits
    ):
        assert other != base


def test_keyed_uniforms_look_uniform_and_independent():
    """Over many households, each position is uniform (Kolmogorov-Smirnov) and positions are
    uncorrelated: the draws can stand in for a generator's. Fixed keys: a deterministic test."""
    draws = np.array([keyed_uniforms(2015, 0, "returns", (i, 2), 8) for i in range(5000)])
    for j in range(draws.shape[1]):
        assert stats.kstest(draws[:, j], "uniform").pvalue > 0.001
    corr = np.corrcoef(draws, rowvar=False)
    off_diagonal = corr[~np.eye(8, dtype=bool)]
    assert np.abs(off_diagonal).max() < 4 / np.sqrt(5000)  # about 4 standard errors


def test_same_seed_same_numbers(small):
    r = load_scenarios(small)[0]
    a = CaseloadModel(r, 0).run().monthly
    b = CaseloadModel(r, 0).run().monthly
    pd.testing.assert_frame_equal(a, b)
    c = CaseloadModel(r, 1).run().monthly
    assert not a.equals(c)


def test_results_do_not_depend_on_number_of_workers(small):
    r = load_scenarios(small, ["replications=3"])[0]
    one = run_scenario(r, workers=1)
    two = run_scenario(r, workers=2)
    pd.testing.assert_frame_equal(one.monthly, two.monthly)
    pd.testing.assert_frame_equal(one.summary, two.summary)


def test_more_staff_same_arrivals_and_households(small):
    """Common random numbers: staffing changes neither the contacts nor who the households are."""
    base = load_scenarios(small)[0]
    more = load_scenarios(small, ["staff.ongoing_social_workers.posts=20"])[0]
    m1, m2 = CaseloadModel(base, 0), CaseloadModel(more, 0)
    t1, d1, b1 = m1.generate_contacts()
    t2, d2, b2 = m2.generate_contacts()
    assert np.array_equal(t1, t2) and np.array_equal(d1, d2) and np.array_equal(b1, b2)
    o1, o2 = m1.run(), m2.run()
    pd.testing.assert_series_equal(o1.monthly["contacts"], o2.monthly["contacts"])
    # The first households opened (before staffing can matter much) are the same households.
    e1 = o1.episodes.set_index(["household", "episode"])[["barrier", "young", "children"]]
    e2 = o2.episodes.set_index(["household", "episode"])[["barrier", "young", "children"]]
    common = e1.index.intersection(e2.index)
    assert len(common) > 100
    pd.testing.assert_frame_equal(e1.loc[common], e2.loc[common])


def test_results_do_not_depend_on_the_order_of_keys(small, write):
    """The same scenario with its tables (and the keys inside them) in reverse order."""
    import tomllib

    import tomli_w

    def reverse(table):
        if isinstance(table, dict):
            return {k: reverse(table[k]) for k in reversed(list(table))}
        return table

    data = tomllib.loads(small.read_text())
    shuffled = write("reversed.toml", tomli_w.dumps(reverse(data)))
    assert list(tomllib.loads(shuffled.read_text())) != list(data)
    a = CaseloadModel(load_scenarios(small)[0], 0).run().monthly
    b = CaseloadModel(load_scenarios(shuffled)[0], 0).run().monthly
    pd.testing.assert_frame_equal(a, b, check_exact=True)
