"""Results folders: one per run, written atomically, with a manifest as the audit trail.

Every results folder and every manifest is written here; the commands compute and call these
functions. Everything is written into a hidden ``.incomplete-*`` folder beside the target and
renamed into place only after the last file (``manifest.json``) is written. A run that fails or
is interrupted leaves no folder that looks complete; its partial folder is removed when Python
can still act.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import secrets
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from .. import __version__, compiled
from ..inputs.validation import InputError

if TYPE_CHECKING:
    import pandas as pd

    from ..experiments.runner import ComparisonResults, ScenarioResults
    from ..inputs.scenario import ResolvedScenario
    from .drawing import DrawingHost

MANIFEST = "manifest.json"
"""Written last: a folder with it is complete; ``check_target`` replaces only such folders."""


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    """When a command started: UTC time for the manifest, a monotonic reading for its duration."""

    started: datetime
    monotonic: float

    @classmethod
    def start(cls) -> Clock:
        return cls(now_utc(), time.monotonic())

    def seconds(self) -> float:
        return time.monotonic() - self.monotonic


def git_commit() -> dict[str, Any]:
    """The commit of the source tree the package runs from, and whether it had local changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "dirty": None}


def provenance() -> dict[str, Any]:
    """What made the numbers: package version, model build, commit, Python and platform."""
    return {
        "package": {"name": "caseflow", "version": __version__},
        # "compiled" or "python (why)": the same numbers either way, only the speed differs
        "model_build": compiled.implementation(),
        "git": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        # the command's relative paths (the scenario file, --out) are from here
        "working_directory": _working_directory(),
    }


def _working_directory() -> str | None:
    """Where the command ran; None if that folder was removed while it ran (its results are
    written all the same, by their absolute path)."""
    try:
        return str(Path.cwd())
    except OSError:
        return None


def base_manifest(resolved: ResolvedScenario) -> dict[str, Any]:
    """What every scenario's manifest records: the scenario as run, seed, version and commit."""
    return {
        "scenario_name": resolved.name,
        "scenario_file": str(resolved.source),
        "sweep_point": resolved.sweep_point,
        "extends": resolved.extends,
        "own_keys": list(resolved.own_keys),
        "command_keys": dict(resolved.command_keys),
        "seed": resolved.scenario.seed,
        "replications": resolved.scenario.replications,
        "scenario": resolved.as_dict(),
        "parameters_file": str(resolved.parameters_path),
        "parameters": resolved.parameters.model_dump(mode="json"),
        **provenance(),
    }


def _invocation(command: str, clock: Clock, workers: int | None) -> dict[str, Any]:
    return {
        "command": command,
        "started": clock.started.isoformat(),
        "finished": now_utc().isoformat(),
        "wall_seconds": round(clock.seconds(), 3),
        "workers": workers,
    }


