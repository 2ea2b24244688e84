"""What the collector keeps per write is bounded (issue 15, item 3: RSS flat in a soak):
idempotency keys by count and by age, each applied key holding its answer alone."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from watchkeeper import wire
from watchkeeper.errors import ConfigError
from watchkeeper.monitor import ManualClock
from watchkeeper.service import Ack, Service, parse_config
from watchkeeper.service.idempotency import IdempotencyKeys

SCHEMA = {"age": "numeric", "prediction": {"kind": "categorical", "role": "output"}}
NOW = 1_000_000.0


def _config(tmp_path: Path, **limits: Any) -> Any:
    doc = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "tick_seconds": 3600,
        "limits": limits,
        "models": {"churn": {"schema": SCHEMA, "rollups": []}},
    }
    return parse_config(doc, base=tmp_path)


def _body(prefix: str, n: int = 3) -> bytes:
    rows = [
        {"features": {"age": 40.0 + i}, "outputs": "stay", "id": f"{prefix}{i}", "timestamp": NOW}
        for i in range(n)
    ]
    return json.dumps({"rows": rows}).encode()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def service(tmp_path: Path, clock: ManualClock) -> Iterator[Service]:
    s = Service(_config(tmp_path, idempotency_keys=5, idempotency_key_age="1h"), clock=clock)
    yield s
    s.close()


def _write(service: Service, key: str) -> Ack:
    return service.write_predictions("churn", _body(key), wire.JSON, key)


def _requests(service: Service) -> float:
    service.monitor("churn").flush()
    return float(service.monitor("churn").metrics("requests")["value"].sum())


def test_the_keys_stay_within_their_count_and_the_oldest_go_first(service: Service) -> None:
    for i in range(12):
        _write(service, f"k{i}")
    assert len(service.ingest.keys) == 5
    assert _write(service, "k11").duplicate  # a recent key is still known
    assert not _write(service, "k0").duplicate  # the oldest was let go: counted again
    assert service.counts[("predictions", "churn")] == 13 * 3


def test_a_key_older_than_its_age_bound_is_forgotten(service: Service, clock: ManualClock) -> None:
    _write(service, "old")
    clock.advance(1800)
    assert _write(service, "old").duplicate
    _write(service, "newer")
    clock.advance(1801)  # "old" is 3601 s old, "newer" 1801 s
    assert not _write(service, "old").duplicate
    assert _write(service, "newer").duplicate
    assert _requests(service) == 3 * 3


def test_an_applied_key_keeps_its_answer_not_its_future(service: Service) -> None:
    """A future kept per key held its lock, callbacks and the HTTP layer's asyncio future
    (~2.3 KB a key): the soak grew by that until the count bound was met."""
    done = service.ingest.submit_predictions("churn", _body("a"), wire.JSON, "a")
    ack = service.ingest.wait(done)
    kept = weakref.ref(done)
    del done
    # the apply thread holds its last record until the next one: move it on
    service.write_predictions("churn", _body("b"), wire.JSON, None)
    gc.collect()
    assert kept() is None
    again = service.write_predictions("churn", _body("a"), wire.JSON, "a")
    assert again == Ack(ack.seq, ack.rows, duplicate=True)


def test_keys_replayed_from_the_log_are_bounded_too(tmp_path: Path, clock: ManualClock) -> None:
    first = Service(_config(tmp_path, idempotency_keys=3), clock=clock)
    try:
        for i in range(6):
            _write(first, f"k{i}")
    finally:
        first.close()
    second = Service(_config(tmp_path, idempotency_keys=3), clock=clock)
    try:
        assert second.replayed == 6 and len(second.ingest.keys) == 3
        assert _write(second, "k5").duplicate and not _write(second, "k0").duplicate
    finally:
        second.close()


def test_a_failed_write_lets_its_key_go() -> None:
    keys = IdempotencyKeys(lambda: 0.0, max_keys=10)
    done: Future[Ack] = Future()
    assert keys.reserve("k", done)
    done.set_exception(OSError("disk full"))
    assert "k" not in keys and len(keys) == 0
    assert keys.reserve("k", Future())  # the retry is logged anew


def test_a_retry_in_flight_waits_for_the_original() -> None:
    keys = IdempotencyKeys(lambda: 0.0)
    original: Future[Ack] = Future()
    retry: Future[Ack] = Future()
    assert keys.reserve("k", original) and not keys.reserve("k", retry)
    assert not retry.done()
    original.set_result(Ack(7, 3))
    assert retry.result(1) == Ack(7, 3, duplicate=True)


@pytest.mark.parametrize(
    ("limits", "key"),
    [
        ({"idempotency_keys": 0}, "limits.idempotency_keys"),
        ({"idempotency_key_age": "soon"}, "limits.idempotency_key_age"),
    ],
)
def test_bad_bounds_are_named_at_load(tmp_path: Path, limits: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        _config(tmp_path, **limits)
    assert err.value.field == key


ALLOCATOR_PROBE = """
import ctypes, json, sys, tempfile, threading
from pathlib import Path
from watchkeeper.service import Service, parse_config

libc = ctypes.CDLL("libc.so.6")
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in "arena ordblks smblks hblks hblkhd "
                "usmblks fsmblks uordblks fordblks keepcost".split()]
libc.mallinfo2.restype = Info
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]

service = Service(parse_config(json.loads(sys.argv[1]), base=Path(sys.argv[2])))
try:
    # a large body freed, then a smaller one: mmap'd again, or carved from a heap?
    big = bytearray(8 << 20)
    del big
    before = libc.mallinfo2().hblkhd
    body = bytearray(1 << 20)
    mmapped = libc.mallinfo2().hblkhd - before
    # twelve threads allocating at once: one arena each, or shared?
    gate = threading.Barrier(12)
    def work():
        block = bytearray(64 << 10)
        gate.wait()
    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out = str(Path(sys.argv[2]) / "malloc.xml")
    fp = libc.fopen(out.encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    heaps = Path(out).read_text().count("<heap nr=")
finally:
    service.close()
print(json.dumps({"mmapped": mmapped, "heaps": heaps}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
@pytest.mark.parametrize("tuned", [True, False], ids=["tuned", "glibc-default"])
def test_large_blocks_go_back_to_the_system_and_arenas_are_capped(
    tmp_path: Path, tuned: bool
) -> None:
    """The soak's growth was free space in the heaps: large blocks carved from them once
    the dynamic mmap threshold had risen, spread over one arena per thread. Run in a
    fresh process: the cap binds arenas made after it."""
    doc: dict[str, Any] = {
        "store": "sqlite:///wk.db",
        "wal_dir": "wal",
        "fsync": False,
        "tick_seconds": 3600,
        "models": {"churn": {"schema": SCHEMA, "rollups": []}},
    }
    if not tuned:
        doc["allocator"] = {"mmap_threshold": None, "arenas": None}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    probe = subprocess.run(
        [sys.executable, "-c", ALLOCATOR_PROBE, json.dumps(doc), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    if tuned:
        assert seen["mmapped"] >= 1 << 20 and seen["heaps"] <= 2, seen
    else:  # what glibc does by itself: the test can tell the difference
        assert seen["mmapped"] == 0 and seen["heaps"] > 2, seen
