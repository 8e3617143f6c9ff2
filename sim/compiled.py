"""The compiled build of the model's inner loop: built with mypyc, used only while current.

The modules where a run spends its time (:mod:`sim.model`, :mod:`sim.engine`,
:mod:`sim.economy`, :mod:`sim.staff`) are plain, fully typed Python. :func:`build`
(``caseflow compile``, run by ``make``) compiles them with mypyc into C extensions in
``.build/compiled/`` at the top of the repository, outside the package, with a manifest of the
sources they were built from. When :mod:`sim` is imported, :func:`install` serves those
modules from the build only if every source is unchanged since (same SHA-256), the build is
for this Python, and ``CASEFLOW_PURE`` is not set; otherwise all of them run as Python. So an
edited source is never shadowed by a stale build, and the two are never mixed. Results are the
same either way (a test runs both and compares them); the compiled build runs a replication
about 2.8 times faster (docs/performance.md, step 38).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

COMPILED_MODULES = (
    "sim.engine",
    "sim.model.level",
    "sim.model.economy",
    "sim.model.staff",
    "sim.model.household",
    "sim.model.exits",
    "sim.model.follow_up",
    "sim.model.contacts",
    "sim.model.intake",
    "sim.model.workload",
    "sim.model.routing",
    "sim.model.ar_team",
    "sim.model.ledger",
    "sim.model.pathway",
    "sim.model.caseload",
)
PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE_DIR.parent / ".build" / "compiled"
MANIFEST = "manifest.json"
GROUP = "caseflow_native"  # mypyc's shared library of the compiled modules
DISABLE_VARIABLE = "CASEFLOW_PURE"

# What :func:`install` found, for the run's metadata: "compiled" or "python (<reason>)".
_status = "python (not checked)"


def source_path(module: str) -> Path:
    return PACKAGE_DIR.joinpath(*module.split(".")[1:]).with_suffix(".py")


def source_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def implementation() -> str:
    """How the model runs in this process: ``"compiled"`` or ``"python (<why>)"``."""
    return _status


class _BuildFinder(MetaPathFinder):
    """Finds the compiled modules (and mypyc's shared library) in the build folder."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        file = self.files.get(fullname)
        if file is None:
            return None
        loader = importlib.machinery.ExtensionFileLoader(fullname, str(file))
        return importlib.util.spec_from_file_location(fullname, file, loader=loader)


def check(build_dir: Path = BUILD_DIR) -> tuple[dict[str, Path] | None, str]:
    """The build's files by module name if it can be used, and why not otherwise."""
    if os.environ.get(DISABLE_VARIABLE):
        return None, f"{DISABLE_VARIABLE} is set"
    manifest_path = build_dir / MANIFEST
    if not manifest_path.is_file():
        return None, "no compiled build (make builds it)"
    try:
        manifest = json.loads(manifest_path.read_text())
        files = {name: build_dir / rel for name, rel in manifest["files"].items()}
        sources = manifest["sources"]
        cache_tag = manifest["cache_tag"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, f"unreadable manifest {manifest_path}"
    if cache_tag != sys.implementation.cache_tag:
        return None, f"the build is for {cache_tag}, this is {sys.implementation.cache_tag}"
    if set(sources) != set(COMPILED_MODULES):
        return None, "the build does not hold the modules this version compiles"
    for module in COMPILED_MODULES:
        if source_digest(source_path(module)) != sources[module]:
            return None, f"{source_path(module).name} changed since the build: run make again"
    if not all(path.is_file() for path in files.values()):
        return None, "files of the build are missing"
    return files, "compiled"


def install(build_dir: Path = BUILD_DIR) -> str:
    """Serve the compiled modules if the build is current (call before importing them)."""
    global _status
    if any(module in sys.modules for module in COMPILED_MODULES):
        _status = "python (imported before the build was checked)"
        return _status
    files, reason = check(build_dir)
    if files is None:
        _status = f"python ({reason})"
        return _status
    sys.meta_path.insert(0, _BuildFinder(files))
    _status = "compiled"
    return _status


def build(build_dir: Path = BUILD_DIR) -> Path:
    """Compile the modules with mypyc into ``build_dir``; replace any earlier build only when
    the new one is complete. Needs mypy and a C compiler."""
    from mypyc.build import mypycify  # build-time only
    from setuptools import Distribution  # type: ignore[import-untyped]

    root = PACKAGE_DIR.parent
    digests = {module: source_digest(source_path(module)) for module in COMPILED_MODULES}
    with tempfile.TemporaryDirectory(prefix="caseflow-build-") as tmp:
        work = Path(tmp)
        cwd = Path.cwd()
        os.chdir(root)  # mypyc names modules from paths relative to the package's parent
        try:
            extensions = mypycify(
                [str(source_path(m).relative_to(root)) for m in COMPILED_MODULES],
                target_dir=str(work / "c"),
                group_name=GROUP,
                opt_level="3",
            )
            for extension in extensions:  # absolute, as the build below runs elsewhere
                extension.sources = [str((root / s).resolve()) for s in extension.sources]
                extension.include_dirs = [str((root / d).resolve()) for d in extension.include_dirs]
        finally:
            os.chdir(cwd)
        out = work / "out"
        # A bare Distribution: setuptools.setup() would read the project's pyproject.toml.
        dist = Distribution({"name": "caseflow-compiled", "ext_modules": extensions})
        command = dist.get_command_obj("build_ext")
        command.build_lib = str(out)
        command.build_temp = str(work / "tmp")
        dist.run_command("build_ext")
        suffixes = importlib.machinery.EXTENSION_SUFFIXES
        files: dict[str, str] = {}
        for module in (*COMPILED_MODULES, f"{GROUP}__mypyc"):
            stem = out.joinpath(*module.split("."))
            found = [stem.with_name(stem.name + s) for s in suffixes]
            found = [f for f in found if f.is_file()]
            if not found:
                raise RuntimeError(f"mypyc built no extension for {module} in {out}")
            files[module] = str(found[0].relative_to(out))
        manifest = {
            "cache_tag": sys.implementation.cache_tag,
            "sources": digests,
            "files": files,
        }
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if build_dir.exists():
            shutil.rmtree(build_dir)
        build_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(out, build_dir)
    return build_dir
