"""Hashes of the tables of nine runs, to show that a change to the model leaves every number
as it was (run it in two work trees and compare the lines).

Run:  .venv/bin/python benchmarks/identical_tables.py
      CASEFLOW_PURE=1 .venv/bin/python benchmarks/identical_tables.py   (the Python build)

Each run's monthly rows, episodes, AR programmes and event log (with its columns) are hashed
(``pandas.util.hash_pandas_object``): the baseline, the city over 2 years, six scenarios and
the baseline with three times its contacts. The last line hashes them all together.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from sim import compiled, load_scenarios
from sim.model.caseload import CaseloadModel

RUNS = [  # scenario, overrides, years, replications
    ("scenarios/baseline.toml", [], 3, 3),
    ("scenarios/city_2003.toml", [], 2, 1),
    ("scenarios/fewer_ongoing_social_workers.toml", [], 3, 2),
    ("scenarios/eav_2011_merged_unit.toml", [], 3, 2),
    ("scenarios/unemployment_severe_shock.toml", [], 4, 2),
    ("scenarios/ar_team_24_places.toml", [], 3, 2),
    ("scenarios/stable_staff.toml", [], 3, 2),
    ("scenarios/combined_seven_to_social_workers_under_shock.toml", [], 3, 2),
    ("scenarios/baseline.toml", ["organisation.contacts_scale=3"], 2, 1),
]


def main() -> None:
    every = hashlib.sha256()
    for path, overrides, years, replications in RUNS:
        resolved = load_scenarios(path, overrides, years=years, replications=replications)[0]
        digest = hashlib.sha256()
        events = 0
        for replication in range(replications):
            model = CaseloadModel(resolved, replication, events=True)
            out = model.run()
            events += model.env.clock.ids.count
            for table in (out.monthly, out.episodes, out.ar_programmes, out.events):
                if table is not None:
                    digest.update(pd.util.hash_pandas_object(table, index=True).values.tobytes())
                    digest.update(str(list(table.columns)).encode())
            model.release()
        print(path, overrides, events, digest.hexdigest()[:16])
        every.update(digest.digest())
    print(compiled.implementation(), "all:", every.hexdigest()[:16])


if __name__ == "__main__":
    main()
