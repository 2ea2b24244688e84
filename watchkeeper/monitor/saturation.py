"""Saturation samples of a window, per service instance: the collector side of
:mod:`watchkeeper.sdk.resources`.

A service reports its process's resources as ``log_metric`` values named after the
saturation points (:data:`watchkeeper.metrics.SATURATION`) and tagged ``instance_id``;
they travel the custom-signal path (the SDK's signals body, the write-ahead log,
:meth:`Monitor.log_signals <watchkeeper.monitor.Monitor.log_signals>`) and are folded
here, in the window's state, instead of among the custom series. Each (instance, point)
keeps the count, sum, minimum and maximum of its samples, so windows and partials from
several collectors merge exactly; the analysis writes the ``mean`` and ``max`` of each.

The instances a window keeps are bounded (:data:`MAX_INSTANCES`): the table holds the
instances whose ids sort first, the rest are folded into :data:`OTHER`, so whatever the
order samples and partials arrive in, the same instances are kept (merge is commutative
and associative) and a fleet of short-lived processes cannot grow memory or labels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from watchkeeper.metrics import INSTANCE_LABEL, SATURATION

__all__ = ["INSTANCE_LABEL", "MAX_INSTANCES", "OTHER", "ResourceTable", "is_saturation"]

MAX_INSTANCES = 32
"""Instances kept per window (per model); samples of the others count under :data:`OTHER`."""
OTHER = "other"
UNKNOWN = "unknown"
"""The instance of a sample sent without an ``instance_id`` tag."""
_NAMES = frozenset(SATURATION)

Stats = list[float]
"""``[count, sum, min, max]`` of one point's samples."""


def _fold(into: Stats, row: Stats) -> None:
    into[0] += row[0]
    into[1] += row[1]
    into[2] = min(into[2], row[2])
    into[3] = max(into[3], row[3])


def is_saturation(name: str) -> bool:
    """Whether a metric name is a saturation point (kept per instance, not as custom).

    >>> is_saturation("process_cpu_utilisation"), is_saturation("server_load")
    (True, False)
    """
    return name in _NAMES


class ResourceTable:
    """``{instance: {point: [count, sum, min, max]}}`` for one window, bounded.

    Examples
    --------
    >>> table = ResourceTable()
    >>> for value in (0.2, 0.6):
    ...     table.add("web-1", "process_cpu_utilisation", value)
    >>> [(name, labels["stat"], round(v, 3)) for name, labels, v in table.points()]
    [('process_cpu_utilisation', 'mean', 0.4), ('process_cpu_utilisation', 'max', 0.6)]
    """

    __slots__ = ("instances",)

    def __init__(self) -> None:
        self.instances: dict[str, dict[str, Stats]] = {}

    def __len__(self) -> int:
        return len(self.instances)

    def _slot(self, instance: str) -> dict[str, Stats]:
        """The instance's row, admitting it (and evicting the last-sorting kept instance
        to :data:`OTHER`) when it sorts among the first :data:`MAX_INSTANCES`."""
        table = self.instances
        row = table.get(instance)
        if row is not None:
            return row
        kept = [name for name in table if name != OTHER]
        if len(kept) < MAX_INSTANCES:
            return table.setdefault(instance, {})
        last = max(kept)
        if instance == OTHER or instance > last:
            return table.setdefault(OTHER, {})
        evicted = table.pop(last)
        other = table.setdefault(OTHER, {})
        for name, stats in evicted.items():
            self._merge_stats(other, name, stats)
        return table.setdefault(instance, {})

    @staticmethod
    def _merge_stats(row: dict[str, Stats], name: str, stats: Stats) -> None:
        mine = row.get(name)
        if mine is None:
            row[name] = list(stats)
        else:
            _fold(mine, stats)

    def add(self, instance: str, name: str, value: float) -> None:
        """Fold one sample of point ``name`` (a saturation point) from ``instance``."""
        self._merge_stats(self._slot(instance or UNKNOWN), name, [1.0, value, value, value])

    def merge(self, other: ResourceTable) -> ResourceTable:
        """A new table with both tables' samples."""
        out = ResourceTable()
        for src in (self, other):
            for instance, row in sorted(src.instances.items()):
                for name, stats in row.items():
                    out._merge_stats(out._slot(instance), name, stats)
        return out

    def to_json(self) -> dict[str, dict[str, Stats]]:
        """The table as JSON-ready data (the window state's header keeps it)."""
        return {instance: {k: list(v) for k, v in row.items()}
                for instance, row in self.instances.items()}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ResourceTable:
        """Read :meth:`to_json` output (``None`` or ``{}``: an empty table, as in window
        states written before saturation was kept)."""
        out = cls()
        for instance, row in (data or {}).items():
            out.instances[str(instance)] = {
                str(name): [float(x) for x in stats] for name, stats in row.items()
            }
        return out

    def points(self) -> Iterator[tuple[str, dict[str, str], float]]:
        """``(point, labels, value)``: the mean and max of each instance's samples."""
        for instance, row in sorted(self.instances.items()):
            for name in SATURATION:
                stats = row.get(name)
                if stats is None or not stats[0]:
                    continue
                mean = stats[1] / stats[0]
                for stat, value in (("mean", mean), ("max", stats[3])):
                    if math.isfinite(value):
                        yield name, {INSTANCE_LABEL: instance, "stat": stat}, value
