"""Probability distributions written in scenario and parameter files.

A distribution is a small TOML table with a ``dist`` tag, for example
``{ dist = "lognormal", mean = 14, sd = 6 }``. Every distribution here describes a
non-negative quantity (a duration, a count of days) and is specified by its mean and
standard deviation where that makes sense, because those are the figures the seed
documents and planners talk in.

Sampling goes through the inverse CDF (``ppf``) of uniforms. The model draws uniforms
for a household at its arrival and turns them into durations here, so that the same
household needs the same help whatever else changes in a scenario (common random numbers).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Literal, cast

import numpy as np
from numpy.typing import NDArray
from pydantic import AllowInfNan, BaseModel, ConfigDict, Field, Strict, model_validator

if TYPE_CHECKING:
    from types import ModuleType

FloatArray = NDArray[np.float64]

Number = Annotated[float, Strict(), AllowInfNan(False)]
"""A number in a scenario or parameter file: a TOML integer or float (an integer becomes a float),
never a boolean or a string, which pydantic's lax mode would take (``true`` as 1, ``"3"`` as 3),
and never ``inf`` or ``nan``, which TOML allows and no setting means (an infinite cost or
share would run on and give infinite or empty results, or fail deep in the model)."""

Count = Annotated[int, Strict()]
"""A whole number in a scenario or parameter file: a TOML integer only (not ``true``, ``11.0``
or ``"11"``)."""


@functools.cache
def _special() -> ModuleType:
    """``scipy.special``, imported at the first draw rather than with this module: reading and
    checking a scenario (``caseflow validate``, ``schema``) draws nothing, and the import takes
    about 0.2 s of a command that should answer at once."""
    from scipy import special

    return cast("ModuleType", special)


@functools.cache
def _cython_special() -> ModuleType:
    """``scipy.special.cython_special`` (the same functions as the ufuncs, for one number
    without an array's set-up: a draw 0.4 rather than 1.0 µs), imported at the first draw."""
    from scipy.special import cython_special

    return cast("ModuleType", cython_special)


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def ppf(self, u: FloatArray) -> FloatArray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def mean_value(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """Draw ``size`` values from ``rng``."""
        return self.ppf(rng.random(size))

    def draw(self, u: float) -> float:
        """The value at one uniform ``u`` in [0, 1) (scalar fast path of ``ppf``)."""
        return float(self.ppf(np.array([u]))[0])


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"]
    value: Number = Field(ge=0)

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.full(np.shape(u), self.value, dtype=float)

    def draw(self, u: float) -> float:
        return self.value

    @property
    def mean_value(self) -> float:
        return self.value


class Exponential(_Dist):
    """Memoryless durations, given by their mean."""

    dist: Literal["exponential"]
    mean: Number = Field(gt=0)

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.asarray(-self.mean * np.log1p(-np.asarray(u, dtype=float)), dtype=float)

    def draw(self, u: float) -> float:
        return -self.mean * math.log1p(-u)

    @property
    def mean_value(self) -> float:
        return self.mean


class Gamma(_Dist):
    """Gamma durations, given by mean and standard deviation."""

    dist: Literal["gamma"]
    mean: Number = Field(gt=0)
    sd: Number = Field(gt=0)

    def ppf(self, u: FloatArray) -> FloatArray:
        shape = (self.mean / self.sd) ** 2
        scale = self.sd**2 / self.mean
        return np.asarray(_special().gammaincinv(shape, np.asarray(u, dtype=float)) * scale)

    def draw(self, u: float) -> float:
        # scipy's Cython entry to the same function as the ufunc: no array set-up per call
        shape = (self.mean / self.sd) ** 2
        return float(_cython_special().gammaincinv(shape, u)) * (self.sd**2 / self.mean)

    @property
    def mean_value(self) -> float:
        return self.mean


class LogNormal(_Dist):
    """Log-normal durations, given by the mean and standard deviation of the value itself."""

    dist: Literal["lognormal"]
    mean: Number = Field(gt=0)
    sd: Number = Field(gt=0)

    def ppf(self, u: FloatArray) -> FloatArray:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        z = _special().ndtri(np.asarray(u, dtype=float))
        return np.asarray(np.exp(mu + math.sqrt(sigma2) * z), dtype=float)

    def draw(self, u: float) -> float:
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2
        return math.exp(mu + math.sqrt(sigma2) * float(_cython_special().ndtri(u)))

    @property
    def mean_value(self) -> float:
        return self.mean


class Uniform(_Dist):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: Number = Field(ge=0)
    high: Number = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must not be below low ({self.low})")
        return self

    def ppf(self, u: FloatArray) -> FloatArray:
        return np.asarray(self.low + (self.high - self.low) * np.asarray(u, dtype=float))

    def draw(self, u: float) -> float:
        return self.low + (self.high - self.low) * u

    @property
    def mean_value(self) -> float:
        return (self.low + self.high) / 2


class Empirical(_Dist):
    """Values seen in data, with optional weights (equal weights if omitted)."""

    dist: Literal["empirical"]
    values: list[Annotated[Number, Field(ge=0)]] = Field(min_length=1)
    weights: list[Annotated[Number, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    def _cumulative(self) -> FloatArray:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return np.asarray(np.cumsum(w) / w.sum(), dtype=float)

    def ppf(self, u: FloatArray) -> FloatArray:
        idx = np.searchsorted(self._cumulative(), np.asarray(u, dtype=float), side="right")
        idx = np.minimum(idx, len(self.values) - 1)
        return np.asarray(np.asarray(self.values, dtype=float)[idx], dtype=float)

    @property
    def mean_value(self) -> float:
        w = np.ones(len(self.values)) if self.weights is None else np.asarray(self.weights)
        return float(np.dot(w, self.values) / w.sum())


Distribution = Annotated[
    Fixed | Exponential | Gamma | LogNormal | Uniform | Empirical,
    Field(discriminator="dist"),
]
"""Any distribution, chosen by its ``dist`` tag."""

DISTRIBUTION_TAGS = ("fixed", "exponential", "gamma", "lognormal", "uniform", "empirical")


def is_distribution_table(value: object) -> bool:
    """Whether a value read from a file is a distribution: a table with a ``dist`` key. Loading
    treats one as a single value (it replaces an inherited distribution whole)."""
    return isinstance(value, Mapping) and "dist" in value