def run_manifest(
    resolved: ResolvedScenario,
    *,
    command: str,
    clock: Clock,
    workers: int | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of one scenario's results: :func:`base_manifest`, the command's own entries
    (``extra``: the replication rule, the posterior draws, the base compared with), then the
    command as typed, its start, end and duration, and the workers asked for."""
    return {**base_manifest(resolved), **(extra or {}), **_invocation(command, clock, workers)}


def folder_manifest(
    content: Mapping[str, Any], *, command: str, clock: Clock, workers: int | None
) -> dict[str, Any]:
    """The manifest of a folder that is not one scenario's results (a sweep, a comparison, a
    screening, a fit, a holdout validation): its own entries, the command's record as in
    :func:`run_manifest`, and the provenance."""
    return {**content, **_invocation(command, clock, workers), **provenance()}


def write_manifest(folder: Path, manifest: Mapping[str, Any]) -> None:
    """Write ``manifest.json``; the writers call it last (it marks the folder complete)."""
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not folder.exists():
        raise InputError.single(folder, "", "no such folder")
    if not path.exists():
        raise InputError.single(folder, "", f"not a results folder (no {MANIFEST})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError.single(path, "", f"not a readable manifest ({exc})") from None
    if not isinstance(data, dict):
        raise InputError.single(path, "", "not a manifest: expected a JSON object")
    return data


def write_tables(folder: Path, tables: Mapping[str, pd.DataFrame | None]) -> None:
    """Each table as the CSV file it is keyed by (without the index), as pandas writes it;
    ``None`` is skipped."""
    for name, table in tables.items():
        if table is None:
            continue
        # a compressed file (.csv.gz) pandas compresses; this path writes plain text
        text = csv_text(table) if name.endswith(".csv") else None
        if text is None:
            table.to_csv(folder / name, index=False)
        else:
            with open(folder / name, "w", encoding="utf-8", newline="") as file:
                file.write(text)


_QUOTED = (",", '"', "\r", "\n")
"""Characters that make the csv module quote a field (delimiter, quote, line ends)."""


def csv_text(table: pd.DataFrame) -> str | None:
    """``table.to_csv(index=False)``'s text, made faster for the tables a run writes (columns
    of numbers, and of text that needs no quoting); None for any other table, which pandas
    then writes itself.

    pandas turns each float into text through numpy, whose shortest round-trip digits are
    Python's ``repr``'s (the same text, in the same positional or scientific form), and then
    writes the rows through the csv module: ``monthly.csv`` of 100 replications × 10 years
    (13 200 rows, 64 columns) took 0.34 s, here 0.19 s (docs/performance.md, step 54). A
    missing value is an empty field, as pandas writes it."""
    import numpy as np
    import pandas as pd

    if not all(isinstance(name, str) for name in table.columns):
        return None  # pandas writes other labels its own way (a missing one empty, dates short)
    names = list(table.columns)
    if len(names) < 2 or not len(table) or any(m in name for name in names for m in _QUOTED):
        return None  # a lone empty field is quoted; no rows; a header to quote
    columns: list[list[str]] = []
    for _, column in table.items():
        kind = column.dtype
        if kind == np.float64:
            values = column.to_numpy()
            texts = list(map(repr, values.tolist()))
            for row in np.flatnonzero(np.isnan(values)).tolist():
                texts[row] = ""
        elif isinstance(kind, np.dtype) and kind.kind in "iub":
            texts = list(map(str, column.tolist()))
        elif pd.api.types.is_string_dtype(kind):
            values, missing = column.tolist(), column.isna().to_numpy().tolist()
            texts = ["" if gone else value for value, gone in zip(values, missing, strict=True)]
            if not all(isinstance(text, str) for text in texts):
                return None  # something other than text or a missing value
            joined = "".join(texts)
            if any(mark in joined for mark in _QUOTED):
                return None
        else:
            return None
        columns.append(texts)
    end = os.linesep  # pandas ends its lines as the platform does
    return ",".join(names) + end + end.join(map(",".join, zip(*columns, strict=True))) + end


def write_text(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def write_figure(folder: Path, name: str, figure: Any) -> None:
    """A matplotlib figure as a PNG (110 dpi, tight), the resolution of the screening plots."""
    figure.savefig(folder / name, dpi=110, bbox_inches="tight")


def scenario_toml(resolved: ResolvedScenario, parameters: str, header: str) -> str:
    """The scenario as run (every default filled in) as a scenario file, its parameter set
    named ``parameters``, after the comment lines ``header``."""
    scenario = resolved.as_dict()
    scenario["parameters"] = parameters
    return header + tomli_w.dumps(_toml_ready(scenario))


def write_scenario_files(
    folder: Path, resolved: ResolvedScenario, header: str = "", options: str = ""
) -> None:
    """``scenario.toml`` and ``parameters.toml`` as run: rerunnable with ``caseflow run``
    (and ``options``, e.g. ``--posterior 20``, which the file cannot hold); ``header``
    (comment lines) goes after the file's first line."""
    rerun = f"caseflow run scenario.toml {options}".strip()
    write_text(
        folder,
        "scenario.toml",
        scenario_toml(
            resolved,
            "parameters.toml",
            f"# The scenario as run (defaults filled in). Rerun: {rerun}\n" + header,
        ),
    )
    parameters = resolved.parameters.model_dump(mode="json", exclude_none=True)
    fit = parameters.get("fit")
    if fit:  # the fit's files, found from this copy too (run --posterior from the folder)
        for key in ("spec", "posterior"):
            if key in fit:
                fit[key] = (resolved.parameters_path.parent / fit[key]).resolve().as_posix()
    write_text(folder, "parameters.toml", tomli_w.dumps(_toml_ready(parameters)))


