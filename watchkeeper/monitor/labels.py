"""Ground truth in: labels joined to kept predictions by id, performance recomputed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.analyser import Analyser
from watchkeeper.monitor.windows import Windows
from watchkeeper.store import Store, WindowKey
from watchkeeper.units import to_timestamps

__all__ = ["LabelJoin", "LabelReport"]


@dataclass(frozen=True)
class LabelReport:
    """What ``log_labels`` did: labels joined, and ids it could not use."""

    received: int
    joined: int
    unknown_ids: tuple[str, ...]
    duplicate_ids: tuple[str, ...]
    windows_updated: int


class LabelJoin:
    """Joins labels to the stored predictions of one model version and rewrites the
    performance of every closed window (and coarser window) they fell in.

    Parameters
    ----------
    store, model, version
        Where predictions and labels are kept.
    windows
        Which base windows are still open (their performance is computed when they close)
        and the analysed window sizes.
    analyser
        Rewrites a window's performance points.
    now
        The clock: the time of labels given without one.

    Notes
    -----
    Predictions must be saved before the join (the Monitor saves its pending ones
    first). An id with no kept prediction is unknown; an id labelled before (or twice in
    one call) keeps its first label and is a duplicate.
    """

    def __init__(
        self,
        store: Store,
        model: str,
        version: str,
        windows: Windows,
        analyser: Analyser,
        *,
        now: Callable[[], float],
    ) -> None:
        self.store = store
        self.model = model
        self.version = version
        self.windows = windows
        self.analyser = analyser
        self.now = now

    def join(self, ids: Any, labels: Any, timestamps: Any = None) -> LabelReport:
        """Join ``labels`` to the predictions ``ids`` (labelled at ``timestamps``).

        Raises
        ------
        ConfigError
            Not one label per id.
        """
        id_list = [str(i) for i in (ids.tolist() if hasattr(ids, "tolist") else ids)]
        values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
        if len(values) != len(id_list):
            raise ConfigError(
                f"labels: {len(values)} labels for {len(id_list)} ids; expected one per id",
                field="labels",
                value=len(values),
                expected=str(len(id_list)),
            )
        texts = _inputs.as_texts(np.array(values, dtype=object), len(values))
        ts = to_timestamps(timestamps, len(id_list), self.now())
        seen: set[str] = set()
        duplicates: list[str] = []
        rows: list[tuple[str, str, float]] = []
        for pid, text, t in zip(id_list, texts, ts.tolist(), strict=True):
            if text is None:
                continue
            if pid in seen:
                duplicates.append(pid)
                continue
            seen.add(pid)
            rows.append((pid, text, t))
        found = self.store.find_predictions(self.model, [r[0] for r in rows])
        unknown = [r[0] for r in rows if r[0] not in found]
        known = [r for r in rows if r[0] in found]
        new = set(self.store.save_labels(self.model, known))
        duplicates += [r[0] for r in known if r[0] not in new]
        keys: set[WindowKey] = set()
        for pid in new:
            p = found[pid]
            if p.version != self.version:
                continue
            for seconds in self.windows.config.sizes:
                start = self.windows.start_of(p.timestamp, seconds)
                keys.add(WindowKey(self.model, self.version, start, seconds))
        updated = 0
        base = self.windows.config.window_seconds
        for key in sorted(keys, key=lambda k: (k.seconds, k.start)):
            if key.seconds == base and self.windows.is_open(key.start):
                continue  # analysed with its labels when it closes
            updated += self.analyser.relabel(key)
        return LabelReport(
            received=len(id_list),
            joined=len(new),
            unknown_ids=tuple(unknown),
            duplicate_ids=tuple(duplicates),
            windows_updated=updated,
        )
