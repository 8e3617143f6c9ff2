"""Random streams: one ``numpy.random.Generator`` per random process.

Each stream is keyed by the scenario seed, the replication number and the process's name, so
that two scenarios differing only in staffing draw the same arrivals and the same households
(common random numbers), adding a new stream never shifts an old one, and a replication's
numbers do not depend on which worker runs it or in what order.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit number for a stream name (``hash()`` is salted per process; crc32 is not)."""
    return zlib.crc32(name.encode("utf-8"))


def make_stream(seed: int, replication: int, name: str, *extra: int) -> np.random.Generator:
    """The generator of stream ``name`` in ``replication`` of a run seeded with ``seed``."""
    sequence = np.random.SeedSequence(
        entropy=seed, spawn_key=(replication, stream_key(name), *extra)
    )
    return np.random.Generator(np.random.PCG64(sequence))


class Streams:
    """The named streams of one replication, created on first use."""

    def __init__(self, seed: int, replication: int) -> None:
        self.seed = seed
        self.replication = replication
        self._cache: dict[tuple[str, tuple[int, ...]], np.random.Generator] = {}

    def get(self, name: str, *extra: int) -> np.random.Generator:
        key = (name, extra)
        rng = self._cache.get(key)
        if rng is None:
            rng = make_stream(self.seed, self.replication, name, *extra)
            self._cache[key] = rng
        return rng
