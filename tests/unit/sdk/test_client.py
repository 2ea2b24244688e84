"""The SDK client against a real collector over HTTP on 127.0.0.1, including outages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import free_port
from sdk_collector import Collector

from watchkeeper.sdk.client import Client


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    c = Collector(tmp_path, free_port())
    yield c
    c.stop()


def _rows(client: Client, n: int, t0: float) -> None:
    for i in range(n):
        client.log({"age": 40.0 + i % 9}, "a", ids=f"r{t0}-{i}", timestamps=t0 + i * 1e-3,
                   latency=0.005)  # fmt: skip


def _counted(collector: Collector, n: float) -> float:
    """The collector's request count once it reaches ``n`` (windows close on its clock)."""
    deadline = time.time() + 20
    while collector.requests() < n and time.time() < deadline:
        time.sleep(0.2)
    return collector.requests()


def test_rows_batches_and_labels_arrive(collector: Collector) -> None:
    collector.start()
    t0 = time.time() - 300  # windows the collector's clock has already closed
    with Client(collector.url, "m", batch_size=100, flush_interval=0.05) as client:
        _rows(client, 250, t0)
        client.log(
            pd.DataFrame({"age": np.linspace(30, 50, 40)}),
            np.array(["b"] * 40),
            ids=[f"batch-{i}" for i in range(40)],
            timestamps=np.full(40, t0 + 1),
            latency=0.01,
        )
        client.log_labels([f"batch-{i}" for i in range(40)], ["b"] * 40)
        assert client.flush(20)
        assert client.sent_rows == 290 and client.dropped == 0 and client.rejected == 0
    deadline = time.time() + 20
    while collector.requests() < 290 and time.time() < deadline:
        time.sleep(0.2)
    assert collector.requests() == 290


def test_an_outage_loses_nothing_and_counts_nothing_twice(
    collector: Collector, tmp_path: Path
) -> None:
    t0 = time.time() - 300
    client = Client(collector.url, "m", batch_size=50, flush_interval=0.05,
                    spool_dir=tmp_path / "spool", max_backoff=0.5)  # fmt: skip
    _rows(client, 400, t0)  # the collector is not up yet: bodies go to the spool
    time.sleep(1.0)
    assert client.sent_rows == 0 and len(list((tmp_path / "spool").glob("*.body"))) >= 1
    collector.start()
    assert client.flush(30)
    assert client.sent_rows == 400
    client.close()
    deadline = time.time() + 20
    while collector.requests() < 400 and time.time() < deadline:
        time.sleep(0.2)
    assert collector.requests() == 400
    assert not list((tmp_path / "spool").glob("*.body"))


def test_a_full_queue_drops_the_oldest_and_counts(tmp_path: Path) -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", "m", queue_size=100, batch_size=10_000,
                    flush_interval=60)  # fmt: skip
    for i in range(250):
        client.log({"age": float(i)})
    assert client.dropped == 150
    client.close(timeout=0.5)


def test_an_unreadable_batch_is_dropped_alone(collector: Collector) -> None:
    collector.start()
    with Client(collector.url, "m", flush_interval=0.05) as client:
        client.log({"age": 1.0}, timestamps=time.time() - 300)
        client.log(object())  # not a batch: dropped and counted when encoded, never raised
        client.log({"age": 2.0}, timestamps=time.time() - 300)
        assert client.flush(10)
        assert client.sent_rows == 2 and client.dropped == 1


def test_a_422_is_final_counted_and_kept_as_a_dead_letter(
    collector: Collector, tmp_path: Path
) -> None:
    collector.start()
    spool = tmp_path / "spool"
    with Client(collector.url, "m", flush_interval=0.05, spool_dir=spool) as client:
        client.log_labels(["x"], [[1, 2]])  # a list is no label: the collector says 422
        client.log({"age": 1.0}, timestamps=time.time() - 300)
        assert client.flush(10)
        assert client.rejected == 1 and "422" in (client.last_error or "")
        assert client.sent_rows == 1
    assert not list(spool.glob("*.body")) and len(list((spool / "dead").glob("*.body"))) == 1


