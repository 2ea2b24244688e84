"""Mergeable profiles: constant-memory summaries of batches of rows.

A profile summarises each column in memory that does not grow with the rows: counts,
missing values, moments, extremes, a KLL quantile sketch and a histogram on reference
bins for numbers; exact counts of tracked values, frequent others and an HLL cardinality
sketch for categories; lengths and emptiness for text. Profiles *merge*: the profile of
A + B equals ``merge(profile(A), profile(B))`` within the sketches' stated error, which
gives any window by merging smaller ones, and many processes or workers by merging their
partial profiles. Nothing here does I/O beyond (de)serialising bytes.

:func:`profile_table` profiles a whole table (a data frame or a mapping of columns) in
one call; :func:`profile_batches` profiles one batch at a time, for files larger than
memory.
"""

from __future__ import annotations

from watchkeeper.profile.categorical import CategoricalProfile
from watchkeeper.profile.dataset import ColumnLayout, ColumnProfile, DatasetProfile, profile_table
from watchkeeper.profile.numeric import NumericProfile
from watchkeeper.profile.stream import profile_batches, sketched_layout
from watchkeeper.profile.text import TextProfile

__all__ = [
    "CategoricalProfile",
    "ColumnLayout",
    "ColumnProfile",
    "DatasetProfile",
    "NumericProfile",
    "TextProfile",
    "profile_batches",
    "profile_table",
    "sketched_layout",
]
