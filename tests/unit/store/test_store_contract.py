"""One contract suite over every store: memory, SQLite file, and a real PostgreSQL."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.errors import StoreError
from watchkeeper.store import MemoryStore, MetricPoint, Prediction, Store, WindowKey, open_store
from watchkeeper.store.base import labels_key
from watchkeeper.store.sql import SQLStore


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.integration),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        s: Store = MemoryStore()
    elif request.param == "sqlite":
        s = SQLStore(f"sqlite:///{tmp_path / 'wk.db'}")
    else:
        s = SQLStore(request.getfixturevalue("postgres_url"))
    yield s
    s.close()


def _point(start: float, name: str, value: float, **labels: str) -> MetricPoint:
    return MetricPoint("m", "1", start, 60.0, name, value, labels)


def test_versions_register_once_and_keep_the_first_schema(store: Store) -> None:
    store.register_version("m", "1", {"a": {"kind": "numeric"}}, now=1.0)
    store.register_version("m", "1", {"b": {"kind": "numeric"}}, now=2.0)
    store.register_version("m", "2", {"a": {"kind": "numeric"}}, now=3.0)
    store.register_version("other", "1", {}, now=4.0)
    found = store.versions("m")
    assert [(v.version, v.schema) for v in found] == [
        ("1", {"a": {"kind": "numeric"}}),
        ("2", {"a": {"kind": "numeric"}}),
    ]
    assert len(store.versions()) == 3


def test_references_are_kept_with_increasing_ids(store: Store) -> None:
    assert store.latest_reference("m", "1") is None
    first = store.save_reference("m", "1", b"ref-one", now=1.0)
    second = store.save_reference("m", "1", b"ref-two\x00\xff", now=2.0)
    assert second > first
    assert store.latest_reference("m", "1") == (second, b"ref-two\x00\xff")
    assert store.reference(first) == b"ref-one"
    with pytest.raises(StoreError, match="reference"):
        store.reference(second + 100)


def test_window_partials_are_kept_per_writer_and_replaced(store: Store) -> None:
    key = WindowKey("m", "1", 120.0, 60.0)
    store.save_window(key, "writer-a", b"a1", now=1.0)
    store.save_window(key, "writer-b", b"b1", now=1.0)
    store.save_window(key, "writer-a", b"a2", now=2.0)
    store.save_window(WindowKey("m", "1", 180.0, 60.0), "writer-a", b"x", now=2.0)
    store.save_window(WindowKey("m", "1", 0.0, 3600.0), "writer-a", b"h", now=2.0)
    assert store.window_partials(key) == {"writer-a": b"a2", "writer-b": b"b1"}
    assert store.window_partials(WindowKey("m", "1", 60.0, 60.0)) == {}
    assert store.window_starts("m", "1", 60.0, 0.0, 1e9) == [120.0, 180.0]
    assert store.window_starts("m", "1", 60.0, 150.0, 1e9) == [180.0]
    assert store.window_starts("m", "1", 3600.0, 0.0, 1e9) == [0.0]


def test_points_upsert_filter_and_keep_nan(store: Store) -> None:
    store.write_points(
        [
            _point(0.0, "feature_drift", 0.1, feature="age", method="ks"),
            _point(0.0, "feature_drift", 0.2, feature="city", method="chi2"),
            _point(60.0, "feature_drift", 0.3, feature="age", method="ks"),
            _point(60.0, "requests", math.nan),
        ],
        now=1.0,
    )
    store.write_points([_point(0.0, "feature_drift", 0.15, feature="age", method="ks")], now=2.0)
    age = store.query_points("m", "feature_drift", labels={"feature": "age"})
    assert [(p.window_start, p.value) for p in age] == [(0.0, 0.15), (60.0, 0.3)]
    assert [p.value for p in store.query_points("m", "feature_drift", since=30.0)] == [0.3]
    assert [p.value for p in store.query_points("m", "feature_drift", until=30.0)] == [0.15, 0.2]
    (nan,) = store.query_points("m", "requests")
    assert math.isnan(nan.value)
    assert store.query_points("m", "feature_drift", window_seconds=3600.0) == []
    assert store.query_points("m", version="2") == []
    assert len(store.query_points("m")) == 4


def test_series_rows_hold_the_same_points(store: Store) -> None:
    store.write_points(
        [
            _point(w * 60.0, name, value, **labels)
            for w in range(5)
            for name, value, labels in [
                ("feature_drift", w / 10, {"feature": "age", "method": "ks"}),
                ("feature_drift", w / 5, {"feature": "age2", "method": "ks"}),
                ("requests", math.nan if w == 2 else float(w), {}),
                ("error_rate", 0.5, {}),
            ]
        ],
        now=1.0,
    )
    names = ["feature_drift", "requests"]
    rows = store.query_series("m", names, since=60.0)
    want = [
        (
            p.name,
            p.version,
            labels_key(p.labels),
            p.window_start,
            None if math.isnan(p.value) else p.value,
        )
        for n in names
        for p in store.query_points("m", n, since=60.0)
    ]
    assert sorted(rows, key=repr) == sorted(want, key=repr)
    series_times = {}
    for name, _v, labels, start, _value in rows:
        series_times.setdefault((name, labels), []).append(start)
    assert all(t == sorted(t) for t in series_times.values())  # each series in time order
    age = store.query_series("m", ["feature_drift"], labels={"feature": "age"})
    assert [r[4] for r in age] == [0.0, 0.1, 0.2, 0.3, 0.4]  # "age2" does not match "age"


def test_predictions_join_labels_once(store: Store) -> None:
    preds = [
        Prediction("m", "1", f"id{i}", float(i), "yes" if i % 2 else "no", i / 10)
        for i in range(10)
    ]
    store.save_predictions(preds)
    store.save_predictions([Prediction("m", "1", "id0", 99.0, "changed", None)])  # kept as first
    found = store.find_predictions("m", ["id0", "id3", "missing"])
    assert sorted(found) == ["id0", "id3"]
    assert found["id0"].timestamp == 0.0 and found["id0"].prediction == "no"
    new = store.save_labels("m", [("id1", "yes", 50.0), ("id2", "yes", 50.0), ("id1", "no", 51.0)])
    assert sorted(new) == ["id1", "id2"]
    assert store.save_labels("m", [("id2", "no", 60.0), ("id3", "no", 60.0)]) == ["id3"]
    joined = store.labelled("m", "1", 0.0, 3.0)
    assert joined.predictions == ["yes", "no"]
    assert joined.labels == ["yes", "yes"]
    assert joined.scores == [pytest.approx(0.1), pytest.approx(0.2)]
    assert store.count_predictions("m", "1", 0.0, 5.0) == 5
    assert store.purge_predictions("m", before=2.0) == 2
    assert store.count_predictions("m", "1", 0.0, 5.0) == 3
    assert store.labelled("m", "1", 0.0, 3.0).labels == ["yes"]


def test_labelled_rows_carry_the_segment_kept_with_their_prediction(store: Store) -> None:
    south = '{"region":"south"}'
    store.save_predictions(
        [
            Prediction("m", "1", "a", 1.0, "yes", None, south),
            Prediction("m", "1", "b", 2.0, "no", None),
        ]
    )
    assert store.find_predictions("m", ["a"])["a"].segment == south
    store.save_labels("m", [("a", "yes", 5.0), ("b", "yes", 5.0)])
    joined = store.labelled("m", "1", 0.0, 3.0)
    assert joined.segments == [south, None]


def test_many_rows_go_through_in_chunks(store: Store) -> None:
    preds = [Prediction("m", "1", str(i), float(i), "a", None) for i in range(12_000)]
    store.save_predictions(preds)
    found = store.find_predictions("m", [str(i) for i in range(0, 12_000, 2)])
    assert len(found) == 6_000
    points = [_point(float(60 * i), "requests", float(i)) for i in range(6_000)]
    store.write_points(points, now=0.0)
    assert len(store.query_points("m", "requests")) == 6_000


def test_open_store_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    sql = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert isinstance(sql, SQLStore)
    sql.close()
    with pytest.raises(StoreError, match="unsupported database 'mysql'"):
        open_store("mysql://u@127.0.0.1/db")
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("not a url")


def test_sqlite_reopens_a_migrated_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wk.db'}"
    first = SQLStore(url)
    first.write_points([_point(0.0, "requests", 5.0)], now=0.0)
    first.close()
    again = SQLStore(url)  # migrations already at head: nothing to do, data kept
    assert [p.value for p in again.query_points("m", "requests")] == [5.0]
    with again.connection() as conn:
        version = conn.exec_driver_sql("select version_num from wk_alembic_version").scalar()
    assert version == "0003"
    again.close()


def test_window_states_are_purged_by_size_and_age(store: Store) -> None:
    for start in (0.0, 60.0, 120.0):
        store.save_window(WindowKey("m", "1", start, 60.0), "w", b"s", now=0.0)
        store.save_window(WindowKey("m", "2", start, 60.0), "w", b"s", now=0.0)
    store.save_window(WindowKey("m", "1", 0.0, 3600.0), "w", b"h", now=0.0)
    store.save_window(WindowKey("other", "1", 0.0, 60.0), "w", b"o", now=0.0)
    assert store.purge_windows("m", 60.0, before=120.0) == 4
    assert store.window_starts("m", "1", 60.0, 0.0, 1e9) == [120.0]
    assert store.window_starts("m", "1", 3600.0, 0.0, 1e9) == [0.0]
    assert store.window_starts("other", "1", 60.0, 0.0, 1e9) == [0.0]


def test_label_filters_match_whole_values_only(store: Store) -> None:
    store.write_points(
        [
            _point(0.0, "feature_drift", 0.1, feature="num_3"),
            _point(0.0, "feature_drift", 0.2, feature="num_30"),
            _point(0.0, "feature_drift", 0.3, feature="num%3"),
            _point(0.0, "feature_drift", 0.4, feature='q"uote', method="ks"),
        ],
        now=0.0,
    )
    assert [p.value for p in store.query_points("m", labels={"feature": "num_3"})] == [0.1]
    assert [p.value for p in store.query_points("m", labels={"feature": "num%3"})] == [0.3]
    found = store.query_points("m", labels={"feature": 'q"uote', "method": "ks"})
    assert [p.value for p in found] == [0.4]
    assert store.query_points("m", labels={"feature": "num"}) == []


def test_alert_history_is_kept_and_updated(store: Store) -> None:
    first = store.save_alert("m", "Drift", {"feature": "age"}, "firing", 60.0, {"value": 0.4})
    second = store.save_alert("m", "Errors", {}, "firing", 120.0, {"value": 0.1})
    store.save_alert("other", "Drift", {}, "firing", 1.0, {})
    store.update_alert(first, state="resolved", resolved_at=300.0, evidence={"value": 0.01})
    found = store.alerts("m")
    assert [a.id for a in found] == [second, first]
    resolved = store.alerts("m", state="resolved")
    assert [(a.rule, dict(a.labels), a.resolved_at, dict(a.evidence)) for a in resolved] == [
        ("Drift", {"feature": "age"}, 300.0, {"value": 0.01})
    ]
    assert len(store.alerts()) == 3
    with pytest.raises(StoreError, match="alert"):
        store.update_alert(999, state="resolved", resolved_at=1.0, evidence={})


def test_silences_are_kept(store: Store) -> None:
    first = store.save_silence(
        {"alertname": "Drift"}, 500.0, comment="known", created_by="ann", created_at=100.0
    )
    store.save_silence({"feature": "age"}, 900.0, comment="", created_by="", created_at=200.0)
    found = store.silences()
    assert [(s.id, dict(s.matchers), s.ends_at) for s in found] == [
        (first.id, {"alertname": "Drift"}, 500.0),
        (found[1].id, {"feature": "age"}, 900.0),
    ]
    assert found[0].comment == "known" and found[0].created_by == "ann"


def test_a_store_at_an_older_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from watchkeeper.store.sql import MIGRATIONS

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")  # a store written by the first release
        conn.exec_driver_sql(
            "insert into wk_points values ('m', 'requests', 60, 0, '1', '{}', 7, null, 0)"
        )
        assert not sa.inspect(conn).has_table("wk_silences")
    engine.dispose()
    store = SQLStore(url)  # opening migrates to head, keeping the data
    assert [p.value for p in store.query_points("m", "requests")] == [7.0]
    assert store.silences() == []
    store.close()
