"""Shared plumbing of the drift methods: checks, proportions, raw arrays to counts or floats."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.binning import bin_counts, quantile_edges
from watchkeeper.errors import IncompatibleProfilesError, InvalidBatchError
from watchkeeper.stats.drift._base import CdfPair, DriftMethod, MethodResult
from watchkeeper.types import FloatArray, IntArray

__all__ = [
    "binned_method",
    "check_cdf_pair",
    "check_counts",
    "check_sizes",
    "numeric_side",
    "proportions",
    "raw_numeric",
    "raw_to_counts",
]


def check_counts(ref: npt.ArrayLike, cur: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Validate one pair of aligned count vectors; empty sides raise InvalidBatchError."""
    r = np.asarray(ref, dtype=np.float64)
    c = np.asarray(cur, dtype=np.float64)
    if r.shape != c.shape:
        raise IncompatibleProfilesError(
            f"counts: reference has {r.shape[-1]} slots and current {c.shape[-1]}; "
            "expected the same bins or categories",
            field="counts",
            value=(r.shape[-1], c.shape[-1]),
            expected="equal lengths",
        )
    check_sizes(int(r.sum()), int(c.sum()))
    return r, c


def check_sizes(n_ref: int, n_cur: int) -> None:
    """Raise InvalidBatchError naming the side with no values."""
    if n_ref <= 0 or n_cur <= 0:
        side = "reference" if n_ref <= 0 else "current"
        raise InvalidBatchError(
            f"{side}: no values to compare; expected at least one value",
            field=side,
            value=0,
            expected="a non-empty sample",
        )


def check_cdf_pair(pair: CdfPair) -> None:
    """Raise on an empty side, or on a grid and CDFs that are not one shared length.

    Shared by the ``"cdf"`` methods (KS and Wasserstein).
    """
    check_sizes(pair.n_ref, pair.n_cur)
    shapes = (np.shape(pair.grid), np.shape(pair.cdf_ref), np.shape(pair.cdf_cur))
    if len(set(shapes)) != 1 or len(shapes[0]) != 1 or shapes[0][0] == 0:
        raise IncompatibleProfilesError(
            f"cdfs: grid has shape {shapes[0]}, cdf_ref {shapes[1]} and cdf_cur {shapes[2]}; "
            "expected three non-empty vectors of one length",
            field="cdfs",
            value=shapes,
            expected="three non-empty vectors of one length",
        )


def numeric_side(values: object, side: str) -> FloatArray:
    """Finite float values of one raw side (NaN and inf dropped).

    Shared by the ``"cdf"`` methods. Input that is not numeric raises
    :class:`~watchkeeper.errors.InvalidBatchError` naming the side, as does a side with
    no finite value.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        dtype = np.asarray(values).dtype
        raise InvalidBatchError(
            f"{side}: expected numeric values, got an array of dtype {dtype}",
            field=side,
            value=str(dtype),
            expected="numbers",
        ) from exc
    return raw_numeric(arr, side)


def proportions(counts: npt.ArrayLike) -> FloatArray:
    """Counts over the last axis divided by their total (0 for an all-zero row)."""
    arr = np.asarray(counts, dtype=np.float64)
    total = arr.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, arr / np.where(total > 0, total, 1.0), 0.0)


def raw_numeric(values: Any, side: str) -> FloatArray:
    """Finite float values of a raw numeric array (NaN and inf are ignored)."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        raise InvalidBatchError(
            f"{side}: no finite values to compare; expected at least one",
            field=side,
            value=0,
            expected="a non-empty sample",
        )
    return arr


def raw_to_counts(reference: Any, current: Any) -> tuple[IntArray, IntArray]:
    """Raw arrays to aligned counts: reference quantile bins, or the union of categories.

    Numeric arrays (float/int dtype) are binned with :func:`watchkeeper.binning.quantile_edges`
    of the reference; other arrays are categories (``None`` values are ignored).
    """
    ref = np.asarray(reference)
    cur = np.asarray(current)
    if ref.dtype.kind in "fiub" and cur.dtype.kind in "fiub":
        r = raw_numeric(ref, "reference")
        c = raw_numeric(cur, "current")
        edges = quantile_edges(r)
        return bin_counts(r, edges), bin_counts(c, edges)
    r_vals = np.array([v for v in ref.tolist() if v is not None], dtype=object)
    c_vals = np.array([v for v in cur.tolist() if v is not None], dtype=object)
    cats = sorted(set(r_vals.tolist()) | set(c_vals.tolist()), key=str)
    index = {v: i for i, v in enumerate(cats)}
    r_counts = np.bincount([index[v] for v in r_vals], minlength=len(cats)).astype(np.int64)
    c_counts = np.bincount([index[v] for v in c_vals], minlength=len(cats)).astype(np.int64)
    return r_counts, c_counts


def binned_method(
    *,
    name: str,
    display_name: str,
    effect_floor: float,
    kernel: Any,
    p_value: Any = None,
    effect: Any = None,
) -> Any:
    """Build a ``"counts"`` :class:`DriftMethod` from its vectorised kernel.

    ``p_value(ref, cur, statistic)`` and ``effect(ref, cur, statistic)`` are optional;
    without ``effect`` the effect is the statistic.
    """

    def from_counts(ref: IntArray, cur: IntArray) -> MethodResult:
        r, c = check_counts(ref, cur)
        stat = float(kernel(r, c))
        return MethodResult(
            statistic=stat,
            p_value=None if p_value is None else float(p_value(r, c, stat)),
            effect=stat if effect is None else float(effect(r, c, stat)),
        )

    def exact(reference: object, current: object) -> MethodResult:
        return from_counts(*raw_to_counts(reference, current))

    return DriftMethod(
        name=name,
        display_name=display_name,
        kinds=frozenset({"numeric", "categorical", "boolean", "text", "datetime"}),
        representation="counts",
        effect_floor=effect_floor,
        has_p_value=p_value is not None,
        exact=exact,
        from_counts=from_counts,
        counts_statistic=kernel,
    )
