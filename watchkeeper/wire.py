"""Batch payloads between the SDK and the collector: JSON, Arrow IPC stream, Parquet.

JSON bodies (``application/json``) come in two shapes::

    {"rows": [{"features": {"age": 41, "city": "Oslo"}, "outputs": {"prediction": "yes"},
               "id": "req-1", "timestamp": 1700000000.5, "latency": 0.012, "error": null,
               "tags": {"region": "eu"}}, ...]}

    {"columns": {"age": [41, 37], "city": ["Oslo", "Rome"]},
     "outputs": {"prediction": ["yes", "no"]}, "ids": ["req-1", "req-2"],
     "timestamps": [...], "latency": [...], "errors": [...], "tags": {"region": "eu"}}

``outputs`` may also be a bare value per row (``"outputs": 0.93``) or, in the columnar
shape, a list of values. Arrow IPC stream (``application/vnd.apache.arrow.stream``) and
Parquet (``application/vnd.apache.parquet``) bodies are one table: feature columns by
name, outputs as ``output.<name>``, and the reserved columns ``_id``, ``_timestamp``,
``_latency``, ``_error``.

A body that cannot be read raises :class:`~watchkeeper.errors.InvalidBatchError` whose
``field`` is the JSON path of the fault (``$.rows[3].features``). Values of the wrong
type inside columns are not wire errors: the monitor counts them as data quality.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.errors import InvalidBatchError

__all__ = [
    "ARROW_STREAM",
    "JSON",
    "PARQUET",
    "Batch",
    "LabelBatch",
    "SignalBatch",
    "decode_batch",
    "decode_labels",
    "decode_signals",
    "encode_batch",
]

JSON = "application/json"
ARROW_STREAM = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"
OUTPUT_PREFIX = "output."
RESERVED = {"_id": "ids", "_timestamp": "timestamps", "_latency": "latency", "_error": "errors"}


@dataclass
class Batch:
    """A decoded predictions batch, ready for ``Monitor.log``."""

    features: dict[str, Any]
    outputs: dict[str, Any] | None
    n_rows: int
    ids: list[Any] | None = None
    timestamps: list[Any] | None = None
    latency: list[Any] | None = None
    errors: list[Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    row_tags: list[dict[str, str] | None] | None = None
    """Per-row ``tags`` of the rows shape (``None`` when no row has any); a row's tags
    add to and override the batch's ``tags``."""


@dataclass
class LabelBatch:
    """Decoded ground truth: ids, labels and optional times."""

    ids: list[str]
    labels: list[Any]
    timestamps: list[Any] | None = None


def _bad(path: str, value: Any, expected: str) -> InvalidBatchError:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return InvalidBatchError(
        f"{path}: expected {expected}, got {shown}", field=path, value=value, expected=expected
    )


def _is_time(v: Any) -> bool:
    return v is None or isinstance(v, str) or _is_number(v)


def _is_id(v: Any) -> bool:
    return v is None or (isinstance(v, str | int) and not isinstance(v, bool))


def _is_latency(v: Any) -> bool:
    return v is None or (_is_number(v) and v >= 0)


def _is_error(v: Any) -> bool:
    return v is None or isinstance(v, str | bool)


def _is_number(v: Any) -> bool:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an integer of hundreds of digits is no float
        return False


def _parse_json(body: bytes) -> Any:
    """The JSON document of a body; too deep a nesting or an integer of more digits
    than Python converts (4,300) is a bad body like any other, not a crash."""
    try:
        return json.loads(body)
    except RecursionError:
        raise _bad("$", body[:40], "a JSON document nested less deeply") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise _bad("$", body[:40], f"a JSON document ({exc})") from exc


def decode_batch(body: bytes, content_type: str = JSON) -> Batch:
    """Decode a predictions body of the given content type.

    Examples
    --------
    >>> b = decode_batch(b'{"rows": [{"features": {"x": 1}, "outputs": 0.5, "id": "a"}]}')
    >>> b.n_rows, b.features, b.outputs, b.ids
    (1, {'x': [1]}, {'prediction': [0.5]}, ['a'])
    >>> decode_batch(b'{"rows": [{"features": 3}]}')
    Traceback (most recent call last):
    ...
    watchkeeper.errors.InvalidBatchError: $.rows[0].features: expected an object of feature values, got 3
    """  # noqa: E501
    kind = content_type.split(";")[0].strip().lower()
    if kind in (ARROW_STREAM, PARQUET):
        return _decode_table(body, kind)
    if kind not in (JSON, ""):
        raise _bad("content-type", content_type, f"one of {JSON}, {ARROW_STREAM}, {PARQUET}")
    doc = _parse_json(body)
    if not isinstance(doc, Mapping):
        raise _bad("$", doc, 'an object with "rows" or "columns"')
    if "rows" in doc:
        return _decode_rows(doc)
    if "columns" in doc:
        return _decode_columns(doc)
    raise _bad("$", sorted(doc)[:5], 'an object with "rows" or "columns"')


