"""A write-ahead log with group commit: a batch is acknowledged once it is on disk.

Records are appended to segment files ``<first seq>.wal`` in a directory::

    u32 payload length | u32 CRC-32 of (seq, payload) | u64 seq | payload

One writer thread takes every record submitted since its last round, writes them,
calls ``fsync`` once (group commit), hands each record in sequence order to the
``apply`` callback, then wakes the submitters. Sequence numbers increase across
restarts. A torn record at the end of the last segment (a crash mid-write) is cut off
when the log is opened; damage anywhere else raises, since acknowledged data would be
lost. Whole segments are deleted with :meth:`WriteAheadLog.truncate_before` once
everything in them is safely in the store.

A write that fails (``ENOSPC``, an I/O error) is rolled back: the segment is cut back to
the end of the last good record, so nothing is left after which a later record would be
lost at recovery, and the group's submitters get :class:`~watchkeeper.service.
unavailable.Unavailable` (nothing of theirs was acknowledged). If even the cut fails, the
log moves on to a new segment starting at the next sequence number; recovery accepts a
torn tail in a segment whose successor starts right after its last good record.
:attr:`WriteAheadLog.failing` says the last write failed (``/readyz`` answers not
ready) until one succeeds.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path

from watchkeeper.errors import StoreError
from watchkeeper.service.unavailable import Unavailable

__all__ = ["WriteAheadLog"]

log = logging.getLogger("watchkeeper.server")
DISK_FULL_RETRY_SECONDS = 5.0
"""``Retry-After`` of a write refused because the disk is full."""
RECOVERED_FREE_BYTES = 4 * 1024 * 1024
"""Free bytes on the log's file system at which a log that failed with a full disk is
ready again without waiting for a write to succeed (a load balancer that took the
collector out on ``/readyz`` sends none)."""

_HEADER = struct.Struct("<IIQ")
SEGMENT_BYTES = 64 * 1024 * 1024


def _crc(seq: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(struct.pack("<Q", seq)))


class WriteAheadLog:
    """Durable, ordered log of payloads.

    Parameters
    ----------
    directory
        Where segments live (created if missing).
    apply
        Called as ``apply(seq, payload)`` in sequence order, in the writer thread, after
        the record is durable and before its submitter is woken.
    fsync
        ``False`` only for tests and benchmarks that measure everything else.
    segment_bytes
        Size at which a new segment is started.

    Examples
    --------
    >>> import tempfile
    >>> seen = []
    >>> wal = WriteAheadLog(tempfile.mkdtemp(), apply=lambda s, p: seen.append((s, p)))
    >>> wal.append(b"one"), wal.append(b"two")
    (1, 2)
    >>> wal.close(); seen
    [(1, b'one'), (2, b'two')]
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        apply: Callable[[int, bytes], None] | None = None,
        fsync: bool = True,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.apply = apply
        self.fsync = fsync
        self.segment_bytes = segment_bytes
        self._cond = threading.Condition()
        self._queue: list[tuple[bytes, Future[int]]] = []
        self._closed = False
        self.next_seq = self._recover()
        self.applied_next = self.next_seq
        """The seq after the last record applied: records from it to ``next_seq`` are
        written but not yet applied, so they must not be truncated."""
        self._torn = False
        self.failing: OSError | None = None
        """The error of the last write when it failed (disk full); ``None`` once one
        succeeds."""
        self._fd, self._size = self._open_segment(self._current_first)
        self._thread = threading.Thread(target=self._run, name="watchkeeper-wal", daemon=True)
        self._thread.start()
        self.groups = 0
        self.records = 0

    # -- files --------------------------------------------------------------------------

    def _segment_path(self, first_seq: int) -> Path:
        return self.directory / f"{first_seq:020d}.wal"

    def segments(self) -> list[tuple[int, Path]]:
        """``(first seq, path)`` of every segment, oldest first."""
        found = []
        for path in self.directory.glob("*.wal"):
            try:
                found.append((int(path.stem), path))
            except ValueError:
                continue
        return sorted(found)

    def _open_segment(self, first_seq: int) -> tuple[int, int]:
        # unbuffered: after a failed write no stale bytes may wait in a buffer to be
        # written behind the cut
        path = self._segment_path(first_seq)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        return fd, os.fstat(fd).st_size

    def _recover(self) -> int:
        segments = self.segments()
        if not segments:
            self._current_first = 1
            return 1
        last_seq = segments[-1][0] - 1
        for i, (first, path) in enumerate(segments):
            is_last = i == len(segments) - 1
            good_bytes, last_good = 0, first - 1
            for seq, _payload, end in self._scan(path, tolerate_tail=True):
                last_seq, last_good, good_bytes = seq, seq, end
            # a segment left after a failed write that could not be cut back is followed
            # by one starting right after its last good record: its tail is no data;
            # any other damage before the last segment loses acknowledged records
            contiguous = not is_last and segments[i + 1][0] == last_good + 1
            if good_bytes < path.stat().st_size and not is_last and not contiguous:
                list(self._scan(path, tolerate_tail=False))  # raises, naming the byte
            if is_last and good_bytes < path.stat().st_size:
                with open(path, "r+b") as f:  # cut a torn tail left by a crash
                    f.truncate(good_bytes)
        self._current_first = segments[-1][0]
        return last_seq + 1

    def _scan(self, path: Path, *, tolerate_tail: bool) -> Iterator[tuple[int, bytes, int]]:
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            ok = pos + _HEADER.size <= len(data)
            if ok:
                size, crc, seq = _HEADER.unpack_from(data, pos)
                end = pos + _HEADER.size + size
                payload = data[pos + _HEADER.size : end]
                ok = end <= len(data) and _crc(seq, payload) == crc
            if not ok:
                if tolerate_tail:
                    return
                raise StoreError(
                    f"write-ahead log {path}: damaged record at byte {pos}; expected "
                    "intact records before the last segment",
                    field="wal",
                    value=str(path),
                    expected="intact records",
                )
            yield seq, payload, end
            pos = end

    def replay(self) -> Iterator[tuple[int, bytes]]:
        """Every record still in the log, in sequence order."""
        for _first, path in self.segments():
            for seq, payload, _end in self._scan(path, tolerate_tail=True):
                yield seq, payload

    @property
    def healthy(self) -> bool:
        """The last write did not fail, or it failed for room and there is room again."""
        failing = self.failing
        if failing is None:
            return True
        if failing.errno not in (errno.ENOSPC, errno.EDQUOT):
            return False
        try:
            stat = os.statvfs(self.directory)
        except OSError:
            return False
        return stat.f_bavail * stat.f_frsize >= RECOVERED_FREE_BYTES

    @property
    def pending(self) -> int:
        """Records submitted and not yet written."""
        with self._cond:
            return len(self._queue)

    def truncate_before(self, seq: int) -> int:
        """Delete the segments whose records are all below ``seq`` (never the current
        one); returns how many were deleted."""
        segments = self.segments()
        deleted = 0
        for (_first, path), (next_first, _) in itertools.pairwise(segments):
            if next_first <= seq:
                path.unlink(missing_ok=True)
                deleted += 1
        return deleted

    # -- appending --------------------------------------------------------------------

    def submit(self, payload: bytes) -> Future[int]:
        """Queue a record; the future gives its sequence number once durable and applied."""
        future: Future[int] = Future()
        with self._cond:
            if self._closed:  # shutting down: another collector, or this one restarted
                raise Unavailable(
                    "write-ahead log: closed; expected an open log (retry: the collector is "
                    "shutting down)",
                    status=503,
                    retry_after=DISK_FULL_RETRY_SECONDS,
                )
            self._queue.append((payload, future))
            self._cond.notify()
        return future

    def append(self, payload: bytes, timeout: float | None = 30.0) -> int:
        """Append and wait until the record is durable and applied; returns its seq."""
        return self.submit(payload).result(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue and self._closed:
                    return
                batch, self._queue = self._queue, []
            try:
                seqs = self._write(batch)
            except Exception as exc:  # disk full, I/O error: every submitter hears of it
                for _payload, future in batch:
                    future.set_exception(exc)
                continue
            for (payload, future), seq in zip(batch, seqs, strict=True):
                if self.apply is not None:
                    try:
                        self.apply(seq, payload)
                    except Exception as exc:  # durable already; the caller learns why
                        future.set_exception(exc)
                        continue
                future.set_result(seq)
            self.applied_next = seqs[-1] + 1 if seqs else self.applied_next

    def _write(self, batch: list[tuple[bytes, Future[int]]]) -> list[int]:
        first = self.next_seq
        seqs = list(range(first, first + len(batch)))
        parts = []
        for (payload, _future), seq in zip(batch, seqs, strict=True):
            parts.append(_HEADER.pack(len(payload), _crc(seq, payload), seq))
            parts.append(payload)
        data = memoryview(b"".join(parts))
        good = self._size
        if self._torn:
            self._repair()
        try:
            while data:
                data = data[os.write(self._fd, data) :]
            if self.fsync:
                os.fsync(self._fd)
        except OSError as exc:
            self._roll_back(good, first, exc)
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            raise Unavailable(
                f"write-ahead log {self.directory}: "
                + ("disk full" if full else f"write failed ({exc.strerror})")
                + "; nothing of this write was kept, expected a retry later",
                status=503,
                retry_after=DISK_FULL_RETRY_SECONDS,
            ) from exc
        self.failing = None
        self.next_seq = first + len(batch)
        self._size = good + sum(len(p) for p in parts)
        self.groups += 1
        self.records += len(batch)
        if self._size >= self.segment_bytes:
            self._rotate()
        return seqs

    def _roll_back(self, good: int, first: int, exc: OSError) -> None:
        """Cut the segment back to its last good record after a failed write (cutting
        frees space, so it works on a full disk); else start a new segment."""
        self.failing = exc
        self.next_seq = first  # the group's numbers were never acknowledged: reuse them
        self._torn = True
        self._repair()

    def _repair(self) -> None:
        """After a failed write: cut the torn bytes, else move to a new segment; if
        neither works nothing more is written (a record behind torn bytes would be lost
        at recovery)."""
        try:
            os.ftruncate(self._fd, self._size)
            self._torn = False
            return
        except OSError:
            log.exception("watchkeeper: cannot cut the write-ahead log back; rotating")
        if not self._rotate():
            raise Unavailable(
                f"write-ahead log {self.directory}: a failed write cannot be cut back and "
                "no new segment can be started; expected a retry once there is room",
                status=503,
                retry_after=DISK_FULL_RETRY_SECONDS,
            )
        self._torn = False

    def _rotate(self) -> bool:
        try:
            fd, size = self._open_segment(self.next_seq)
        except OSError:  # no room even for a file: write on, rotate later
            log.exception("watchkeeper: cannot start a new write-ahead log segment")
            return False
        os.close(self._fd)
        self._current_first = self.next_seq
        self._fd, self._size = fd, size
        return True

    def close(self) -> None:
        """Finish queued records, then stop the writer."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        if self._fd >= 0:  # closing twice is harmless
            os.close(self._fd)
            self._fd = -1