def test_a_404_keeps_the_bodies_until_the_model_is_added(
    collector: Collector, tmp_path: Path
) -> None:
    collector.configure(models=("other",))
    collector.start()
    t0 = time.time() - 300
    client = Client(collector.url, "m", batch_size=10, flush_interval=0.05,
                    spool_dir=tmp_path / "spool", max_backoff=0.2)  # fmt: skip
    _rows(client, 30, t0)
    assert not client.flush(1.0)
    assert client.rejected == 0 and "404" in (client.last_error or "")
    assert len(list((tmp_path / "spool").glob("*.body"))) == 3
    collector.stop()
    collector.configure(models=("other", "m"))  # the model added to the config, restarted
    collector.start()
    assert client.flush(20)
    client.close()
    assert client.sent_rows == 30 and client.rejected == 0
    assert _counted(collector, 30) == 30


def test_a_rotated_key_keeps_the_bodies_for_the_next_client(
    collector: Collector, tmp_path: Path
) -> None:
    collector.configure(api_keys=["new-key"])
    collector.start()
    t0 = time.time() - 300
    old = Client(collector.url, "m", api_key="old-key", batch_size=10, flush_interval=0.05,
                 spool_dir=tmp_path / "spool", max_backoff=0.2)  # fmt: skip
    _rows(old, 20, t0)
    assert not old.flush(1.0)
    assert old.rejected == 0 and "403" in (old.last_error or "")  # a wrong key
    old.close(timeout=0.5)
    assert len(list((tmp_path / "spool").glob("*.body"))) == 2
    with Client(collector.url, "m", api_key="new-key", flush_interval=0.05,
                spool_dir=tmp_path / "spool") as new:  # fmt: skip
        assert new.flush(20)
        assert new.sent_rows == 20
    assert _counted(collector, 20) == 20


def test_a_413_is_split_until_it_fits(collector: Collector) -> None:
    collector.configure(limits={"max_body_bytes": 3_000})
    collector.start()
    t0 = time.time() - 300
    with Client(collector.url, "m", batch_size=200, flush_interval=0.05) as client:
        _rows(client, 200, t0)  # one ~14 kB body: split into 8 of 25 rows
        assert client.flush(20)
        assert client.sent_rows == 200 and client.rejected == 0
    assert _counted(collector, 200) == 200


def test_custom_metrics_and_events_arrive_once(collector: Collector) -> None:
    collector.start()
    t0 = time.time() - 300
    with Client(collector.url, "m", flush_interval=0.05) as client:
        for i in range(5):
            client.log_metric("typing_share", i / 10, {"app": "ios"}, timestamp=t0 + i)
        client.log_event("switched_to_typing", timestamp=t0)
        client.log({"age": 40.0}, "a", timestamps=t0)
        assert client.flush(10)
    import httpx

    deadline = time.time() + 20
    while time.time() < deadline:
        points = httpx.get(
            f"{collector.url}/v1/models/m/metrics",
            params={"metric": "custom_metric", "label": "stat:count"},
        ).json()
        # the window may be analysed before the last signals arrive, then corrected:
        # wait for the count to settle, which must be 5 (a resend would make it 10)
        if points["points"] and points["points"][0]["value"] >= 5:
            break
        time.sleep(0.2)
    assert [p["value"] for p in points["points"]] == [5.0]
    events = httpx.get(
        f"{collector.url}/v1/models/m/metrics", params={"metric": "event_count"}
    ).json()["points"]
    assert [p["value"] for p in events] == [1.0]


def test_rows_with_different_tags_and_missing_fields_arrive_as_sent(collector: Collector) -> None:
    collector.start()
    t0 = time.time() - 300
    with Client(collector.url, "m", flush_interval=0.05) as client:
        for i in range(30):
            client.log(
                {"age": 40.0 + i} if i % 3 else {"other": 1.0},
                "a" if i % 2 else None,
                ids=f"t{i}" if i % 5 else None,
                timestamps=t0 + i * 1e-3,
                tags={"region": "eu"} if i < 10 else None,
            )
        assert client.flush(10)
        assert client.sent_rows == 30 and client.rejected == 0
    import httpx

    deadline = time.time() + 20
    tagged: list = []
    while time.time() < deadline and not tagged:
        tagged = httpx.get(
            f"{collector.url}/v1/models/m/metrics", params={"metric": "tagged_requests"}
        ).json()["points"]
        time.sleep(0.2)
    assert [(p["labels"], p["value"]) for p in tagged] == [({"region": "eu"}, 10.0)]
    assert collector.requests() == 30
