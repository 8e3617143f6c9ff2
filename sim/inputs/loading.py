"""Loading scenario files into :class:`~sim.inputs.scenario.ResolvedScenario` objects.

Beyond the plain keys of :class:`~sim.inputs.scenario.Scenario` a scenario file may use:

* ``extends = "other.toml"``: start from another scenario and change only what differs
  (tables merge key by key; arrays, values and distributions replace whole).
* ``[[changes]]`` with ``at = 2016-01-01``: settings of ``staff``, ``ar_team``, ``organisation``
  or ``costs`` that change from that date.
* ``[sweep]``: lists of values for one or more dotted keys; the run covers their product.

Loading resolves all of that, and the command line's ``--set``, ``--years``, ``--seed`` and
``--replications``, into one :class:`ResolvedScenario` per sweep point, or raises
:class:`~sim.inputs.validation.InputError` naming file, key and what is allowed. To name the
file, loading remembers which file (or option) set each key: :class:`_Origins`.

Every way of setting a key means the same (:func:`deep_merge`): in a file that extends another,
in a ``[[changes]]`` entry, as a ``[sweep]`` value or with ``--set``, a table merges into the
table it meets key by key, and anything else replaces what was there. A distribution (a table
with a ``dist`` key) is one value however it is written, so it replaces the inherited one whole:
``{ dist = "fixed", value = 240 }`` keeps none of a parent's gamma ``mean`` and ``sd``, and
``{ dist = "lognormal", mean = 300 }`` lacks its ``sd`` rather than borrowing the parent's. Keys
of a distribution without ``dist`` (``parental_leave_days.mean = 250``, or a sweep of
``...parental_leave_days.mean``) change that one parameter of the inherited distribution.
"""

from __future__ import annotations

import copy
import itertools
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from ..distributions import is_distribution_table
from .parameters import ModelParameters
from .scenario import CHANGEABLE, Change, ResolvedScenario, Scenario, Settings
from .validation import (
    InputError,
    Problem,
    as_toml_text,
    problems_from_validation,
    read_extending,
    read_toml,
    refuse_other_kind,
    validate_model,
)

#: a key path, its value, and the option that set it (``--set KEY=VALUE``, ``--years``, ...)
Assignment = tuple[list[str], Any, str]


def _replaces_whole(value: Any) -> bool:
    """Whether ``value`` replaces what it is set over rather than merging into it: anything but
    a table, and a distribution (a table with a ``dist`` key), which is one value."""
    return not isinstance(value, Mapping) or is_distribution_table(value)