def _toml_ready(value: Any) -> Any:
    """JSON-mode dumps give dates as strings; give TOML real dates back."""
    if isinstance(value, dict):
        return {k: _toml_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_toml_ready(v) for v in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except ValueError:
            return value
    return value


def write_results(
    folder: Path,
    results: ScenarioResults,
    manifest: Mapping[str, Any],
    *,
    tables: Mapping[str, pd.DataFrame | None] | None = None,
    workers: int | None = None,
    host: DrawingHost | None = None,
) -> None:
    """One scenario's results folder: ``tables`` first (the report reads them, e.g. the
    posterior run's uncertainty.csv), monthly/summary/per_replication.csv, events.parquet if
    recorded, scenario.toml and parameters.toml, report.html (its figures drawn on
    ``workers`` processes, ``None``: every core, or by ``host``, while the files are
    written), and the manifest last."""
    from .report import render_report, start_run_figures

    folder.mkdir(parents=True, exist_ok=True)
    # the figures are drawn (in processes of their own) while the files are written
    drawing = start_run_figures(results.monthly, manifest, workers, host)
    try:
        _write_run_files(folder, results, manifest, tables)
        report = render_report(
            folder,
            results.summary,
            results.monthly,
            dict(manifest),
            workers=workers,
            districts=results.districts,
            drawing=drawing,
        )
    except BaseException:
        drawing.stop()
        raise
    write_text(folder, "report.html", report)
    write_manifest(folder, manifest)


def _write_run_files(
    folder: Path,
    results: ScenarioResults,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame | None] | None,
) -> None:
    """A run's CSV files, events.parquet if recorded, scenario.toml and parameters.toml."""
    from .formatting import intervals_cut_to_bounds
    from .report import DISTRICTS_FILE

    write_tables(
        folder,
        {
            **results.tables,
            **(tables or {}),
            "monthly.csv": results.monthly,
            "summary.csv": intervals_cut_to_bounds(results.summary),
            "per_replication.csv": results.per_replication,
            DISTRICTS_FILE: None
            if results.districts is None
            else intervals_cut_to_bounds(results.districts),
        },
    )
    if results.events is not None:
        results.events.to_parquet(folder / "events.parquet", index=False)
    draws = (manifest.get("posterior") or {}).get("draws")
    write_scenario_files(folder, results.resolved, options=f"--posterior {draws}" if draws else "")


def write_comparison(
    folder: Path,
    comparison: ComparisonResults,
    scenario_manifests: Sequence[Mapping[str, Any]],
    manifest: Mapping[str, Any],
    *,
    workers: int | None = None,
    host: DrawingHost | None = None,
) -> None:
    """A comparison folder: each scenario's results in its own sub-folder (base first, with
    its manifest from ``scenario_manifests``), comparison.csv, the comparison report, and the
    manifest last. The reports' figures are drawn by ``host`` if given, else on ``workers``
    processes (``None``: every core)."""
    from .formatting import differences_cut_to_bounds
    from .report import render_comparison_report

    every = [comparison.base, *comparison.alternatives]
    for results, own in zip(every, scenario_manifests, strict=True):
        write_results(folder / results.resolved.name, results, own, workers=workers, host=host)
    write_tables(folder, {"comparison.csv": differences_cut_to_bounds(comparison.differences)})
    html = render_comparison_report(
        folder,
        comparison.differences,
        [(r.resolved.name, r.monthly) for r in every],
        [r.resolved.as_dict() for r in every],
        dict(manifest),
        workers=workers,
        host=host,
    )
    write_text(folder, "report.html", html)
    write_manifest(folder, manifest)


def _rebuild_run_report(folder: Path) -> Path:
    import pandas as pd

    from .report import DISTRICTS_FILE, render_report

    manifest = read_manifest(folder)
    try:
        summary = pd.read_csv(folder / "summary.csv")
        monthly = pd.read_csv(folder / "monthly.csv")
    except FileNotFoundError as exc:
        raise InputError.single(
            folder, "", f"incomplete results folder: {exc.filename} is missing"
        ) from None
    districts_file = folder / DISTRICTS_FILE  # not in a folder made before districts counted
    districts = pd.read_csv(districts_file) if districts_file.exists() else None
    page = render_report(folder, summary, monthly, manifest, districts=districts)
    write_text(folder, "report.html", page)
    return folder / "report.html"


_NOT_REBUILT = {
    "calibration_of": ("`caseflow calibrate fit`", "its report.html"),
    "screening_of": ("`caseflow calibrate screen`", "screening.csv and screening.png, no report"),
    "validation_of": ("`caseflow validate-model`", "holdouts.md and holdouts.csv, no report.html"),
}
"""Folders whose report is drawn from what their command computed, not from their files."""


