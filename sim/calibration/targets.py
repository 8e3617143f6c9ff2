"""Calibration targets as data: every reported figure with its uncertainty and provenance.

A targets file (``calibration/targets/*.toml``) lists reported figures. Each states its value,
its uncertainty (a standard deviation or a range, with the reason), its exact definition (stock
or flow, period, households or persons), the seed file and line it comes from with the words
found there, and the model output (KPI) it compares to, if any. Sum rules say which figures
should add up; a known contradiction in the seeds is declared on its rule, with how it is
handled, so it is reported openly rather than dropped.

``check_targets`` (``caseflow calibrate check``) reports contradictions and provenance
problems; fitting is the calibration issue's later work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from ..distributions import Count, Number
from ..inputs.scenario import ResolvedScenario, Scenario, at_least_a_month
from ..inputs.validation import (
    InputError,
    Problem,
    read_toml,
    refuse_other_kind,
    suggest,
    validate_model,
)
from ..metrics import kpi_names, kpi_unit


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Source(_Strict):
    """Where a figure stands in the seed documents."""

    file: str = Field(min_length=1, description="seed file name, e.g. 004_80c43180167b5ce8.txt")
    line: Count = Field(ge=1, description="line number in that file")
    quote: str = Field(min_length=2, description="words found on (or next to) that line")

    @field_validator("file")
    @classmethod
    def _a_name_in_the_seeds_folder(cls, file: str) -> str:
        if Path(file).name != file or file in (".", ".."):  # /etc/passwd, ../../x
            raise ValueError(
                f"{file!r}: the name of a file in the seeds folder, not a path (e.g. "
                "004_80c43180167b5ce8.txt)"
            )
        return file


class Target(_Strict):
    """One reported figure."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    value: Number
    sd: Number | None = Field(default=None, gt=0, description="standard deviation")
    range: tuple[float, float] | None = Field(default=None, description="plausible [low, high]")
    uncertainty_note: str = Field(min_length=10, description="why this uncertainty")
    definition: str = Field(min_length=10, description="stock or flow, period, unit counted")
    kind: Literal["flow", "stock", "share"]
    period: str = Field(min_length=4)
    kpi: str | None = Field(default=None, description="model output compared; none: not compared")
    source: Source

    @model_validator(mode="after")
    def _uncertainty_and_kpi(self) -> Target:
        if (self.sd is None) == (self.range is None):
            raise ValueError("give exactly one of sd or range for the uncertainty")
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {list(self.range)} runs backwards: write it [low, high]")
        if self.range is not None and self.range[0] == self.range[1]:
            raise ValueError(
                f"range {list(self.range)} has no width (no uncertainty, which a fit cannot "
                "weigh): give the range the figure could lie in, or an sd"
            )
        if self.range is not None and not self.range[0] <= self.value <= self.range[1]:
            raise ValueError(f"value {self.value} lies outside its range {list(self.range)}")
        bad_date = _impossible_date(self.period)
        if bad_date:
            raise ValueError(f"period '{self.period}': {bad_date} is not a date or a month")
        if self.kpi is not None and self.kpi not in kpi_names():
            raise ValueError(
                f"unknown kpi '{self.kpi}'{suggest(self.kpi, kpi_names())} "
                "(see summary.csv's kpi column)"
            )
        # A count cannot be negative and a proportion lies in [0, 1]; a "share" without a
        # proportion's KPI may be a percentage change (seed 001's -52 %), so it is left alone.
        if self.kind in ("flow", "stock") and self.value < 0:
            raise ValueError(f"value {self.value}: a {self.kind} counts something, so it is >= 0")
        if self.kind in ("flow", "stock") and self.range is not None and self.range[0] < 0:
            raise ValueError(
                f"range {list(self.range)}: a {self.kind} counts something, so it is >= 0"
            )
        if self.kpi is not None and kpi_unit(self.kpi) == "share" and not 0 <= self.value <= 1:
            raise ValueError(
                f"value {self.value}: kpi '{self.kpi}' is a proportion, so it lies in [0, 1] "
                "(write 38 % as 0.38)"
            )
        # the kind says what the reported figure is; compared with a KPI, it must be the same
        # sort of figure (a share against a count would be fitted as if the two were alike)
        if self.kpi is not None and (self.kind == "share") != (kpi_unit(self.kpi) == "share"):
            if self.kind == "share":
                raise ValueError(
                    f"kind \"share\", but kpi '{self.kpi}' is not a proportion (its unit: "
                    f'{kpi_unit(self.kpi)}): give kind "flow" or "stock", or a proportion\'s kpi'
                )
            raise ValueError(
                f'kind "{self.kind}", but kpi \'{self.kpi}\' is a proportion: give kind "share"'
            )
        proportion = self.kpi is not None and kpi_unit(self.kpi) == "share"
        if proportion and self.range is not None and not 0 <= self.range[0] <= self.range[1] <= 1:
            raise ValueError(
                f"range {list(self.range)}: kpi '{self.kpi}' is a proportion, so its range "
                "lies in [0, 1] (write 30-45 % as [0.30, 0.45])"
            )
        if proportion and self.sd is not None and self.sd > 0.5:
            raise ValueError(
                f"sd {self.sd}: kpi '{self.kpi}' is a proportion, whose sd is at most 0.5 "
                "(write 5 percentage points as 0.05)"
            )
        return self