class _Origins:
    """Which file set each key, so that an error names the file the user must edit.

    Keys are recorded as they are merged (:meth:`record` follows :func:`deep_merge`): a value that
    replaces what was there belongs to its source, with nothing inherited left below it, and a
    table merged into an existing one keeps that table's origin while its keys become the new
    source's. A key no source recorded (a missing key) is named after the nearest table above it.
    """

    def __init__(self, default: str) -> None:
        self.default = default
        self._by_key: dict[tuple[str | int, ...], str] = {}
        self._set_at: dict[tuple[str | int, ...], int] = {}
        self._records = 0
        self._tables: set[tuple[str | int, ...]] = set()

    def sources(self) -> set[str]:
        return set(self._by_key.values())

    def copy(self) -> _Origins:
        out = _Origins(self.default)
        out._by_key = dict(self._by_key)
        out._set_at = dict(self._set_at)
        out._records = self._records
        out._tables = set(self._tables)
        return out

    def record(self, data: Mapping[str, Any], source: str, prefix: tuple[str, ...] = ()) -> None:
        """Attribute the keys of ``data``, merged over what is recorded, to ``source``."""
        for key, value in data.items():
            path = (*prefix, key)
            if _replaces_whole(value) or path not in self._tables:
                self._forget_below(path)
                self._by_key[path] = source
                self._records += 1
                self._set_at[path] = self._records  # which file set it last
            if isinstance(value, Mapping):
                self._tables.add(path)
                self.record(value, source, path)

    def _forget_below(self, path: tuple[str | int, ...]) -> None:
        """Drop what was recorded below ``path`` (its value is replaced whole)."""
        below = [k for k in self._by_key if len(k) > len(path) and k[: len(path)] == path]
        for key in below:
            del self._by_key[key]
        self._tables = {
            k for k in self._tables if not (len(k) > len(path) and k[: len(path)] == path)
        }
        self._tables.discard(path)

    def order(self, loc: Sequence[str | int]) -> int:
        """When the key at ``loc`` was last set, in the order files were merged (0: never)."""
        return self._set_at.get(tuple(loc), 0)

    def set_at_or_below(self, loc: Sequence[str]) -> list[tuple[tuple[str | int, ...], str]]:
        """The values (not tables) set at ``loc`` or inside it, each with the source that set
        it."""
        n = len(loc)
        return [
            (k, src)
            for k, src in self._by_key.items()
            if k[:n] == tuple(loc) and k not in self._tables
        ]

    def set_by(self, sources: Iterable[str]) -> tuple[str, ...]:
        """Dotted keys (leaves) whose value comes from one of ``sources``."""
        wanted = set(sources)
        return tuple(
            ".".join(str(p) for p in key)
            for key, src in self._by_key.items()
            if src in wanted and not any(k[: len(key)] == key and k != key for k in self._by_key)
        )

    def __call__(self, loc: Sequence[str | int]) -> str:
        table = tuple(loc)
        if table in self._tables:
            # a check of a whole table (dates in order, shares adding up) concerns every file
            # that set keys in it: the last one first, as the likeliest to have broken it
            below = sorted(
                (self._set_at.get(k, 0), src)
                for k, src in self._by_key.items()
                if len(k) > len(table) and k[: len(table)] == table
            )
            named = list(dict.fromkeys(src for _, src in reversed(below)))
            if named:
                files = [n for n in named[1:] if not n.startswith("--")]
                if not named[0].startswith("--") and files:  # an option stands alone (--set)
                    return f"{named[0]} (with keys from {', '.join(files)})"
                return named[0]
        for n in range(len(loc), 0, -1):
            hit = self._by_key.get(tuple(loc[:n]))
            if hit is not None:
                return hit
        return self.default


