"""Where replications run: in this process, on a local process pool, or on a Dask cluster.

A task is one call ``run(scenario, replication, events)`` of a picklable top-level function
(:func:`sim.experiments.runner.run_replication` passes itself, so this module needs to know
nothing about what a replication computes). Each replication's random streams depend only on
the seed and its number, and results are gathered in task order, so the numbers are the same
whatever the number of workers and wherever they run.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # a type only: the drawing host is started before pydantic is imported
    from ..inputs.scenario import ResolvedScenario

#: called with (tasks done, tasks in all) after each finished task
ProgressCallback = Callable[[int, int], None]

#: how long to wait for a Dask scheduler before giving up (a test shortens it)
DASK_CONNECT_TIMEOUT = "20s"

R = TypeVar("R")
#: one replication of one scenario: (scenario, replication number, keep the event log)
Task = Callable[["ResolvedScenario", int, bool], R]


#: a Dask scheduler's address: ``[tcp|tls|ws|wss|ucx://]HOST:PORT`` (HOST a name, an IPv4
#: address or a bracketed IPv6 one)
CLUSTER_ADDRESS = re.compile(
    r"^(?:(?:tcp|tls|ws|wss|ucx)://)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$"
)


class ClusterError(Exception):
    """The Dask cluster cannot be used (a malformed address, not installed, not reachable)."""


def check_cluster_address(address: str) -> None:
    """Refuse, before any work, an address no Dask scheduler can have (``notaurl``)."""
    if not CLUSTER_ADDRESS.match(address):
        raise ClusterError(
            f"--cluster {address}: not a Dask scheduler address; write tcp://HOST:PORT "
            "(e.g. tcp://10.0.0.5:8786, as the scheduler prints when it starts)"
        )


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system has one (a batch
    scheduler's or a container's share of the machine), else the machine's count."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # no affinity on this system (macOS, Windows)
        return max(os.cpu_count() or 1, 1)


def default_workers() -> int:
    return available_cores()


def worker_count(asked: int | None) -> int:
    """The worker processes to start: as asked (all cores if not), never more than the cores,
    where more processes would only compete for them (the numbers are the same either way)."""
    return min(asked or default_workers(), available_cores())


def _start_worker(parent: int | None) -> None:
    """Run first in each pool worker: SIGTERM ends it at once, and SIGINT is left to the
    parent. A forked worker inherits the command line's SIGTERM handler, which would turn the
    signal into an exception sent back as the replication's result; a terminal's Ctrl-C
    reaches every process of the group, and each worker printed its KeyboardInterrupt's
    traceback. The parent, not the worker, decides how a run ends (it stops its workers).
    ``parent``: the process that forked it, where its main thread did
    (:func:`end_with_parent`)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        end_with_parent(parent)


#: Linux's prctl option: the signal a process gets when the thread that forked it ends
_PR_SET_PDEATHSIG = 1


def end_with_parent(parent: int) -> None:
    """Have Linux end this forked process (SIGTERM) when ``parent``, the process whose main
    thread forked it, ends for whatever reason: a ``kill -9`` or the out-of-memory killer
    give the parent no chance to stop its workers, which would otherwise wait for work for
    ever. Elsewhere nothing. (Linux sends the signal when the forking *thread* ends, hence
    only for forks by a main thread.)"""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        refused = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0
    except (OSError, AttributeError):  # no prctl to call
        return
    if refused:  # (a sandbox's filter): the process may outlive its parent, as elsewhere
        return
    if os.getppid() != parent:  # the parent ended before the request took effect
        os._exit(1)


def forking_parent(context: BaseContext | None) -> int | None:
    """This process's id, for :func:`end_with_parent` in the processes it is about to fork;
    None where they are not forked by this process's main thread (another start method: a
    fork server or a fresh interpreter is their parent; another thread: it may end first)."""
    method = (context or multiprocessing.get_context()).get_start_method()
    if method != "fork" or threading.current_thread() is not threading.main_thread():
        return None
    return os.getpid()


