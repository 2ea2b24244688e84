"""The write-ahead log on disk: order, torn tails, truncation, sequence across restarts.

Each test writes real segment files and damages them with ``truncate`` or a flipped
byte, as a crash or a bad disk would, then opens the log again.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from watchkeeper.errors import StoreError
from watchkeeper.service.wal import WriteAheadLog

HEADER = struct.calcsize("<IIQ")  # payload length, CRC-32, seq
PAYLOAD = 10
RECORD = HEADER + PAYLOAD
"""Bytes of one record of a ``PAYLOAD``-byte payload."""


def _payload(i: int) -> bytes:
    return f"record{i:04d}".encode()  # PAYLOAD bytes


@pytest.fixture
def open_log(tmp_path: Path) -> Iterator[Callable[..., WriteAheadLog]]:
    """Opens logs on ``tmp_path / "wal"`` (without fsync) and closes them at the end."""
    opened: list[WriteAheadLog] = []

    def open_(**kw: object) -> WriteAheadLog:
        wal = WriteAheadLog(tmp_path / "wal", fsync=False, **kw)  # type: ignore[arg-type]
        opened.append(wal)
        return wal

    yield open_
    for wal in opened:
        wal.close()  # closing twice is harmless


def _append(wal: WriteAheadLog, first: int, last: int) -> list[int]:
    return [wal.append(_payload(i)) for i in range(first, last + 1)]


def test_append_then_replay_returns_every_record_in_order(open_log) -> None:
    applied: list[tuple[int, bytes]] = []
    wal = open_log(apply=lambda seq, payload: applied.append((seq, payload)))
    assert _append(wal, 1, 5) == [1, 2, 3, 4, 5]
    wal.close()
    expected = [(i, _payload(i)) for i in range(1, 6)]
    assert applied == expected  # applied in order, once durable
    assert list(open_log().replay()) == expected


def test_a_group_of_concurrent_submits_is_written_in_submission_order(open_log) -> None:
    wal = open_log()
    futures = [wal.submit(_payload(i)) for i in range(1, 51)]
    assert [f.result(30) for f in futures] == list(range(1, 51))
    wal.close()
    assert [p for _s, p in open_log().replay()] == [_payload(i) for i in range(1, 51)]


def test_sequence_numbers_continue_across_a_restart(open_log) -> None:
    first = open_log()
    _append(first, 1, 3)
    first.close()
    second = open_log()
    assert second.next_seq == 4
    assert _append(second, 4, 5) == [4, 5]
    second.close()
    assert [s for s, _p in open_log().replay()] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "cut",
    [1, PAYLOAD // 2, PAYLOAD + 4, RECORD - 1],
    ids=["last-byte", "mid-payload", "mid-header", "all-but-one-byte"],
)
def test_a_torn_tail_is_dropped_and_later_appends_still_replay(
    open_log, tmp_path: Path, cut: int
) -> None:
    wal = open_log()
    _append(wal, 1, 3)
    wal.close()
    ((_first, path),) = wal.segments()
    size = path.stat().st_size
    assert size == 3 * RECORD
    with open(path, "r+b") as f:  # a crash in the middle of writing record 3
        f.truncate(size - cut)

    reopened = open_log()
    assert [s for s, _p in reopened.replay()] == [1, 2]
    assert path.stat().st_size == 2 * RECORD  # the torn bytes are cut off at open
    assert reopened.next_seq == 3  # record 3 was never acknowledged: its seq is reused
    assert reopened.append(b"after-crash") == 3
    reopened.close()
    assert list(open_log().replay()) == [(1, _payload(1)), (2, _payload(2)), (3, b"after-crash")]


def test_a_damaged_record_before_the_last_segment_raises(open_log) -> None:
    wal = open_log(segment_bytes=2 * RECORD)
    _append(wal, 1, 4)  # segments [1, 2], [3, 4], then the empty current one
    wal.close()
    first_path = wal.segments()[0][1]
    data = bytearray(first_path.read_bytes())
    data[HEADER + 2] ^= 0xFF  # a flipped bit in record 1's payload: its CRC no longer matches
    first_path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="damaged record at byte 0"):
        open_log()


def test_a_torn_tail_followed_by_the_next_seq_is_a_failed_write_not_damage(open_log) -> None:
    """What a failed append leaves when the segment cannot be cut back: the log moves
    to a new segment at the next seq, and recovery reads across the torn bytes."""
    wal = open_log(segment_bytes=2 * RECORD)
    _append(wal, 1, 4)  # segments [1, 2], [3, 4], then the empty current one
    wal.close()
    first_path = wal.segments()[0][1]
    with open(first_path, "ab") as f:
        f.write(b"\x01torn")  # bytes of a write that never completed
    reopened = open_log(segment_bytes=2 * RECORD)
    assert [s for s, _p in reopened.replay()] == [1, 2, 3, 4]
    assert reopened.append(_payload(5)) == 5
    reopened.close()
    data = bytearray(first_path.read_bytes())
    data[RECORD + HEADER + 2] ^= 0xFF  # record 2 damaged: the successor no longer follows
    first_path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=f"damaged record at byte {RECORD}"):
        open_log()


def test_a_new_segment_starts_at_the_size_limit(open_log) -> None:
    wal = open_log(segment_bytes=2 * RECORD)
    _append(wal, 1, 5)
    assert [first for first, _path in wal.segments()] == [1, 3, 5]
    wal.close()
    assert [s for s, _p in open_log(segment_bytes=2 * RECORD).replay()] == [1, 2, 3, 4, 5]


def test_truncation_removes_only_whole_segments_before_the_seq(open_log) -> None:
    wal = open_log(segment_bytes=2 * RECORD)
    _append(wal, 1, 6)  # segments [1, 2], [3, 4], [5, 6] and the empty current [7, ...)
    assert [first for first, _path in wal.segments()] == [1, 3, 5, 7]

    assert wal.truncate_before(1) == 0
    assert wal.truncate_before(2) == 0  # record 2 is still needed: its segment stays
    assert [s for s, _p in wal.replay()] == [1, 2, 3, 4, 5, 6]
    assert wal.truncate_before(4) == 1  # [1, 2] only: 4 is in [3, 4]
    assert [s for s, _p in wal.replay()] == [3, 4, 5, 6]
    assert wal.truncate_before(5) == 1
    assert [s for s, _p in wal.replay()] == [5, 6]


def test_truncation_never_deletes_the_current_segment(open_log) -> None:
    wal = open_log(segment_bytes=2 * RECORD)
    _append(wal, 1, 3)  # [1, 2] and the current [3, ...)
    assert wal.truncate_before(1_000) == 1
    assert [first for first, _path in wal.segments()] == [3]
    assert wal.append(_payload(4)) == 4
    assert [s for s, _p in wal.replay()] == [3, 4]


def test_sequence_numbers_continue_after_everything_was_truncated(open_log) -> None:
    wal = open_log(segment_bytes=2 * RECORD)
    _append(wal, 1, 4)  # [1, 2], [3, 4] and the empty current [5, ...)
    wal.truncate_before(wal.next_seq)
    assert list(wal.replay()) == []
    wal.close()
    reopened = open_log(segment_bytes=2 * RECORD)
    assert reopened.next_seq == 5  # the empty current segment's name keeps the count
    assert reopened.append(b"next") == 5


def test_an_apply_failure_reaches_the_submitter_but_the_record_is_durable(open_log) -> None:
    def apply(seq: int, payload: bytes) -> None:
        if payload == b"bad":
            raise ValueError("cannot apply")

    wal = open_log(apply=apply)
    with pytest.raises(ValueError, match="cannot apply"):
        wal.append(b"bad")
    assert wal.append(b"good") == 2
    wal.close()
    assert list(open_log().replay()) == [(1, b"bad"), (2, b"good")]


def test_a_closed_log_refuses_appends(open_log) -> None:
    wal = open_log()
    wal.close()
    with pytest.raises(StoreError, match="closed"):
        wal.append(b"late")
