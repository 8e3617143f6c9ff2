"""Replications on a real dask.distributed LocalCluster give the same numbers, bit for bit."""

from __future__ import annotations

import pandas as pd
import pytest

from sim import load_scenarios, run_scenario
from sim.cli import main as cli

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
    monkeypatch.setattr("sim.experiments.parallel.DASK_CONNECT_TIMEOUT", "2s")
    code = cli.main(
        ["run", str(small), "--out", str(tmp_path / "x"), "--cluster", "tcp://127.0.0.1:1"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_posterior_runs_on_a_cluster(cluster, tmp_path):
    """ABC-SMC's simulations can run on a Dask scheduler instead of local processes."""
    pytest.importorskip("pyabc")
    from sim.calibration.posterior import abc_posterior
    from sim.calibration.spec import load_problem

    from .test_fitting import SMALL_KPIS, SMALL_PRIORS, SMALL_TRUTH, synthetic_spec

    spec = synthetic_spec(tmp_path / "s", SMALL_TRUTH, SMALL_PRIORS, SMALL_KPIS, replications=2)
    post = abc_posterior(
        load_problem(spec), tmp_path / "abc", population=10, max_generations=2, cluster=cluster
    )
    assert len(post.sample) == 10 and list(post.diagnostics["generation"]) == [1, 2]
    assert abs(post.sample["weight"].sum() - 1) < 1e-9
