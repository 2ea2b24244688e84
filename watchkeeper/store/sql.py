"""The SQL store: SQLite (a file, the default) or PostgreSQL, through SQLAlchemy Core.

Tables are created and upgraded by Alembic migrations (``store/migrations``) when the
store opens. Upserts use each dialect's ``INSERT … ON CONFLICT``; NaN values are
stored as NULL (SQLite has no NaN) and read back as NaN. Every SQLAlchemy error is
re-raised as :class:`~watchkeeper.errors.StoreError`, chained.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from watchkeeper.errors import StoreError
from watchkeeper.store import _tables as t
from watchkeeper.store.base import (
    AlertRecord,
    Labelled,
    MetricPoint,
    Prediction,
    SeriesRow,
    SilenceRecord,
    VersionInfo,
    WindowKey,
    labels_key,
)

__all__ = ["SQLStore"]

MIGRATIONS = Path(__file__).parent / "migrations"
DIALECTS = ("sqlite", "postgresql")
_CHUNK = 5_000  # rows per statement: below SQLite's and PostgreSQL's parameter limits

T = TypeVar("T")


def _num(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


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
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError as exc:
            raise StoreError(
                f"store url {url!r}: not a database URL; expected e.g. sqlite:///watchkeeper.db",
                field="store",
                value=url,
                expected="sqlite:///FILE or postgresql+psycopg://USER@HOST/DB",
            ) from exc
        self.dialect = parsed.get_backend_name()
        if self.dialect not in DIALECTS:
            raise StoreError(
                f"store url {url!r}: unsupported database {self.dialect!r}; "
                f"expected one of: {', '.join(DIALECTS)}",
                field="store",
                value=url,
                expected=", ".join(DIALECTS),
            )
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite" and parsed.database in (None, "", ":memory:"):
            kwargs["poolclass"] = sa.pool.StaticPool  # one shared in-memory database
            kwargs["connect_args"] = {"check_same_thread": False}
        try:
            self.engine = sa.create_engine(parsed, **kwargs)
        except ImportError as exc:
            from watchkeeper.errors import MissingExtraError

            raise MissingExtraError(
                f"store url {url!r}: the driver is not installed; "
                'expected pip install "watchkeeper[postgres]"',
                field="store",
                value=url,
                expected='pip install "watchkeeper[postgres]"',
            ) from exc
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._run(self._migrate, "migrate")

    # -- plumbing -----------------------------------------------------------------

    def _run(self, work: Callable[[sa.Connection], T], what: str) -> T:
        try:
            with self.engine.begin() as conn:
                return work(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(
                f"store {self._safe_url()}: {what} failed: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}",
                field="store",
                value=self._safe_url(),
                expected="a reachable database",
            ) from exc

    def _safe_url(self) -> str:
        return sa.make_url(self.url).render_as_string(hide_password=True)

    def _migrate(self, conn: sa.Connection) -> None:
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")

    def _insert(self, table: sa.Table) -> Any:
        return (sqlite.insert if self.dialect == "sqlite" else postgresql.insert)(table)

    def _upsert(
        self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], update: list[str]
    ) -> None:
        keys = [c.name for c in table.primary_key.columns]
        for i in range(0, len(rows), _CHUNK):
            stmt = self._insert(table)
            if update:
                stmt = stmt.on_conflict_do_update(
                    index_elements=keys, set_={c: stmt.excluded[c] for c in update}
                )
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=keys)
            conn.execute(stmt, rows[i : i + _CHUNK])

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
        rows = [
            {
                "model": p.model,
                "name": p.name,
                "window_seconds": p.window_seconds,
                "window_start": p.window_start,
                "version": p.version,
                "labels": labels_key(p.labels),
                "value": _num(p.value),
                "reference_id": p.reference_id,
                "computed_at": now,
            }
            for p in points
        ]
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
        q = _filtered(q, version, window_seconds, since, until, labels)
        q = q.order_by(p.window_start, p.name, p.labels, p.version)
        rows = self._run(lambda c: c.execute(q).all(), "query_points")
        parsed: dict[str, dict[str, str]] = {}
        out = []
        for r in rows:
            point_labels = parsed.get(r.labels)
            if point_labels is None:
                point_labels = parsed[r.labels] = json.loads(r.labels)
            if _labels_match(point_labels, labels):
                out.append(
                    MetricPoint(
                        r.model,
                        r.version,
                        r.window_start,
                        r.window_seconds,
                        r.name,
                        _nan(r.value),
                        dict(point_labels),
                        r.reference_id,
                    )
                )
        return out

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
        q = _filtered(q, version, window_seconds, since, until, labels)
        q = q.order_by(p.name, p.window_seconds, p.window_start)  # the key's order: no sort
        rows = self._run(lambda c: c.execute(q).all(), "query_series")
        if not labels:
            return [tuple(r) for r in rows]
        ok = {text: _labels_match(json.loads(text), labels) for text in {r.labels for r in rows}}
        return [tuple(r) for r in rows if ok[r.labels]]

    # -- predictions and labels -----------------------------------------------------

    def save_predictions(self, predictions: Sequence[Prediction]) -> None:
        rows = [
            {
                "model": p.model,
                "id": p.id,
                "version": p.version,
                "ts": p.timestamp,
                "prediction": p.prediction,
                "score": _num(p.score),
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
            for i in range(0, len(unique), _CHUNK):
                q = sa.select(t.predictions).where(
                    pc.model == model, pc.id.in_(unique[i : i + _CHUNK])
                )
                for r in conn.execute(q):
                    found[r.id] = Prediction(r.model, r.version, r.id, r.ts, r.prediction, r.score)

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
            for k in range(0, len(ids), _CHUNK):
                q = sa.select(lc.id).where(lc.model == model, lc.id.in_(ids[k : k + _CHUNK]))
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
            sa.select(pc.prediction, pc.score, lc.label)
            .join(t.labels, sa.and_(lc.model == pc.model, lc.id == pc.id))
            .where(pc.model == model, pc.version == version, pc.ts >= start, pc.ts < end)
            .order_by(pc.ts, pc.id)
        )
        rows = self._run(lambda c: c.execute(q).all(), "labelled")
        return Labelled(
            predictions=[r.prediction for r in rows],
            scores=[None if r.score is None else float(r.score) for r in rows],
            labels=[r.label for r in rows],
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
        stmt = (
            sa.insert(t.alerts)
            .values(
                model=model,
                rule=rule,
                labels=labels_key(labels),
                state=state,
                started_at=started_at,
                resolved_at=None,
                evidence=json.dumps(evidence, default=str),
            )
            .returning(t.alerts.c.id)
        )
        return int(self._run(lambda c: c.execute(stmt).scalar_one(), "save_alert"))

    def update_alert(
        self,
        alert_id: int,
        *,
        state: str,
        resolved_at: float | None,
        evidence: Mapping[str, Any],
    ) -> None:
        stmt = (
            sa.update(t.alerts)
            .where(t.alerts.c.id == alert_id)
            .values(
                state=state, resolved_at=resolved_at, evidence=json.dumps(evidence, default=str)
            )
        )
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
        return [
            AlertRecord(
                int(r.id),
                r.model,
                r.rule,
                json.loads(r.labels),
                r.state,
                float(r.started_at),
                None if r.resolved_at is None else float(r.resolved_at),
                json.loads(r.evidence),
            )
            for r in rows
        ]

    def save_silence(
        self,
        matchers: Mapping[str, str],
        ends_at: float,
        *,
        comment: str,
        created_by: str,
        created_at: float,
    ) -> SilenceRecord:
        stmt = (
            sa.insert(t.silences)
            .values(
                matchers=labels_key(matchers),
                ends_at=ends_at,
                comment=comment,
                created_by=created_by,
                created_at=created_at,
            )
            .returning(t.silences.c.id)
        )
        silence_id = int(self._run(lambda c: c.execute(stmt).scalar_one(), "save_silence"))
        return SilenceRecord(
            silence_id, dict(matchers), float(ends_at), comment, created_by, created_at
        )

    def silences(self) -> list[SilenceRecord]:
        q = sa.select(t.silences).order_by(t.silences.c.id)
        rows = self._run(lambda c: c.execute(q).all(), "silences")
        return [
            SilenceRecord(
                int(r.id),
                json.loads(r.matchers),
                float(r.ends_at),
                r.comment,
                r.created_by,
                float(r.created_at),
            )
            for r in rows
        ]

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def connection(self) -> Iterator[sa.Connection]:
        """A raw connection in a transaction (for migrations tests and maintenance)."""
        with self.engine.begin() as conn:
            yield conn


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; the busy timeout makes a second
    # writer process wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _filtered(
    q: Any,
    version: str | None,
    window_seconds: float | None,
    since: float | None,
    until: float | None,
    labels: Mapping[str, str] | None,
) -> Any:
    """Narrow a points query by the filters every point query shares. Each label pair is
    a substring of the canonical JSON followed by "," or "}": the index narrows, and
    :func:`_labels_match` on the parsed labels decides."""
    p = t.points.c
    if version is not None:
        q = q.where(p.version == version)
    if window_seconds is not None:
        q = q.where(p.window_seconds == window_seconds)
    if since is not None:
        q = q.where(p.window_start >= since)
    if until is not None:
        q = q.where(p.window_start < until)
    for k, v in (labels or {}).items():
        pair = json.dumps({k: v}, separators=(",", ":"))[1:-1]
        q = q.where(
            sa.or_(
                p.labels.contains(pair + ",", autoescape=True),
                p.labels.contains(pair + "}", autoescape=True),
            )
        )
    return q


def _labels_match(found: Mapping[str, str], wanted: Mapping[str, str] | None) -> bool:
    return all(found.get(k) == v for k, v in (wanted or {}).items())
