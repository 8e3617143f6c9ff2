"""Random streams: one ``numpy.random.Generator`` per random process.

Each stream is keyed by the scenario seed, the replication number and the process's name, so
that two scenarios differing only in staffing draw the same arrivals and the same households
(common random numbers), adding a new stream never shifts an old one, and a replication's
numbers do not depend on which worker runs it or in what order.

Draws keyed by an entity as well (a returning household's new episode) come from
:func:`keyed_uniforms`, a counter-based generator: the numbers are a hash of the key, so they
do not depend on the order in which entities ask for them either.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array

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


_TO_UNIT = 2.0**-53  # a 53-bit integer times this is a double in [0, 1)


def keyed_uniforms(
    seed: int, replication: int, name: str, key: tuple[int, ...], n: int
) -> array[float]:
    """``n`` uniforms in [0, 1) determined by (seed, replication, name, key) alone, as a
    compact array of doubles (a household's draws).

    The SHAKE-128 digest of the key, read as 64-bit words, each cut to its top 53 bits: a
    counter-based generator (the hash plays the part of the block cipher in Philox), about
    four times cheaper than creating a numpy generator for a handful of draws, which matters
    for a stream keyed by household and episode.
    """
    label = f"{seed}|{replication}|{name}|{'|'.join(map(str, key))}".encode()
    words = np.frombuffer(hashlib.shake_128(label).digest(8 * n), dtype="<u8")
    # exact: a 53-bit integer is a double, and the scaling is by a power of two
    return array("d", ((words >> 11) * _TO_UNIT).tobytes())


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
