"""The emulator posterior's parts against answers known in closed form: a quadratic surface is
recovered exactly, and importance sampling of a Gaussian likelihood gives the Gaussian
posterior (mean and spread) that Bayes' rule gives."""

from __future__ import annotations

import numpy as np

from sim.calibration.emulator import Quadratic, _Likelihood, sample_posterior


def test_a_quadratic_surface_is_recovered_exactly():
    rng = np.random.default_rng(1)
    low, high = np.array([0.0, 10.0, -1.0]), np.array([1.0, 20.0, 1.0])
    x = low + (high - low) * rng.random((200, 3))
    y = np.column_stack(
        [1 + 2 * x[:, 0] - x[:, 1] * x[:, 2] + 0.5 * x[:, 1] ** 2, 3 - x[:, 2] ** 2]
    )
    emulator = Quadratic(low, high).fit(x, y)
    test = low + (high - low) * rng.random((50, 3))
    truth = np.column_stack(
        [1 + 2 * test[:, 0] - test[:, 1] * test[:, 2] + 0.5 * test[:, 1] ** 2, 3 - test[:, 2] ** 2]
    )
    np.testing.assert_allclose(emulator.predict(test), truth, rtol=1e-6, atol=1e-6)
    assert np.abs(emulator.residuals).max() < 1e-6 * np.abs(y).max()  # the ridge's bias only


def test_importance_sampling_gives_the_gaussian_posterior():
    """Two parameters in a wide box, each observed directly with sd 0.05 (and 0.1 on the second
    together with the first's sum): the posterior is the Gaussian Bayes' rule gives."""
    low, high = np.array([0.0, 0.0]), np.array([4.0, 4.0])
    rng = np.random.default_rng(2)
    x = low + (high - low) * rng.random((100, 2))
    y = np.column_stack([x[:, 0], x[:, 1]])
    emulator = Quadratic(low, high).fit(x, y)  # exact: the identity
    sd = np.array([0.05, 0.2])
    observed = np.array([1.3, 2.1])
    likelihood = _Likelihood(observed, observed, np.diag(1 / sd**2))
    draws, weights, info = sample_posterior(
        emulator, likelihood, low, high, np.random.default_rng(3), ess_target=2000
    )
    assert info["beta"] == 1.0 and info["ess"] >= 2000
    mean = weights @ draws
    spread = np.sqrt(weights @ (draws - mean) ** 2)
    np.testing.assert_allclose(mean, observed, atol=0.01)
    np.testing.assert_allclose(spread, sd, rtol=0.05)


def test_too_few_points_for_a_quadratic_fit_a_plane_and_too_few_for_a_plane_are_refused():
    """A quadratic through fewer points than twice its terms would all but interpolate them,
    leaving residuals that no longer measure the noise: the emulator falls back to a plane,
    and below twice a plane's terms it refuses with a message naming --stages."""
    import pytest

    from sim.inputs.validation import InputError

    low, high = np.zeros(4), np.ones(4)
    rng = np.random.default_rng(4)
    x = rng.random((20, 4))  # a quadratic in 4 dimensions has 15 terms, a plane 5
    y = (x @ np.arange(1.0, 5.0))[:, None] + rng.normal(0, 0.1, (20, 1))
    emulator = Quadratic(low, high).fit(x, y)
    assert emulator.degree == 1
    noise = float(emulator.residual_covariance()[0, 0])
    assert 0.003 < noise < 0.03  # about the 0.01 put in
    with pytest.raises(InputError, match="--stages"):
        Quadratic(low, high).fit(x[:9], y[:9])


def test_sampling_that_stops_short_of_the_posterior_says_so():
    """Stopped at its round limit before exponent 1, the sampler reports a tempered
    likelihood as not converged (the fit then writes no posterior) instead of crawling up."""
    low, high = np.zeros(2), np.ones(2)
    x = np.random.default_rng(5).random((60, 2))
    emulator = Quadratic(low, high).fit(x, x.copy())
    tiny = np.array([1e-4, 1e-4])  # a needle in the box: many rounds of tempering needed
    observed = np.array([0.3, 0.7])
    likelihood = _Likelihood(observed, observed, np.diag(1 / tiny**2))
    _, _, info = sample_posterior(
        emulator, likelihood, low, high, np.random.default_rng(6), max_rounds=2
    )
    assert not info["converged"] and info["beta"] < 1.0
    assert info["stopped_by"].startswith("round limit")
