"""The SQL store: SQLite (a file, the default) or PostgreSQL, through SQLAlchemy Core.

Tables are created and upgraded by Alembic migrations (``store/migrations``) when the
store opens. Upserts use each dialect's ``INSERT … ON CONFLICT``; NaN values are
stored as NULL (SQLite has no NaN) and read back as NaN. Every SQLAlchemy error is
re-raised as :class:`~watchkeeper.errors.StoreError`, chained.

:class:`SQLStore` composes plain helpers: the engine, migrations and upserts in
:mod:`~watchkeeper.store._sql_engine`, the points' rows and filters in
:mod:`~watchkeeper.store._sql_points`, the alerts' and silences' rows in
:mod:`~watchkeeper.store._sql_alerts`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa

from watchkeeper.errors import StoreError
from watchkeeper.store import _sql_alerts, _sql_points
from watchkeeper.store import _tables as t
from watchkeeper.store._sql_engine import CHUNK, create_engine, migrate, run, upsert

# re-exported: tests and maintenance scripts find the migrations and dialects here
from watchkeeper.store._sql_engine import DIALECTS as DIALECTS
from watchkeeper.store._sql_engine import MIGRATIONS as MIGRATIONS
from watchkeeper.store.base import (
    AlertRecord,
    Labelled,
    MetricPoint,
    Prediction,
    SeriesRow,
    SilenceRecord,
    VersionInfo,
    WindowKey,
)

__all__ = ["SQLStore"]

T = TypeVar("T")


class SQLStore:
    """A :class:`~watchkeeper.store.base.Store` on a SQLAlchemy URL.

    Parameters
    ----------
    url
        ``sqlite:///path.db`` (default file ``watchkeeper.db``), ``sqlite://`` for memory,
        or ``postgresql+psycopg://user@host:port/db`` (extra ``postgres``).

    Raises
    ------
    StoreError
        For an unsupported dialect, an unreachable database or a failed migration.

    Examples
    --------
    >>> store = SQLStore("sqlite://")
    >>> store.register_version("churn", "1", {"columns": []}, now=0.0)
    >>> [(v.model, v.version) for v in store.versions()]
    [('churn', '1')]
    >>> store.close()
    """

    def __init__(self, url: str = "sqlite:///watchkeeper.db") -> None:
        self.url = url
        self.engine, self.dialect = create_engine(url)
        # an in-memory SQLite database is one connection shared by every thread (the
        # monitor's analyser saves from its own): one transaction at a time on it
        shared = isinstance(self.engine.pool, sa.pool.StaticPool)
        self._serial: contextlib.AbstractContextManager[Any] = (
            threading.RLock() if shared else contextlib.nullcontext()
        )
        self._run(migrate, "migrate")

    # -- plumbing -----------------------------------------------------------------

    def _run(self, work: Callable[[sa.Connection], T], what: str) -> T:
        with self._serial:
            return run(self.engine, self.url, work, what)

    def _upsert(
        self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], update: list[str]
    ) -> None:
        upsert(conn, self.dialect, table, rows, update)

    # -- versions and references ----------------------------------------------------

    def register_version(
        self, model: str, version: str, schema: Mapping[str, object], *, now: float
    ) -> None:
        row = {
            "model": model,
            "version": version,
            "schema_json": json.dumps(schema),
            "created_at": now,
        }
        self._run(lambda c: self._upsert(c, t.versions, [row], []), "register_version")

    def versions(self, model: str | None = None) -> list[VersionInfo]:
        q = sa.select(t.versions).order_by(
            t.versions.c.created_at, t.versions.c.model, t.versions.c.version
        )
        if model is not None:
            q = q.where(t.versions.c.model == model)
        rows = self._run(lambda c: c.execute(q).all(), "versions")
        return [
            VersionInfo(r.model, r.version, json.loads(r.schema_json), r.created_at) for r in rows
        ]

    def save_reference(self, model: str, version: str, profile: bytes, *, now: float) -> int:
        stmt = (
            sa.insert(t.references)
            .values(model=model, version=version, created_at=now, profile=profile)
            .returning(t.references.c.id)
        )
        return int(self._run(lambda c: c.execute(stmt).scalar_one(), "save_reference"))

    def latest_reference(self, model: str, version: str) -> tuple[int, bytes] | None:
        q = (
            sa.select(t.references.c.id, t.references.c.profile)
            .where(t.references.c.model == model, t.references.c.version == version)
            .order_by(t.references.c.id.desc())
            .limit(1)
        )
        row = self._run(lambda c: c.execute(q).first(), "latest_reference")
        return None if row is None else (int(row.id), bytes(row.profile))

    def reference(self, reference_id: int) -> bytes:
        q = sa.select(t.references.c.profile).where(t.references.c.id == reference_id)
        blob = self._run(lambda c: c.execute(q).scalar_one_or_none(), "reference")
        if blob is None:
            raise StoreError(
                f"reference {reference_id!r}: not in the store; expected a saved id",
                field="reference_id",
                value=reference_id,
                expected="an id returned by save_reference",
            )
        return bytes(blob)

    # -- windows --------------------------------------------------------------------

    def save_window(self, key: WindowKey, writer: str, blob: bytes, *, now: float) -> None:
        row = {
            "model": key.model,
            "version": key.version,
            "seconds": key.seconds,
            "start": key.start,
            "writer": writer,
            "blob": blob,
            "updated_at": now,
        }
        self._run(
            lambda c: self._upsert(c, t.windows, [row], ["blob", "updated_at"]), "save_window"
        )

    def window_partials(self, key: WindowKey) -> dict[str, bytes]:
        w = t.windows.c
        q = sa.select(w.writer, w.blob).where(
            w.model == key.model,
            w.version == key.version,
            w.seconds == key.seconds,
            w.start == key.start,
        )
        rows = self._run(lambda c: c.execute(q).all(), "window_partials")
        return {r.writer: bytes(r.blob) for r in rows}

    def window_starts(
        self, model: str, version: str, seconds: float, since: float, until: float
    ) -> list[float]:
        w = t.windows.c
        q = (
            sa.select(w.start)
            .distinct()
            .where(
                w.model == model,
                w.version == version,
                w.seconds == seconds,
                w.start >= since,
                w.start < until,
            )
            .order_by(w.start)
        )
        return [float(s) for s in self._run(lambda c: c.execute(q).scalars().all(), "windows")]

    def purge_windows(self, model: str, seconds: float, before: float) -> int:
        w = t.windows.c
        stmt = sa.delete(t.windows).where(w.model == model, w.seconds == seconds, w.start < before)
        return int(self._run(lambda c: c.execute(stmt).rowcount, "purge_windows"))

    # -- metric points --------------------------------------------------------------

    def write_points(self, points: Sequence[MetricPoint], *, now: float) -> None:
        rows = _sql_points.point_rows(points, now=now)
        if rows:
            update = ["value", "reference_id", "computed_at"]
            self._run(lambda c: self._upsert(c, t.points, rows, update), "write_points")

    def query_points(
        self,
        model: str,
        name: str | None = None,
        *,
        version: str | None = None,
        window_seconds: float | None = None,
        since: float | None = None,
        until: float | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[MetricPoint]:
        p = t.points.c
        q = sa.select(t.points).where(p.model == model)
        if name is not None:
            q = q.where(p.name == name)
        q = _sql_points.filtered(q, version, window_seconds, since, until, labels)
        q = q.order_by(p.window_start, p.name, p.labels, p.version)
        rows = self._run(lambda c: c.execute(q).all(), "query_points")
        return _sql_points.points(rows, labels)

    def query_series(
        self,
        model: str,
        names: Sequence[str],
        *,
        version: str | None = None,
        window_seconds: float | None = None,
        since: float | None = None,
        until: float | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> list[SeriesRow]:
        p = t.points.c
        q = sa.select(p.name, p.version, p.labels, p.window_start, p.value).where(
            p.model == model, p.name.in_(list(dict.fromkeys(names)))
        )
        q = _sql_points.filtered(q, version, window_seconds, since, until, labels)
        q = q.order_by(p.name, p.window_seconds, p.window_start)  # the key's order: no sort
        rows = self._run(lambda c: c.execute(q).all(), "query_series")
        return _sql_points.series(rows, labels)

    # -- predictions and labels -----------------------------------------------------

    def save_predictions(self, predictions: Sequence[Prediction]) -> None:
        rows = [
            {
                "model": p.model,
                "id": p.id,
                "version": p.version,
                "ts": p.timestamp,
                "prediction": p.prediction,
                "score": _sql_points.num(p.score),
                "segment": p.segment,
            }
            for p in predictions
        ]
        if rows:
            self._run(lambda c: self._upsert(c, t.predictions, rows, []), "save_predictions")

    def find_predictions(self, model: str, ids: Sequence[str]) -> dict[str, Prediction]:
        pc = t.predictions.c
        found: dict[str, Prediction] = {}

        def work(conn: sa.Connection) -> None:
            unique = list(dict.fromkeys(ids))
            for i in range(0, len(unique), CHUNK):
                q = sa.select(t.predictions).where(
                    pc.model == model, pc.id.in_(unique[i : i + CHUNK])
                )
                for r in conn.execute(q):
                    found[r.id] = Prediction(
                        r.model, r.version, r.id, r.ts, r.prediction, r.score, r.segment
                    )

        self._run(work, "find_predictions")
        return found

    def save_labels(self, model: str, labels: Sequence[tuple[str, str, float]]) -> list[str]:
        lc = t.labels.c

        def work(conn: sa.Connection) -> list[str]:
            unique: dict[str, tuple[str, float]] = {}
            for i, label, ts in labels:
                unique.setdefault(i, (label, ts))
            ids = list(unique)
            existing: set[str] = set()
            for k in range(0, len(ids), CHUNK):
                q = sa.select(lc.id).where(lc.model == model, lc.id.in_(ids[k : k + CHUNK]))
                existing.update(conn.execute(q).scalars())
            new = [i for i in ids if i not in existing]
            rows = [
                {"model": model, "id": i, "label": unique[i][0], "ts": unique[i][1]} for i in new
            ]
            if rows:
                self._upsert(conn, t.labels, rows, [])
            return new

        return self._run(work, "save_labels")

    def labelled(self, model: str, version: str, start: float, end: float) -> Labelled:
        pc, lc = t.predictions.c, t.labels.c
        q = (
            sa.select(pc.id, pc.prediction, pc.score, lc.label, pc.segment)
            .join(t.labels, sa.and_(lc.model == pc.model, lc.id == pc.id))
            .where(pc.model == model, pc.version == version, pc.ts >= start, pc.ts < end)
            .order_by(pc.ts, pc.id)
        )
        rows = self._run(lambda c: c.execute(q).all(), "labelled")
        return Labelled(
            predictions=[r.prediction for r in rows],
            scores=[None if r.score is None else float(r.score) for r in rows],
            labels=[r.label for r in rows],
            ids=[r.id for r in rows],
            segments=[r.segment for r in rows],
        )

    def count_predictions(self, model: str, version: str, start: float, end: float) -> int:
        pc = t.predictions.c
        q = sa.select(sa.func.count()).where(
            pc.model == model, pc.version == version, pc.ts >= start, pc.ts < end
        )
        return int(self._run(lambda c: c.execute(q).scalar_one(), "count_predictions"))

    def purge_predictions(self, model: str, before: float) -> int:
        pc, lc = t.predictions.c, t.labels.c

        def work(conn: sa.Connection) -> int:
            old = sa.select(pc.id).where(pc.model == model, pc.ts < before)
            conn.execute(sa.delete(t.labels).where(lc.model == model, lc.id.in_(old)))
            result = conn.execute(sa.delete(t.predictions).where(pc.model == model, pc.ts < before))
            return int(result.rowcount)

        return self._run(work, "purge_predictions")

    # -- alerts -------------------------------------------------------------------------

    def save_alert(
        self,
        model: str,
        rule: str,
        labels: Mapping[str, str],
        state: str,
        started_at: float,
        evidence: Mapping[str, Any],
    ) -> int:
        stmt = _sql_alerts.insert_alert(model, rule, labels, state, started_at, evidence)
        return int(self._run(lambda c: c.execute(stmt).scalar_one(), "save_alert"))

    def update_alert(
        self,
        alert_id: int,
        *,
        state: str,
        resolved_at: float | None,
        evidence: Mapping[str, Any],
    ) -> None:
        stmt = _sql_alerts.update_alert(alert_id, state, resolved_at, evidence)
        count = self._run(lambda c: c.execute(stmt).rowcount, "update_alert")
        if not count:
            raise StoreError(
                f"alert {alert_id!r}: not in the store; expected a saved id",
                field="alert_id",
                value=alert_id,
                expected="an id returned by save_alert",
            )

    def alerts(self, model: str | None = None, state: str | None = None) -> list[AlertRecord]:
        a = t.alerts.c
        q = sa.select(t.alerts).order_by(a.id.desc())
        if model is not None:
            q = q.where(a.model == model)
        if state is not None:
            q = q.where(a.state == state)
        rows = self._run(lambda c: c.execute(q).all(), "alerts")
        return [_sql_alerts.alert(r) for r in rows]

    def save_silence(
        self,
        matchers: Mapping[str, str],
        ends_at: float,
        *,
        comment: str,
        created_by: str,
        created_at: float,
    ) -> SilenceRecord:
        stmt = _sql_alerts.insert_silence(
            matchers, ends_at, comment=comment, created_by=created_by, created_at=created_at
        )
        silence_id = int(self._run(lambda c: c.execute(stmt).scalar_one(), "save_silence"))
        return SilenceRecord(
            silence_id, dict(matchers), float(ends_at), comment, created_by, created_at
        )

    def silences(self) -> list[SilenceRecord]:
        q = sa.select(t.silences).order_by(t.silences.c.id)
        rows = self._run(lambda c: c.execute(q).all(), "silences")
        return [_sql_alerts.silence(r) for r in rows]

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A raw connection in a transaction (for migrations tests and maintenance)."""
        with self._serial, self.engine.begin() as conn:
            yield conn