class SumRule(_Strict):
    """Figures that should add up to a total."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    parts: list[str] = Field(min_length=2)
    total: str
    known: str | None = Field(
        default=None, description="a known contradiction: what it is and how it is handled"
    )


class TargetFile(_Strict):
    """A targets file."""

    name: str
    description: str = ""
    scenario: str | None = Field(
        default=None,
        description="scenario whose output is compared, relative to this file; none yet for "
        "holdouts whose scenario is still to be written",
    )
    holdout: StrictBool = Field(  # true or false, not "no" (which pydantic would read)
        default=False, description="never fitted: kept to validate the fitted model"
    )
    years: Number = Field(gt=0, description="simulated years compared (from the start date)")
    warmup_days: Count | None = Field(
        default=None,
        ge=0,
        description="days simulated before the compared period (overrides the scenario's), so "
        "that programmes and returns under way at its start are there",
    )
    targets: list[Target] = Field(min_length=1)
    sums: list[SumRule] = Field(default_factory=list)

    @field_validator("years")
    @classmethod
    def _at_least_a_month(cls, years: float) -> float:
        return at_least_a_month(years)

    @model_validator(mode="after")
    def _references(self) -> TargetFile:
        ids = [t.id for t in self.targets]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"target ids must be unique; repeated: {', '.join(repeated)}")
        rule_ids = [r.id for r in self.sums]
        repeated = sorted({i for i in rule_ids if rule_ids.count(i) > 1})
        if repeated:
            raise ValueError(f"sum rule ids must be unique; repeated: {', '.join(repeated)}")
        for rule in self.sums:
            parts = [*rule.parts, rule.total]
            twice = sorted({p for p in parts if parts.count(p) > 1})
            if twice:
                raise ValueError(
                    f"sum rule '{rule.id}' names '{twice[0]}' more than once (a part twice, or "
                    "the total among its parts)"
                )
            for ref in parts:
                if ref not in ids:
                    raise ValueError(
                        f"sum rule '{rule.id}' names unknown target '{ref}'{suggest(ref, ids)}"
                    )
        return self

    def by_id(self) -> dict[str, Target]:
        return {t.id: t for t in self.targets}


def load_targets(path: str | Path, named_by: tuple[str | Path, str] | None = None) -> TargetFile:
    """A targets file, validated; ``named_by``, the file and key that named it (a spec's
    ``targets``), answers for a file of another kind."""
    path = Path(path)
    raw = read_toml(path)
    refuse_other_kind(path, raw, "targets", named_by)
    try:
        return validate_model(TargetFile, raw, lambda _loc: str(path))
    except InputError as exc:
        raise InputError([_with_target_id(p, raw) for p in exc.problems]) from None


def _with_target_id(problem: Problem, raw: dict[str, Any]) -> Problem:
    """``targets[2].sd`` as ``targets[2].sd (id "closed_2014")``: a file of 48 targets is
    read by id, and the index counts from 0."""
    found = re.match(r"targets\[(\d+)\]", problem.key)
    entries = raw.get("targets")
    if found is None or not isinstance(entries, list) or int(found.group(1)) >= len(entries):
        return problem
    entry = entries[int(found.group(1))]
    target_id = entry.get("id") if isinstance(entry, dict) else None
    if not isinstance(target_id, str) or not target_id:
        return problem
    return replace(problem, key=f'{problem.key} (id "{target_id}")')


def scenario_path(path: Path, targets: TargetFile) -> Path | None:
    """The targets' scenario file (relative to the targets file), checked to be a file; None
    where the file names none (a holdout whose scenario is still to be written)."""
    if targets.scenario is None:
        return None
    scenario = (path.parent / targets.scenario).resolve()
    if not scenario.exists():
        raise InputError.single(path, "scenario", f"scenario file not found: {scenario}")
    if scenario.is_dir():
        raise InputError.single(path, "scenario", f"{scenario} is a folder: name a scenario file")
    return scenario


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?:\s*[/–-]\s*(\d{4}|\d{2}))?(?!\d)")


_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")


def _impossible_date(period: str) -> str | None:
    """A date (2005-11-30) or month (2005-11) written in ``period`` that does not exist
    (2005-13, 2005-02-30); a split year (2015-16) is not a month."""
    for found in _DATE.finditer(period):
        year, month, day = int(found.group(1)), int(found.group(2)), found.group(3)
        if day is None and month == (year + 1) % 100:
            continue
        try:
            date(year, month, int(day or 1))
        except ValueError:
            return found.group(0)
    return None


def period_years(period: str) -> set[int]:
    """The years a target's period names: "2015", "November 2015" and "2015-11" (a month)
    name 2015; "1999-2003" and "1999–2003" the five years; a split year "2015/16" or
    "2015/2016" both. Two-digit years alone ("Nov-14") are not read."""
    years: set[int] = set()
    for found in _YEAR.finditer(period):
        start = end = int(found.group(1))
        tail = found.group(2)
        if tail is not None and len(tail) == 4 and int(tail) > start:
            end = int(tail)
        elif tail is not None and len(tail) == 2 and int(tail) == (start + 1) % 100:
            end = start + 1  # a split year; another two digits are a month
        years.update(range(start, end + 1))
    return years


def check_periods(path: Path, targets: TargetFile, scenario: Scenario) -> list[tuple[str, str]]:
    """A compared target's period (:func:`period_years`) must share a year with the years the
    run reports, from the scenario's start over the targets' ``years``: the model's output
    there is what the figure is compared with, whatever the period says, so a period wholly
    outside is refused. One that reaches beyond the run (a split year, 2014-2015 for a run of
    2015), or covers only part of it (2017 of a run of 2016-2017: a KPI is a mean or a yearly
    rate over every reported year, not that year's), is returned as a note. Targets without a
    ``kpi`` (documented, not compared) may name any period."""
    first, last = scenario.start_date.year, (scenario.end_date - timedelta(days=1)).year
    span = str(first) if first == last else f"{first}-{last}"
    run = f"the years the run reports ({span}: the scenario from {scenario.start_date} over "
    run += f"years = {targets.years:g})"
    reported = set(range(first, last + 1))
    problems, notes = [], []  # notes: (target id, what)
    for i, target in enumerate(targets.targets):
        years = period_years(target.period)
        if target.kpi is None or not years or years == reported:
            continue
        if years < reported:
            notes.append(
                (
                    target.id,
                    f"period '{target.period}' is only part of {run}: the figure is compared "
                    f"with the model's {target.kpi} over all of {span} (a mean or a yearly "
                    "rate over every reported year), not over its own period",
                )
            )
        elif not years & reported:
            problems.append(
                Problem(
                    str(path),
                    f'targets[{i}].period (id "{target.id}")',
                    f"'{target.period}' is outside {run}, so the figure would be compared with "
                    f"the model's {target.kpi} of {span}; give the figure's own period, or a "
                    "scenario and years that cover it",
                )
            )
        else:
            notes.append(
                (
                    target.id,
                    f"period '{target.period}' reaches beyond {run}: the figure is compared "
                    f"with the model's {target.kpi} of {span}",
                )
            )
    if problems:
        raise InputError(problems)
    return notes


def targets_scenario(path: Path, targets: TargetFile, scenario: Path) -> ResolvedScenario:
    """The targets' scenario as a fit or a holdout check runs it (the targets' years and
    warm-up), a problem in it reported under the targets file that names it."""
    from ..inputs.loading import load_scenarios

    warmup = [] if targets.warmup_days is None else [f"warmup_days={targets.warmup_days}"]
    try:
        points = load_scenarios(scenario, warmup, years=targets.years, options_from=path)
    except InputError as exc:
        lead = Problem(str(path), "scenario", f"{targets.scenario} does not load:")
        raise InputError([lead, *exc.problems]) from None
    if len(points) > 1:  # a fit would run its first point only, without a word
        raise InputError.single(
            path,
            "scenario",
            f"{targets.scenario} has a [sweep] ({len(points)} points): the figures are compared "
            "with one scenario; name a file without a sweep",
        )
    return points[0]


def check_scenario(path: Path, targets: TargetFile) -> list[tuple[str, str]]:
    """Load the targets' scenario (:func:`targets_scenario`) now, so that a problem in it is
    reported by the check rather than by a fit. Returns notes on periods that reach beyond the
    run (:func:`check_periods`)."""
    scenario = scenario_path(path, targets)
    if scenario is None:
        return []
    return check_periods(path, targets, targets_scenario(path, targets, scenario).scenario)


@dataclass(frozen=True)
class Finding:
    """Something the check found: a contradiction (known or not) or a provenance problem."""

    rule: str
    message: str
    known: bool


def find_seeds(start: Path) -> Path | None:
    """The seed documents: ``shared/seeds`` beside the repository (or any folder above)."""
    for folder in [start.resolve(), *start.resolve().parents]:
        candidate = folder / "shared" / "seeds"
        if candidate.is_dir():
            return candidate
    return None


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def shared_kpis(targets: TargetFile) -> dict[str, list[str]]:
    """The KPIs that more than one target compares (targets by id): the fit counts such a KPI
    once per target, right for independent reports of one figure, a doubled weight if not."""
    by_kpi: dict[str, list[str]] = {}
    for target in targets.targets:
        if target.kpi is not None:
            by_kpi.setdefault(target.kpi, []).append(target.id)
    return {kpi: ids for kpi, ids in by_kpi.items() if len(ids) > 1}


def check_targets(targets: TargetFile, seeds: Path | None) -> list[Finding]:
    """Sum rules that do not add up, and sources whose quoted words are not where cited."""
    findings: list[Finding] = []
    values = {t.id: t.value for t in targets.targets}
    for rule in targets.sums:
        parts = sum(values[p] for p in rule.parts)
        total = values[rule.total]
        if abs(parts - total) > 1e-9:
            gap = total - parts
            message = (
                f"{' + '.join(rule.parts)} = {parts:g}, but {rule.total} = {total:g} "
                f"(difference {gap:+g}, {abs(gap) / total:.0%} of the total)"
            )
            if rule.known:
                message += f". Known: {rule.known}"
            findings.append(Finding(rule.id, message, bool(rule.known)))
    if seeds is not None:
        for target in targets.targets:
            src = target.source
            path = seeds / src.file
            if not path.exists():
                findings.append(Finding(target.id, f"source file {src.file} not found", False))
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            window = " ".join(lines[max(src.line - 3, 0) : src.line + 2])
            if _normalise(src.quote) not in _normalise(window):
                findings.append(
                    Finding(
                        target.id,
                        f"'{src.quote}' is not on line {src.line} of {src.file} (or next to it)",
                        False,
                    )
                )
    return findings
