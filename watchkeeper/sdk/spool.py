"""The SDK's spool: request bodies waiting for the collector, oldest first, bounded in bytes.

A spool lives in memory, or in a directory when the client is given one (it survives a
restart of the process: the next client on that directory sends what is left). Only an
index (key, path, rows, size) is held in memory; a directory spool's bodies stay on disk
and are read one at a time when sent, so a spool of gigabytes costs the sender one body.

``max_bytes`` bounds the spool: a new body pushes out the oldest ones, whose rows are
counted in ``dropped_rows`` (the newest data is the one worth keeping during a long
outage). Bodies the collector refused for good (422) are moved to ``dead/`` under the
directory (bounded by the same budget) so they can be inspected; a memory spool only
counts them.

File format: ``<path> <rows>\\n<body>``, written to a temporary name and renamed, so a
crash never leaves half a body. A file from an older client (``<path>\\n<body>``) reads
with 0 rows.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Entry", "Spool"]

log = logging.getLogger("watchkeeper.sdk")
_SUFFIX = ".body"
_STALE_TMP = 60.0  # seconds


def _age(file: Path) -> float:
    try:
        return time.time() - file.stat().st_mtime
    except OSError:
        return 0.0


@dataclass(frozen=True)
class Entry:
    """One spooled body: its idempotency key, the collector path, its rows and size."""

    key: str
    path: str
    rows: int
    size: int


def new_key() -> str:
    """A key that sorts by creation time: ``<ns since epoch>-<random>``."""
    return f"{time.time_ns():020d}-{uuid.uuid4().hex}"


class Spool:
    """Bodies not yet delivered, oldest first, at most ``max_bytes`` of them.

    Parameters
    ----------
    directory
        Where bodies are kept across restarts; None keeps them in memory.
    max_bytes
        The most body bytes kept; past it the oldest bodies are dropped and counted.

    Examples
    --------
    >>> spool = Spool(None, max_bytes=10)
    >>> _ = spool.add("/p", 1, b"12345"), spool.add("/p", 2, b"67890"), spool.add("/p", 3, b"x")
    >>> len(spool), spool.dropped_rows, spool.read(spool.peek())
    (2, 1, b'67890')
    """

    def __init__(self, directory: str | os.PathLike[str] | None, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"spool_max_bytes: {max_bytes!r}, expected a positive number")
        self.directory = Path(directory) if directory is not None else None
        self.max_bytes = max_bytes
        self.bytes = 0
        self.dropped_rows = 0
        self.dropped_bodies = 0
        self.dead_bodies = 0
        self._lock = threading.Lock()
        self._index: collections.deque[Entry] = collections.deque()
        self._memory: dict[str, bytes] = {}
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            for tmp in self.directory.glob(".*.tmp"):  # a write a crash interrupted
                if _age(tmp) > _STALE_TMP:  # (a fresh one may be another client's)
                    tmp.unlink(missing_ok=True)
            for file in sorted(self.directory.glob(f"*{_SUFFIX}")):
                entry = self._read_header(file)
                if entry is not None:
                    self._index.append(entry)
                    self.bytes += entry.size
            self._trim()

    def __len__(self) -> int:
        return len(self._index)

    @property
    def rows(self) -> int:
        """Rows in the spooled bodies."""
        with self._lock:
            return sum(entry.rows for entry in self._index)

    @property
    def durable(self) -> bool:
        """True when bodies survive the process (a directory spool)."""
        return self.directory is not None

    def _file(self, key: str, directory: Path | None = None) -> Path:
        base = directory or self.directory
        assert base is not None
        return base / f"{key}{_SUFFIX}"

    def _read_header(self, file: Path) -> Entry | None:
        try:
            with file.open("rb") as fh:
                header = fh.readline(4096)
            size = file.stat().st_size
        except OSError:  # removed meanwhile (another client on the same directory)
            return None
        path, _, rows = header.rstrip(b"\n").decode(errors="replace").partition(" ")
        return Entry(file.stem, path, int(rows) if rows.isdigit() else 0, size)

    def add(self, path: str, rows: int, body: bytes, key: str | None = None) -> Entry:
        """Keep ``body`` (for ``path``, holding ``rows`` rows) as the newest entry."""
        entry = self._write(key or new_key(), path, rows, body)
        with self._lock:
            self._index.append(entry)
            self.bytes += entry.size
        self._trim()
        return entry

    def _write(self, key: str, path: str, rows: int, body: bytes) -> Entry:
        if self.directory is None:
            self._memory[key] = body
            return Entry(key, path, rows, len(body))
        data = f"{path} {rows}\n".encode() + body
        tmp = self.directory / f".{key}.tmp"
        tmp.write_bytes(data)
        tmp.rename(self._file(key))  # atomic: never half a body
        return Entry(key, path, rows, len(data))

    def _trim(self) -> None:
        victims = []
        with self._lock:  # ``close`` may spool from the caller's thread beside the sender
            while self.bytes > self.max_bytes and len(self._index) > 1:
                oldest = self._index.popleft()
                self.bytes -= oldest.size
                self.dropped_rows += oldest.rows
                self.dropped_bodies += 1
                victims.append(oldest)
        for oldest in victims:
            self._delete(oldest)
        if victims:
            log.debug("watchkeeper: spool over %d bytes: %d rows dropped so far",
                      self.max_bytes, self.dropped_rows)  # fmt: skip

    def peek(self) -> Entry | None:
        """The oldest entry, or None when the spool is empty."""
        with self._lock:
            return self._index[0] if self._index else None

    def read(self, entry: Entry) -> bytes | None:
        """The body of ``entry`` (one file read), or None when it has vanished."""
        if self.directory is None:
            return self._memory.get(entry.key)
        try:
            data = self._file(entry.key).read_bytes()
        except FileNotFoundError:
            return None
        return data.partition(b"\n")[2]

    def remove(self, entry: Entry) -> None:
        """Forget ``entry`` (delivered, or replaced)."""
        with self._lock:
            try:
                self._index.remove(entry)
            except ValueError:  # trimmed meanwhile
                return
            self.bytes -= entry.size
        self._delete(entry)

    def _delete(self, entry: Entry) -> None:
        if self.directory is None:
            self._memory.pop(entry.key, None)
        else:
            self._file(entry.key).unlink(missing_ok=True)

    def replace(self, entry: Entry, parts: list[tuple[int, bytes]]) -> None:
        """Put ``parts`` (rows, body) where ``entry`` was, in order, with keys derived
        from its key (a crash mid-way writes the same names again)."""
        written = [
            self._write(f"{entry.key}-{i}", entry.path, rows, body)
            for i, (rows, body) in enumerate(parts)
        ]
        with self._lock:
            try:
                at = self._index.index(entry)
            except ValueError:
                at = 0
            else:
                del self._index[at]
                self.bytes -= entry.size
            for offset, new in enumerate(written):
                self._index.insert(at + offset, new)
                self.bytes += new.size
        self._delete(entry)

    def bury(self, entry: Entry) -> None:
        """Move ``entry`` out of the way for good: to ``dead/`` (directory) or dropped."""
        self.dead_bodies += 1
        with self._lock:
            try:
                self._index.remove(entry)
            except ValueError:
                return
            self.bytes -= entry.size
        if self.directory is None:
            self._memory.pop(entry.key, None)
            return
        dead = self.directory / "dead"
        dead.mkdir(exist_ok=True)
        try:
            self._file(entry.key).rename(self._file(entry.key, dead))
        except FileNotFoundError:
            return
        files = sorted(dead.glob(f"*{_SUFFIX}"))
        sizes = [f.stat().st_size for f in files]
        total = sum(sizes)
        for file, size in zip(files, sizes, strict=True):
            if total <= self.max_bytes:
                break
            file.unlink(missing_ok=True)
            total -= size
