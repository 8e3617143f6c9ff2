"""Stored-numbers baseline: a model change that moves any number shows here, openly.

The cases are small fixed scenarios (split and merged organisation, timed changes, a large
opening caseload) under ``tests/baseline/scenarios``. Their ``summary.csv`` and a hash of their
``monthly.csv`` are stored; a fresh run must reproduce them byte for byte. When a change is
meant to move the numbers, ``make baseline`` rewrites them and the commit says so.
"""

from __future__ import annotations

import pytest

from tests.baseline.store import CASES, compute, stored


@pytest.mark.parametrize("case", CASES)
def test_outputs_match_the_stored_baseline(case: str) -> None:
    summary, digest = compute(case)
    stored_summary, stored_digest = stored(case)
    assert summary == stored_summary, (
        f"summary.csv of baseline case {case!r} changed; if intended, run `make baseline` "
        "and name the change in the commit message"
    )
    assert digest == stored_digest, f"monthly.csv of baseline case {case!r} changed"
