"""A seeded, mergeable, bounded uniform sample of raw rows: the rows to look at when a
window drifted (multivariate drift, root cause, example rows, misclassified rows).

The same bottom-k idea as :class:`~watchkeeper.profile.sample.SeededSample`, applied to
whole rows: every row gets a key drawn from a generator seeded by ``(seed, stream)``
(its state travels with the reservoir's bytes, so a reservoir read back continues the
same sequence) and the ``capacity`` rows with the smallest keys are kept. Because the
keys are independent uniforms, the kept rows are a uniform sample without replacement of
every row seen, and two reservoirs merge by keeping the ``capacity`` smallest keys of
both: each row keeps the key it was given, so the merge holds exactly the ``capacity``
rows with the smallest keys among every row A and B saw — what one reservoir large
enough to keep them all would hold, cut to the capacity — and merging is exactly
commutative and associative. Rows are read in key order (a full reservoir replaces rows
in place and sorts them when read), so equal reservoirs have equal bytes.

Reservoirs that are merged must draw independent keys: give each writer (or window) its
own ``stream``; two reservoirs with the same seed and stream would draw the same keys and
their merge would keep rows in pairs (each row still with the right chance, but not a
uniform sample of sets).

Cost: one uniform per row and a comparison with the largest kept key; once the reservoir
is full only about ``capacity * m / seen`` rows of an ``m``-row batch can enter, so after
the first windows almost nothing is copied. Memory: ``capacity`` rows x (8 bytes per
numeric column + one Python ``str`` per text column) + 8 bytes of key.

Bytes::

    b"WKRES" | u8 format version | u32 header length | header (JSON: capacity, seed,
    stream, seen, batches, generator state, columns and kinds, text values)
    | keys (float64)
    | one float64 block per numeric column
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from watchkeeper.errors import ProfileFormatError
from watchkeeper.profile.sample import bottom_k
from watchkeeper.types import FloatArray

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RESERVOIR_CAPACITY", "Reservoir"]

RESERVOIR_CAPACITY = 2_000
"""Rows kept per window by default: 2,000 x 25 numeric columns is about 420 kB."""

MAGIC = b"WKRES"
FORMAT_VERSION = 1


def _column(values: Any) -> np.ndarray:
    """A batch column as float64 (numbers, epoch seconds) or an object array of ``str``
    and ``None`` (dictionary-encoded and other columns)."""
    decode = getattr(values, "decode", None)
    if decode is not None and hasattr(values, "codes"):
        return np.asarray(decode(), dtype=object)
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64, copy=False)
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        out[i] = None if v is None or (isinstance(v, float) and v != v) else str(v)
    return out


def _take(values: Any, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of a batch column, converted (only those rows are decoded)."""
    codes = getattr(values, "codes", None)
    if codes is not None and hasattr(values, "values"):
        picked = np.asarray(codes)[idx]
        out = np.empty(len(idx), dtype=object)
        ok = picked >= 0
        out[ok] = np.asarray(values.values, dtype=object)[picked[ok]]
        return out
    return _column(np.asarray(values)[idx])


def _missing(kind: str, n: int) -> np.ndarray:
    return np.full(n, np.nan) if kind == "f" else np.full(n, None, dtype=object)


