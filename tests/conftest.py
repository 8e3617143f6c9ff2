"""Shared helpers: small scenario files written into a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARAMETERS = ROOT / "calibration" / "parameters" / "first_guess.toml"

SMALL = f"""
name = "small"
start_date = 2015-01-01
horizon_years = 1
replications = 2
seed = 7
parameters = "{PARAMETERS.as_posix()}"

[organisation]
districts = [
  {{ name = "Kungsholmen", contact_share = 1 }},
  {{ name = "Norrmalm", contact_share = 1 }},
]

[staff.intake_social_workers]
posts = 4
[staff.ongoing_social_workers]
posts = 11
annual_turnover = 0.3
[staff.benefit_administrators]
posts = 6
[staff.employment_consultants]
posts = 4

[ar_team]
places = 30

[unemployment]
reference_percent = 3.2
path = [{{ date = 2015-01-01, percent = 3.2 }}]

[initial_caseload]
by_class = {{ a = 40, b = 200, c = 60 }}
"""


@pytest.fixture
def write(tmp_path: Path):
    """Write a file under the test's temporary folder and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def small(write) -> Path:
    """A valid one-year scenario of a unit with 300 open households."""
    return write("small.toml", SMALL)
