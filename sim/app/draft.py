"""A scenario as the planner edits it in the page: a base file and the settings changed.

Every field is a scenario key, and the planner's text for it is checked the way the command
line's ``--set KEY=VALUE`` is: the base file is loaded with the changed fields as overrides by
:func:`sim.inputs.loading.load_scenarios`, so the rules and messages are the files' own. Each
message is put next to the field whose key it names. Nothing here imports Streamlit.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..domain import STAFF_ROLES
from ..inputs.loading import load_scenarios, parse_assignment
from ..inputs.scenario import CHANGEABLE, ResolvedScenario
from ..inputs.validation import InputError, Problem
from ..output.folders import scenario_toml
from ..output.formatting import flatten, toml_value
from ..records import STAFF_ROLE_LABELS

PATH_KEY = "unemployment.path"
CHANGES_KEY = "changes"
GENERAL = ""
"""Where a message goes that names no field of the page (e.g. a key of the base file)."""

RUN_KEYS = ("replications", "horizon_years", "seed")
"""How a scenario is run, not what it is: the base is run with the draft's values of these."""


@dataclass(frozen=True)
class Field:
    """One setting the page lets the planner edit: its scenario key, label and group."""

    key: str
    label: str
    group: str
    text: bool = False  # a string setting: the planner's text is the value, quoted for TOML
    choices: tuple[str, ...] = ()  # a setting with fixed choices (a select box)
    help: str = ""  # what the setting means, in a planner's words (the field's "?")

    @property
    def help_text(self) -> str:
        """The field's "?": what it means, and the scenario file's key for it."""
        return f"{self.help}\n\nIn a scenario file: `{self.key}`"


def _staff_fields() -> list[Field]:
    out = []
    for role in STAFF_ROLES:
        label = STAFF_ROLE_LABELS[role]
        out.append(
            Field(
                f"staff.{role}.posts", f"{label}: posts", "Staff",
                help="Budgeted posts (tjänster). Fewer people work than posts: vacancies until "
                "a post is refilled, parental leave, and new hires at reduced capacity while "
                "they are introduced are all simulated.",
            )
        )  # fmt: skip
        out.append(
            Field(
                f"staff.{role}.annual_turnover", f"{label}: leavers per post and year", "Staff",
                help="The share of the people in post who leave in a year (0.33: one in "
                "three). Each leaver's post stays vacant until it is refilled; the new hire "
                "starts at reduced capacity.",
            )
        )  # fmt: skip
    return out


FIELDS: tuple[Field, ...] = (
    Field("name", "Scenario name", "Scenario", text=True,
          help="Names the results folder: letters a-z, digits and - _ . only (no spaces, no "
          "å ä ö)."),
    Field("description", "What the scenario asks", "Scenario", text=True,
          help="The question this scenario answers, in your words; shown at the top of the "
          "report."),
    Field("organisation.form", "Organisation form", "Organisation", choices=("split", "merged"),
          help="Split: an intake unit makes the first visit and the decision, then hands "
          "long-term cases over to an income-support unit (each hand-over loses continuity for "
          "a while). Merged: one unit keeps each case from the first visit to the exit; its "
          "first visits are still made by the intake social workers' posts."),
    Field("organisation.caseload_norm", "Caseload norm (weighted cases per social worker)",
          "Organisation",
          help="How many cases one social worker is planned to hold, counting a case worked "
          "actively (class A) as more than one (the scenario's class A weight, 1.5 in the "
          "baseline): hence 'weighted'. A planning figure, not a cap: with more cases than "
          "the norm, workers hold more and each case gets less contact."),
    Field("organisation.administrator_caseload_norm",
          "C cases per benefit administrator", "Organisation",
          help="How many C cases (payment only, little contact) one benefit administrator "
          "is planned to hold."),
    *_staff_fields(),
    Field("ar_team.places", "AR team places (year-places)", "AR team",
          help="How many people the rehabilitation (AR) team can have in its programme at "
          "once (årsplatser: one place used for a year). When consultants are missing, fewer "
          "places are staffed."),
    Field("replications", "Replications", "Run",
          help="How many times the scenario is simulated, each with its own chance events "
          "(who applies, who leaves, when). The intervals come from the spread between them: "
          "more replications give narrower intervals and take longer (20 is usual)."),
    Field("horizon_years", "Years simulated (after the warm-up)", "Run",
          help="Years reported. Before them the scenario's warm-up (a year in the baseline) "
          "is simulated but not reported, so the unit starts from a settled caseload."),
    Field("seed", "Seed", "Run",
          help="The starting point of the random numbers: the same seed gives the same "
          "numbers every time. Scenarios compared with the same seed share their chance "
          "events, so their differences are the settings', not chance's."),
)  # fmt: skip
"""The page's single-value fields, in the order it shows them."""

