"""Helpers of :mod:`watchkeeper.profile.segments`: validated batches cut and joined, and
reference layouts as JSON-ready state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from watchkeeper.profile.dataset import ColumnLayout
from watchkeeper.schema import Encoded, ValidatedBatch
from watchkeeper.types import IntArray

__all__ = ["concat_batches", "layout_from_state", "layout_state", "take_rows"]


def concat_batches(batches: Sequence[ValidatedBatch]) -> ValidatedBatch:
    """One batch of the rows of several (their dictionaries merged into one)."""
    if len(batches) == 1:
        return batches[0]
    columns: dict[str, Any] = {}
    for name, first in batches[0].columns.items():
        parts = [b.columns[name] for b in batches]
        if isinstance(first, Encoded):
            encoded = [p for p in parts if isinstance(p, Encoded)]
            if all(p.values is first.values for p in encoded):
                columns[name] = Encoded(np.concatenate([p.codes for p in encoded]), first.values)
                continue
            offsets = np.cumsum([0, *(len(p.values) for p in encoded[:-1])])
            codes = np.concatenate(
                [
                    np.where(p.codes >= 0, p.codes + o, -1)
                    for p, o in zip(encoded, offsets, strict=True)
                ]
            )
            # one dictionary of distinct values, so each profile loops over each value once
            text = np.concatenate([p.values for p in encoded]).astype(str)
            values, inverse = np.unique(text, return_inverse=True)
            mapped = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1)
            columns[name] = Encoded(mapped, values.astype(object))
        else:
            columns[name] = np.concatenate([np.asarray(p) for p in parts])
    return ValidatedBatch(sum(b.n_rows for b in batches), columns)


def take_rows(batch: ValidatedBatch, idx: IntArray) -> ValidatedBatch:
    columns: dict[str, Any] = {}
    for name, data in batch.columns.items():
        columns[name] = (
            Encoded(data.codes[idx], data.values) if isinstance(data, Encoded) else data[idx]
        )
    return ValidatedBatch(len(idx), columns)


def layout_state(layout: Mapping[str, ColumnLayout]) -> dict[str, Any]:
    return {
        name: {
            "edges": None if lay.get("edges") is None else np.asarray(lay["edges"]).tolist(),
            "categories": lay.get("categories"),
        }
        for name, lay in layout.items()
    }


def layout_from_state(state: Mapping[str, Any]) -> dict[str, ColumnLayout]:
    return {
        name: {
            "edges": None if lay["edges"] is None else np.asarray(lay["edges"], dtype=np.float64),
            "categories": lay["categories"],
        }
        for name, lay in state.items()
    }
