"""Where the monitor keeps windows, metric points, references, predictions and labels.

:func:`open_store` turns a URL into a store: ``memory://``, ``sqlite:///FILE`` or
``postgresql+psycopg://…``. SQLAlchemy is imported only when a SQL store is opened.
"""

from __future__ import annotations

from watchkeeper.store.base import (
    AlertRecord,
    Labelled,
    MetricPoint,
    Prediction,
    SilenceRecord,
    Store,
    VersionInfo,
    WindowKey,
    labels_key,
)
from watchkeeper.store.memory import MemoryStore

__all__ = [
    "AlertRecord",
    "Labelled",
    "MemoryStore",
    "MetricPoint",
    "Prediction",
    "SilenceRecord",
    "Store",
    "VersionInfo",
    "WindowKey",
    "labels_key",
    "open_store",
]


def open_store(url: str | Store) -> Store:
    """A store for ``url`` (a store passes through).

    Examples
    --------
    >>> open_store("memory://").url
    'memory://'
    """
    if not isinstance(url, str):
        return url
    if url == "memory://":
        return MemoryStore()
    from watchkeeper.store.sql import SQLStore

    return SQLStore(url)
