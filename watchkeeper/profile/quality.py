"""Data quality of a column profile against its reference's: missing values, values
outside the reference's range, categories the reference never saw.

Pure functions over profiles, shared by the monitor (per window) and the offline report
(two datasets), so both count a value as missing, out of range or new the same way.
"""

from __future__ import annotations

import math

import numpy as np

from watchkeeper.profile.categorical import CategoricalProfile
from watchkeeper.profile.numeric import NumericProfile
from watchkeeper.profile.text import TextProfile

__all__ = ["missing_ratio", "new_categories", "out_of_range_share"]


def missing_ratio(col: NumericProfile | CategoricalProfile | TextProfile) -> float:
    """Share of the column's rows that are missing (NaN and ±inf count as missing for a
    number); ``nan`` for a column with no rows.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> p = profile_table({"x": np.array([1.0, np.nan, 3.0, np.inf])})
    >>> missing_ratio(p.columns["x"])
    0.5
    """
    missing = col.missing + (col.non_finite if isinstance(col, NumericProfile) else 0)
    return missing / col.n_total if col.n_total else math.nan


def out_of_range_share(col: NumericProfile, ref: NumericProfile) -> float:
    """Share of the column's finite values below the reference's minimum or above its
    maximum; ``nan`` when either side has no finite value.

    Exact when ``col`` was profiled on the reference's own layout (its first and last
    slots then hold exactly those values); otherwise read off the quantile sketch, with
    its rank error.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> ref = profile_table({"x": np.arange(100.0)})
    >>> cur = profile_table({"x": np.array([-5.0, 10.0, 50.0, 150.0])}, reference=ref)
    >>> out_of_range_share(cur.columns["x"], ref.columns["x"])
    0.5
    """
    if not col.count or not ref.count:
        return math.nan
    if (
        col.bin_counts is not None
        and ref.edges is not None
        and col.edges is not None
        and np.array_equal(col.edges, ref.edges)
        and ref.edges[0] == ref.min
        and ref.edges[-1] == ref.max
    ):
        return float(col.bin_counts[0] + col.bin_counts[-1]) / col.count
    below, upto = col.cdf(np.array([np.nextafter(ref.min, -np.inf), ref.max]))
    return float(below + (1.0 - upto))


def new_categories(
    col: CategoricalProfile, ref: CategoricalProfile | None, *, limit: int = 1_000
) -> tuple[float, dict[str, int]]:
    """Share of the column's values that are not categories of the reference, and the new
    values the profile can name with their counts (up to ``limit``; exact counts for
    tracked values, the frequent-items sketch's estimates for the others).

    Examples
    --------
    >>> from watchkeeper.profile import profile_table
    >>> ref = profile_table({"c": ["a", "b"] * 50})
    >>> cur = profile_table({"c": ["a", "b", "z", "z"]}, reference=ref)
    >>> new_categories(cur.columns["c"], ref.columns["c"])
    (0.5, {'z': 2})
    """
    if ref is None or not col.count:
        return math.nan, {}
    known = set(ref.counts)
    new_mass = col.count - sum(n for c, n in col.counts.items() if c in known)
    named = {c: int(n) for c, n in col.counts.items() if n and c not in known}
    for value, n in col.top_other(limit):
        if value not in known and value not in named:
            named[value] = int(n)
    return new_mass / col.count, dict(list(named.items())[:limit])
