"""How the reports print numbers, intervals and scenario values.

One rule per unit (:data:`UNIT_DECIMALS`): every figure in a unit has the same number of
decimals wherever it is shown, so that columns compare at a glance. Thousands are grouped with
a narrow no-break space and negative numbers take a real minus sign, so that a number never
wraps in the middle. Every KPI of the catalogue is a count, a share, a time or money: its
interval is never printed below zero, and a difference's interval never below the base's
negative (the alternative cannot fall below zero). Scenario values are printed as they are
written in a scenario file (TOML), not as Python shows them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..records import KPI, NO_VALUE

if TYPE_CHECKING:
    import pandas as pd

GROUP = "\u202f"
"""Narrow no-break space between thousands: 43 533 633 stays on one line."""
MINUS = "\u2212"
"""The minus sign, as wide as the plus sign."""

UNIT_DECIMALS: dict[str, int] = {
    "households": 1,
    "cases": 1,
    "per year": 1,
    "staff in post": 1,
    "cases per social worker": 1,
    "places": 0,
    "share": 3,
    "percent": 1,
    "days": 2,
    "months": 2,
    "hours per year": 0,
    "SEK per year": 0,
    "SEK": 0,
}
"""Decimals of each unit of the KPI catalogue (:mod:`sim.records`), in every report table."""

NON_NEGATIVE_UNITS = frozenset(UNIT_DECIMALS)
"""Units of quantities that cannot be negative (all those of the catalogue)."""


def kpi_unit(kpi: str, unit: str | None = None) -> str:
    """The KPI's unit: the one given (from a CSV file), else the catalogue's."""
    if unit and isinstance(unit, str):
        return unit
    known = KPI.get(kpi)
    return known.unit if known else ""


def _decimals(x: float, unit: str) -> int:
    if unit in UNIT_DECIMALS:
        return UNIT_DECIMALS[unit]
    size = abs(x)  # an unknown unit (an older results folder): by size
    return 0 if size >= 1000 else 1 if size >= 10 else 3


def number(x: float | None, unit: str, *, sign: bool = False) -> str:
    """``x`` with its unit's decimals, thousands grouped; ``sign``: always + or − (differences).

    A value that rounds to zero is printed without a sign; a missing value as an en dash.
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    digits = _decimals(x, unit)
    text = f"{abs(x):,.{digits}f}".replace(",", GROUP)
    if float(text.replace(GROUP, "")) == 0:
        return text
    if x < 0:
        return MINUS + text
    return "+" + text if sign else text


def bounds(kpi: str, unit: str) -> tuple[float, float]:
    """The least and the greatest value a KPI can take: counts, times, hours and money are
    never negative; a share of a whole (a derived KPI in "share", of households or of
    programmes, and a delivered share of planned contact) is at most 1, unlike a utilisation,
    a load against its norm, which can exceed 1. A unit outside the catalogue: no bounds."""
    least = 0.0 if unit in NON_NEGATIVE_UNITS else -math.inf
    known = KPI.get(kpi)
    whole = known is not None and (known.rule == "derived" or known.at_most_one)
    most = 1.0 if unit == "share" and whole else math.inf
    return least, most


def _clip(low: float, high: float, least: float, most: float) -> tuple[float, float]:
    if math.isnan(least) or math.isnan(most):
        return low, high
    return min(max(low, least), most), min(max(high, least), most)


def level_interval(low: float, high: float, kpi: str, unit: str) -> tuple[float, float]:
    """A KPI's interval cut to the values the KPI can take (:func:`bounds`)."""
    return _clip(low, high, *bounds(kpi, unit))


def intervals_cut_to_bounds(table: pd.DataFrame) -> pd.DataFrame:
    """A table of KPIs (``kpi``, ``unit``, ``ci_low``, ``ci_high``) with each interval cut as
    :func:`level_interval` cuts it: the CSV files say what the report says (no negative count
    of households, no share above 1). The statistics behind them (a stopping rule's precision)
    keep the intervals uncut."""
    return _cut_intervals(
        table,
        {"kpi", "unit", "ci_low", "ci_high"},
        lambda kpi, unit, _base, low, high: level_interval(low, high, kpi, unit),
    )