def _tags(value: Any, path: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(v, str | int | float | bool) for v in value.values()
    ):
        raise _bad(path, value, "an object of string tags")
    return {str(k): str(v) for k, v in value.items()}


def _decode_rows(doc: Mapping[str, Any]) -> Batch:
    rows = doc["rows"]
    if not isinstance(rows, list):
        raise _bad("$.rows", rows, "a list of row objects")
    features: dict[str, list[Any]] = {}
    outputs: dict[str, list[Any]] = {}
    ids: list[Any] = []
    times: list[Any] = []
    latency: list[Any] = []
    errors: list[Any] = []
    row_tags: list[dict[str, str] | None] = []
    n = len(rows)
    for i, row in enumerate(rows):
        path = f"$.rows[{i}]"
        if not isinstance(row, Mapping):
            raise _bad(path, row, "a row object")
        feats = row.get("features")
        if not isinstance(feats, Mapping):
            raise _bad(f"{path}.features", feats, "an object of feature values")
        for name, value in feats.items():
            features.setdefault(str(name), [None] * i).append(value)
        out = row.get("outputs")
        out_map = out if isinstance(out, Mapping) else ({} if out is None else {"prediction": out})
        for name, value in out_map.items():
            outputs.setdefault(str(name), [None] * i).append(value)
        for store, key, check, expected in (
            (ids, "id", _is_id, "a string id"),
            (times, "timestamp", _is_time, "epoch seconds or an ISO time"),
            (latency, "latency", _is_latency, "seconds >= 0"),
            (errors, "error", _is_error, "a string kind"),
        ):
            value = row.get(key)
            if not check(value):
                raise _bad(f"{path}.{key}", value, expected)
            store.append(value)
        row_tags.append(_tags(row.get("tags"), f"{path}.tags") or None)
        for column in (*features.values(), *outputs.values()):
            if len(column) < i + 1:
                column.append(None)  # absent in this row: missing
    return Batch(
        features=features,
        outputs=outputs or None,
        n_rows=n,
        ids=ids if any(v is not None for v in ids) else None,
        timestamps=times if any(v is not None for v in times) else None,
        latency=latency if any(v is not None for v in latency) else None,
        errors=errors if any(v is not None for v in errors) else None,
        tags=_tags(doc.get("tags"), "$.tags"),
        row_tags=row_tags if any(row_tags) else None,
    )


def _decode_columns(doc: Mapping[str, Any]) -> Batch:
    columns = doc["columns"]
    if not isinstance(columns, Mapping) or not all(isinstance(v, list) for v in columns.values()):
        raise _bad("$.columns", columns, "an object of equal-length lists")
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise _bad("$.columns", {k: len(v) for k, v in columns.items()}, "equal-length lists")
    n = lengths.pop() if lengths else 0
    out_doc = doc.get("outputs")
    outputs: dict[str, Any] | None
    if out_doc is None:
        outputs = None
    elif isinstance(out_doc, list):
        outputs = {"prediction": out_doc}
    elif isinstance(out_doc, Mapping) and all(isinstance(v, list) for v in out_doc.values()):
        outputs = dict(out_doc)
    else:
        raise _bad("$.outputs", out_doc, "a list or an object of lists")
    for name, values in (outputs or {}).items():
        if len(values) != n:
            raise _bad(f"$.outputs.{name}", len(values), f"{n} values")
    extras: dict[str, list[Any] | None] = {}
    for key in ("ids", "timestamps", "latency", "errors"):
        values = doc.get(key)
        if values is not None and (not isinstance(values, list) or len(values) != n):
            raise _bad(f"$.{key}", values if not isinstance(values, list) else len(values),
                       f"a list of {n} values")  # fmt: skip
        extras[key] = values
    for i, v in enumerate(extras["timestamps"] or []):
        if not _is_time(v):
            raise _bad(f"$.timestamps[{i}]", v, "epoch seconds or an ISO time")
    for i, v in enumerate(extras["latency"] or []):
        if not _is_latency(v):
            raise _bad(f"$.latency[{i}]", v, "seconds >= 0")
    return Batch(
        features=dict(columns),
        outputs=outputs,
        n_rows=n,
        ids=extras["ids"],
        timestamps=extras["timestamps"],
        latency=extras["latency"],
        errors=extras["errors"],
        tags=_tags(doc.get("tags"), "$.tags"),
    )


