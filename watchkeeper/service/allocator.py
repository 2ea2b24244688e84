"""How the collector's process asks glibc's ``malloc`` to hold memory, so its RSS stays
flat under a steady stream of writes.

A collector allocates and frees the same large buffers all day: request bodies and log
records of ~0.6 MB, the log's group writes, the store's parameter lists. Two defaults of
glibc turn that into growth, measured with the soak (``benchmarks/bench_soak.py``):

- the *dynamic mmap threshold*: a block above 128 KiB is first served by ``mmap`` and
  given back when freed, but freeing one raises the threshold to its size (up to 32 MiB),
  so every later body is carved from the heaps and their free space fragments (free
  bytes in the heaps grew 26 -> 41 MB in 3 minutes, the heaps 93 -> 110 MB, while the
  bytes in use stayed at ~68 MB);
- one *arena* per thread (up to 8 per core): a body decoded on one thread and freed on
  another returns to the first thread's arena, and each arena keeps its own free space.

:func:`tune_allocator` fixes the threshold (128 KiB, glibc's starting value: large
buffers come from ``mmap`` and go back on ``free``) and caps the arenas (2), once, when
the service starts and before its threads do. The same run then held its heaps at
67-70 MB and their free space at 6-9 MB. A ``malloc_trim`` after each window was tried
instead and did not stop the growth (the free space is scattered between live blocks).
Both settings are in the configuration (``allocator.mmap_threshold``,
``allocator.arenas``; ``null`` leaves glibc's default), and glibc's own environment
variables (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_ARENA_MAX``) win when they are set. On a
C library other than glibc nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from dataclasses import dataclass

__all__ = ["ARENAS", "MMAP_THRESHOLD", "AllocatorConfig", "tune_allocator"]

log = logging.getLogger("watchkeeper.server")

MMAP_THRESHOLD = 128 * 1024
"""Bytes from which ``malloc`` serves a block with ``mmap`` (glibc's starting value,
kept fixed instead of rising with every large block freed)."""
ARENAS = 2
"""``malloc`` arenas, at most (glibc's default: 8 per core)."""
_M_MMAP_THRESHOLD = -3  # mallopt parameters, from glibc's malloc.h
_M_ARENA_MAX = -8
_ENVIRONMENT = {"mmap_threshold": "MALLOC_MMAP_THRESHOLD_", "arenas": "MALLOC_ARENA_MAX"}


@dataclass(frozen=True)
class AllocatorConfig:
    """The ``allocator`` settings: ``None`` leaves glibc's default."""

    mmap_threshold: int | None = MMAP_THRESHOLD
    arenas: int | None = ARENAS


def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018  (glibc only: musl has no such symbol)
        return libc
    except (OSError, AttributeError):
        return None


def tune_allocator(config: AllocatorConfig) -> dict[str, int]:
    """Apply ``config`` to this process's ``malloc`` (glibc only); returns what was set.

    A setting is skipped when it is ``None`` or when glibc's environment variable for
    it is set (the operator chose). Calling it again is harmless: the arena cap binds
    arenas made from then on, so it is called before the service starts its threads.

    Examples
    --------
    >>> tune_allocator(AllocatorConfig(mmap_threshold=None, arenas=None))
    {}
    """
    libc = _glibc()
    if libc is None:
        return {}
    done = {}
    for name, param, value in (
        ("mmap_threshold", _M_MMAP_THRESHOLD, config.mmap_threshold),
        ("arenas", _M_ARENA_MAX, config.arenas),
    ):
        if value is None or os.environ.get(_ENVIRONMENT[name]):
            continue
        if libc.mallopt(ctypes.c_int(param), ctypes.c_int(value)) == 1:
            done[name] = value
        else:  # not fatal: the collector works, its memory may creep
            log.warning("watchkeeper: mallopt(%s=%d) was refused", name, value)
    return done