# --- files and extends --------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in ``top`` replaces what ``base`` had, and so does
    a distribution (a table with a ``dist`` key): it is one value, never a mix of two."""
    merged = copy.deepcopy(dict(base))
    for key, value in top.items():
        if not _replaces_whole(value) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_with_extends(
    path: Path, origins: _Origins, chain: tuple[Path, ...] = (), notes: list[str] | None = None
) -> dict[str, Any]:
    path, raw, parent = read_extending(path, chain, "scenario")
    base = {} if parent is None else _read_with_extends(parent, origins, (*chain, path), notes)
    inherited, own = base.get("changes"), raw.get("changes")
    if notes is not None and parent is not None and inherited and own:  # [] clears: meant
        n = len(inherited)
        notes.append(
            f"{path}: its [[changes]] replace the {n} change{'s' * (n != 1)} of the file it "
            f"extends ({parent.name}): a list replaces the inherited one; repeat those to keep"
        )
    origins.record(raw, str(path))
    return deep_merge(base, raw)


def _named_after_file(raw: dict[str, Any], origins: _Origins, source: Path) -> dict[str, Any]:
    """A file that extends another without a name of its own is named after itself (its
    results folder and report would otherwise carry its base's name, "baseline")."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", _ascii(source.stem)).strip("_.-")[:80]
    return _assign(raw, origins, ["name"], name, str(source.resolve())) if name else raw


def _ascii(text: str) -> str:
    """``text`` without its accents (``färre_handläggare`` -> ``farre_handlaggare``): names
    allow a-z only, and a file named in Swedish should keep its words readable."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _extended_file(source: Path) -> str | None:
    """The file ``source`` itself extends (its direct base), if any."""
    parent_ref = read_toml(source).get("extends")
    return str((source.parent / parent_ref).resolve()) if parent_ref else None


# --- --set and the command line's overrides -----------------------------------------------


def parse_assignment(text: str) -> tuple[list[str], Any]:
    """``"staff.intake_social_workers.posts=6"`` -> (["staff", ...], 6).

    The value is read as a TOML value (numbers, booleans, dates, arrays, inline tables); anything
    that is not valid TOML is taken as a plain string, so ``organisation.form=merged`` works.
    """
    if "=" not in text:
        raise InputError.single("--set", text, "expected KEY.PATH=VALUE")
    key, _, value_text = text.partition("=")
    parts = [p.strip() for p in key.strip().split(".")]
    if not all(parts):
        raise InputError.single("--set", text, "the key path has an empty part")
    try:
        value = tomllib.loads(f"v = {value_text.strip()}")["v"]
    except tomllib.TOMLDecodeError as exc:
        if value_text.strip()[:1] in ("[", "{", '"', "'"):  # meant as TOML, not a plain word
            reason = str(exc).split(" (at ")[0]
            raise InputError.single(
                "--set",
                text,
                f"the value is not valid TOML ({reason}): write an array as [1, 2], a table "
                'as {name = "A", contact_share = 1}, a string as "text" or a plain word',
            ) from None
        value = value_text.strip()
    return parts, value


def _nest(parts: Sequence[str], value: Any) -> dict[str, Any]:
    """``(["ar_team", "places"], 24)`` -> ``{"ar_team": {"places": 24}}``."""
    out: Any = value
    for part in reversed(parts):
        out = {part: out}
    return dict(out)


def _assign(
    data: dict[str, Any], origins: _Origins, parts: Sequence[str], value: Any, source: str
) -> dict[str, Any]:
    """``data`` with the dotted key ``parts`` set to ``value`` as a file would set it (merged by
    :func:`deep_merge`), attributed to ``source``."""
    nested = _nest(parts, value)
    origins.record(nested, source)
    return deep_merge(data, nested)


def _command_line_assignments(
    overrides: Iterable[str],
    years: float | None,
    seed: int | None,
    replications: int | None,
) -> list[Assignment]:
    """``--set`` strings, then ``--years``, ``--seed`` and ``--replications`` if given. A key
    set twice (``--years 1 --set horizon_years=2``, or two ``--set`` of one key) is refused:
    one of the two would be dropped without a word."""
    extra: list[Assignment] = [(*parse_assignment(text), f"--set {text}") for text in overrides]
    for key, value in (("horizon_years", years), ("seed", seed), ("replications", replications)):
        if value is not None:
            extra.append(([key], value, f"--{key.split('_')[-1]}"))
    by_key: dict[str, str] = {}
    for parts, value, label in extra:
        key = ".".join(parts)
        if key in by_key:
            raise InputError.single(
                "command line",
                key,
                f"set twice, by {by_key[key]} and by {label}: give it once",
            )
        by_key[key] = label
        for other_parts, _, other_label in extra:  # a table and a key inside it
            inner = other_parts[len(parts) :]
            if other_parts[: len(parts)] == parts and inner and _walk(value, inner) is not _ABSENT:
                raise InputError.single(
                    "command line",
                    ".".join(other_parts),
                    f"set twice, by {label} and by {other_label}: which would hold depends on "
                    "their order; give it once",
                )
    return extra


def _apply_assignments(
    raw: dict[str, Any], origins: _Origins, assignments: Iterable[Assignment]
) -> dict[str, Any]:
    """``raw`` with each assigned key set, attributed to the option that set it."""
    for parts, value, label in assignments:
        raw = _assign(raw, origins, parts, value, label)
    return raw


# --- sweeps -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SweepEntry:
    """One key of ``[sweep]``: the dotted key it sets, its values and the file that wrote it."""

    key: str
    values: Any
    file: str
    order: int = 0  # when it was merged (:meth:`_Origins.order`)

    @property
    def source(self) -> str:
        """How errors and ``own_keys`` name the values this entry sets."""
        return f"{self.file} [sweep]"


def _sweep_entries(
    table: Mapping[str, Any], origins: _Origins, at: tuple[str, ...] = ("sweep",)
) -> list[_SweepEntry]:
    """The entries of ``[sweep]``, written as dotted keys or as nested tables."""
    entries: list[_SweepEntry] = []
    for key, value in table.items():
        path = (*at, key)
        if isinstance(value, Mapping):
            if not value:  # a table header with nothing under it sweeps nothing
                raise InputError.single(
                    origins(path),
                    ".".join(path),
                    "is an empty table: put KEY = [values] under it, or remove it",
                )
            entries.extend(_sweep_entries(value, origins, path))
        else:
            dotted = ".".join(part for raw_key in path[1:] for part in raw_key.split("."))
            entries.append(_SweepEntry(dotted, value, origins(path), origins.order(path)))
    return entries


def _sweep_entries_checked(raw_sweep: Any, origins: _Origins) -> list[_SweepEntry]:
    """The sweep's entries, each a non-empty list (none without a ``[sweep]``)."""
    if raw_sweep is None:
        return []
    if not isinstance(raw_sweep, Mapping) or not raw_sweep:
        raise InputError.single(
            origins(("sweep",)), "sweep", "must be a table of KEY.PATH = [values]"
        )
    # one key written in two forms (a dotted key, nested tables), or in a file and the one it
    # extends: the one merged last holds, in the place the key first had
    entries_by_key: dict[str, _SweepEntry] = {}
    for e in _sweep_entries(raw_sweep, origins):
        held = entries_by_key.get(e.key)
        if held is None or e.order >= held.order:
            entries_by_key[e.key] = e
    entries = list(entries_by_key.values())
    for entry in entries:
        if entry.key == "replications":
            raise InputError.single(
                entry.file,
                "sweep.replications",
                "every point of a sweep runs the same replications (they are paired across "
                "points): set replications in the file or with --replications",
            )
        if not isinstance(entry.values, list) or not entry.values:
            raise InputError.single(
                entry.file,
                f"sweep.{entry.key}",
                f"must be a non-empty list of values (got {entry.values!r})",
            )
        twice = [v for i, v in enumerate(entry.values) if v in entry.values[:i]]
        if twice:  # the points would be the same scenario, run again under another name
            raise InputError.single(
                entry.file,
                f"sweep.{entry.key}",
                f"lists {as_toml_text(twice[0])} more than once: each value makes its own point",
            )
    for outer in entries:  # a swept table and a swept key inside it: points that clash
        for entry in entries:
            inner = entry.key.split(".")[len(outer.key.split(".")) :]
            if entry.key.startswith(outer.key + ".") and any(
                _walk(v, inner) is not _ABSENT for v in outer.values
            ):
                later = max(outer, entry, key=lambda e: e.order)  # the file to change
                raise InputError.single(
                    later.file,
                    f"sweep.{later.key}",
                    f"sweep.{entry.key} is swept, and so is the table around it "
                    f"(sweep.{outer.key}, whose values set it too): the points would set it "
                    "twice; sweep it in one place",
                )
    return entries


def _refuse_overridden_sweep(
    assignments: Sequence[Assignment], entries: Sequence[_SweepEntry]
) -> None:
    """A command-line option (``--set``, ``--years``, ``--seed``) that the file's ``[sweep]``
    would undo at every point is refused: one setting a swept key, a table around one that
    sets it (or is not a table), or a key inside a swept value that the value sets or replaces
    whole (a number, a distribution). Keys the sweep's tables leave alone merge, as a file's
    would."""
    for parts, value, label in assignments:
        key = ".".join(parts)
        for entry in entries:
            swept = entry.key.split(".")
            if swept[: len(parts)] == parts:  # the option sets the swept key or a table around
                inside = _walk(value, swept[len(parts) :])
                clash = inside is _BLOCKED or (
                    inside is not _ABSENT and any(_conflict(inside, v) for v in entry.values)
                )
            elif parts[: len(swept)] == swept:  # the option sets a key inside a swept value
                clash = any(_walk(v, parts[len(swept) :]) is not _ABSENT for v in entry.values)
            else:
                clash = False
            if clash:
                raise InputError.single(
                    label,
                    key,
                    f"the scenario sweeps {entry.key} ({entry.source}), which sets it at every "
                    "point; change the sweep's values in the file, or remove the key from "
                    "[sweep] to set it here",
                )


def _refuse_value_under_inherited_sweep(origins: _Origins, entries: Sequence[_SweepEntry]) -> None:
    """A file that sets a key the ``[sweep]`` of a file it extends sweeps is refused: the sweep
    would set it again at every point, so the file's value would never run (a sweep written
    in the file itself, over a value inherited from its base, is what sweeps are for)."""
    for entry in entries:
        swept = entry.key.split(".")
        for loc, source in origins.set_at_or_below(swept):
            if source == entry.file or source.startswith("--"):
                continue  # its own file's, or the command line's (refused on their own)
            inside = [str(p) for p in loc[len(swept) :]]
            # a key inside swept tables that leave it alone merges, as the base's keys do
            sets_it = any(_walk(v, inside) is not _ABSENT for v in entry.values)
            if sets_it and origins.order(loc) > entry.order:
                key = ".".join(str(p) for p in loc)
                one = f"[{{ {'.'.join(inside)} = ... }}]" if inside else "[its value]"
                raise InputError.single(
                    source,
                    key,
                    f"a file it extends sweeps {entry.key} ({entry.source}), which sets it "
                    "at every point, so this value would never run: to run only it, sweep it "
                    f'here with one value ([sweep] "{entry.key}" = {one}); to keep the sweep, '
                    "remove the key from this file",
                )


_ABSENT = object()
_BLOCKED = object()


def _walk(value: Any, parts: Sequence[str]) -> Any:
    """What the value ``value`` sets at the dotted key ``parts`` inside it: the value there,
    :data:`_ABSENT` if a table on the way leaves it alone, :data:`_BLOCKED` if a value on the
    way replaces whole (a number, a distribution), which would wipe or refuse the key."""
    for part in parts:
        if _replaces_whole(value):
            return _BLOCKED
        if part not in value:
            return _ABSENT
        value = value[part]
    return value


def _conflict(option: Any, swept: Any) -> bool:
    """Whether a swept value set over the option's value at the same key undoes any of it:
    always, unless both are tables, whose keys then conflict one by one."""
    if _replaces_whole(option) or _replaces_whole(swept):
        return True
    return any(k in swept and _conflict(v, swept[k]) for k, v in option.items())


def _sweep_points(entries: Sequence[_SweepEntry]) -> list[dict[str, Any]]:
    """The product of the entries' values: one ``{dotted key: value}`` per point."""
    keys = [e.key for e in entries]
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(e.values for e in entries))
    ]


