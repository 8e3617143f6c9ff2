"""Reading TOML input files and turning validation failures into messages a planner can act on.

Every message names the file, the key path (``staff.ongoing_social_workers.posts``) and what is
allowed. Unknown keys get a "did you mean" suggestion. The command line prints these messages
and exits with status 2; nothing here prints.
"""

from __future__ import annotations

import codecs
import datetime
import difflib
import json
import re
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ..distributions import DISTRIBUTION_TAGS

Loc = tuple[str | int, ...]
M = typing.TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


class InputError(Exception):
    """One or more problems with input files; ``str()`` gives one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, file: str | Path, key: str, message: str) -> InputError:
        return cls([Problem(str(file), key, message)])


#: byte-order marks of encodings TOML does not allow, which some Windows editors save
_OTHER_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _toml_text(path: Path) -> str:
    """The file's text: UTF-8, with a leading byte-order mark (as some Windows editors save
    UTF-8) dropped, since TOML itself does not allow one."""
    data = path.read_bytes()
    for bom, encoding in _OTHER_BOMS:
        if data.startswith(bom):
            raise InputError.single(
                path, "", f"not valid TOML: the file is saved as {encoding}; save it as UTF-8"
            )
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError:
        raise InputError.single(path, "", "not valid TOML: the file is not UTF-8 text") from None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, reporting a missing file or a syntax error (incl. impossible dates)."""
    if not path.exists():
        raise InputError.single(path, "", "file not found")
    if path.is_dir():
        raise InputError.single(path, "", "is a folder, expected a TOML file")
    if not path.is_file():  # a pipe or a device: reading it would wait for ever
        raise InputError.single(path, "", "is not a regular file, expected a TOML file")
    text = _toml_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        detail = str(exc)
        # where the error stands: its line (1-based) and column, "at end of document" none
        found = re.search(r"at line (\d+), column (\d+)", detail)
        line_no, column = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
        lines = text.splitlines()
        line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
        # the value the error stands on: what follows the last "=" before its column
        value = line[line[:column].rfind("=") + 1 :].split("#", 1)[0]
        if "date" in detail.lower() or _date_on_line(line, column) or _SLASHED_DATE.search(value):
            detail += " (an impossible or badly written date; write dates as YYYY-MM-DD)"
        elif _DECIMAL_COMMA.search(value):
            detail += " (write decimals with a point: 0.33, not 0,33)"
        elif _SPACED_NUMBER.search(value):
            detail += " (write numbers without spaces: 660000 or 660_000)"
        key = _key_at(lines, line_no, column)
        raise InputError.single(path, key, f"not valid TOML: {detail}") from None
    if not data:  # one line, not a "required key is missing" for every key of its kind
        raise InputError.single(path, "", "the file is empty (no keys, at most comments)")
    return data


# how numbers and dates are written in Swedish documents, which TOML does not read
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*(?:$|[,}\]])")
_SPACED_NUMBER = re.compile(r"^\s*-?\d{1,3}(?: \d{3})+(?:[.,]\d+)?\s*(?:$|[,}\]])")
_SLASHED_DATE = re.compile(r"\b\d{4}/\d{1,2}/\d{1,2}\b")


_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"([A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=")


def _key_at(lines: Sequence[str], line: int, column: int) -> str:
    """The key path of the value a TOML error stands on (``changes[1].at``), read from the
    table headers above its line and the keys on it before its column; "" where the line
    assigns no key (the line and column in the message still say where)."""
    if not 0 < line <= len(lines):
        return ""
    prefix = ""  # the table in force
    arrays: dict[str, int] = {}  # how many of each [[array]] so far
    for above in lines[: line - 1]:
        header = _TABLE.match(above)
        if header is None:
            continue
        name = re.sub(r"\s*\.\s*", ".", header.group(2))
        if header.group(1) == "[[":
            arrays[name] = arrays.get(name, -1) + 1
            prefix = f"{name}[{arrays[name]}]"
        else:
            prefix = name
    here = lines[line - 1]
    keys = [m.group(1) for m in _KEY.finditer(here) if m.start() < max(column - 1, 0)]
    if not keys:
        return ""
    if here.lstrip().startswith("{"):  # an entry of an array written one entry a line
        array = _array_entry(lines, line)
        key = f"{array}.{keys[-1]}" if array else keys[-1]
    else:
        key = keys[0] if len(keys) == 1 else f"{keys[0]}.{keys[-1]}"
    key = re.sub(r"\s*\.\s*", ".", key)
    return f"{prefix}.{key}" if prefix else key