FIELD_KEYS: tuple[str, ...] = (*(f.key for f in FIELDS), PATH_KEY, CHANGES_KEY)


@dataclass(frozen=True)
class PathRow:
    """One point of the unemployment path as the table holds it (a cell may be empty)."""

    date: datetime.date | None
    percent: float | None


@dataclass(frozen=True)
class ChangeRow:
    """One setting of a timed change: from ``at`` on, ``setting`` (a dotted key) is ``value``
    (TOML text, as after ``--set KEY=``)."""

    at: datetime.date | None
    setting: str
    value: str


@dataclass(frozen=True)
class Draft:
    """The planner's values: the text of each field, the unemployment path, the timed changes."""

    values: Mapping[str, str]
    path: tuple[PathRow, ...]
    changes: tuple[ChangeRow, ...]


@dataclass(frozen=True)
class Base:
    """A base scenario file, loaded, and the draft that leaves it as it is."""

    file: Path
    resolved: ResolvedScenario
    draft: Draft
    change_settings: tuple[str, ...]  # the keys a timed change may set (for the table's choices)


@dataclass
class Checked:
    """A draft checked against its base: the scenario it makes, or the problems by field."""

    overrides: list[str]
    resolved: ResolvedScenario | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.resolved is not None and not self.problems


def _nested_get(data: Mapping[str, Any], key: str) -> Any:
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def field_text(value: Any, spec: Field) -> str:
    """A value as its field shows it: a string as it is, anything else as TOML writes it."""
    if spec.text or spec.choices:
        return "" if value is None else str(value)
    return toml_value(value)


def _change_settings(scenario: Mapping[str, Any]) -> tuple[str, ...]:
    """Keys a ``[[changes]]`` entry may set, from the scenario's own sections (not the districts
    and contacts_scale, fixed for a run; not the behaviour's multiplier tables)."""
    keys = []
    for section in CHANGEABLE:
        if section == "behaviour":
            continue
        for key in flatten(scenario.get(section, {}), f"{section}."):
            if key not in ("organisation.districts", "organisation.contacts_scale"):
                keys.append(key)
    return tuple(keys)


def _change_rows(resolved: ResolvedScenario) -> tuple[ChangeRow, ...]:
    rows = []
    for change in resolved.scenario.changes:
        sections = change.model_dump(mode="json", exclude_none=True)
        at = sections.pop("at")
        for key, value in flatten(sections).items():
            rows.append(ChangeRow(datetime.date.fromisoformat(at), key, toml_value(value)))
    return tuple(rows)


def load_base(file: str | Path) -> Base:
    """Load a base scenario file (raises :class:`InputError` as the command line would); a file
    with a ``[sweep]`` gives its first point, as ``caseflow compare`` takes it."""
    path = Path(file)
    resolved = load_scenarios(path)[0]
    data = resolved.as_dict()
    values = {f.key: field_text(_nested_get(data, f.key), f) for f in FIELDS}
    base_path = tuple(
        PathRow(p.date, float(p.percent)) for p in resolved.scenario.unemployment.path
    )
    draft = Draft(values, base_path, _change_rows(resolved))
    return Base(path, resolved, draft, _change_settings(data))


def edited_name(base: Base) -> str:
    """The name a new draft starts with: a compared scenario needs its own (its sub-folder)."""
    return f"{base.resolved.name}-edited"


def _as_toml(text: str) -> str:
    return toml_value(text)


