"""The JSON Schema of scenario files (``caseflow schema``) serves every shipped file, also those
that extend another, and still refuses what loading refuses.

``jsonschema`` is not a dependency, so a small checker below covers the keywords the schema
uses: ``$ref``, ``type``, ``properties``, ``required``, ``additionalProperties``, ``items``,
``anyOf``/``oneOf``/``allOf``/``not``, ``if``/``then``/``else``, ``enum``/``const`` and numeric
bounds.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sim.inputs.reference import scenario_json_schema
from sim.inputs.validation import read_toml

from .conftest import ROOT, SMALL

SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.toml")) + sorted(
    (ROOT / "calibration" / "validation").glob("*.toml")
)

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": (str, datetime.date, datetime.datetime),  # TOML dates are strings in JSON
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name != "boolean":
        return False
    return isinstance(value, _TYPES[name])


class Checker:
    """Errors of one TOML document against a JSON Schema (the keywords listed above)."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def _resolve(self, ref: str) -> dict[str, Any]:
        assert ref.startswith("#/"), ref
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, value: Any, schema: dict[str, Any], at: str = "") -> Iterator[str]:
        if "$ref" in schema:
            yield from self.errors(value, self._resolve(schema["$ref"]), at)
        kind = schema.get("type")
        if kind is not None:
            kinds = kind if isinstance(kind, list) else [kind]
            if not any(_is_type(value, k) for k in kinds):
                yield f"{at}: {value!r} is not of type {kind}"
                return
        if "enum" in schema and value not in schema["enum"]:
            yield f"{at}: {value!r} is not one of {schema['enum']}"
        if "const" in schema and value != schema["const"]:
            yield f"{at}: {value!r} is not {schema['const']!r}"
        yield from self._bounds(value, schema, at)
        for sub in schema.get("allOf", []):
            yield from self.errors(value, sub, at)
        for key, need in (("anyOf", "at least one"), ("oneOf", "exactly one")):
            if key in schema:
                passing = sum(not list(self.errors(value, s, at)) for s in schema[key])
                if passing == 0 or (key == "oneOf" and passing > 1):
                    yield f"{at}: matches {passing} of {key}, needs {need}"
        if "not" in schema and not list(self.errors(value, schema["not"], at)):
            yield f"{at}: matches a schema it must not"
        if "if" in schema:
            branch = "then" if not list(self.errors(value, schema["if"], at)) else "else"
            if branch in schema:
                yield from self.errors(value, schema[branch], at)
        if isinstance(value, dict):
            yield from self._object(value, schema, at)
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                yield from self.errors(item, schema["items"], f"{at}[{i}]")

    def _bounds(self, value: Any, schema: dict[str, Any], at: str) -> Iterator[str]:
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, list) and len(value) < schema.get("minItems", 0):
                yield f"{at}: fewer than {schema['minItems']} items"
            return
        checks = {
            "minimum": value >= schema.get("minimum", value),
            "maximum": value <= schema.get("maximum", value),
            "exclusiveMinimum": "exclusiveMinimum" not in schema
            or value > schema["exclusiveMinimum"],
            "exclusiveMaximum": "exclusiveMaximum" not in schema
            or value < schema["exclusiveMaximum"],
        }
        for key, ok in checks.items():
            if not ok:
                yield f"{at}: {value!r} breaks {key} {schema[key]}"

    def _object(self, value: dict[str, Any], schema: dict[str, Any], at: str) -> Iterator[str]:
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                yield f"{at}.{key}: required" if at else f"{key}: required"
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            where = f"{at}.{key}" if at else key
            if key in props:
                yield from self.errors(item, props[key], where)
            elif extra is False:
                yield f"{where}: additional property not allowed"
            elif isinstance(extra, dict):
                yield from self.errors(item, extra, where)


def schema_errors(data: dict[str, Any]) -> list[str]:
    schema = scenario_json_schema()
    return list(Checker(schema).errors(data, schema))


def toml(write, text: str) -> dict[str, Any]:
    return read_toml(write("s.toml", text))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_every_shipped_scenario_file_validates_against_the_schema(path: Path):
    assert schema_errors(read_toml(path)) == []


def test_the_shipped_files_include_files_that_extend_another():
    extending = [p for p in SCENARIO_FILES if "extends" in read_toml(p)]
    assert len(extending) >= 5
    assert len(extending) < len(SCENARIO_FILES)


def test_a_file_of_its_own_must_still_give_every_required_key(write):
    assert schema_errors(toml(write, SMALL)) == []
    errors = schema_errors(toml(write, SMALL.replace("start_date = 2015-01-01", "")))
    assert "start_date: required" in errors
    errors = schema_errors(
        toml(write, SMALL.replace("[staff.benefit_administrators]\nposts = 6", ""))
    )
    assert "staff.benefit_administrators: required" in errors
    errors = schema_errors(toml(write, SMALL + "\n[sweep]\n" + '"ar_team.places" = [24, 36]\n'))
    assert errors == []


def test_a_file_that_extends_gives_only_what_differs(write):
    child = 'extends = "baseline.toml"\nname = "child"\n[staff.ongoing_social_workers]\nposts = 8\n'
    assert schema_errors(toml(write, child)) == []


@pytest.mark.parametrize(
    "body, error",
    [
        ("[staff.ongoing_social_worker]\nposts = 8", "staff.ongoing_social_worker: additional"),
        ("[staff.ongoing_social_workers]\nposts = -1", "breaks minimum"),
        ("[staff.ongoing_social_workers]\nposts = true", "is not of type integer"),
        ('[organisation]\nform = "fused"', "is not one of"),
        ("horizon_yeras = 2", "horizon_yeras: additional property not allowed"),
        # a distribution replaces the parent's whole: all its parameters are required
        (
            '[staff.ongoing_social_workers]\nparental_leave_days = { dist = "gamma", mean = 3 }',
            "staff.ongoing_social_workers.parental_leave_days: matches 0 of oneOf",
        ),
        # so does a list: each district, path point and change is complete
        ('[organisation]\ndistricts = [ { name = "Vantör" } ]', "districts[0].contact_share"),
        ("[[changes]]\nar_team.places = 24", "changes[0].at: required"),
    ],
)
def test_a_file_that_extends_is_still_checked(write, body, error):
    errors = schema_errors(toml(write, f'extends = "baseline.toml"\nname = "child"\n{body}\n'))
    assert any(error in e for e in errors), errors


def test_a_sweep_may_be_written_as_nested_tables(write):
    text = 'extends = "baseline.toml"\n[sweep.staff.ongoing_social_workers]\nposts = [8, 11]\n'
    assert schema_errors(toml(write, text)) == []
    assert schema_errors(toml(write, 'extends = "baseline.toml"\n[sweep]\n"ar_team.places" = 24\n'))