def rebuild_reports(folder: Path) -> list[Path]:
    """Rebuild report.html of a run, of a sweep and each of its points, of a comparison and
    each of its scenarios, or of an optimisation (from the CSV files and manifests, without
    running anything). Returns the reports a reader opens: the run's, the sweep's and its
    points', the comparison's or the optimisation's."""
    import pandas as pd

    from .report import render_comparison_report

    manifest = read_manifest(folder)
    for key, (made_by, writes) in _NOT_REBUILT.items():
        if key in manifest:
            raise InputError.single(
                folder,
                "",
                f"a folder of {made_by}, which writes {writes} itself (run it again to redraw "
                "it); `caseflow report` rebuilds the reports of run, compare, sweep and "
                "optimise folders",
            )
    if "optimisation_of" in manifest:
        from .optimisation_report import rerender

        html, png = rerender(folder, manifest)
        (folder / "figures").mkdir(exist_ok=True)
        (folder / "figures" / "front.png").write_bytes(png)
        write_text(folder, "report.html", html)
        return [folder / "report.html"]
    if "sweep_of" in manifest:
        from .sweep_report import read_sweep_points, render_sweep_report

        points = [_rebuild_run_report(folder / point["name"]) for point in manifest["points"]]
        html = render_sweep_report(folder, read_sweep_points(folder, manifest), manifest)
        write_text(folder, "report.html", html)
        return [folder / "report.html", *points]
    if "comparison_of" not in manifest:
        return [_rebuild_run_report(folder)]
    names = manifest["comparison_of"]
    scenarios = [read_manifest(folder / name)["scenario"] for name in names]
    monthly = [(name, pd.read_csv(folder / name / "monthly.csv")) for name in names]
    differences = pd.read_csv(folder / "comparison.csv")
    html = render_comparison_report(folder, differences, monthly, scenarios, manifest)
    write_text(folder, "report.html", html)
    for name in names:
        _rebuild_run_report(folder / name)
    return [folder / "report.html"]


def default_folder(results_root: Path, name: str, started: datetime) -> Path:
    return results_root / f"{name}-{started.strftime('%Y%m%d-%H%M%S')}"


class OutputFolderError(Exception):
    """The output folder cannot be (re)placed: a message naming it and what to do."""


def check_target(target: Path) -> None:
    """Refuse, before any work, an output folder that would fail at the end: a file, a folder
    that is not an earlier results folder, or a place where no folder can be made (a file on
    the way, no permission to write). Missing parent folders are fine: they are made."""
    if target.exists():
        if not target.is_dir():
            raise OutputFolderError(f"{target} exists and is not a folder; choose another --out")
        if any(target.iterdir()) and not (target / MANIFEST).exists():
            raise OutputFolderError(
                f"{target} exists, is not empty and is not a results folder (no {MANIFEST}); "
                "choose another --out"
            )
        foreign = _files_not_from_a_run(target)
        if foreign:
            shown = ", ".join(foreign[:5]) + (
                f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
            )
            raise OutputFolderError(
                f"{target} is an earlier results folder that also holds files no run writes "
                f"({shown}); a run replaces the whole folder: move them, or choose another --out"
            )
    nearest = _nearest_existing(target.parent)
    if not nearest.is_dir():
        raise OutputFolderError(
            f"{target}: {nearest} is a file, not a folder; choose another --out"
        )
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise OutputFolderError(
            f"{target}: no permission to write in {nearest}; choose another --out"
        )


#: what the commands write into a results folder: by suffix, and the few others by name
_RUN_SUFFIXES = frozenset((".csv", ".json", ".jsonl", ".toml", ".html", ".png", ".parquet", ".db"))
_RUN_NAMES = frozenset(("fingerprint.txt", "holdouts.md"))


def _files_not_from_a_run(folder: Path) -> list[str]:
    """Files under an earlier results folder that no command writes (a workbook saved beside
    summary.csv, notes), which replacing the folder would delete: their paths within it."""
    return sorted(
        str(path.relative_to(folder))
        for path in folder.rglob("*")
        if path.is_file() and path.suffix not in _RUN_SUFFIXES and path.name not in _RUN_NAMES
    )