def _point_label(point: Mapping[str, Any]) -> str:
    bits = []
    for key, value in point.items():
        text = re.sub(r"[^A-Za-z0-9_.-]+", "_", _ascii(str(value)))
        bits.append(f"{key.split('.')[-1]}={text}")
    return ",".join(bits)


def _data_at_point(
    raw: dict[str, Any],
    origins: _Origins,
    point: Mapping[str, Any],
    entries: Sequence[_SweepEntry],
    source: Path,
) -> tuple[dict[str, Any], _Origins]:
    """The scenario's data with the sweep point's values set (as the file would set them),
    named after the point, and its origins (each value named after its sweep entry)."""
    data = copy.deepcopy(raw)
    point_origins = origins.copy()
    by_key = {e.key: e for e in entries}
    for key, value in point.items():
        data = _assign(data, point_origins, key.split("."), value, by_key[key].source)
    if point:
        data["name"] = f"{data.get('name', source.stem)}[{_point_label(point)}]"
        data["name"] = re.sub(r"[^A-Za-z0-9_.-]+", "_", data["name"]).strip("_")
    return data, point_origins


# --- the timeline of [[changes]] ----------------------------------------------------------


def _change_updates(
    scenario: Scenario, i: int, change: Change, origins: _Origins
) -> dict[str, Any]:
    """The sections change ``i`` sets, after checking its date and that it may set them."""
    where = ("changes", i)
    if not scenario.start_date <= change.at < scenario.end_date:
        last_day = scenario.end_date - timedelta(days=1)
        message = (
            f"{change.at} is outside the reported period {scenario.start_date} to {last_day} "
            "(its first and last day; the warm-up before it runs the settings of its start)"
        )
        horizon_from = origins(("horizon_years",))
        if horizon_from != origins(where):  # the period was set elsewhere: say where
            message += f"; horizon_years = {scenario.horizon_years:g} is set by {horizon_from}"
        raise InputError.single(origins(where), f"changes[{i}].at", message)
    fixed = sorted(set(change.organisation or {}) & {"districts", "contacts_scale"})
    if fixed:
        raise InputError.single(
            origins(where),
            f"changes[{i}].organisation.{fixed[0]}",
            "cannot change at a date: contacts are drawn for the whole run from the "
            "districts and contacts_scale at the start; compare separate scenarios instead",
        )
    updates = {k: getattr(change, k) for k in CHANGEABLE if getattr(change, k) is not None}
    if not updates:
        raise InputError.single(
            origins(where),
            f"changes[{i}]",
            f"changes nothing; give at least one of {', '.join(CHANGEABLE)}",
        )
    return updates


