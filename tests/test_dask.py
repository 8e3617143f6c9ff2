"""Replications on a real dask.distributed LocalCluster give the same numbers, bit for bit."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import cli, load_scenarios, run_scenario

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local.scheduler_address


def test_dask_results_identical_to_local_processes(small, cluster):
    resolved = load_scenarios(small, ["replications=4"])[0]
    on_dask = run_scenario(resolved, cluster=cluster)
    one = run_scenario(resolved, workers=1)
    two = run_scenario(resolved, workers=2)
    pd.testing.assert_frame_equal(one.monthly, on_dask.monthly, check_exact=True)
    pd.testing.assert_frame_equal(one.summary, on_dask.summary, check_exact=True)
    pd.testing.assert_frame_equal(one.summary, two.summary, check_exact=True)


def test_cli_runs_on_a_cluster(small, cluster, tmp_path):
    out = tmp_path / "dask"
    assert cli.main(["run", str(small), "--out", str(out), "--cluster", cluster]) == 0
    assert (out / "manifest.json").exists()


def test_unreachable_scheduler_is_a_clear_error(small, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sim.experiment.DASK_CONNECT_TIMEOUT", "2s")
    code = cli.main(
        ["run", str(small), "--out", str(tmp_path / "x"), "--cluster", "tcp://127.0.0.1:1"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()