def _decode_table(body: bytes, kind: str) -> Batch:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if kind == ARROW_STREAM:
            table = pa.ipc.open_stream(pa.BufferReader(body)).read_all()
        else:
            table = pq.read_table(pa.BufferReader(body))
    except (pa.ArrowInvalid, OSError) as exc:
        raise _bad("$", f"{len(body)} bytes", f"an {kind} body ({exc})") from exc
    features: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    extras: dict[str, list[Any] | None] = dict.fromkeys(RESERVED.values())
    for name in table.column_names:
        values = table.column(name).to_pylist()
        if name in RESERVED:
            extras[RESERVED[name]] = values
        elif name.startswith(OUTPUT_PREFIX):
            outputs[name[len(OUTPUT_PREFIX) :]] = values
        else:
            features[name] = values
    for i, v in enumerate(extras["timestamps"] or []):
        if not _is_time(v) and not hasattr(v, "timestamp"):
            raise _bad(f"$._timestamp[{i}]", v, "epoch seconds or a timestamp")
    return Batch(
        features=features,
        outputs=outputs or None,
        n_rows=table.num_rows,
        ids=extras["ids"],
        timestamps=extras["timestamps"],
        latency=extras["latency"],
        errors=extras["errors"],
    )


def decode_labels(body: bytes) -> LabelBatch:
    """Decode ``{"ids": [...], "labels": [...], "timestamps": [...]}`` (times optional).

    Examples
    --------
    >>> decode_labels(b'{"ids": ["a", "b"], "labels": [1, 0]}').labels
    [1, 0]
    """
    doc = _parse_json(body)
    if not isinstance(doc, Mapping):
        raise _bad("$", doc, 'an object with "ids" and "labels"')
    ids, labels = doc.get("ids"), doc.get("labels")
    if not isinstance(ids, list) or not all(isinstance(i, str | int) for i in ids):
        raise _bad("$.ids", ids, "a list of string ids")
    if not isinstance(labels, list) or len(labels) != len(ids):
        got = labels if not isinstance(labels, list) else f"{len(labels)} labels"
        raise _bad("$.labels", got, f"a list of {len(ids)} labels")
    for i, label in enumerate(labels):
        if not (label is None or isinstance(label, str | bool) or _is_number(label)):
            raise _bad(f"$.labels[{i}]", label, "a class or a number")
    times = doc.get("timestamps")
    if times is not None and (not isinstance(times, list) or len(times) != len(ids)):
        raise _bad("$.timestamps", times, f"a list of {len(ids)} times")
    for i, t in enumerate(times or []):
        if not _is_time(t):
            raise _bad(f"$.timestamps[{i}]", t, "epoch seconds or an ISO time")
    return LabelBatch([str(i) for i in ids], labels, times)


@dataclass
class SignalBatch:
    """Decoded custom metrics ``(name, value, tags, time)`` and events ``(name, time)``."""

    metrics: list[tuple[str, float, dict[str, str], Any]]
    events: list[tuple[str, Any]]


def decode_signals(body: bytes) -> SignalBatch:
    """Decode ``{"metrics": [{"name", "value", "tags", "timestamp"}], "events": [{"name",
    "timestamp"}]}`` (either list may be absent).

    Examples
    --------
    >>> decode_signals(b'{"metrics": [{"name": "typing", "value": 1}]}').metrics
    [('typing', 1.0, {}, None)]
    """
    doc = _parse_json(body)
    if not isinstance(doc, Mapping):
        raise _bad("$", doc, 'an object with "metrics" and/or "events"')
    metrics: list[tuple[str, float, dict[str, str], Any]] = []
    events: list[tuple[str, Any]] = []
    for key in ("metrics", "events"):
        entries = doc.get(key, [])
        if not isinstance(entries, list):
            raise _bad(f"$.{key}", entries, "a list of objects")
        for i, entry in enumerate(entries):
            path = f"$.{key}[{i}]"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise _bad(f"{path}.name", entry, "an object with a string name")
            ts = entry.get("timestamp")
            if not _is_time(ts):
                raise _bad(f"{path}.timestamp", ts, "epoch seconds or an ISO time")
            if key == "events":
                events.append((entry["name"], ts))
                continue
            value: Any = entry.get("value")
            if not _is_number(value):
                raise _bad(f"{path}.value", value, "a finite number")
            metrics.append(
                (entry["name"], float(value), _tags(entry.get("tags"), f"{path}.tags"), ts)
            )
    return SignalBatch(metrics, events)


def encode_batch(rows: Sequence[Mapping[str, Any]], tags: Mapping[str, str] | None = None) -> bytes:
    """JSON body for rows shaped as in the module docstring (the SDK's format)."""
    doc: dict[str, Any] = {"rows": list(rows)}
    if tags:
        doc["tags"] = dict(tags)
    return json.dumps(doc, default=_default, allow_nan=False).encode()


def _default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
