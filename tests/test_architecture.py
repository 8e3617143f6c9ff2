"""The layers of ``sim/`` (docs/architecture.md): data flows one way, and so do imports.

Each module may import from the shared base (vocabulary, distributions, streams, the clock,
the output schema), from its own layer and from the layers before it, never from a layer after
it: the model knows nothing of experiments, output or the command line. Imports inside
functions count too (the command line imports lazily, but still only downwards).
"""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parent.parent / "sim"
BASE = {"domain", "distributions", "streams", "engine", "records", "compiled", "__version__"}
# Layers in the order data flows through them; a layer may import any layer before it.
ORDER = [
    "inputs",
    "model",
    "metrics",
    "experiments",
    "output",
    "calibration",
    "optimisation",
    "api",
    "app",
    "cli",
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every ``sim`` module a file imports (relative imports resolved)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.split(".")[0] == "sim":
                target = node.module
            else:
                continue
            if target == "sim":  # ``from .. import compiled, __version__``: name by name
                found.update(f"sim.{alias.name}" for alias in node.names)
            else:
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "sim")
    return found


def layer(module: str) -> str:
    """``sim.model.routing`` -> ``model``; ``sim.records`` -> ``records``; ``sim`` -> ``sim``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "sim"


def allowed(importer: str, imported: str) -> bool:
    source, target = layer(importer), layer(imported)
    if target in BASE:
        return source not in BASE or target in {"domain", source}
    if source in BASE:
        return False
    if source == "sim":  # the package's __init__ exposes the public API
        return True
    return ORDER.index(target) <= ORDER.index(source)


def test_imports_flow_one_way_through_the_layers() -> None:
    wrong = []
    for path in sorted(SIM.rglob("*.py")):
        importer = module_name(path)
        for imported in sorted(imported_modules(path)):
            if layer(importer) != layer(imported) and not allowed(importer, imported):
                wrong.append(f"{importer} imports {imported}")
    assert not wrong, "imports against the layers of docs/architecture.md:\n" + "\n".join(wrong)


def test_the_check_sees_a_wrong_import() -> None:
    """The rule itself: the model may not import the command line, the output or metrics;
    the command line may import anything below it."""
    assert not allowed("sim.model.routing", "sim.cli.main")
    assert not allowed("sim.model.ledger", "sim.output.report")
    assert not allowed("sim.records", "sim.model.caseload")
    assert allowed("sim.cli.run", "sim.experiments.runner")
    assert allowed("sim.model.ledger", "sim.records")


def test_import_sim_and_the_help_load_no_heavy_library() -> None:
    """``import sim`` and ``caseflow --help`` start at once: the public names are imported on
    first use, and each command imports what it needs when it runs (a new process, so that
    nothing the test session imported counts)."""
    import subprocess
    import sys

    code = (
        "import sys, sim, sim.cli.main as m\n"
        "m.build_parser()\n"
        "heavy = [n for n in ('pandas', 'matplotlib', 'scipy', 'simpy', 'sim.model.caseload')"
        " if n in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at start-up: {out.stdout.strip()}"
