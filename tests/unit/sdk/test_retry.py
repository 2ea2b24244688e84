"""The SDK honours the collector's ``Retry-After`` (429 under load, 503 with a full disk),
against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted_server import scripted_server

from watchkeeper.sdk._retry import Outcome, classify, retry_after
from watchkeeper.sdk.client import Client


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_waited_for_before_the_next_attempt(status: int) -> None:
    with scripted_server([(status, {"Retry-After": "1"})]) as server:
        # without the header the next attempt would come after ~0.05 s of backoff
        with Client(server.url, "m", flush_interval=0.05, max_backoff=0.05) as client:
            client.log({"age": 1.0})
            assert client.flush(20)
            assert client.sent_rows == 1 and client.rejected == 0
        (t_first, _, key_first, s_first), (t_second, _, key_second, s_second) = server.arrivals
    assert (s_first, s_second) == (status, 200)
    assert key_first == key_second  # the same body, retried
    assert t_second - t_first >= 1.0  # later on a loaded machine, never earlier


def test_an_http_date_retry_after_and_nonsense() -> None:
    assert retry_after({"retry-after": "Thu, 01 Jan 1970 00:01:00 GMT"}, now=30.0) == 30.0
    assert retry_after({"retry-after": "9" * 50}) is None
    assert retry_after({"retry-after": "99999999"}) == 3600.0  # capped at an hour
    assert retry_after({"retry-after": "-5"}) is None


def test_only_a_422_is_final() -> None:
    final = [s for s in range(400, 600) if classify(s) is Outcome.FINAL]
    assert final == [422]
    assert classify(413) is Outcome.SPLIT
    assert {classify(s) for s in (401, 403, 404, 408, 409, 429, 500, 502, 503)} == {Outcome.RETRY}


def test_one_row_over_the_body_limit_is_set_aside_not_retried_for_ever(tmp_path: Path) -> None:
    with scripted_server([(413, {})]) as server:
        with Client(server.url, "m", flush_interval=0.05, spool_dir=tmp_path) as client:
            client.log({"age": 1.0})  # alone in its body: cannot be split
            client.log_event("after")  # and what follows still goes
            assert client.flush(20)
            assert client.rejected == 1 and "413" in (client.last_error or "")
        assert [status for *_, status in server.arrivals] == [413, 200]
    assert len(list((tmp_path / "dead").glob("*.body"))) == 1
