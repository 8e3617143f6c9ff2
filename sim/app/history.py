"""Earlier results folders under the results root: listed newest first, opened, compared.

Only complete folders count (a ``manifest.json``, written last); the hidden ``.incomplete-*``
folders of runs under way are not listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiments.paired import paired_differences
from ..inputs.validation import InputError
from ..output.folders import MANIFEST, read_manifest
from ..output.formatting import differences_cut_to_bounds


@dataclass(frozen=True)
class Earlier:
    """One earlier results folder, as the list shows it."""

    folder: Path
    started: str
    what: str  # "run of NAME" or "comparison of A, B"
    seed: int | None
    replications: int | None
    is_comparison: bool
    period: str = ""  # start date, years and warm-up (:func:`run_period`)

    @property
    def pairing(self) -> tuple[Any, ...]:
        """What two runs must share to be paired: seed, replications and period."""
        return (self.seed, self.replications, self.period)


def run_period(manifest: dict[str, Any]) -> str:
    """A run's simulated period as its manifest records it: start date, years, warm-up. Two
    runs over different periods report different months and years: not to be paired."""
    scenario = manifest.get("scenario") or {}
    return (
        f"from {scenario.get('start_date', '?')} over {scenario.get('horizon_years', '?')} "
        f"years after {scenario.get('warmup_days', 0)} days of warm-up"
    )


OTHER_KINDS = {
    "optimisation_of": "optimisation of",
    "calibration_of": "calibration fit of",
    "screening_of": "screening of",
    "validation_of": "holdout checks of",
}
"""Manifest keys of the folders that are not runs, and how the list names them."""


def earlier_results(root: Path) -> list[Earlier]:
    """The results folders under ``root`` (not inside each other), newest first."""
    if not root.is_dir():
        return []
    found = []
    for manifest_file in root.glob(f"*/{MANIFEST}"):
        folder = manifest_file.parent
        if folder.name.startswith("."):
            continue
        try:
            manifest = read_manifest(folder)
        except (InputError, ValueError, OSError):
            continue
        names = manifest.get("comparison_of")
        other = next((k for k in OTHER_KINDS if k in manifest), None)
        if names:
            what = "comparison of " + ", ".join(str(n) for n in names)
        elif "sweep_of" in manifest:
            what = f"sweep of {manifest['sweep_of']}"
        elif other is not None:  # not a run: never offered as one to pair
            of = manifest[other]
            named = Path(of).name if isinstance(of, str) else f"{len(of)} scenarios"
            what = f"{OTHER_KINDS[other]} {named}"
        else:
            what = f"run of {manifest.get('scenario_name', '?')}"
        found.append(
            Earlier(
                folder,
                str(manifest.get("started", "")),
                what,
                manifest.get("seed"),
                manifest.get("replications"),
                bool(names),
                run_period(manifest),
            )
        )
    return sorted(found, key=lambda e: e.started, reverse=True)


def folder_warnings(folder: Path) -> list[str]:
    """What the report of a run's or a comparison's folder warns of, worked out again from its
    files (its manifests and ``monthly.csv``) as the report was: shown with the figures when
    the folder is opened. None for other folders, or one whose files are not all there."""
    from ..output.caveats import run_warnings
    from ..output.comparison_report import comparison_warnings

    try:
        manifest = read_manifest(folder)
        names = manifest.get("comparison_of")
        if names:
            scenarios = [read_manifest(folder / str(n)) for n in names]
            monthly = [(str(n), pd.read_csv(folder / str(n) / "monthly.csv")) for n in names]
            return comparison_warnings(manifest, monthly, scenarios)
        if (folder / "monthly.csv").exists() and "scenario" in manifest:
            monthly_rows = pd.read_csv(folder / "monthly.csv")
            return run_warnings(manifest["scenario"], manifest, monthly_rows)
    except (InputError, ValueError, OSError):
        return []
    return []


def paired_runs(first: Path, second: Path) -> pd.DataFrame:
    """Paired differences of two earlier runs (``second`` minus ``first``), as comparison.csv
    has them; refused unless both ran with the same seed and replications (only then are
    replication ``r`` of each paired by common random numbers) over the same period."""
    a, b = read_manifest(first), read_manifest(second)
    for manifest, folder in ((a, first), (b, second)):
        if "scenario_name" not in manifest:
            raise InputError.single(folder, "", "not a single run's folder (a comparison or sweep)")
    if (a.get("seed"), a.get("replications")) != (b.get("seed"), b.get("replications")):
        raise InputError.single(
            second,
            "seed",
            f"paired differences need the same seed and replications: {first.name} ran seed "
            f"{a.get('seed')} x {a.get('replications')}, {second.name} seed {b.get('seed')} x "
            f"{b.get('replications')}",
        )
    if run_period(a) != run_period(b):
        raise InputError.single(
            second,
            "start_date",
            f"paired differences need the same period: {first.name} ran {run_period(a)}, "
            f"{second.name} {run_period(b)}",
        )
    base = pd.read_csv(first / "per_replication.csv")
    other = pd.read_csv(second / "per_replication.csv")
    differences = paired_differences(base, other, str(b.get("scenario_name", second.name)))
    return differences_cut_to_bounds(differences)  # as comparison.csv has them
