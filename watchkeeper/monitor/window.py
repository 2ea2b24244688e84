"""The state of one window: a dataset profile plus the software signals and custom metrics.

Everything here merges (partials from several writers, late corrections, minute windows
into hours) and serialises to versioned bytes::

    b"WKWIN" | u8 format version | u32 header length | header (JSON)
             | u32 length | dataset profile (its own codec, with CRC)
             | u32 length | latency KLL sketch
             [| u32 length | reservoir of raw rows (format 2; empty: none)]
             [| u8 tag length | tag | u32 length | payload]...   optional tagged extras

The header holds counters: requests, errors by kind, tagged requests, custom metrics
(count, sum, min, max), events, data-quality issues with one example reason each, and
the service instances' saturation samples (:mod:`watchkeeper.monitor.saturation`).
Tagged extras follow the fixed parts, each named by its tag (``segments``: the
per-segment profiles, :class:`~watchkeeper.profile.segments.SegmentSet` bytes); a reader
skips tags it does not know, so an extra is added without a new format version.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Mapping
from typing import Any

import datasketches as ds
import numpy as np

from watchkeeper.errors import IncompatibleProfilesError, ProfileFormatError
from watchkeeper.monitor.saturation import ResourceTable
from watchkeeper.profile import DatasetProfile
from watchkeeper.profile.categorical import CategoricalProfile
from watchkeeper.profile.numeric import NumericProfile
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.profile.segments import SegmentSet
from watchkeeper.store.base import Store, WindowKey
from watchkeeper.types import FloatArray

__all__ = ["MAX_SERIES", "WindowState", "merge_states", "merged_state"]

MAGIC = b"WKWIN"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Version 1 has no reservoir part; it is still read."""
LATENCY_K = 200
MAX_SERIES = 100
"""Distinct tag sets, custom metric series or events kept per window; the rest are
counted under ``other`` so a stream of unbounded tags cannot grow memory or labels."""
OTHER = "other"


def _bounded_key(table: Mapping[str, Any], key: str) -> str:
    return key if key in table or len(table) < MAX_SERIES else OTHER


def _protected_key(table: Mapping[str, Any], key: str, protected: set[str]) -> str:
    """A protected series is kept ahead of the cap: it has its own budget of
    :data:`MAX_SERIES` keys (tag sets), so even it cannot grow without bound."""
    if key in table:
        return key
    if len(protected) < MAX_SERIES:
        protected.add(key)
        return key
    return OTHER


