"""The engine-neutral core: profile a partition against a template, merge profile bytes.

A cluster never ships rows or Python objects between processes, only bytes:

1. the driver encodes a *template*, an empty :class:`~watchkeeper.profile.DatasetProfile`
   holding the schema, the reference layout (bins, categories) and ``k``
   (:func:`profile_template`);
2. each worker decodes it, adds its partition's rows and returns the profile's bytes
   (:func:`profile_partition`), or the bytes of the error that stopped it, so that a
   watchkeeper error raised on an executor reaches the driver whole, one line naming the
   field, the value and what was expected, whatever the engine wraps exceptions in;
3. the bytes are merged in a tree (:func:`merge_bytes` on workers, :func:`merge_profiles`
   on the driver, which holds about log2(partitions) profiles at a time).

Profiles merge exactly for counts, missing values, categories and bin counts on a fixed
layout; moments merge with Chan et al.'s pairwise update (equal to one pass within float
rounding); quantile sketches merge within their stated rank error. So the merged profile
equals the one-process profile of the same rows within those bounds, however the rows
were split. These functions would sit in :mod:`watchkeeper.profile` but that package is
kept free of engine concerns (error envelopes, column groups).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from watchkeeper import errors
from watchkeeper.errors import MissingExtraError, WatchkeeperError
from watchkeeper.profile import ColumnLayout, DatasetProfile, codec
from watchkeeper.profile.numeric import DEFAULT_K
from watchkeeper.schema import Schema

__all__ = [
    "import_engine",
    "join_columns",
    "merge_bytes",
    "merge_profiles",
    "profile_partition",
    "profile_template",
    "raise_if_error",
    "subset_template",
]

_ERROR_MAGIC = b"WKERROR1"


def import_engine(module: str, what: str, extra: str) -> Any:
    """Import an engine's optional ``module``, or raise the error naming its extra.

    Raises
    ------
    MissingExtraError
        ``module`` is not installed; ``what`` says what needs it (e.g. "the Spark engine
        needs pyspark"), ``extra`` is the watchkeeper extra that installs it.

    Examples
    --------
    >>> import_engine("json", "the JSON engine needs json", "json").__name__
    'json'
    >>> import_engine("no_such_module", "it needs that", "x")
    Traceback (most recent call last):
    ...
    watchkeeper.errors.MissingExtraError: it needs that: expected pip install "watchkeeper[x]"
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError.needs(what, extra, field="engine") from exc


def profile_template(
    schema: Schema, layout: Mapping[str, ColumnLayout] | None = None, *, k: int = DEFAULT_K
) -> bytes:
    """An empty profile on ``schema`` and ``layout``, as the bytes every worker starts from.

    Examples
    --------
    >>> from watchkeeper.schema import infer_schema
    >>> template = profile_template(infer_schema({"x": [1.0, 2.5]}))
    >>> DatasetProfile.from_bytes(template).n_rows
    0
    """
    return DatasetProfile(schema, layout=layout, k=k).to_bytes()


def _error_bytes(exc: WatchkeeperError) -> bytes:
    doc = {
        "type": type(exc).__name__,
        "message": exc.message,
        "field": exc.field,
        "value": None if exc.value is None else repr(exc.value),
        "expected": exc.expected,
    }
    return _ERROR_MAGIC + json.dumps(doc).encode()


def raise_if_error(part: bytes) -> bytes:
    """Raise the watchkeeper error carried by ``part``, if it carries one; else return it."""
    if bytes(part[: len(_ERROR_MAGIC)]) != _ERROR_MAGIC:
        return part
    doc = json.loads(bytes(part[len(_ERROR_MAGIC) :]))
    cls = getattr(errors, str(doc["type"]), WatchkeeperError)
    if not (isinstance(cls, type) and issubclass(cls, WatchkeeperError)):
        cls = WatchkeeperError
    raise cls(doc["message"], field=doc["field"], value=doc["value"], expected=doc["expected"])


def profile_partition(template: bytes, frames: Iterable[Any]) -> bytes:
    """Profile one partition, given as batches of rows, on ``template``; returns bytes.

    ``frames`` are pandas DataFrames, Arrow tables or column mappings (anything
    :meth:`DatasetProfile.update` takes); an empty iterable gives an empty profile. As in
    one process, values of the wrong type count as missing and are recorded in
    ``type_errors``. A watchkeeper error is returned as error bytes, which
    :func:`merge_profiles` raises on the driver.

    Examples
    --------
    >>> from watchkeeper.schema import infer_schema
    >>> template = profile_template(infer_schema({"x": [1.0, 2.5]}))
    >>> part = profile_partition(template, [{"x": [1.0, None]}, {"x": [3.0]}])
    >>> p = DatasetProfile.from_bytes(part)
    >>> p.n_rows, p.columns["x"].missing, p.columns["x"].count
    (3, 1, 2)
    """
    try:
        profile = DatasetProfile.from_bytes(template)
        for frame in frames:
            profile.update(frame)
        return profile.to_bytes()
    except WatchkeeperError as exc:
        return _error_bytes(exc)


def merge_bytes(parts: Iterable[bytes]) -> bytes:
    """Merge profile bytes into the bytes of one profile (a step of a tree reduce).

    The first error among ``parts`` is passed on instead. At least one part is needed.
    """
    merged: DatasetProfile | None = None
    for part in parts:
        if bytes(part[: len(_ERROR_MAGIC)]) == _ERROR_MAGIC:
            return bytes(part)
        profile = DatasetProfile.from_bytes(bytes(part))
        merged = profile if merged is None else merged.merge(profile)
    if merged is None:
        raise ValueError("merge_bytes: expected at least one part, got none")
    return merged.to_bytes()


def merge_profiles(parts: Iterable[bytes], *, template: bytes) -> DatasetProfile:
    """Merge a stream of profile bytes into one profile, in a balanced binary tree.

    Holds about ``log2(len(parts))`` profiles at a time (a binary counter: two partial
    merges of the same size are merged as soon as both exist), so the driver's memory
    does not grow with the rows nor, beyond the logarithm, with the partitions. No parts
    give the empty ``template`` profile.

    Raises
    ------
    WatchkeeperError
        A part carries a worker's error (re-raised as its own class).

    Examples
    --------
    >>> from watchkeeper.schema import infer_schema
    >>> template = profile_template(infer_schema({"x": [1.0, 2.5]}))
    >>> parts = [profile_partition(template, [{"x": [float(i)]}]) for i in range(5)]
    >>> merge_profiles(parts, template=template).columns["x"].mean
    2.0
    """
    stack: list[tuple[int, DatasetProfile]] = []
    for part in parts:
        level, profile = 0, DatasetProfile.from_bytes(raise_if_error(bytes(part)))
        while stack and stack[-1][0] == level:
            profile = stack.pop()[1].merge(profile)
            level += 1
        stack.append((level, profile))
    if not stack:
        return DatasetProfile.from_bytes(template)
    out = stack.pop()[1]
    while stack:
        out = stack.pop()[1].merge(out)
    return out


def subset_template(template: bytes, names: Sequence[str]) -> bytes:
    """The template restricted to the columns ``names`` (a column group of a wide table)."""
    keep = set(names)
    state = codec.decode(template)
    state["schema"] = {n: spec for n, spec in state["schema"].items() if n in keep}
    state["columns"] = {n: c for n, c in state["columns"].items() if n in keep}
    state["type_errors"] = {n: c for n, c in state["type_errors"].items() if n in keep}
    # the state is decoded and re-encoded, not rebuilt from a layout, so a column
    # without a layout (the reference's first pass) keeps growing its categories
    return codec.encode(state)


def join_columns(template: bytes, groups: Sequence[DatasetProfile]) -> DatasetProfile:
    """One profile from profiles of disjoint column groups of the same rows.

    Each group was profiled on :func:`subset_template` of ``template``; the rows, the time
    span and the type errors come from the groups, the columns in the template's order.
    """
    out = DatasetProfile.from_bytes(template)
    for group in groups:
        out.columns.update(group.columns)
        out.type_errors.update(group.type_errors)
        out.n_rows = group.n_rows
        out.start, out.end = group.start, group.end
    out.columns = {name: out.columns[name] for name in out.schema.names}
    return out