def _path_value(rows: Sequence[PathRow]) -> list[dict[str, Any]]:
    """The path as the file writes it; an empty cell is left out (the loader then says the key
    is missing, next to the table)."""
    out = []
    for row in rows:
        point: dict[str, Any] = {}
        if row.date is not None:
            point["date"] = row.date
        if row.percent is not None and row.percent == row.percent:  # not NaN
            point["percent"] = row.percent
        out.append(point)
    return out


def _changes_value(rows: Sequence[ChangeRow]) -> tuple[list[dict[str, Any]], list[str]]:
    """The timed changes as the file writes them (one entry per date, in the table's order),
    and the problems of rows that name no setting."""
    entries: dict[datetime.date | None, dict[str, Any]] = {}
    problems = []
    for i, row in enumerate(rows, start=1):
        if not row.setting.strip():
            problems.append(f"row {i}: choose the setting that changes")
            continue
        try:
            value = parse_assignment(f"v={_as_number(row.value)}")[1]  # 0,4 as the fields
        except InputError as exc:  # a value begun as TOML (a list, a table) left unfinished
            problems += [f"row {i}: {p.message}" for p in exc.problems]
            continue
        entry = entries.setdefault(row.at, {} if row.at is None else {"at": row.at})
        target = entry
        parts = row.setting.strip().split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return list(entries.values()), problems


_SWEDISH_NUMBER = re.compile(r"-?\d{1,3}(?:[ \u00a0]\d{3})+(?:,\d+)?|-?\d+,\d+")


def _as_number(text: str) -> str:
    """A number field as a planner may type it in Swedish: ``1 000`` and ``0,5`` are 1000 and
    0.5 (as the optimisation page's budget field reads ``15 000 000``); anything else as typed,
    for the loader to judge, and so is ``1,000`` (a thousand in English, one in Swedish)."""
    stripped = text.strip()
    if re.fullmatch(r"-?\d{1,3},\d{3}", stripped):  # 1,000: a thousand, or one? left to ask
        return stripped
    if _SWEDISH_NUMBER.fullmatch(stripped):
        return stripped.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    return stripped


def overrides(base: Base, draft: Draft) -> tuple[list[str], dict[str, list[str]]]:
    """The draft as ``KEY=VALUE`` overrides of its base (only what differs), and the problems
    found before loading (a timed change naming no setting)."""
    out = []
    for spec in FIELDS:
        text = draft.values.get(spec.key, "")
        if text == base.draft.values[spec.key]:
            continue
        value = _as_toml(text) if spec.text else _as_number(text) if not spec.choices else text
        out.append(f"{spec.key}={value.strip()}")
    if tuple(draft.path) != base.draft.path:
        out.append(f"{PATH_KEY}={toml_value(_path_value(draft.path))}")
    early: dict[str, list[str]] = {}
    if tuple(draft.changes) != base.draft.changes:
        changes, problems = _changes_value(draft.changes)
        if problems:
            early[CHANGES_KEY] = problems
        out.append(f"{CHANGES_KEY}={toml_value(changes)}")
    return out, early


def field_of(key: str) -> str:
    """The page's field a problem's key belongs to (:data:`GENERAL` if none): the field of that
    key or a key above it (``unemployment.path[1].date``), or the one field under a table whose
    rule failed (``unemployment``: the path's dates out of order)."""
    best = ""
    for candidate in FIELD_KEYS:
        if (key == candidate or key.startswith((f"{candidate}.", f"{candidate}["))) and len(
            candidate
        ) > len(best):
            best = candidate
    if best:
        return best
    below = [c for c in FIELD_KEYS if key and c.startswith(f"{key}.")]
    return below[0] if len(below) == 1 else GENERAL


_CHANGE = re.compile(r"\bchanges\[(\d+)\]\.?([a-z_][a-z0-9_.]*)?")


