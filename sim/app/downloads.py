"""What the page offers to download from a results folder: its report, its CSV files and an
Excel workbook of them (sheets summary, monthly, differences, scenario).

Everything is read from the folder the command line's writers made, so a download carries the
same numbers as the folder, for a run just made or one opened from earlier results.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..output.folders import read_manifest
from ..output.formatting import flatten, toml_value

SHEETS = ("summary", "monthly", "differences", "scenario")
"""The workbook's sheets, in order."""


@dataclass(frozen=True)
class FolderKind:
    """A results folder: one scenario's run, or a comparison of several (sub-folders)."""

    folder: Path
    scenarios: tuple[str, ...]  # sub-folder names of a comparison, in order; () for a run
    base: str | None

    @property
    def is_comparison(self) -> bool:
        return bool(self.scenarios)

    def scenario_folders(self) -> list[tuple[str, Path]]:
        if not self.scenarios:
            manifest = read_manifest(self.folder)
            return [(str(manifest.get("scenario_name", self.folder.name)), self.folder)]
        return [(name, self.folder / name) for name in self.scenarios]


def folder_kind(folder: Path) -> FolderKind:
    """What a results folder holds (raises :class:`InputError` if it is not one)."""
    manifest = read_manifest(folder)
    names = tuple(manifest.get("comparison_of", ()))
    return FolderKind(folder, names, manifest.get("base") if names else None)


def csv_files(folder: Path) -> list[Path]:
    """The CSV files a planner downloads: a run's, or a comparison's (its comparison.csv and
    each scenario's, as ``NAME/summary.csv``)."""
    return sorted(folder.glob("*.csv")) + sorted(folder.glob("*/*.csv"))


def _stacked(kind: FolderKind, file: str) -> pd.DataFrame:
    """One CSV file of every scenario, one under the other; a comparison's with a first column
    ``scenario``."""
    frames = []
    for name, sub in kind.scenario_folders():
        frame = pd.read_csv(sub / file)
        if kind.is_comparison:
            frame.insert(0, "scenario", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _scenario_sheet(kind: FolderKind) -> pd.DataFrame:
    """Every setting as run (dotted keys as in ``--set``), one column per scenario."""
    columns: dict[str, dict[str, Any]] = {}
    for name, sub in kind.scenario_folders():
        scenario = read_manifest(sub).get("scenario", {})
        columns[name] = {k: _cell(v) for k, v in flatten(scenario).items()}
    keys: list[str] = []
    for values in columns.values():
        keys += [k for k in values if k not in keys]
    table = {"setting": keys}
    for name, values in columns.items():
        table[name] = [values.get(k, "") for k in keys]
    return pd.DataFrame(table)


def _cell(value: Any) -> Any:
    """A setting as a spreadsheet cell: a number or a truth value as itself (not the text
    "11"), a word or a date as plain text (not '"baseline"'), a list or a table as TOML."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value
    return toml_value(value)


def _differences_sheet(kind: FolderKind) -> pd.DataFrame:
    path = kind.folder / "comparison.csv"
    if path.exists():
        return pd.read_csv(path)
    return pd.DataFrame(
        {"note": ["a single run: no alternative was compared with a base (comparison.csv)"]}
    )


def workbook_bytes(folder: Path) -> bytes:
    """An .xlsx workbook of a results folder (Excel and LibreOffice open it): the summary, the
    monthly rows, the paired differences and the scenario as run, each from the folder's files."""
    kind = folder_kind(folder)
    sheets = {
        "summary": _stacked(kind, "summary.csv"),
        "monthly": _stacked(kind, "monthly.csv"),
        "differences": _differences_sheet(kind),
        "scenario": _scenario_sheet(kind),
    }
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name in SHEETS:
            sheets[name].to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()
