"""Distributions: validated parameters, means as stated, scalar draws equal to the vector path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from sim.distributions import Distribution

ADAPTER: TypeAdapter[object] = TypeAdapter(Distribution)

SPECS = [
    {"dist": "fixed", "value": 14},
    {"dist": "exponential", "mean": 14},
    {"dist": "gamma", "mean": 14, "sd": 6},
    {"dist": "lognormal", "mean": 14, "sd": 6},
    {"dist": "uniform", "low": 7, "high": 21},
    {"dist": "empirical", "values": [7, 14, 28], "weights": [1, 2, 1]},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"])
def test_sample_mean_matches_the_stated_mean(spec):
    dist = ADAPTER.validate_python(spec)
    values = dist.sample(np.random.default_rng(3), 200_000)
    assert (values >= 0).all()
    assert abs(values.mean() - dist.mean_value) < 0.02 * dist.mean_value


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"])
@given(u=st.floats(0, 1, exclude_max=True))
def test_scalar_draw_equals_vector_ppf(spec, u):
    dist = ADAPTER.validate_python(spec)
    assert dist.draw(u) == pytest.approx(float(dist.ppf(np.array([u]))[0]), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    "bad",
    [
        {"dist": "gamma", "mean": 14},
        {"dist": "gamma", "mean": -1, "sd": 2},
        {"dist": "uniform", "low": 5, "high": 1},
        {"dist": "empirical", "values": []},
        {"dist": "empirical", "values": [1, 2], "weights": [1]},
        {"dist": "exponential", "mean": 3, "sd": 1},
        {"dist": "weibull", "mean": 3},
    ],
)
def test_invalid_distributions_are_rejected(bad):
    with pytest.raises(ValidationError):
        ADAPTER.validate_python(bad)