def new_pool(workers: int, context: BaseContext | None = None) -> ProcessPoolExecutor:
    """A process pool of ``workers`` (capped at the cores) whose workers end on SIGTERM, and
    when this process ends without stopping them (:func:`end_with_parent`); ``context`` how
    they start (the platform's default: fork on Linux). A process that runs other threads (the
    app's web server) passes a forkserver context: a fork from it could inherit a lock another
    thread held."""
    return ProcessPoolExecutor(
        max_workers=worker_count(workers),
        mp_context=context,
        initializer=_start_worker,
        initargs=(forking_parent(context),),
    )


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose results are no longer wanted (an interrupt, an error): its workers
    are terminated rather than left to finish the replications they are running, which could
    take minutes; a clean shutdown would wait for them."""
    for process in list((pool._processes or {}).values()):
        if process.is_alive():
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def local_pool(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """A process pool to share across several :func:`map_replications` calls, shut down on
    exit (stopped at once on an error or interrupt); None for a single worker (tasks then run
    in this process)."""
    pool = new_pool(workers) if worker_count(workers) > 1 else None
    try:
        yield pool
    except BaseException:
        if pool is not None:
            stop_pool(pool)
        raise
    if pool is not None:
        pool.shutdown(cancel_futures=True)


def map_replications(
    run: Task[R],
    scenarios: Sequence[ResolvedScenario],
    reps: Sequence[int],
    *,
    events: bool,
    workers: int,
    progress: ProgressCallback | None = None,
    pool: ProcessPoolExecutor | None = None,
    cluster: str | None = None,
) -> list[R]:
    """``run(scenarios[k], reps[k], events)`` for every task ``k``, results in task order.

    On the Dask cluster at ``cluster`` if given; else on ``pool`` if given; else in this process
    when one worker or one task makes a pool pointless; else on a pool made for these tasks.
    """
    if cluster:
        return _map_dask(cluster, run, scenarios, reps, events, progress)
    if pool is None and (worker_count(workers) <= 1 or len(reps) <= 1):
        return _map_here(run, scenarios, reps, events, progress)
    return _map_pool(run, scenarios, reps, events, progress, workers, pool)


def _map_here(
    run: Task[R],
    scenarios: Sequence[ResolvedScenario],
    reps: Sequence[int],
    events: bool,
    progress: ProgressCallback | None,
) -> list[R]:
    """Run the tasks one after another in this process."""
    out: list[R] = []
    for scenario, rep in zip(scenarios, reps, strict=True):
        out.append(run(scenario, rep, events))
        if progress:
            progress(len(out), len(reps))
    return out


def _map_pool(
    run: Task[R],
    scenarios: Sequence[ResolvedScenario],
    reps: Sequence[int],
    events: bool,
    progress: ProgressCallback | None,
    workers: int,
    pool: ProcessPoolExecutor | None,
) -> list[R]:
    """Run the tasks on ``pool``, or on a pool of at most ``workers`` made (and closed) here."""
    out: list[R] = []
    own = pool is None
    executor = pool or new_pool(min(workers, len(reps)))
    try:
        for result in executor.map(run, scenarios, reps, [events] * len(reps)):
            out.append(result)
            if progress:
                progress(len(out), len(reps))
    except BaseException:
        if own:
            stop_pool(executor)
        raise
    if own:
        executor.shutdown(cancel_futures=True)
    return out


def _map_dask(
    address: str,
    run: Task[R],
    scenarios: Sequence[ResolvedScenario],
    reps: Sequence[int],
    events: bool,
    progress: ProgressCallback | None,
) -> list[R]:
    """Run the tasks on a Dask cluster; results come back in task order."""
    check_cluster_address(address)
    try:
        from dask.distributed import Client
    except ImportError:
        raise ClusterError(
            "--cluster needs dask.distributed: pip install 'caseflow[dask]'"
        ) from None
    try:
        client = Client(address, timeout=DASK_CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    except ValueError as exc:  # an address Dask's own parser refuses
        raise ClusterError(f"--cluster {address}: not a Dask scheduler address ({exc})") from None
    except Exception as exc:  # something answered that is not a Dask scheduler
        raise ClusterError(
            f"cannot use {address} as a Dask scheduler ({type(exc).__name__}: {exc}); "
            "is it one, and is the address as the scheduler printed it?"
        ) from None
    out: list[R] = []
    with client:
        futures = client.map(run, list(scenarios), list(reps), [events] * len(reps), pure=False)
        for future in futures:
            out.append(future.result())
            if progress:
                progress(len(out), len(futures))
    return out
