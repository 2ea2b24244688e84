"""The Monitor's embedding part: drift of each embedding column's distribution per window.

An embedding column ``emb`` declared ``{"kind": "embedding"}`` reaches windows as its
descriptor columns (``emb.norm``, ``emb.proj1`` ...), never as raw vectors. For each such
column, the rows of a window's sample (``WindowState.sample``) on those descriptors are
compared with the reference sample's by :class:`~watchkeeper.stats.embedding.EmbeddingDrift`
(MMD² with a seeded permutation null at the drift false-alarm rate), fitted once per
reference. Windows whose sample holds fewer than ``MIN_ROWS`` usable rows are skipped.

The samples are the monitor's reservoirs: :func:`embedding_config` turns one on
(``RESERVOIR_ROWS`` rows) when the schema declares an embedding column and no
``reservoir_size`` was given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from watchkeeper.monitor.analysis import ReferenceContext
from watchkeeper.monitor.config import RESERVOIR_ROWS, MonitorConfig
from watchkeeper.monitor.window import WindowState
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.schema import Schema
from watchkeeper.stats.embedding import EmbeddingDrift, EmbeddingDriftResult
from watchkeeper.store.base import MetricPoint, WindowKey

__all__ = ["MIN_ROWS", "EmbeddingWindowDrift", "embedding_columns", "embedding_config"]

MIN_ROWS = 30
"""Usable sampled rows a window (and the reference) needs for a verdict."""


def embedding_columns(schema: Schema | Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """``{embedding column: its descriptor columns}`` of a declared schema.

    >>> embedding_columns({"emb": {"kind": "embedding"}, "x": "numeric"})["emb"][0]
    'emb.norm'
    """
    if schema is None:
        return {}
    if not isinstance(schema, Schema):
        schema = Schema.from_dict(schema)
    return {
        src: tuple(f"{src}.{name}" for name in names)
        for src, (kind, names) in schema.described().items()
        if kind == "embedding"
    }


def embedding_config(
    config: MonitorConfig, embeddings: Mapping[str, Any], *, reservoir_given: bool
) -> MonitorConfig:
    """``config`` with a ``RESERVOIR_ROWS`` reservoir when there are embedding columns,
    no reservoir and none was asked for (``reservoir_given``); else ``config``."""
    if not embeddings or reservoir_given or config.reservoir_size:
        return config
    return dataclasses.replace(config, reservoir_size=RESERVOIR_ROWS)


def _rows(sample: Reservoir, columns: tuple[str, ...]) -> np.ndarray:
    cols = sample.columns()
    n = len(sample)
    x = np.column_stack(
        [
            np.asarray(cols[c], dtype=np.float64) if c in cols else np.full(n, np.nan)
            for c in columns
        ]
    )
    out: np.ndarray = x[np.isfinite(x).all(axis=1)]
    return out


class EmbeddingWindowDrift:
    """Embedding drift verdicts of windows (module docstring).

    Parameters
    ----------
    columns
        ``{embedding column: its descriptor columns}`` (:func:`embedding_columns`).
    false_alarm_rate
        α of each verdict.
    seed
        Seed of the tests' subsamples and permutations.
    """

    def __init__(
        self, columns: Mapping[str, tuple[str, ...]], false_alarm_rate: float, seed: int = 0
    ) -> None:
        self.columns = dict(columns)
        self.false_alarm_rate = false_alarm_rate
        self.seed = seed
        self._fitted: dict[tuple[int, str], EmbeddingDrift | None] = {}

    def _fit(self, ref_id: int, ref_sample: Reservoir, col: str) -> EmbeddingDrift | None:
        key = (ref_id, col)
        if key not in self._fitted:
            x = _rows(ref_sample, self.columns[col])
            test = None
            if len(x) >= MIN_ROWS:
                test = EmbeddingDrift(false_alarm_rate=self.false_alarm_rate, seed=self.seed)
                test.fit(x)
            self._fitted[key] = test
        return self._fitted[key]

    def results(
        self, ref_id: int, ref_sample: Reservoir | None, sample: Reservoir | None
    ) -> dict[str, EmbeddingDriftResult]:
        """``{embedding column: verdict}`` of a window's sample against the reference's;
        columns without ``MIN_ROWS`` usable rows on either side are left out."""
        if ref_sample is None or sample is None:
            return {}
        out: dict[str, EmbeddingDriftResult] = {}
        for col, names in self.columns.items():
            test = self._fit(ref_id, ref_sample, col)
            x = _rows(sample, names)
            if test is not None and len(x) >= MIN_ROWS:
                out[col] = test.test(x)
        return out

    def points(
        self, state: WindowState, key: WindowKey, reference: ReferenceContext | None
    ) -> list[MetricPoint]:
        """``embedding_drift``, ``embedding_drift_threshold`` and ``embedding_drifted``
        of a window, one of each per embedding column (label ``feature``)."""
        if reference is None:
            return []
        out: list[MetricPoint] = []
        for col, r in self.results(reference.id, reference.sample, state.sample).items():
            for name, value in (
                ("embedding_drift", r.statistic),
                ("embedding_drift_threshold", r.threshold),
                ("embedding_drifted", float(r.drifted)),
            ):
                out.append(
                    MetricPoint(
                        key.model,
                        key.version,
                        key.start,
                        key.seconds,
                        name,
                        value,
                        {"feature": col},
                        reference.id,
                    )
                )
        return out
