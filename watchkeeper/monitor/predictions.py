"""Predictions with ids, kept until saved so late labels can be joined to them."""

from __future__ import annotations

import functools
import itertools
import logging
import math
import threading
from collections.abc import Sequence

import numpy as np

from watchkeeper._batch import Columns
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import _inputs
from watchkeeper.monitor.analysis import Task
from watchkeeper.monitor.background import Background
from watchkeeper.store import Prediction, Store

__all__ = ["CHUNK", "MAX_CHUNKS", "PendingPredictions"]

log = logging.getLogger("watchkeeper.monitor")

CHUNK = 10_000
"""Kept predictions handed off to be saved at once (and at every window close or tick)."""
MAX_CHUNKS = 4
"""Handed-off chunks not yet saved before the caller waits for the saving to catch up:
at most ``CHUNK * (MAX_CHUNKS + 1)`` kept predictions are in memory whatever the traffic."""


class PendingPredictions:
    """Predictions logged with an id and not yet saved.

    They are saved in chunks off the caller's thread: every :data:`CHUNK` predictions,
    and whenever a window closes or time passes (``tick``), the kept ones are handed to
    the background; before labels are joined, :meth:`save` saves them all.

    Parameters
    ----------
    model, version
        Whose predictions.
    store
        Where they are saved.
    background
        Where chunks are saved, in order with the windows' analyses.
    chunk, max_chunks
        The bound on memory: see :data:`CHUNK` and :data:`MAX_CHUNKS`.

    Notes
    -----
    A ``seq`` (write-ahead-log record) stays in :attr:`unsaved_seq` until every
    prediction it carried is in the store; a chunk whose save fails is kept and handed
    off again with the next one (the failure is logged), so nothing acknowledged is lost.

    Examples
    --------
    >>> from watchkeeper.store import MemoryStore
    >>> background = Background("example")
    >>> pending = PendingPredictions("m", "1", MemoryStore(), background)
    >>> cols = {"prediction": np.array(["yes", "no"], dtype=object)}
    >>> pending.keep(cols, ["a", None], np.array([1.0, 2.0]), Task(prediction="prediction"), 3)
    >>> len(pending), pending.unsaved_seq
    (1, 3)
    >>> pending.save()
    >>> len(pending), pending.unsaved_seq
    (0, None)
    >>> background.close()
    """

    def __init__(
        self,
        model: str,
        version: str,
        store: Store,
        background: Background,
        *,
        chunk: int = CHUNK,
        max_chunks: int = MAX_CHUNKS,
    ) -> None:
        self.model = model
        self.version = version
        self.store = store
        self.background = background
        self.chunk = chunk
        self.max_chunks = max_chunks
        self.save_errors = 0
        """Chunks whose save failed (they are kept and saved again)."""
        self._pending: list[Prediction] = []
        self._seq: int | None = None
        # chunks handed off and not saved yet, by token: (predictions, lowest seq)
        self._inflight: dict[int, tuple[list[Prediction], int | None]] = {}
        self._failed: list[int] = []
        self._tokens = itertools.count()
        self._lock = threading.Lock()
        self._saved = threading.Condition(self._lock)
        self._queued = 0  # chunks submitted and not yet tried

    def __len__(self) -> int:
        """Kept predictions not saved yet (kept here or handed off)."""
        with self._lock:
            return len(self._pending) + sum(len(c) for c, _ in self._inflight.values())

    @property
    def unsaved_seq(self) -> int | None:
        """The lowest ``seq`` of a kept prediction not saved yet; ``None``: none."""
        with self._lock:
            seqs = [self._seq, *(s for _, s in self._inflight.values())]
        return min((s for s in seqs if s is not None), default=None)

    def keep(
        self,
        columns: Columns,
        ids: Sequence[str | None],
        ts: np.ndarray,
        task: Task,
        seq: int | None = None,
        *,
        segments: Sequence[str | None] | None = None,
    ) -> None:
        """Keep (id, time, prediction, score, and the row's ``segments`` when given) of
        every row with an id; every :data:`CHUNK` of them are handed off to be saved.

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
                        None if segments is None else segments[i],
                    )
                )
        if seq is not None and len(self._pending) > before:
            with self._lock:
                self._seq = seq if self._seq is None else min(self._seq, seq)
        if len(self._pending) >= self.chunk:
            self.hand_off()

    def hand_off(self) -> None:
        """Hand the kept predictions (and the chunks whose save failed) to the background
        to be saved; when too many chunks wait already, first wait for the saving to catch
        up (the memory bound)."""
        with self._saved:
            if self._pending and not self.background.is_worker():
                # only the saves are waited for, not the analyses queued between them
                self._saved.wait_for(lambda: self._queued < self.max_chunks)
            tokens, self._failed = self._failed, []
            if self._pending:
                token = next(self._tokens)
                self._inflight[token] = (self._pending, self._seq)
                self._pending, self._seq = [], None
                tokens.append(token)
            self._queued += len(tokens)
        for token in tokens:
            self.background.submit(functools.partial(self._save_chunk, token))

    def save(self) -> None:
        """Save every kept prediction before returning (before a label join)."""
        self.hand_off()
        self.background.wait()

    def _save_chunk(self, token: int) -> None:
        with self._lock:
            predictions, _ = self._inflight[token]
        try:
            self.store.save_predictions(predictions)
        except Exception:
            self.save_errors += 1
            log.exception(
                "watchkeeper: saving %d kept predictions failed; kept to try again",
                len(predictions),
            )
            with self._saved:  # stays in flight: the next hand-off tries it again
                self._failed.append(token)
                self._queued -= 1
                self._saved.notify_all()
            return
        with self._saved:
            del self._inflight[token]
            self._queued -= 1
            self._saved.notify_all()