def _cut_intervals(
    table: pd.DataFrame,
    needed: set[str],
    cut: Callable[[str, str, float, float, float], tuple[float, float]],
) -> pd.DataFrame:
    """``table`` with each of its intervals (the paired ``ci_low``/``ci_high`` and, where a
    table has them, the unpaired ones) replaced by ``cut(kpi, unit, base_mean, low, high)``
    (``base_mean`` NaN in a table without it); the table itself where it lacks ``needed``."""
    if table.empty or not needed <= set(table.columns):
        return table
    out = table.copy()
    bases = table["base_mean"] if "base_mean" in table.columns else [math.nan] * len(table)
    for low_column, high_column in (
        ("ci_low", "ci_high"),
        ("unpaired_ci_low", "unpaired_ci_high"),
    ):
        if low_column not in table.columns or high_column not in table.columns:
            continue
        cut_pairs = [
            cut(str(kpi), str(unit), base, low, high)
            for kpi, unit, base, low, high in zip(
                table["kpi"], table["unit"], bases, table[low_column], table[high_column],
                strict=True,
            )
        ]  # fmt: skip
        out[low_column] = [low for low, _ in cut_pairs]
        out[high_column] = [high for _, high in cut_pairs]
    return out


def difference_interval(
    low: float, high: float, base_mean: float, kpi: str, unit: str
) -> tuple[float, float]:
    """A difference's interval cut where the alternative would leave the values the KPI can
    take (for a count: a difference below minus the base mean)."""
    least, most = bounds(kpi, unit)
    return _clip(low, high, least - base_mean, most - base_mean)


def differences_cut_to_bounds(table: pd.DataFrame) -> pd.DataFrame:
    """A table of paired differences (``kpi``, ``unit``, ``base_mean`` and the paired and
    unpaired ``ci_low``/``ci_high``) with each interval cut as :func:`difference_interval`
    cuts it: ``comparison.csv`` says what the report says (no alternative with fewer than
    no households). Whether a difference is significant (0 outside its paired interval) is
    the same either way: the cut never passes 0."""
    return _cut_intervals(
        table,
        {"kpi", "unit", "base_mean", "ci_low", "ci_high"},
        lambda kpi, unit, base, low, high: difference_interval(low, high, base, kpi, unit),
    )


def lower_first(text: str) -> str:
    """``text`` to follow a colon mid-sentence: its first letter lower case, unless it starts
    an abbreviation ("AR programme" stays, "Households" becomes "households")."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def has_interval(low: float, high: float) -> bool:
    """Whether both ends are numbers (not with one replication, nor for a KPI not measured)."""
    return not (math.isnan(low) or math.isnan(high))


def axis_scale(unit: str) -> tuple[float, str]:
    """How a figure's axis shows a unit: money in millions (Mkr), the rest as it is."""
    if unit.startswith("SEK"):
        return 1e6, "Mkr" + unit.removeprefix("SEK")
    return 1.0, unit


def keys_overlap(a: str, b: str) -> bool:
    """Whether two dotted keys name the same setting, or one a table around the other
    (``ar_team`` and ``ar_team.places``; not ``ar_team_x``)."""
    return a == b or a.startswith(f"{b}.") or b.startswith(f"{a}.")