def _nearest_existing(folder: Path) -> Path:
    """``folder`` or its nearest ancestor that exists (as a file or a folder)."""
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def earlier_results(target: Path) -> str | None:
    """When ``target`` is an earlier results folder (which a run replaces): when that run
    started, from its manifest (``2026-12-02 02:42 UTC``; "at an unknown time" if the
    manifest cannot be read); None otherwise."""
    manifest = target / MANIFEST
    if not manifest.is_file():
        return None
    try:
        started = datetime.fromisoformat(json.loads(manifest.read_text("utf-8"))["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return "at an unknown time"
    return started.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class AtomicFolder:
    """A hidden work folder that becomes the results folder only when its ``with`` block
    completes: on failure (an error, Ctrl-C, SIGTERM turned into an interrupt by the command
    line) it is removed and an earlier folder is left as it was.

    ``unique``: the folder is a default one (``results/NAME-TIMESTAMP``) that must never
    replace another: if the name is taken when the work is done (two runs started in the same
    second), it becomes ``NAME-TIMESTAMP-2`` (``-3``, ...); :attr:`target` is where it went.
    Otherwise it replaces an earlier results folder at ``target``."""

    def __init__(self, target: Path, *, unique: bool = False) -> None:
        self.target = target
        self.unique = unique
        self.work: Path | None = None

    def __enter__(self) -> Path:
        check_target(self.target)
        self.work = _work_folder(self.target)
        return self.work

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        work = self.work
        assert work is not None
        if kind is not None:
            shutil.rmtree(work, ignore_errors=True)
            return
        try:
            if self.unique:
                self.target = _rename_to_free_name(work, self.target)
            else:
                _replace(work, self.target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise


def atomic_folder(target: Path, *, unique: bool = False) -> AtomicFolder:
    """``with atomic_folder(target) as work:`` write into ``work``; see :class:`AtomicFolder`."""
    return AtomicFolder(target, unique=unique)


def _replace(work: Path, target: Path) -> None:
    """Rename ``work`` to ``target``, replacing an earlier folder there."""
    old = target.parent / f".replaced-{target.name}-{work.name[-8:]}" if target.exists() else None
    try:
        if old is not None:
            target.rename(old)
        work.rename(target)
    except BaseException:  # interrupted between the two renames: put the earlier folder back
        if old is not None and old.exists() and not target.exists():
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _rename_to_free_name(work: Path, target: Path) -> Path:
    """Rename ``work`` to ``target`` or, if that is taken, to ``target-2``, ``target-3``, ...
    The rename itself is the test (it fails onto a folder with files), so two runs finishing
    at once cannot both take one name."""
    for n in range(1, 10_000):
        candidate = target if n == 1 else target.with_name(f"{target.name}-{n}")
        if candidate.exists() and not candidate.is_dir():
            continue
        try:
            work.rename(candidate)
        except OSError as exc:
            if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                continue
            raise
        return candidate
    raise OutputFolderError(f"{target}: no free name for the results folder; choose --out")


def _work_folder(target: Path) -> Path:
    """The hidden ``.incomplete-*`` folder beside ``target`` (parents made as needed); a
    failure to make it is an :class:`OutputFolderError` naming the folder and the reason."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return _new_folder(target.parent, f".incomplete-{target.name}-")
    except OSError as exc:
        where = exc.filename or target.parent
        reason = (exc.strerror or str(exc)).lower()
        raise OutputFolderError(
            f"{target}: cannot make a folder in {Path(where).parent} ({reason}); "
            "choose another --out"
        ) from None


def _new_folder(parent: Path, prefix: str) -> Path:
    """A new folder ``parent/PREFIX<8 hex digits>``, with the permissions the user's umask
    gives (as any folder they make). ``tempfile.mkdtemp`` would make it ``drwx------``
    whatever the umask, and the results folder it is renamed into would keep that, so that
    colleagues on a shared drive could not open it."""
    for _ in range(100):
        folder = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            folder.mkdir()  # mode 0o777, less the umask
        except FileExistsError:
            continue
        return folder
    raise FileExistsError(errno.EEXIST, "no free name for a work folder", str(parent / prefix))


def write_optimisation(
    folder: Path,
    tables: Mapping[str, pd.DataFrame | None],
    chosen: Sequence[tuple[str, ResolvedScenario, str]],
    report: tuple[str, bytes],
    manifest: Mapping[str, Any],
) -> None:
    """An optimisation's folder: its tables (``candidates.csv``, ``pareto.csv``, ...), each
    chosen alternative as a rerunnable scenario under ``chosen/<name>/`` (with a header of
    comment lines saying what it changes), ``report.html`` and ``figures/front.png``, and the
    manifest last."""
    folder.mkdir(parents=True, exist_ok=True)
    write_tables(folder, tables)
    for name, resolved, header in chosen:
        sub = folder / "chosen" / name
        sub.mkdir(parents=True, exist_ok=True)
        write_scenario_files(sub, resolved, header)
    html, png = report
    (folder / "figures").mkdir(exist_ok=True)
    (folder / "figures" / "front.png").write_bytes(png)
    write_text(folder, "report.html", html)
    write_manifest(folder, manifest)