def _as_change_rows(text: str, rows: Sequence[ChangeRow]) -> str:
    """``changes[2].ar_team.places: ...`` named by the page's row: the file's entry ``i`` is
    the ``i``-th date of the table, all its rows together; the row setting the key named, or
    else every row of that date."""
    dates = list(dict.fromkeys(r.at for r in rows if r.setting.strip()))

    def name(found: re.Match[str]) -> str:
        index, key = int(found.group(1)), found.group(2) or ""
        if index >= len(dates):
            return found.group(0)
        at = dates[index]
        mine = [i for i, r in enumerate(rows, start=1) if r.at == at and r.setting.strip()]
        exact = [i for i in mine if rows[i - 1].setting.strip() == key]
        if exact:
            return f"row {exact[0]}, {key}"
        where = f"row {mine[0]}" if len(mine) == 1 else "rows " + ", ".join(map(str, mine))
        return f"{where} ({at}){', ' + key if key else ''}"

    return _CHANGE.sub(name, text)


_ROW = re.compile(r"\b(?:unemployment\.)?path\[(\d+)\]\.?")


def _as_rows(text: str) -> str:
    """``unemployment.path[1].date: ...`` as the page's table shows it: ``row 2, date: ...``
    (the file's keys count from 0, the page's rows from 1)."""
    return _ROW.sub(
        lambda m: f"row {int(m.group(1)) + 1}" + (", " if m.group(0).endswith(".") else ""), text
    )


def _file_message(problem: Problem) -> str:
    """A problem not next to a field names its file or option, as the command line does."""
    return str(problem)


def check(base: Base, draft: Draft) -> Checked:
    """Load the base with the draft's changes as the command line's ``--set`` would: the
    scenario, or every problem by the field it belongs to."""
    sets, early = overrides(base, draft)
    checked = Checked(sets, problems=dict(early))
    try:
        loaded = load_scenarios(base.file, sets, over_sweep=True)
    except InputError as exc:
        for problem in exc.problems:
            key = problem.key
            if problem.file == "--set":  # the field's text could not be read as a value
                key = key.partition("=")[0]
            where = field_of(key)
            text = problem.message if where else _file_message(problem)
            if where and key != where:
                text = f"{key}: {problem.message}"
            if where == PATH_KEY:  # the page's table counts rows from 1
                text = _as_rows(text)
            elif where == CHANGES_KEY:  # an entry is a date's rows: named by its rows
                text = _as_change_rows(text, draft.changes)
            checked.problems.setdefault(where, []).append(text)
        return checked
    except OSError as exc:  # the base file went away or cannot be read
        checked.problems.setdefault(GENERAL, []).append(f"{base.file}: {exc.strerror or exc}")
        return checked
    checked.resolved = loaded[0]
    return checked


def differences(base: ResolvedScenario, draft: ResolvedScenario) -> list[tuple[str, str, str]]:
    """The settings the draft changes: (key, the base's value, the draft's), in file order."""
    old, new = flatten(base.as_dict()), flatten(draft.as_dict())
    keys = list(old) + [k for k in new if k not in old]
    return [
        (key, toml_value(old.get(key)), toml_value(new.get(key)))
        for key in keys
        if old.get(key) != new.get(key)
    ]


def changes_the_scenario(base: ResolvedScenario, draft: ResolvedScenario) -> bool:
    """Whether the draft is another scenario than its base, not only another run of it (its
    replications, years, seed, name or description), so that a comparison means something."""
    same_run = {"name", "description", *RUN_KEYS}
    return (
        any(key.split(".")[0] not in same_run for key, _, _ in differences(base, draft))
        or base.parameters != draft.parameters
    )


def base_as_run(base: Base, draft: ResolvedScenario) -> ResolvedScenario:
    """The base with the draft's replications, years and seed: what the draft is compared with
    (paired replication by replication, over the same period)."""
    scenario = draft.scenario
    return load_scenarios(
        base.file,
        years=scenario.horizon_years,
        seed=scenario.seed,
        replications=scenario.replications,
        over_sweep=True,  # a sweep's first point, as the draft was made from
    )[0]


def draft_toml(resolved: ResolvedScenario, base_file: Path) -> str:
    """The draft as a scenario file that ``caseflow run`` runs to the same numbers: every
    setting as run, and the parameter set by its absolute path (the file may be saved
    anywhere)."""
    header = (
        f"# Built in the caseflow app from {base_file}.\n"
        "# Every setting as run; the parameter set by its absolute path.\n"
        f"# Run: caseflow run {resolved.name}.toml\n"
    )
    return scenario_toml(resolved, resolved.parameters_path.resolve().as_posix(), header)