def first_change_setting(
    changes: Sequence[Mapping[str, Any]], keys: Iterable[str]
) -> tuple[Any, str, Any] | None:
    """The first ``[[changes]]`` entry (as a scenario's dict holds them) that sets one of
    ``keys``, a table around one or a key inside one: its date, the key it sets and the value."""
    wanted = list(keys)
    for change in changes:
        settings = flatten({k: v for k, v in change.items() if k != "at"})
        hit = next((k for k in settings if any(keys_overlap(k, w) for w in wanted)), None)
        if hit is not None:
            return change.get("at"), hit, settings[hit]
    return None


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested tables as dotted keys; lists and distributions (``{ dist = ... }``) are values,
    shown and compared whole."""
    out: dict[str, Any] = {}
    if isinstance(data, dict) and "dist" not in data:
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    out[prefix.rstrip(".")] = data
    return out


def interval(
    low: float,
    high: float,
    unit: str,
    *,
    sign: bool = False,
    why: str = "",
    of: float = 0.0,
    kpi: str = "",
) -> str:
    """``low to high``; without an interval (one replication) "no interval" and ``why``; when
    the figure it is the interval ``of`` is missing, why the ``kpi`` has no value in the run
    (:data:`sim.records.NO_VALUE`), else an en dash."""
    if math.isnan(of):
        return f"no value: {NO_VALUE[kpi]}" if kpi in NO_VALUE else "–"
    if not has_interval(low, high):
        return f"no interval{f' ({why})' if why else ''}"
    return f"{number(low, unit, sign=sign)} to {number(high, unit, sign=sign)}"


PERCENT = "\u00a0%"
"""A no-break space before the per cent sign: "+34.7 %" stays on one line in a sentence."""


def unit_floor(kpi: str) -> float:
    """The least change, and the least base, that counts for a KPI: one of its unit (one
    household, one day), so that 0.4 households becoming 19 is not ranked as a 4 000 % change;
    shares are taken as they are."""
    known = KPI.get(kpi)
    return 0.0 if known is None or known.unit == "share" else 1.0


def percent_change(difference: float, base: float, kpi: str | None = None) -> str:
    """The difference in % of the base mean, with one decimal ("" when the base is zero or
    missing, or, for ``kpi``, under one of its unit: 0.2 cases becoming 11.3 is no "+5 550 %"
    that says anything)."""
    if math.isnan(difference) or math.isnan(base) or base == 0:
        return ""
    if kpi is not None and abs(base) < unit_floor(kpi):
        return ""
    return number(100 * difference / abs(base), "percent", sign=True) + PERCENT


# --- scenario values as TOML ----------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_value(key)


def toml_value(value: Any) -> str:
    """A scenario value as a scenario file writes it: ``true``, ``"merged"``, ``2016-07-01``,
    ``[3.2, 4.0]``, ``{ dist = "fixed", value = 90.0 }``; a missing value as an en dash.

    The values come from manifests (JSON), where a date is a string: a string that is a date
    is printed as a TOML date, as ``scenario.toml`` has it.
    """
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _toml_number(value)
    if isinstance(value, str):
        if _DATE.match(value):
            return value
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, Mapping):
        inner = ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)  # a date or time object


def _toml_number(value: float) -> str:
    if isinstance(value, int):
        return str(int(value))
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(float(value))  # numpy's float64 is a float whose repr is "np.float64(...)"


# --- the command line's one-line figures ----------------------------------------------------


def console_estimate(
    value: float, low: float, high: float, kpi: str, unit: str, *, base: float | None = None
) -> str:
    """A figure as the command line prints it: ``489.9 (95 % CI 480.1 to 499.7)``, or, given
    the ``base`` mean, a paired difference ``+1.0 (paired 95 % CI -2.0 to +4.0)``. The interval
    stops at zero as in the reports; with one replication it says "no interval" (never
    ``nan to nan``)."""
    form = ".1f" if base is None else "+.1f"
    if math.isnan(value):
        return "not measured"
    if not has_interval(low, high):
        return f"{value:{form}} (no interval: one replication)"
    if base is None:
        low, high = level_interval(low, high, kpi, unit)
    else:
        low, high = difference_interval(low, high, base, kpi, unit)
    what = "95 % CI" if base is None else "paired 95 % CI"
    return f"{value:{form}} ({what} {low:{form}} to {high:{form}})"
