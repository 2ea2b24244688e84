"""The SQL store's plumbing: URL checks, the engine, migrations, transactions, upserts.

:class:`~watchkeeper.store.sql.SQLStore` composes these functions; nothing here knows
a table's meaning. Every SQLAlchemy error raised inside :func:`run` becomes a
:class:`~watchkeeper.errors.StoreError`, chained.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from watchkeeper.errors import StoreError

__all__ = ["CHUNK", "DIALECTS", "MIGRATIONS", "create_engine", "migrate", "run", "upsert"]

MIGRATIONS = Path(__file__).parent / "migrations"
DIALECTS = ("sqlite", "postgresql")
CHUNK = 5_000  # rows per statement: below SQLite's and PostgreSQL's parameter limits

T = TypeVar("T")


def create_engine(url: str) -> tuple[sa.Engine, str]:
    """The engine for ``url`` and its dialect name, ``sqlite`` or ``postgresql``.

    Raises
    ------
    StoreError
        For a string that is not a database URL or an unsupported dialect.
    MissingExtraError
        When the dialect's driver is not installed.
    """
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(
            f"store url {url!r}: not a database URL; expected e.g. sqlite:///watchkeeper.db",
            field="store",
            value=url,
            expected="sqlite:///FILE or postgresql+psycopg://USER@HOST/DB",
        ) from exc
    dialect = parsed.get_backend_name()
    if dialect not in DIALECTS:
        raise StoreError(
            f"store url {url!r}: unsupported database {dialect!r}; "
            f"expected one of: {', '.join(DIALECTS)}",
            field="store",
            value=url,
            expected=", ".join(DIALECTS),
        )
    kwargs: dict[str, Any] = {}
    if dialect == "sqlite" and parsed.database in (None, "", ":memory:"):
        kwargs["poolclass"] = sa.pool.StaticPool  # one shared in-memory database
        kwargs["connect_args"] = {"check_same_thread": False}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ImportError as exc:
        from watchkeeper.errors import MissingExtraError

        raise MissingExtraError.needs(
            f"store url {url!r}: the driver is not installed", "postgres", field="store", value=url
        ) from exc
    if dialect == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine, dialect


def run(engine: sa.Engine, url: str, work: Callable[[sa.Connection], T], what: str) -> T:
    """Run ``work`` in one transaction; a SQLAlchemy error becomes a ``StoreError``."""
    try:
        with engine.begin() as conn:
            return work(conn)
    except sa.exc.SQLAlchemyError as exc:
        safe = safe_url(url)
        raise StoreError(
            f"store {safe}: {what} failed: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
            field="store",
            value=safe,
            expected="a reachable database",
        ) from exc


def safe_url(url: str) -> str:
    """``url`` with its password hidden, fit for an error message."""
    return sa.make_url(url).render_as_string(hide_password=True)


def migrate(conn: sa.Connection) -> None:
    """Upgrade the database on ``conn`` to the newest Alembic migration."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def upsert(
    conn: sa.Connection,
    dialect: str,
    table: sa.Table,
    rows: list[dict[str, Any]],
    update: list[str],
) -> None:
    """Insert ``rows``, in chunks; on a primary-key conflict update the ``update``
    columns, or keep the stored row when ``update`` is empty."""
    keys = [c.name for c in table.primary_key.columns]
    insert: Any = sqlite.insert if dialect == "sqlite" else postgresql.insert
    for i in range(0, len(rows), CHUNK):
        stmt = insert(table)
        if update:
            stmt = stmt.on_conflict_do_update(
                index_elements=keys, set_={c: stmt.excluded[c] for c in update}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        conn.execute(stmt, rows[i : i + CHUNK])


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers and one writer work at once; the busy timeout makes a second
    # writer process wait for the lock instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
