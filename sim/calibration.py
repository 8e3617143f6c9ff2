"""Calibration spec: which parameters to fit, their prior ranges and where the ranges come from.

A spec (``calibration/spec_*.toml``) names a base parameter set, a targets file, and a list of
parameters. Each is a dotted path into the parameter set with a prior range and its source:

* ``mode = "value"``: the number at the path itself (its base value must lie in the range);
* ``mode = "scale"``: a factor applied to every number in the table at the path, keeping the
  table's shape (e.g. the work-exit hazards of all barriers), with 1 inside the range.

:func:`apply_parameters` turns chosen values into a validated parameter set. Fitting methods
(screening, point fit, posterior) are the calibration issue's later work.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .parameters import ModelParameters
from .scenario import load_parameters
from .validation import (
    InputError,
    Problem,
    problems_from_validation,
    read_toml,
    suggest,
    validate_model,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CalibratedParameter(_Strict):
    """One parameter (or table of parameters) to fit."""

    path: str = Field(pattern=r"^[a-z_][a-z0-9_.]*$", description="dotted path in the set")
    mode: Literal["value", "scale"] = "value"
    low: float
    high: float
    log_scale: bool = Field(default=False, description="sample the prior uniformly in log")
    source: str = Field(min_length=10, description="where the range comes from")

    @model_validator(mode="after")
    def _ordered(self) -> CalibratedParameter:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log_scale and self.low <= 0:
            raise ValueError("log_scale needs low > 0")
        return self


class CalibrationSpec(_Strict):
    name: str
    description: str = ""
    parameters: str = Field(description="base parameter set, relative to this file")
    targets: str = Field(description="targets file, relative to this file")
    calibrate: list[CalibratedParameter] = Field(min_length=1)


def _walk(data: Any, path: str) -> Any:
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            keys = list(node) if isinstance(node, dict) else []
            raise KeyError(f"'{part}' not found{suggest(part, keys)}")
        node = node[part]
    return node


def _numbers(node: Any) -> bool:
    if isinstance(node, dict):
        return bool(node) and all(_numbers(v) for v in node.values())
    return isinstance(node, int | float) and not isinstance(node, bool)


def load_spec(path: str | Path) -> tuple[CalibrationSpec, ModelParameters]:
    """Load a spec and its base parameter set; check every path against that set."""
    path = Path(path)
    spec = validate_model(CalibrationSpec, read_toml(path), lambda _loc: str(path))
    base_path = (path.parent / spec.parameters).resolve()
    if not base_path.exists():
        raise InputError.single(path, "parameters", f"parameter set not found: {base_path}")
    if not (path.parent / spec.targets).exists():
        raise InputError.single(path, "targets", f"targets file not found: {spec.targets}")
    base = load_parameters(base_path)
    data = base.model_dump()
    problems = []
    for i, entry in enumerate(spec.calibrate):
        key = f"calibrate[{i}].path"
        try:
            node = _walk(data, entry.path)
        except KeyError as exc:
            problems.append(Problem(str(path), key, f"{entry.path}: {exc.args[0]}"))
            continue
        if entry.mode == "value":
            if not _numbers(node) or isinstance(node, dict):
                problems.append(Problem(str(path), key, f"{entry.path} is not a single number"))
            elif not entry.low <= node <= entry.high:
                problems.append(
                    Problem(
                        str(path),
                        key,
                        f"base value {node} lies outside [{entry.low}, {entry.high}]",
                    )
                )
        else:
            if not (isinstance(node, dict) and _numbers(node)):
                problems.append(
                    Problem(str(path), key, f"{entry.path} is not a table of numbers (mode scale)")
                )
            elif not entry.low <= 1 <= entry.high:
                problems.append(Problem(str(path), key, "a scale range must contain 1"))
    if problems:
        raise InputError(problems)
    return spec, base


def _scale(node: Any, factor: float) -> Any:
    if isinstance(node, dict):
        return {k: _scale(v, factor) for k, v in node.items()}
    return node * factor


def apply_parameters(
    base: ModelParameters, spec: CalibrationSpec, values: dict[str, float]
) -> ModelParameters:
    """The base set with the spec's parameters set to ``values`` (by path), validated."""
    data = copy.deepcopy(base.model_dump())
    for entry in spec.calibrate:
        if entry.path not in values:
            continue
        *parents, last = entry.path.split(".")
        node = data
        for part in parents:
            node = node[part]
        value = values[entry.path]
        node[last] = value if entry.mode == "value" else _scale(node[last], value)
    try:
        return ModelParameters.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation(exc, ModelParameters, lambda _loc: "calibrated set")
        raise InputError(problems) from None
