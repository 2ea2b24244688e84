"""Silences: matching by every matcher until they end, kept in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.alerts.silences import Silences
from watchkeeper.store import MemoryStore, open_store


def _silences(now: float = 100.0) -> Silences:
    return Silences(MemoryStore(), clock=lambda: now)


def test_a_silence_is_kept_with_its_details() -> None:
    silences = _silences(now=100.0)
    s = silences.add({"alertname": "Drift"}, 500, comment="deploy", created_by="ana")
    assert (dict(s.matchers), s.ends_at, s.comment, s.created_by, s.created_at) == (
        {"alertname": "Drift"},
        500.0,
        "deploy",
        "ana",
        100.0,
    )
    assert list(silences) == [s] and len(silences) == 1 and silences[0] == s


@pytest.mark.parametrize(
    ("labels", "silenced"),
    [
        ({"alertname": "Drift", "model": "churn", "feature": "age"}, True),  # extra labels
        ({"alertname": "Drift", "model": "fraud"}, False),  # one matcher differs
        ({"alertname": "Drift"}, False),  # one matcher's label is absent
        ({"model": "churn"}, False),
    ],
)
def test_every_matcher_must_equal_the_alerts_label(labels: dict, silenced: bool) -> None:
    silences = _silences()
    s = silences.add({"alertname": "Drift", "model": "churn"}, 500.0)
    assert silences.matching(labels, at=200.0) == (s if silenced else None)


def test_a_silence_matches_until_it_ends() -> None:
    silences = _silences()
    silences.add({"alertname": "Drift"}, 500.0)
    assert silences.matching({"alertname": "Drift"}, at=499.9) is not None
    assert silences.matching({"alertname": "Drift"}, at=500.0) is None  # ends_at is exclusive
    assert len(silences) == 1  # expired ones stay listed


def test_the_oldest_active_silence_is_the_one_named() -> None:
    silences = _silences()
    silences.add({"alertname": "Drift"}, 300.0)
    second = silences.add({"model": "churn"}, 900.0)
    third = silences.add({"alertname": "Drift"}, 900.0)
    labels = {"alertname": "Drift", "model": "churn"}
    assert silences.matching(labels, at=400.0) == second
    assert silences.matching({"alertname": "Drift"}, at=400.0) == third


def test_silences_are_loaded_from_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wk.db'}"
    store = open_store(url)
    Silences(store, clock=lambda: 100.0).add({"alertname": "Drift"}, 500.0, comment="deploy")
    store.close()
    reopened = open_store(url)
    try:
        silences = Silences(reopened, clock=lambda: 200.0)
        assert [(dict(s.matchers), s.comment) for s in silences] == [
            ({"alertname": "Drift"}, "deploy")
        ]
        assert silences.matching({"alertname": "Drift"}, at=300.0) is not None
    finally:
        reopened.close()