_ARRAY_OPENED = re.compile(r"^\s*([A-Za-z0-9_\-.]+)\s*=\s*\[\s*(#.*)?$")


def _array_entry(lines: Sequence[str], line: int) -> str:
    """``path[1]`` for the second ``{ ... }`` line below ``path = [`` (1-based ``line``), ""
    when no array is found opened above it."""
    entries = 0
    for above in reversed(lines[: line - 1]):
        opened = _ARRAY_OPENED.match(above)
        if opened:
            return f"{opened.group(1)}[{entries}]"
        if above.lstrip().startswith("{"):
            entries += 1
        elif above.strip() and not above.lstrip().startswith("#"):
            return ""
    return ""


def _date_on_line(line: str, column: int) -> bool:
    """Whether the TOML error stands on something written like a date (at its 1-based column
    of its line, within or just after a token such as ``2015-13-01``): a month 13 is not read
    as a date at all, and the parser's message does not say date."""
    tokens = re.finditer(r"\b\d{4}-\d{1,2}-\d{1,2}\b", line)
    return any(t.start() <= column - 1 <= t.end() for t in tokens)


#: what each kind of input file alone has, and the command that takes it
_SCENARIO_KEYS = frozenset(
    ("start_date", "horizon_years", "staff", "organisation", "ar_team", "unemployment",
     "initial_caseload", "costs", "behaviour", "changes")
)  # fmt: skip
"""Keys only a scenario has at its top level: one of them marks a file as a scenario, even one
that extends another and sets only, say, its unemployment path."""

_KINDS: dict[str, tuple[Callable[[dict[str, Any]], bool], str]] = {
    "scenario": (
        lambda raw: bool(_SCENARIO_KEYS & raw.keys()),
        "caseflow run or validate",
    ),
    "calibration spec": (
        lambda raw: isinstance(raw.get("calibrate"), list),
        "caseflow calibrate fit",
    ),
    "targets": (
        lambda raw: isinstance(raw.get("targets"), list),
        "caseflow calibrate check",
    ),
    "optimisation": (
        lambda raw: isinstance(raw.get("variables"), list),
        "caseflow optimise",
    ),
    "parameter set": (
        lambda raw: isinstance(raw.get("exits"), dict) and isinstance(raw.get("intake"), dict),
        "a scenario's parameters key",
    ),
}


