"""Predictions with ids, kept until saved so late labels can be joined to them."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from watchkeeper._batch import Columns
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.analysis import Task
from watchkeeper.store import Prediction, Store

__all__ = ["PendingPredictions"]


class PendingPredictions:
    """Predictions logged with an id and not yet saved (they are saved when a window
    closes, and before labels are joined).

    Examples
    --------
    >>> from watchkeeper.store import MemoryStore
    >>> pending = PendingPredictions("m", "1")
    >>> cols = {"prediction": np.array(["yes", "no"], dtype=object)}
    >>> pending.keep(cols, ["a", None], np.array([1.0, 2.0]), Task(prediction="prediction"), 3)
    >>> len(pending), pending.unsaved_seq
    (1, 3)
    >>> pending.save(MemoryStore())
    >>> len(pending), pending.unsaved_seq
    (0, None)
    """

    def __init__(self, model: str, version: str) -> None:
        self.model = model
        self.version = version
        self._pending: list[Prediction] = []
        self._seq: int | None = None

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def unsaved_seq(self) -> int | None:
        """The lowest ``seq`` of a kept prediction not saved yet; ``None``: none."""
        return self._seq

    def keep(
        self,
        columns: Columns,
        ids: Sequence[str | None],
        ts: np.ndarray,
        task: Task,
        seq: int | None = None,
    ) -> None:
        """Keep (id, time, prediction, score) of every row with an id.

        Raises
        ------
        ConfigError
            Not one id per row.
        """
        n = len(ids)
        if n != len(ts):
            raise ConfigError(
                f"ids: {n} ids for {len(ts)} rows; expected one per row",
                field="ids",
                value=n,
                expected=str(len(ts)),
            )
        preds = _inputs.as_texts(columns.get(task.prediction or ""), n)
        scores = _inputs.as_floats(columns.get(task.score or ""), n)
        before = len(self._pending)
        for i, pid in enumerate(ids):
            if pid is not None:
                score = float(scores[i])
                self._pending.append(
                    Prediction(
                        self.model,
                        self.version,
                        pid,
                        float(ts[i]),
                        preds[i],
                        None if math.isnan(score) else score,
                    )
                )
        if seq is not None and len(self._pending) > before:
            self._seq = seq if self._seq is None else min(self._seq, seq)

    def save(self, store: Store) -> None:
        """Save every kept prediction."""
        if self._pending:
            store.save_predictions(self._pending)
            self._pending = []
        self._seq = None
