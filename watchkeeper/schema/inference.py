"""Inferring a :class:`~watchkeeper.schema.spec.Schema` from a reference batch.

The rules are listed in :mod:`watchkeeper.schema`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from watchkeeper._batch import Column, Columns, Factorized, to_columns
from watchkeeper.errors import ColumnNotFoundError, SchemaError
from watchkeeper.schema.convert import missing_mask
from watchkeeper.schema.spec import KINDS, ColumnSpec, Schema
from watchkeeper.types import ColumnKind, ColumnRole

__all__ = ["infer_schema"]


def _infer_kind(name: str, column: Column, max_int_categories: int) -> ColumnKind:
    # a sample of rows is enough to decide a kind
    arr = column.materialize(10_000) if isinstance(column, Factorized) else column
    kind = arr.dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        n_distinct = len(np.unique(arr))
        return "categorical" if n_distinct <= max_int_categories else "numeric"
    if kind == "f":
        if np.isnan(arr).all():
            raise _uninferable(name)
        return "numeric"
    if kind == "M":
        return "datetime"
    if kind in "US":
        arr = arr.astype(object)
    values = arr[~missing_mask(arr)]
    if values.size == 0:
        raise _uninferable(name)
    votes: dict[ColumnKind, int] = {}
    strings: list[str] = []
    for v in values[:10_000]:  # a sample is enough to decide a kind
        if isinstance(v, bool | np.bool_):
            k: ColumnKind = "boolean"
        elif isinstance(v, int | np.integer | float | np.floating):
            k = "numeric"
        elif isinstance(v, _dt.date | np.datetime64):
            k = "datetime"
        elif isinstance(v, str):
            k = "categorical"
            strings.append(v)
        else:
            k = "categorical"
        votes[k] = votes.get(k, 0) + 1
    winner = max(votes, key=lambda kk: votes[kk])
    if winner == "numeric":
        nums = np.array(
            [
                v
                for v in values[:10_000]
                if isinstance(v, int | float | np.number) and not isinstance(v, bool)
            ],
            dtype=np.float64,
        )
        integral = bool(np.all(np.isfinite(nums) & (nums == np.round(nums))))
        if integral and len(np.unique(nums)) <= max_int_categories:
            return "categorical"
        return "numeric"
    if winner == "categorical" and strings:
        n_distinct = len(set(strings))
        median_len = float(np.median([len(s) for s in strings]))
        if median_len >= 30 or (n_distinct > 50 and n_distinct > 0.5 * len(strings)):
            return "text"
    return winner


def _uninferable(name: str) -> SchemaError:
    return SchemaError(
        f"column {name!r}: cannot infer a kind from a column with no values; "
        "expected a declared kind (one of: " + ", ".join(KINDS) + ")",
        field=name,
        value=None,
        expected="a declared kind",
    )


def infer_schema(
    data: Any,
    *,
    kinds: Mapping[str, ColumnKind] | None = None,
    roles: Mapping[str, ColumnRole] | None = None,
    max_int_categories: int = 10,
) -> Schema:
    """Infer a schema from a batch; declared ``kinds`` and ``roles`` override inference.

    Parameters
    ----------
    data
        Any container :func:`watchkeeper._batch.to_columns` accepts.
    kinds
        Declared kinds by column name; these columns are not inferred.
    roles
        Roles by column name; other columns are features.
    max_int_categories
        Integer columns with at most this many distinct values are categorical.

    Examples
    --------
    >>> import numpy as np
    >>> s = infer_schema({"age": np.arange(100.0), "stars": np.arange(100) % 5,
    ...                   "city": ["Oslo", "Rome"] * 50}, roles={"age": "feature"})
    >>> [(c.name, c.kind) for c in s]
    [('age', 'numeric'), ('stars', 'categorical'), ('city', 'categorical')]
    """
    if max_int_categories < 0:
        raise SchemaError(
            f"max_int_categories: expected an integer >= 0, got {max_int_categories!r}",
            field="max_int_categories",
            value=max_int_categories,
            expected="an integer >= 0",
        )
    columns: Columns
    columns, n_rows = to_columns(data)
    kinds = dict(kinds or {})
    roles = dict(roles or {})
    for name in [*kinds, *roles]:
        if name not in columns:
            raise ColumnNotFoundError(
                f"column {name!r}: declared but not in the data; expected one of: "
                + ", ".join(columns),
                field=name,
                value=name,
                expected=", ".join(columns),
            )
    specs = []
    for name, arr in columns.items():
        kind = kinds.get(name) or _infer_kind(name, arr, max_int_categories)
        specs.append(ColumnSpec(name, kind, roles.get(name, "feature")))
    if not specs:
        raise SchemaError(
            "batch: no columns to infer a schema from; expected at least one column",
            field="batch",
            value=n_rows,
            expected="at least one column",
        )
    return Schema(tuple(specs))