def _validate_changed(candidate: dict[str, Any], i: int, origins: _Origins) -> Scenario:
    """The scenario as it stands after change ``i``; problems are named after that change."""
    try:
        return Scenario.model_validate(candidate)
    except ValidationError as exc:
        problems = problems_from_validation(exc, Scenario, origins)
        raise InputError(
            [Problem(origins(("changes", i)), f"changes[{i}].{p.key}", p.message) for p in problems]
        ) from None


def _timeline(scenario: Scenario, raw: dict[str, Any], origins: _Origins) -> tuple[Settings, ...]:
    """Validate each timed change on top of everything before it."""
    first = Settings(
        scenario.start_date,
        scenario.organisation,
        scenario.staff,
        scenario.ar_team,
        scenario.costs,
        scenario.behaviour,
    )
    settings = [first]
    current = {k: raw.get(k, {}) for k in CHANGEABLE}
    order = sorted(range(len(scenario.changes)), key=lambda i: scenario.changes[i].at)
    set_on: dict[date, dict[str, int]] = {}  # date -> dotted key -> the change that set it
    for i in order:
        change = scenario.changes[i]
        updates = _change_updates(scenario, i, change, origins)
        on_day = set_on.setdefault(change.at, {})
        for key in _leaf_keys(updates):
            # two values for one key on one day (or a distribution set whole and one of its
            # parameters): which holds is not said
            for earlier, other in on_day.items():
                if other != i and (
                    key == earlier or key.startswith(f"{earlier}.") or earlier.startswith(f"{key}.")
                ):
                    raise InputError.single(
                        origins(("changes", i)),
                        f"changes[{i}].{key}",
                        f"changes[{other}] sets {earlier} too on {change.at}: give it once a date",
                    )
            on_day.setdefault(key, i)
        current = deep_merge(current, updates)
        changed = _validate_changed({**raw, **current, "changes": []}, i, origins)
        settings.append(
            Settings(
                change.at,
                changed.organisation,
                changed.staff,
                changed.ar_team,
                changed.costs,
                changed.behaviour,
            )
        )
    return tuple(settings)


