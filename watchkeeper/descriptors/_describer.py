"""The describer of a schema: raw media columns of a batch in, descriptor columns out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from watchkeeper._batch import Columns, Factorized, to_columns
from watchkeeper.descriptors._per_value import is_missing
from watchkeeper.descriptors.audio import AudioDescriptors
from watchkeeper.descriptors.embedding import EmbeddingDescriptors
from watchkeeper.descriptors.image import ImageDescriptors
from watchkeeper.descriptors.text import TextDescriptors
from watchkeeper.errors import InvalidBatchError, WatchkeeperError
from watchkeeper.schema import Schema
from watchkeeper.types import FloatArray

__all__ = ["ColumnDescriptors", "Describer"]


class ColumnDescriptors(Protocol):
    """The descriptors of one kind of raw value (text, image, audio, embedding)."""

    kind: str
    names: tuple[str, ...]

    def fit(self, reference: Sequence[Any]) -> ColumnDescriptors:
        """Learn what the descriptors compare against (a vocabulary, a dimension)."""
        ...

    def transform(self, values: Sequence[Any]) -> dict[str, FloatArray]:
        """One float array per descriptor name."""
        ...

    def one(self, value: Any) -> dict[str, float]:
        """The descriptors of one value."""
        ...

    def is_one(self, value: Any) -> bool:
        """Whether ``value`` is one raw value rather than a column of them."""
        ...


def _part(kind: str, names: tuple[str, ...]) -> ColumnDescriptors:
    if kind == "text":
        return TextDescriptors(names=names)
    if kind == "image":
        return ImageDescriptors(names=names)
    if kind == "audio":
        return AudioDescriptors(names=names)
    return EmbeddingDescriptors(names=names)


def _values(column: Any) -> list[Any]:
    """A raw column as a list of its values (a 2-D array: one row per value)."""
    if isinstance(column, Factorized):
        return list(column.materialize())
    if hasattr(column, "to_numpy") and not isinstance(column, np.ndarray):
        return list(column.to_numpy())
    return list(column)


class Describer:
    """Replace the raw media columns of batches by their descriptor columns.

    Built from a schema's descriptor columns (:meth:`Schema.described`); the raw column
    ``photo`` of a batch becomes ``photo.width``, ``photo.brightness``, ... (a text
    column is kept beside its descriptors). Batches without the raw columns (already
    described, e.g. by the SDK) pass through unchanged, so describing twice is harmless.

    Parameters
    ----------
    described
        ``{column: (kind, descriptor names)}``.

    Examples
    --------
    >>> import numpy as np
    >>> schema = Schema.from_dict({"img": {"kind": "image", "descriptors": ["width"]},
    ...                            "x": "numeric"})
    >>> d = Describer.for_schema(schema)
    >>> d({"img": np.zeros((2, 5), np.uint8), "x": 1.0})
    {'x': 1.0, 'img.width': 5.0}
    >>> cols = d({"img": [np.zeros((2, 3), np.uint8), None], "x": [1.0, 2.0]})
    >>> sorted(cols), cols["img.width"].tolist()
    (['img.width', 'x'], [3.0, nan])
    """

    def __init__(self, described: Mapping[str, tuple[str, tuple[str, ...]]]) -> None:
        self.parts: dict[str, ColumnDescriptors] = {
            src: _part(kind, names) for src, (kind, names) in described.items()
        }
        self._keep = {src for src, (kind, _) in described.items() if kind == "text"}

    @classmethod
    def for_schema(cls, schema: Schema | Mapping[str, Any] | None) -> Describer | None:
        """The describer of a schema (or its ``from_dict`` form); ``None`` when it
        declares no descriptors."""
        if schema is None:
            return None
        if not isinstance(schema, Schema):
            schema = Schema.from_dict(schema)
        described = schema.described()
        return cls(described) if described else None

    def fit(self, reference: Any) -> Describer:
        """Learn from the raw reference what the descriptors compare against (the text
        vocabulary, the embedding dimension); columns it lacks are left as they were."""
        for src, part in self.parts.items():
            values = self._raw(reference, src)
            if values is not None:
                part.fit(values)
        return self

    def __call__(self, features: Any) -> Any:
        """``features`` with its raw media replaced by descriptors: one row (a mapping
        with one raw value) gives a row of floats, a batch gives a mapping of columns;
        without raw media columns it is returned as it is."""
        present = self._raw_columns(features)
        if not present:
            return features
        if isinstance(features, Mapping) and any(
            self.parts[s].is_one(features[s]) or is_missing(features[s]) for s in present
        ):
            row = {k: v for k, v in features.items() if k not in present or k in self._keep}
            for src in present:
                described = self._transform(src, [features[src]])
                row.update((f"{src}.{k}", float(v[0])) for k, v in described.items())
            return row
        return self.columns(features, present)

    def columns(self, batch: Any, present: Sequence[str] | None = None) -> Columns:
        """A batch as columns, its raw media replaced by descriptor columns."""
        if present is None:
            present = self._raw_columns(batch)
        raw = {src: self._raw(batch, src) for src in present}
        drop = [src for src in present if src not in self._keep]
        if isinstance(batch, Mapping):
            rest: Any = {k: v for k, v in batch.items() if k not in drop}
        elif hasattr(batch, "drop") and hasattr(batch, "columns"):  # a DataFrame
            rest = batch.drop(columns=drop)
        else:
            rest = [{k: v for k, v in row.items() if k not in drop} for row in batch]
        columns, _ = to_columns(rest) if len(rest) else ({}, 0)
        for src, values in raw.items():
            for name, column in self._transform(src, values or []).items():
                columns[f"{src}.{name}"] = column
        return columns

    def _transform(self, src: str, values: Sequence[Any]) -> dict[str, FloatArray]:
        try:
            return self.parts[src].transform(values)
        except WatchkeeperError as exc:  # name the column, keep the facts
            raise InvalidBatchError(
                f"column {src!r}: {exc.message}", field=src, value=exc.value, expected=exc.expected
            ) from exc

    def _raw_columns(self, batch: Any) -> list[str]:
        """The described columns whose raw values ``batch`` holds and has not described
        yet (a text column stays beside its descriptors)."""
        return [
            src
            for src, part in self.parts.items()
            if self._has(batch, src) and not self._has(batch, f"{src}.{part.names[0]}")
        ]

    def _has(self, batch: Any, src: str) -> bool:
        if isinstance(batch, Mapping):
            return src in batch
        if hasattr(batch, "columns"):
            return src in batch.columns
        if isinstance(batch, Sequence) and batch and isinstance(batch[0], Mapping):
            return src in batch[0]
        return False

    def _raw(self, batch: Any, src: str) -> list[Any] | None:
        if not self._has(batch, src):
            return None
        if isinstance(batch, Mapping) or hasattr(batch, "columns"):
            return _values(batch[src])
        return [row.get(src) for row in batch]