class WindowState:
    """What one writer saw in one window.

    Attributes
    ----------
    profile
        Features and outputs, on the reference's layout.
    reference_id
        The reference the window is analysed against (``None`` without one).
    requests
        Predictions logged.
    errors
        ``{kind: count}`` of predictions logged with an error.
    latency, latency_sum
        KLL sketch of latencies in seconds, and their sum.
    custom
        ``{series key: [count, sum, min, max]}``; the key is JSON of name and tags.
    events
        ``{name: count}``.
    tagged
        ``{tags key: count}`` of predictions per tag set.
    issues
        ``{column: {problem: [count, example]}}`` of rejected or repaired values.
    resources
        Saturation samples per service instance (bounded), see
        :class:`~watchkeeper.monitor.saturation.ResourceTable`.
    max_seq
        The highest write-ahead-log sequence number folded in (``-1``: none); a replayed
        batch at or below it is already counted.
    sample
        A uniform sample of the window's raw rows (``None``: not kept).
    segments
        Profiles per segment of the configured segment columns (``None``: none).
    """

    def __init__(
        self,
        profile: DatasetProfile,
        reference_id: int | None = None,
        sample: Reservoir | None = None,
    ) -> None:
        self.profile = profile
        self.sample = sample
        self.reference_id = reference_id
        self.requests = 0
        self.errors: dict[str, int] = {}
        self.latency = ds.kll_doubles_sketch(LATENCY_K)
        self.custom: dict[str, list[float]] = {}
        self.events: dict[str, int] = {}
        self.tagged: dict[str, int] = {}
        self.issues: dict[str, dict[str, list[Any]]] = {}
        self.max_seq = -1
        self.latency_sum = 0.0
        self.segments: SegmentSet | None = None
        self.resources = ResourceTable()
        self._protected: set[str] = set()

    # -- updates --------------------------------------------------------------------

    def add_latencies(self, seconds: FloatArray) -> None:
        ok = seconds[np.isfinite(seconds) & (seconds >= 0)]
        if ok.size:
            self.latency.update(np.ascontiguousarray(ok, dtype=np.float64))
            self.latency_sum += float(ok.sum())

    def add_errors(self, kinds: Iterable[str]) -> None:
        for kind in kinds:
            key = _bounded_key(self.errors, kind)
            self.errors[key] = self.errors.get(key, 0) + 1

    def add_tagged(self, key: str, n: int) -> None:
        key = _bounded_key(self.tagged, key)
        self.tagged[key] = self.tagged.get(key, 0) + n

    def add_custom(self, key: str, value: float, *, protected: bool = False) -> None:
        """Fold one value of the custom series ``key``; a ``protected`` series is admitted
        even when the window already holds :data:`MAX_SERIES` series (others: first come,
        the rest counted under ``other``)."""
        if protected:
            key = _protected_key(self.custom, key, self._protected)
        else:
            key = _bounded_key(self.custom, key)
        row = self.custom.get(key)
        if row is None:
            self.custom[key] = [1.0, value, value, value]
        else:
            row[0] += 1
            row[1] += value
            row[2] = min(row[2], value)
            row[3] = max(row[3], value)

    def add_event(self, name: str, n: int = 1) -> None:
        key = _bounded_key(self.events, name)
        self.events[key] = self.events.get(key, 0) + n

    def add_issue(self, column: str, problem: str, count: int, example: str) -> None:
        per_column = self.issues.setdefault(column, {})
        row = per_column.setdefault(problem, [0, example])
        row[0] += count

    # -- merge and bytes ------------------------------------------------------------

    def merge(self, other: WindowState) -> WindowState:
        """A new state with both states' content (profiles must share a schema).

        States built on different references (a coarser window spanning a change of
        reference) merge without their reference bins, on sketches alone, and take the
        newer reference.
        """
        try:
            profile = self.profile.merge(other.profile)
        except IncompatibleProfilesError:
            profile = _loosen(self.profile).merge(_loosen(other.profile))
        ids = [i for i in (self.reference_id, other.reference_id) if i is not None]
        samples = [s for s in (self.sample, other.sample) if s is not None]
        sample = samples[0].merge(samples[1]) if len(samples) == 2 else next(iter(samples), None)
        out = WindowState(profile, max(ids) if ids else None, sample)
        out.requests = self.requests + other.requests
        out.max_seq = max(self.max_seq, other.max_seq)
        out.latency_sum = self.latency_sum + other.latency_sum
        out.latency.merge(self.latency)
        out.latency.merge(other.latency)
        out.segments = _merge_segments(self.segments, other.segments)
        out.resources = self.resources.merge(other.resources)
        for src in (self, other):
            for k, n in src.errors.items():
                out.errors[k] = out.errors.get(k, 0) + n
            for k, n in src.events.items():
                out.events[k] = out.events.get(k, 0) + n
            for k, n in src.tagged.items():
                out.tagged[k] = out.tagged.get(k, 0) + n
            for k, row in src.custom.items():
                mine = out.custom.get(k)
                if mine is None:
                    out.custom[k] = list(row)
                else:
                    mine[0] += row[0]
                    mine[1] += row[1]
                    mine[2] = min(mine[2], row[2])
                    mine[3] = max(mine[3], row[3])
            for column, problems in src.issues.items():
                for problem, (count, example) in problems.items():
                    out.add_issue(column, problem, count, example)
        return out

    def to_bytes(self) -> bytes:
        header = json.dumps(
            {
                "reference_id": self.reference_id,
                "requests": self.requests,
                "errors": self.errors,
                "custom": self.custom,
                "events": self.events,
                "tagged": self.tagged,
                "issues": self.issues,
                "max_seq": self.max_seq,
                "latency_sum": self.latency_sum,
                "resources": self.resources.to_json(),
            },
            allow_nan=True,
        ).encode()
        profile = self.profile.to_bytes()
        latency = self.latency.serialize()
        parts = [MAGIC, struct.pack("<B", FORMAT_VERSION)]
        sample = b"" if self.sample is None else self.sample.to_bytes()
        for part in (header, profile, latency, sample):
            parts += [struct.pack("<I", len(part)), part]
        if self.segments is not None:
            parts += _extra(b"segments", self.segments.to_bytes())
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> WindowState:
        """Read :meth:`to_bytes` output; any damage raises :class:`ProfileFormatError`."""
        try:
            if data[:5] != MAGIC:
                raise ValueError("not a window state (bad magic)")
            if data[5] not in READABLE_VERSIONS:
                raise ValueError(f"format version {data[5]}, expected {FORMAT_VERSION}")
            pos = 6
            parts = []
            for _ in range(3 if data[5] == 1 else 4):
                (size,) = struct.unpack_from("<I", data, pos)
                pos += 4
                if pos + size > len(data):
                    raise ValueError("truncated")
                parts.append(data[pos : pos + size])
                pos += size
            header = json.loads(parts[0])
            sample = Reservoir.from_bytes(parts[3]) if len(parts) > 3 and parts[3] else None
            out = cls(DatasetProfile.from_bytes(parts[1]), header["reference_id"], sample)
            out.latency = ds.kll_doubles_sketch.deserialize(parts[2])
            out.requests = int(header["requests"])
            out.errors = {str(k): int(v) for k, v in header["errors"].items()}
            out.custom = {str(k): [float(x) for x in v] for k, v in header["custom"].items()}
            out.events = {str(k): int(v) for k, v in header["events"].items()}
            out.tagged = {str(k): int(v) for k, v in header["tagged"].items()}
            out.issues = header["issues"]
            out.max_seq = int(header.get("max_seq", -1))
            out.latency_sum = float(header.get("latency_sum", 0.0))
            while pos < len(data):
                tag_size = data[pos]
                tag = data[pos + 1 : pos + 1 + tag_size]
                (size,) = struct.unpack_from("<I", data, pos + 1 + tag_size)
                pos += 5 + tag_size
                if pos + size > len(data):
                    raise ValueError("truncated extra")
                if tag == b"segments":
                    out.segments = SegmentSet.from_bytes(data[pos : pos + size])
                pos += size
            out.resources = ResourceTable.from_json(header.get("resources"))
            return out
        except ProfileFormatError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, struct.error, RuntimeError) as exc:
            raise ProfileFormatError(
                f"window state: unreadable ({exc}); expected bytes from WindowState.to_bytes",
                field="window",
                value=len(data),
                expected="WindowState bytes",
            ) from exc

    # -- results --------------------------------------------------------------------

    def latency_quantiles(self, ranks: Iterable[float]) -> list[float]:
        ranks = list(ranks)
        if self.latency.is_empty():
            return [math.nan] * len(ranks)
        return [float(q) for q in self.latency.get_quantiles(ranks)]