def _leaf_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of a nested table's values (a distribution is one value)."""
    keys = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and not _replaces_whole(value):
            keys.extend(_leaf_keys(value, f"{dotted}."))
        else:
            keys.append(dotted)
    return keys


# --- parameter sets -----------------------------------------------------------------------


def load_parameters(path: Path, named_by: tuple[str | Path, str] | None = None) -> ModelParameters:
    """A parameter set file, validated (every problem names that file); ``named_by``, the file
    and key that named it, answers for a file of another kind."""
    raw = read_toml(path)
    refuse_other_kind(path, raw, "parameter set", named_by)
    return validate_model(ModelParameters, raw, lambda _loc: str(path))


def _parameters_path(scenario: Scenario, origins: _Origins, source: Path) -> Path:
    """The parameter set file, relative to the file that named it (which must exist)."""
    param_file = origins(("parameters",))
    base_dir = Path(param_file).parent if Path(param_file).exists() else source.parent
    param_path = (base_dir / scenario.parameters).resolve()
    if not param_path.exists():
        raise InputError.single(
            param_file, "parameters", f"parameter set file not found: {param_path}"
        )
    if param_path.is_dir():
        raise InputError.single(
            param_file, "parameters", f"{param_path} is a folder: name a parameter set file"
        )
    return param_path


# --- scenarios ----------------------------------------------------------------------------


OPTION_KEYS: Final = {"--years": "years", "--seed": "seed", "--replications": "replications"}
"""The command line's options that set a scenario's keys, and the name each goes by elsewhere
(a targets or optimisation file's key, the API's parameter)."""


def _blamed_on_file(exc: InputError, file: str) -> InputError:
    """``exc`` with the problems of options a file gave (``--years`` for its ``years``,
    ``--set KEY=VALUE`` for its ``KEY``) reported against that file and its keys."""
    problems = []
    for p in exc.problems:
        where, key = p.file, p.key
        if where in OPTION_KEYS:
            where, key = file, OPTION_KEYS[where]
        elif where.startswith("--set "):
            where, key = file, where.removeprefix("--set ").partition("=")[0]
        message = re.sub(
            r"set by (--years|--seed|--replications)",
            lambda m: f"set by {file} ({OPTION_KEYS[m.group(1)]})",
            p.message,
        )
        problems.append(Problem(where, key, message))
    return InputError(problems)