def _with_article(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def refuse_other_kind(
    path: Path, raw: dict[str, Any], expected: str, named_by: tuple[str | Path, str] | None = None
) -> None:
    """One line for a file of another kind (a spec given to ``validate``, a scenario to
    ``calibrate check``), rather than a line for each of its keys the expected kind lacks.
    ``named_by`` is the file and key that named this one (a scenario's ``parameters``, a
    spec's ``targets``, an ``extends``): the line is theirs, since that is what to change."""
    for kind, (looks_like, used_by) in _KINDS.items():
        if kind != expected and looks_like(raw) and not _KINDS[expected][0](raw):
            found, wanted = _with_article(kind), _with_article(expected)
            if named_by is not None:
                raise InputError.single(
                    named_by[0], named_by[1], f"{path} looks like {found} file, not {wanted} file"
                )
            raise InputError.single(
                path, "", f"this looks like {found} file, not {wanted} file ({used_by} takes it)"
            )


def read_extending(
    path: Path, chain: tuple[Path, ...], what: str
) -> tuple[Path, dict[str, Any], Path | None]:
    """Read a file that may say ``extends = "other.toml"``: its resolved path, its keys without
    ``extends``, and the file it extends (resolved, checked to exist), or None. ``chain`` is the
    files read so far on the way here, so that a cycle is reported rather than followed;
    ``what`` names the kind of file expected (the message for a bad ``extends``). How the two
    files' keys merge is the caller's: scenarios merge deeply, calibration specs by entry."""
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise InputError.single(chain[-1], "extends", f"extends makes a cycle: {cycle}")
    raw = read_toml(path)
    refuse_other_kind(path, raw, what, (chain[-1], "extends") if chain else None)
    parent_ref = raw.pop("extends", None)
    if parent_ref is None:
        return path, raw, None
    if not isinstance(parent_ref, str) or not parent_ref:
        raise InputError.single(path, "extends", f"must be the path of another {what} file")
    parent = (path.parent / parent_ref).resolve()
    if not parent.exists():
        raise InputError.single(path, "extends", f"extended file not found: {parent}")
    if parent.is_dir():
        raise InputError.single(
            path, "extends", f"{parent} is a folder: name the {what} file it should extend"
        )
    return path, raw, parent


def key_string(parts: Sequence[str | int]) -> str:
    """``("changes", 0, "at")`` -> ``changes[0].at``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def suggest(word: str, choices: Sequence[str]) -> str:
    """A " did you mean ..." phrase, or the empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _strip_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip ``Annotated``/``Optional``; report whether a tagged union (distributions) is left."""
    annotation = _strip_optional(annotation)
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = _strip_optional(typing.get_args(annotation)[0])
    members = typing.get_args(annotation)
    tagged = typing.get_origin(annotation) in (typing.Union, types.UnionType) and all(
        isinstance(m, type) and issubclass(m, BaseModel) and "dist" in m.model_fields
        for m in members
    )
    return annotation, tagged


def _step(annotation: Any, part: str | int) -> tuple[Any, bool]:
    """Type reached by one step of a loc, and whether the step was a union tag (not a key)."""
    annotation, discriminated = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if discriminated and isinstance(part, str):
        for member in typing.get_args(annotation):
            if isinstance(member, type) and issubclass(member, BaseModel):
                tag = member.model_fields["dist"]
                if part in typing.get_args(tag.annotation):
                    return member, True
        return None, True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return (field.annotation if field else None), False
    if origin in (list, tuple) or origin is Sequence:
        args = typing.get_args(annotation)
        return (args[0] if args else None), False
    if origin in (dict, Mapping):
        args = typing.get_args(annotation)
        return (args[1] if len(args) == 2 else None), False
    return None, False


def allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """Keys allowed in the table at ``loc`` of ``model`` (empty if it is not a table of fields)."""
    annotation: Any = model
    for part in loc:
        annotation, _ = _step(annotation, part)
        if annotation is None:
            return []
    annotation, _ = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _display_loc(model: type[BaseModel], loc: Loc) -> tuple[list[str | int], list[str | int]]:
    """The loc as the user wrote it (union tags removed), and the same for the parent table."""
    shown: list[str | int] = []
    annotation: Any = model
    for part in loc:
        if annotation is not None:
            annotation, was_tag = _step(annotation, part)
            if was_tag:
                continue
        shown.append(part)
    return shown, shown[:-1]


def as_toml_text(value: Any) -> str:
    """A value as a message shows it: as TOML writes it, cut to 60 characters."""
    return _short(value)


def _short(value: Any) -> str:
    """The value as the message shows it: as TOML writes it (``true``, ``2016-01-01``,
    ``{places = 3}``), not as Python's repr, cut to 60 characters."""
    text = _as_toml(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_toml(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, datetime.date | datetime.time):
        if isinstance(value, datetime.datetime):
            return value.isoformat(sep=" ")
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_as_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_as_toml(v) for v in value) + "]"
    return repr(value)


#: what a text field's pattern allows, in words (pydantic quotes the regular expression)
_PATTERN_WORDS = {
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$": "only letters a-z and A-Z, digits and - _ . (no spaces, "
    "no å ä ö), starting with a letter or digit: it names a folder",
    r"^[A-Za-z0-9_.-]+$": "only letters a-z and A-Z, digits and - _ . (no spaces, no å ä ö): "
    "it names a folder",
    r"^[a-z][a-z0-9_]*$": "only lower-case letters a-z, digits and _, starting with a letter",
    r"^[a-z_][a-z0-9_.]*$": "a dotted path of lower-case names (contacts.per_year)",
    r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)+$": "a dotted scenario key of lower-case names "
    "(staff.ongoing_social_workers.posts)",
}

#: what a number field allows, by pydantic's error type
_NUMBER_KINDS = {"int_type": "a whole number", "float_type": "a number"}


def problems_from_validation(
    exc: ValidationError,
    model: type[BaseModel],
    origin: Callable[[Sequence[str | int]], str],
    prefix: Loc = (),
) -> list[Problem]:
    """Translate a pydantic error into problems naming file, key path and what is allowed."""
    problems: list[Problem] = []
    for err in exc.errors():
        loc: Loc = tuple(err["loc"])
        as_key = bool(loc) and loc[-1] == "[key]"  # a table's key, checked as a value
        if as_key:
            loc = loc[:-1]
        shown, _ = _display_loc(model, loc)
        key_parts = [*prefix, *shown]
        kind = err["type"]
        if as_key and kind in ("enum", "literal_error"):
            bad = str(err.get("input"))
            allowed = [
                a.strip(" '")
                for a in re.split(r",| or ", str(err.get("ctx", {}).get("expected", "")))
            ]
            allowed = [a for a in allowed if a]
            msg = f"unknown key '{bad}'{suggest(bad, allowed)} (allowed here: {', '.join(allowed)})"
        elif kind == "extra_forbidden":
            bad = str(loc[-1])
            allowed = allowed_keys(model, loc[:-1])
            msg = f"unknown key '{bad}'{suggest(bad, allowed)}"
            if allowed:
                msg += f" (allowed here: {', '.join(allowed)})"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "union_tag_invalid":
            ctx = err.get("ctx", {})
            tag = str(ctx.get("tag", ""))
            expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            hint = suggest(tag, expected)
            msg = f"unknown distribution '{tag}'{hint} (allowed: {', '.join(expected)})"
        elif kind in _NUMBER_KINDS and isinstance(err.get("input"), bool):
            msg = f"must be {_NUMBER_KINDS[kind]}, not true or false (got {_short(err['input'])})"
        elif kind == "string_pattern_mismatch" and str(err.get("ctx", {}).get("pattern")) in (
            _PATTERN_WORDS
        ):
            words = _PATTERN_WORDS[str(err["ctx"]["pattern"])]
            msg = f"may use {words} (got {_short(err.get('input'))})"
        elif kind == "union_tag_not_found":
            msg = "a distribution needs a 'dist' key (" + ", ".join(DISTRIBUTION_TAGS) + ")"
        elif kind in ("model_type", "dict_type") and not isinstance(err.get("input"), Mapping):
            # a table where a value was given: say so, with the table's keys (pydantic names
            # the internal class)
            name = key_string(key_parts)
            keys = allowed_keys(model, loc)
            msg = f"must be a table ([{name}] with its keys"
            msg += f": {', '.join(keys)})" if keys else ")"
            msg += f", not a single value (got {_short(err.get('input'))})"
        else:
            text = err["msg"].removeprefix("Value error, ")
            given = err.get("input")
            # a check across a whole table says what is wrong in its own words; a table where
            # a value belongs is shown as the table it is
            if isinstance(given, Mapping) and kind == "value_error":
                msg = text
            elif isinstance(given, Mapping) and kind == "list_type" and key_parts:
                name = key_string(key_parts)
                msg = (
                    f"{text}: write each entry under [[{name}]] (a list of tables), not "
                    f"[{name}] (got {_short(given)})"
                )
            else:
                msg = f"{text} (got {_short(given)})"
                if isinstance(given, str) and _DECIMAL_COMMA.search(given):
                    msg += " (write decimals with a point: 0.5, not 0,5)"
                elif isinstance(given, str) and _SPACED_NUMBER.search(given):
                    msg += " (write numbers without spaces: 1000 or 1_000)"
        problems.append(Problem(origin(key_parts), key_string(key_parts), msg))
    return problems


def validate_model(
    model: type[M],
    data: Mapping[str, Any],
    origin: Callable[[Sequence[str | int]], str],
) -> M:
    """Validate ``data`` as ``model``; raise :class:`InputError` with readable problems."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from_validation(exc, model, origin)) from None
