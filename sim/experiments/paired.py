"""Paired comparison of an alternative with a base, replication by replication.

Replication ``r`` of the base and of the alternative share their random streams (common random
numbers), so their KPI difference removes most of the noise both share. The interval of the mean
paired difference is a Student-t interval on the ``n`` differences; the unpaired (Welch)
interval that ignores the pairing is reported beside it to show what the pairing buys.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import special  # stdtrit is what stats.t.ppf calls, without scipy.stats

from ..metrics import kpi_unit

LEVEL = 0.95


def t_half_width(values: np.ndarray) -> float:
    n = len(values)
    if n < 2:
        return math.nan
    return float(special.stdtrit(n - 1, 0.5 + LEVEL / 2) * values.std(ddof=1) / math.sqrt(n))


def welch_half_width(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or len(b) < 2:
        return math.nan
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return 0.0
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(special.stdtrit(df, 0.5 + LEVEL / 2) * se)


def paired_differences(base: pd.DataFrame, alternative: pd.DataFrame, name: str) -> pd.DataFrame:
    """One row per KPI: base and alternative means, the paired difference and its interval.

    ``base`` and ``alternative`` have one row per replication (column ``replication``) and one
    column per KPI. Replications are matched by number; only those both have are used. A KPI
    one side has no value for in a replication (a share of nothing, such as the administrators'
    utilisation of a unit without administrators) leaves that pair out, so that the means and
    their difference agree; where no pair is left, each mean is over the replications that side
    has a value for (the base's is not blanked by an alternative that has none).
    """
    merged = base.merge(alternative, on="replication", suffixes=("_base", "_alt"))
    rows = []
    for kpi in base.columns.drop("replication"):
        b = merged[f"{kpi}_base"].to_numpy(float)
        a = merged[f"{kpi}_alt"].to_numpy(float)
        keep = ~(np.isnan(a) | np.isnan(b))
        row = difference_row(name, kpi, b[keep], a[keep])
        if not keep.any():
            row["base_mean"], row["alternative_mean"] = _mean_of_values(b), _mean_of_values(a)
        rows.append(row)
    return pd.DataFrame(rows)


def _mean_of_values(values: np.ndarray) -> float:
    """The mean of the values that are there (NaN if none is)."""
    present = values[~np.isnan(values)]
    return float(present.mean()) if len(present) else math.nan


def difference_row(name: str, kpi: str, b: np.ndarray, a: np.ndarray) -> dict[str, object]:
    """One KPI's row of the differences: base and alternative means, the mean paired
    difference of ``a - b`` (matched observations) with its Student-t interval, and the
    unpaired (Welch) interval for reference."""
    d = a - b
    mean = float(d.mean()) if len(d) else math.nan
    half = t_half_width(d)
    unpaired = welch_half_width(a, b)
    return {
        "alternative": name,
        "kpi": kpi,
        "base_mean": float(b.mean()) if len(b) else math.nan,
        "alternative_mean": float(a.mean()) if len(a) else math.nan,
        "difference": mean,
        "ci_low": mean - half,
        "ci_high": mean + half,
        "unpaired_ci_low": mean - unpaired,
        "unpaired_ci_high": mean + unpaired,
        "unit": kpi_unit(kpi),
        "replications": len(d),
        "significant": not math.isnan(half) and (mean - half > 0 or mean + half < 0),
    }