def _own_keys(
    source: Path,
    point_origins: _Origins,
    entries: Sequence[_SweepEntry],
    parent_file: str | None,
) -> tuple[str, ...]:
    """Dotted keys set by the file itself or its sweep, not inherited from the extended file
    (none recorded for a file that extends nothing); the command line's are
    :func:`_command_keys`."""
    if not parent_file:
        return ()
    own_sources = {str(source.resolve())} | {e.source for e in entries}
    return point_origins.set_by(src for src in own_sources if not src.startswith("--"))


def _command_keys(point_origins: _Origins) -> tuple[tuple[str, str], ...]:
    """Dotted keys set on the command line, each with the option that set it
    (``--set staff.ongoing_social_workers.posts=8``, ``--years``)."""
    options = sorted(src for src in point_origins.sources() if src.startswith("--"))
    return tuple((key, option) for option in options for key in point_origins.set_by([option]))


def _resolve_point(
    source: Path,
    raw: dict[str, Any],
    origins: _Origins,
    point: dict[str, Any],
    entries: Sequence[_SweepEntry],
    parent_file: str | None,
    over_point: Sequence[Assignment] = (),
    notes: tuple[str, ...] = (),
) -> ResolvedScenario:
    """Validate the scenario at one sweep point (with ``over_point`` set over the point's
    values), build its timeline, load its parameters."""
    data, point_origins = _data_at_point(raw, origins, point, entries, source)
    for parts, value, label in over_point:
        data = _assign(data, point_origins, parts, value, label)
    scenario = validate_model(Scenario, data, point_origins)
    timeline = _timeline(scenario, data, point_origins)
    param_path = _parameters_path(scenario, point_origins, source)
    return ResolvedScenario(
        scenario,
        load_parameters(param_path, (point_origins(("parameters",)), "parameters")),
        source,
        param_path,
        timeline,
        dict(point),
        extends=parent_file,
        own_keys=_own_keys(source, point_origins, entries, parent_file),
        command_keys=_command_keys(point_origins),
        notes=notes,
    )


def load_scenarios(
    path: str | Path,
    overrides: Iterable[str] = (),
    *,
    years: float | None = None,
    seed: int | None = None,
    replications: int | None = None,
    over_sweep: bool = False,
    options_from: str | Path | None = None,
) -> list[ResolvedScenario]:
    """Load a scenario file: one :class:`ResolvedScenario` per sweep point (one if no sweep).

    ``overrides`` are ``KEY.PATH=VALUE`` strings (the command line's ``--set``), validated like
    the file. ``years``, ``seed`` and ``replications`` override the file's values. One that
    the file's ``[sweep]`` would set again at every point is refused, unless ``over_sweep``:
    then only the sweep's first point is loaded, with the overrides set over its values (the
    workbench's draft, made from that point).

    ``options_from``: the file that gave ``years``, ``seed``, ``replications`` and the
    overrides (a targets or optimisation file, not the command line): a problem with one of
    them is reported against that file and its key, not an option nobody typed.
    """
    if options_from is not None:
        try:
            return load_scenarios(
                path, overrides, years=years, seed=seed, replications=replications,
                over_sweep=over_sweep,
            )  # fmt: skip
        except InputError as exc:
            raise _blamed_on_file(exc, str(options_from)) from None
    source = Path(path)
    origins = _Origins(str(source.resolve()))  # as the keys it records name it
    notes: list[str] = []
    raw = _read_with_extends(source, origins, notes=notes)
    parent_file = _extended_file(source)
    if parent_file and "name" not in read_toml(source):
        raw = _named_after_file(raw, origins, source)
    assignments = _command_line_assignments(overrides, years, seed, replications)
    raw = _apply_assignments(raw, origins, assignments)
    entries = _sweep_entries_checked(raw.pop("sweep", None), origins)
    _refuse_value_under_inherited_sweep(origins, entries)
    if not over_sweep:
        _refuse_overridden_sweep(assignments, entries)
    again = assignments if over_sweep and entries else []
    points = _sweep_points(entries)
    return [
        _resolve_point(source, raw, origins, point, entries, parent_file, again, tuple(notes))
        for point in (points[:1] if over_sweep else points)
    ]
