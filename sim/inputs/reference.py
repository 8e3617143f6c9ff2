"""The scenario file described from its schema: for editors (``caseflow schema``, a JSON
Schema) and for people (``caseflow schema --markdown``, a table of every key).

``docs/scenarios.md`` embeds the markdown between two marker lines; a test keeps it up to date.
Both add the two keys that loading handles outside the schema, ``extends`` and ``sweep``.
"""

from __future__ import annotations

import types
import typing
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..distributions import DISTRIBUTION_TAGS
from .scenario import CHANGEABLE, Scenario

BEGIN = "<!-- BEGIN GENERATED: caseflow schema --markdown -->"
END = "<!-- END GENERATED -->"

_BOUNDS = (
    (annotated_types.Ge, "ge", "≥"),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "≤"),
    (annotated_types.Lt, "lt", "<"),
)


def _is_distribution(annotation: Any) -> bool:
    members = typing.get_args(annotation)
    return bool(members) and all(
        isinstance(m, type) and issubclass(m, BaseModel) and "dist" in m.model_fields
        for m in members
    )


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if _is_distribution(annotation):
        return "distribution"
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        if args[1] is Any:
            return "table"
        # the keys first, as a file writes them: a table of tables reads outside in
        return f"table (keys {_type_name(args[0])}) of {_type_name(args[1])}"
    if origin is typing.Annotated:
        return _type_name(args[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return getattr(annotation, "__name__", str(annotation))


def _constraints(field: FieldInfo) -> str:
    parts = []
    for meta in field.metadata:
        for kind, attr, symbol in _BOUNDS:
            if isinstance(meta, kind):
                parts.append(f"{symbol} {getattr(meta, attr)}")
        if getattr(meta, "pattern", None):
            parts.append(f"pattern `{meta.pattern}`")
        if getattr(meta, "min_length", None):
            parts.append(f"at least {meta.min_length}")
    return ", ".join(parts)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    factory = field.default_factory
    value = factory() if factory is not None else field.default  # type: ignore[call-arg]
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json")
        if "dist" in dumped:
            inner = ", ".join(f"{k} = {v!r}" for k, v in dumped.items())
            return f"`{{ {inner} }}`".replace("'", '"')
        return "see keys below"
    if isinstance(value, dict) and value and all(isinstance(v, float) for v in value.values()):
        return "equal shares"
    return f"`{value!r}`".replace("'", '"')


def _rows(model: type[BaseModel], prefix: str) -> list[str]:
    rows: list[str] = []
    nested: list[tuple[type[BaseModel], str]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        annotation = field.annotation
        inner = annotation
        if typing.get_origin(annotation) is list:
            inner = typing.get_args(annotation)[0]
        desc = (field.description or "").replace("|", "\\|")
        rows.append(
            f"| `{key}` | {_type_name(annotation)} | {_default(field)} | {_constraints(field)} "
            f"| {desc} |"
        )
        if isinstance(inner, type) and issubclass(inner, BaseModel) and not _is_distribution(inner):
            suffix = "[]." if inner is not annotation else "."
            nested.append((inner, f"{key}{suffix}"))
    for sub, sub_prefix in nested:
        rows.extend(_rows(sub, sub_prefix))
    return rows


def scenario_reference_markdown() -> str:
    """Every scenario key with its type, default, allowed values and meaning."""
    lines = [
        BEGIN,
        "",
        "| key | type | default | allowed | meaning |",
        "|---|---|---|---|---|",
        *_rows(Scenario, ""),
        "",
        "A **distribution** is a table with a `dist` key, one of "
        + ", ".join(f"`{t}`" for t in DISTRIBUTION_TAGS)
        + ": `fixed` (`value`), `exponential` (`mean`), `gamma` and `lognormal` (`mean`, `sd` "
        "of the value itself), `uniform` (`low`, `high`), `empirical` (`values`, optional "
        "`weights`). All values are non-negative. A distribution is one value: written in a "
        "file that extends another, in `[[changes]]`, a sweep or `--set`, it replaces the "
        "inherited one whole (keys without `dist`, such as `parental_leave_days.mean = 250`, "
        "change that one parameter of the inherited distribution).",
        "",
        "Keys outside the schema: `extends` (path of a scenario this one changes, relative to "
        "this file) and `sweep` (dotted key = list of values; the run covers their product).",
        "",
        END,
    ]
    return "\n".join(lines)


_SWEEP_VALUES = {
    "description": "a list of values for this dotted key, or a table of further keys",
    "anyOf": [
        {"type": "array", "minItems": 1},
        {"type": "object", "additionalProperties": {"$ref": "#/$defs/SweepValues"}},
    ],
}

#: the keys loading handles outside :class:`Scenario`
_OUTSIDE_KEYS: dict[str, Any] = {
    "extends": {
        "type": "string",
        "minLength": 1,
        "description": "path of a scenario this one changes, relative to this file; "
        "give only what differs (no key is then required)",
    },
    "sweep": {
        "type": "object",
        "minProperties": 1,
        "description": "dotted key -> list of values; the run covers their product",
        "additionalProperties": {"$ref": "#/$defs/SweepValues"},
    },
}

_PARTIAL = "Partial"


def _def_name(ref: str) -> str:
    return ref.removeprefix("#/$defs/")


def _is_distribution_def(schema: dict[str, Any]) -> bool:
    return "dist" in schema.get("properties", {})


def _partial_property(prop: dict[str, Any], defs: dict[str, Any], out: dict[str, Any]) -> Any:
    """A property as a file that extends another may write it: a table (a ``$ref`` to a model)
    becomes its partial form; a distribution or a list replaces the parent's whole, so it
    keeps every required key."""
    ref = prop.get("$ref")
    if ref is not None and not _is_distribution_def(defs[_def_name(ref)]):
        return {**prop, "$ref": f"#/$defs/{_partial_def(_def_name(ref), defs, out)}"}
    for key in ("anyOf", "allOf"):
        if key in prop:
            prop = {**prop, key: [_partial_property(p, defs, out) for p in prop[key]]}
    return prop


def _partial_def(name: str, defs: dict[str, Any], out: dict[str, Any]) -> str:
    """Add to ``out`` the partial form of ``defs[name]`` (no required keys, the same types,
    values and ranges; its tables partial too) and return its name."""
    partial = f"{_PARTIAL}{name}"
    if partial not in out:
        schema = {k: v for k, v in defs[name].items() if k != "required"}
        out[partial] = schema  # before the properties, in case of a cycle
        schema["properties"] = {
            key: _partial_property(prop, defs, out)
            for key, prop in schema.get("properties", {}).items()
        }
    return partial


def _changes_as_partial_sections(defs: dict[str, Any], scenario: dict[str, Any]) -> None:
    """A ``[[changes]]`` entry sets only what changes: each section it may set is checked as
    the partial form of that section (its keys typed, none required)."""
    props = defs["Change"]["properties"]
    for section in CHANGEABLE:
        ref = scenario["properties"][section]["$ref"]
        partial = _partial_def(_def_name(ref), defs, defs)
        props[section] = {
            "$ref": f"#/$defs/{partial}",
            "description": props[section].get("description", ""),
        }


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file, for editors (``caseflow schema``).

    A file that ``extends`` another gives only what differs, so the top level describes such a
    file: every key with its type, allowed values and range, but no key required, except
    within what replaces the parent's value whole (a distribution, and the items of a list
    such as ``districts`` or ``changes``). A file without ``extends`` must be complete: ``if``
    it has no ``extends``, ``then`` the whole scenario applies, every required key with it.
    """
    schema = Scenario.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs")
    complete = {**schema, "properties": {**schema["properties"], **_OUTSIDE_KEYS}}
    _changes_as_partial_sections(defs, complete)
    defs["Scenario"] = complete
    defs["SweepValues"] = _SWEEP_VALUES
    top = defs.pop(_partial_def("Scenario", defs, defs))
    return {
        **top,
        "title": "caseflow scenario",
        "description": "A scenario file. With `extends`, give only what differs from the file it "
        "extends; without, give every required key. A distribution is written whole.",
        "if": {"not": {"required": ["extends"]}},
        "then": {"$ref": "#/$defs/Scenario"},
        "$defs": dict(sorted(defs.items())),
    }
