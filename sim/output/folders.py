"""Results folders: one per run, written atomically, with a manifest as the audit trail.

Everything is written into a hidden ``.incomplete-*`` folder beside the target and renamed into
place only after the last file (``manifest.json``) is written. A run that fails or is interrupted
leaves no folder that looks complete; its partial folder is removed when Python can still act.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from .. import __version__, compiled
from ..inputs.scenario import ResolvedScenario

MANIFEST = "manifest.json"


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


def base_manifest(resolved: ResolvedScenario) -> dict[str, Any]:
    """What every manifest records: the scenario as run, seed, version and commit."""
    return {
        "scenario_name": resolved.name,
        "scenario_file": str(resolved.source),
        "sweep_point": resolved.sweep_point,
        "extends": resolved.extends,
        "own_keys": list(resolved.own_keys),
        "seed": resolved.scenario.seed,
        "replications": resolved.scenario.replications,
        "scenario": resolved.as_dict(),
        "parameters_file": str(resolved.parameters_path),
        "parameters": resolved.parameters.model_dump(mode="json"),
        "package": {"name": "caseflow", "version": __version__},
        # "compiled" or "python (why)": the same numbers either way, only the speed differs
        "model_build": compiled.implementation(),
        "git": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_scenario_files(folder: Path, resolved: ResolvedScenario) -> None:
    """``scenario.toml`` and ``parameters.toml`` as run: rerunnable with ``caseflow run``."""
    scenario = resolved.as_dict()
    scenario["parameters"] = "parameters.toml"
    (folder / "scenario.toml").write_text(
        "# The scenario as run (defaults filled in). Rerun: caseflow run scenario.toml\n"
        + tomli_w.dumps(_toml_ready(scenario)),
        encoding="utf-8",
    )
    parameters = resolved.parameters.model_dump(mode="json", exclude_none=True)
    fit = parameters.get("fit")
    if fit:  # the fit's files, found from this copy too (run --posterior from the folder)
        for key in ("spec", "posterior"):
            if key in fit:
                fit[key] = (resolved.parameters_path.parent / fit[key]).resolve().as_posix()
    (folder / "parameters.toml").write_text(
        tomli_w.dumps(_toml_ready(parameters)), encoding="utf-8"
    )


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


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )


def default_folder(results_root: Path, name: str, started: datetime) -> Path:
    return results_root / f"{name}-{started.strftime('%Y%m%d-%H%M%S')}"


class OutputFolderError(Exception):
    pass


def check_target(target: Path) -> None:
    """Refuse to replace a folder that is not an earlier results folder."""
    if target.exists():
        if not target.is_dir():
            raise OutputFolderError(f"{target} exists and is not a folder")
        if any(target.iterdir()) and not (target / MANIFEST).exists():
            raise OutputFolderError(
                f"{target} exists, is not empty and is not a results folder (no {MANIFEST}); "
                "choose another --out"
            )


@contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a hidden work folder; on success it replaces ``target``, on failure it is removed."""
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".incomplete-{target.name}-", dir=target.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    old: Path | None = None
    if target.exists():
        old = target.parent / f".replaced-{target.name}-{work.name[-8:]}"
        target.rename(old)
    work.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def now_utc() -> datetime:
    return datetime.now(UTC)