def _loosen(profile: DatasetProfile) -> DatasetProfile:
    """A copy without reference bins or fixed categories, mergeable with any layout."""
    out = DatasetProfile.from_bytes(profile.to_bytes())
    for col in out.columns.values():
        for part in (col, getattr(col, "lengths", None), getattr(col, "values", None)):
            if isinstance(part, NumericProfile):
                part.edges = None
                part.bin_counts = None
            elif isinstance(part, CategoricalProfile):
                part.fixed = False
    return out


def _extra(tag: bytes, payload: bytes) -> list[bytes]:
    return [struct.pack("<B", len(tag)), tag, struct.pack("<I", len(payload)), payload]


def _merge_segments(a: SegmentSet | None, b: SegmentSet | None) -> SegmentSet | None:
    """Both windows' segments; profiles on different references (a coarser window across
    a change of reference) merge without their bins, as the window's profile does."""
    if a is None or b is None:
        return a if b is None else b
    try:
        return a.merge(b)
    except IncompatibleProfilesError:
        a, b = SegmentSet.from_bytes(a.to_bytes()), SegmentSet.from_bytes(b.to_bytes())
        for part in (*a, *b):
            part.profiles = {k: _loosen(p) for k, p in part.profiles.items()}
            part.layout = {}
        return a.merge(b)


def merge_states(states: Iterable[WindowState]) -> WindowState | None:
    """Merge any number of states; ``None`` for none."""
    out: WindowState | None = None
    for state in states:
        out = state if out is None else out.merge(state)
    return out


def merged_state(store: Store, key: WindowKey) -> WindowState | None:
    """The state of a stored window: every writer's partial merged; ``None`` for none.

    The one place partials are merged when read (the monitor's analysis and the
    dashboard's views both call it).
    """
    return merge_states(WindowState.from_bytes(b) for b in store.window_partials(key).values())