class Reservoir:
    """Bounded uniform sample of rows (module docstring).

    Parameters
    ----------
    capacity
        Rows kept, >= 1.
    seed, stream
        Seed of the keys; give every reservoir that will be merged its own ``stream``.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = Reservoir(100, 0, stream=1), Reservoir(100, 0, stream=2)
    >>> _ = a.add({"x": np.arange(1_000.0), "c": np.array(["a", "b"] * 500)}, 1_000)
    >>> _ = b.add({"x": np.arange(1_000.0, 3_000.0)}, 2_000)
    >>> both = a.merge(b)
    >>> len(both), both.seen, both.rows().columns.tolist()
    (100, 3000, ['x', 'c'])
    >>> Reservoir.from_bytes(both.to_bytes()).to_bytes() == both.to_bytes()
    True
    """

    def __init__(self, capacity: int = RESERVOIR_CAPACITY, seed: int = 0, *, stream: int = 0):
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity: expected an integer >= 1, got {capacity!r}")
        self.capacity = capacity
        self.seed = int(seed)
        self.stream = int(stream)
        self.seen = 0
        """Rows offered so far (the sample is all of them while ``seen <= capacity``)."""
        self._batches = 0
        self._keys: FloatArray = np.empty(0)
        self._columns: dict[str, np.ndarray] = {}
        self._kinds: dict[str, str] = {}
        self._max = -np.inf
        self._sorted = True  # rows in key order; a full reservoir replaces rows in place
        # one generator for the reservoir's life: seeding one per batch costs ~20-50 us
        self._rng = np.random.default_rng([self.seed, self.stream])

    def __len__(self) -> int:
        return int(self._keys.size)

    @property
    def keys(self) -> FloatArray:
        """The kept rows' keys, ascending."""
        self._order()
        return self._keys

    def _order(self) -> None:
        if not self._sorted:
            order = np.argsort(self._keys, kind="stable")
            self._keys = self._keys[order]
            self._columns = {name: col[order] for name, col in self._columns.items()}
            self._sorted = True

    def add(self, columns: Mapping[str, Any], n_rows: int) -> Reservoir:
        """Offer a batch of ``n_rows`` rows (``{name: column}``: float arrays,
        dictionary-encoded columns or anything array-like); returns self.

        Only the rows that enter are converted, so a full reservoir costs about one
        random number and one comparison per row.
        """
        if n_rows <= 0:
            return self
        self._batches += 1
        self.seen += n_rows
        keys = self._rng.random(n_rows)
        if self._keys.size >= self.capacity:
            idx = np.flatnonzero(keys < self._max)
            if idx.size == 0:
                return self
            if idx.size < self.capacity and set(columns) == set(self._columns):
                self._replace(keys[idx], {name: _take(col, idx) for name, col in columns.items()})
                return self
        elif self._keys.size + n_rows > self.capacity:
            # only rows below the capacity-th smallest key of both can stay
            both = np.concatenate([self._keys, keys])
            idx = np.flatnonzero(keys <= np.partition(both, self.capacity - 1)[self.capacity - 1])
        else:
            idx = np.arange(n_rows)
        new = {name: _take(col, idx) for name, col in columns.items()}
        self._absorb(keys[idx], new)
        return self

    def _replace(self, keys: FloatArray, new: Mapping[str, np.ndarray]) -> None:
        """Fold in a few rows without rebuilding: only the ``m`` largest kept keys can
        leave, so the ``m`` smallest of those and the ``m`` new keys stay, in place."""
        m = keys.size
        worst = np.argpartition(self._keys, self._keys.size - m)[-m:]
        keep = bottom_k(np.concatenate([self._keys[worst], keys]), m)
        staying = np.zeros(m, dtype=bool)
        staying[keep[keep < m]] = True
        slots, entering = worst[~staying], keep[keep >= m] - m
        if slots.size:
            self._keys[slots] = keys[entering]
            for name, col in self._columns.items():
                add = new[name]
                if self._kinds[name] == "f" and add.dtype.kind != "f":
                    col = self._columns[name] = col.astype(object)
                    self._kinds[name] = "s"
                col[slots] = add[entering]
            self._max = float(self._keys.max())
            self._sorted = False

    def merge(self, other: Reservoir) -> Reservoir:
        """A new reservoir of both reservoirs' rows: the reservoir of every row either saw
        (the smaller capacity is kept, so a merge never holds more than its inputs)."""
        self._order()
        other._order()
        out = Reservoir(min(self.capacity, other.capacity), self.seed, stream=self.stream)
        out.seen = self.seen + other.seen
        out._batches = self._batches + other._batches
        # rows added to the merge draw from a stream of their own
        out._rng = np.random.default_rng([self.seed, self.stream, out._batches, other.stream])
        for src in (self, other):
            out._absorb(src._keys, src._columns, src._kinds)
        return out

    def _absorb(
        self,
        keys: FloatArray,
        columns: Mapping[str, np.ndarray],
        kinds: Mapping[str, str] | None = None,
    ) -> None:
        n_old, n_new = self._keys.size, keys.size
        for name, col in columns.items():
            kind = (kinds or {}).get(name) or ("f" if col.dtype.kind == "f" else "s")
            if name not in self._columns:
                self._columns[name] = _missing(kind, n_old)
                self._kinds[name] = kind
            elif self._kinds[name] != kind:  # a column seen as numbers and as text
                self._columns[name] = self._columns[name].astype(object)
                self._kinds[name] = "s"
        merged_cols = {}
        for name, old in self._columns.items():
            add = columns.get(name)
            add = _missing(self._kinds[name], n_new) if add is None else add
            if self._kinds[name] == "s" and add.dtype != object:
                add = add.astype(object)
            merged_cols[name] = np.concatenate([old, add])
        all_keys = np.concatenate([self._keys, keys])
        keep = bottom_k(all_keys, self.capacity)
        self._keys = all_keys[keep]
        self._columns = {name: col[keep] for name, col in merged_cols.items()}
        self._max = float(self._keys[-1]) if self._keys.size else -np.inf
        self._sorted = True

    def columns(self) -> dict[str, np.ndarray]:
        """The kept rows as ``{name: array}`` (float64, or object arrays of ``str`` and
        ``None``), in key order."""
        self._order()
        return dict(self._columns)

    def rows(self) -> pd.DataFrame:
        """The kept rows as a pandas DataFrame, in key order (a uniform random order)."""
        import pandas as pd

        self._order()
        return pd.DataFrame(self._columns, columns=list(self._columns))

    def to_bytes(self) -> bytes:
        """Versioned bytes (module docstring); :meth:`from_bytes` reads them."""
        self._order()
        text = {n: c.tolist() for n, c in self._columns.items() if self._kinds[n] == "s"}
        header = json.dumps(
            {
                "capacity": self.capacity,
                "seed": self.seed,
                "stream": self.stream,
                "seen": self.seen,
                "batches": self._batches,
                "rng": self._rng.bit_generator.state,
                "rows": int(self._keys.size),
                "columns": [[n, self._kinds[n]] for n in self._columns],
                "text": text,
            }
        ).encode()
        blocks = [self._keys.astype("<f8").tobytes()]
        blocks += [c.astype("<f8").tobytes() for n, c in self._columns.items() if n not in text]
        return b"".join([MAGIC, struct.pack("<BI", FORMAT_VERSION, len(header)), header, *blocks])

    @classmethod
    def from_bytes(cls, data: bytes) -> Reservoir:
        """Read :meth:`to_bytes` output; any damage raises :class:`ProfileFormatError`."""
        try:
            if data[:5] != MAGIC:
                raise ValueError("not a reservoir (bad magic)")
            version, size = struct.unpack_from("<BI", data, 5)
            if version != FORMAT_VERSION:
                raise ValueError(f"format version {version}, expected {FORMAT_VERSION}")
            pos = 10 + size
            header = json.loads(data[10:pos])
            out = cls(int(header["capacity"]), int(header["seed"]), stream=int(header["stream"]))
            out.seen, out._batches = int(header["seen"]), int(header["batches"])
            out._rng.bit_generator.state = header["rng"]
            n = int(header["rows"])

            def block() -> FloatArray:
                nonlocal pos
                if pos + 8 * n > len(data):
                    raise ValueError("truncated")
                arr = np.frombuffer(data, dtype="<f8", count=n, offset=pos).astype(np.float64)
                pos += 8 * n
                return arr

            out._keys = block()
            for name, kind in header["columns"]:
                if kind == "s":
                    col = np.empty(n, dtype=object)
                    col[:] = header["text"][name]
                else:
                    col = block()
                out._columns[name], out._kinds[name] = col, kind
            if pos != len(data):
                raise ValueError(f"{len(data) - pos} trailing bytes")
            if n and not np.all(np.diff(out._keys) >= 0):
                raise ValueError("keys out of order")
            out._max = float(out._keys[-1]) if n else -np.inf
            return out
        except ProfileFormatError:
            raise
        except (ValueError, KeyError, TypeError, IndexError, struct.error) as exc:
            raise ProfileFormatError(
                f"reservoir: unreadable ({exc}); expected bytes from Reservoir.to_bytes",
                field="reservoir",
                value=len(data),
                expected="Reservoir bytes",
            ) from exc
