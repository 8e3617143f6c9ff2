"""The stored-numbers baseline: small fixed scenarios whose outputs are kept under version control.

Each case under ``scenarios/`` is run in one process (the numbers do not depend on the worker
count) and reduced to its ``summary.csv`` text and the SHA-256 of its ``monthly.csv`` text, both
written exactly as a results folder writes them. ``tests/test_baseline.py`` compares a fresh run
with the stored files byte for byte, so any change to the model's numbers shows in a diff.

``make baseline`` rewrites the stored files on purpose (``python -m tests.baseline.store``);
name a changed baseline in the commit message.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"
STORED = HERE / "stored"
CASES = ("split", "merged", "changes", "initial")


def compute(case: str) -> tuple[str, str]:
    """``summary.csv`` text and the SHA-256 of ``monthly.csv`` text of one case, run afresh."""
    from sim import load_scenarios, run_scenario

    (resolved,) = load_scenarios(SCENARIOS / f"{case}.toml")
    results = run_scenario(resolved, workers=1)
    summary = results.summary.to_csv(index=False, lineterminator="\n")
    monthly = results.monthly.to_csv(index=False, lineterminator="\n")
    return summary, hashlib.sha256(monthly.encode("utf-8")).hexdigest()


def stored(case: str) -> tuple[str, str]:
    """The stored ``summary.csv`` text and ``monthly.csv`` hash of one case."""
    summary = (STORED / case / "summary.csv").read_text(encoding="utf-8")
    digest = (STORED / case / "monthly.sha256").read_text(encoding="utf-8").strip()
    return summary, digest


def write(case: str) -> bool:
    """Run one case and store its numbers; True if they differ from what was stored."""
    summary, digest = compute(case)
    folder = STORED / case
    folder.mkdir(parents=True, exist_ok=True)
    try:
        changed = stored(case) != (summary, digest)
    except OSError:
        changed = True
    (folder / "summary.csv").write_text(summary, encoding="utf-8")
    (folder / "monthly.sha256").write_text(digest + "\n", encoding="utf-8")
    return changed


def main() -> int:
    for case in CASES:
        changed = write(case)
        sys.stdout.write(f"{case}: {'CHANGED' if changed else 'unchanged'}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
