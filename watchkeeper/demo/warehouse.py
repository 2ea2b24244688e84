"""The demo's data warehouse: applications as served, joined with their outcomes.

A lender keeps what it scored and, once known, how each loan turned out; the retraining
job reads the recent labelled rows from here. One SQLite file (write-ahead journal, so
the retraining process reads while the load generator writes).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from watchkeeper.demo.data import CATEGORICAL, FEATURES, NUMERIC

__all__ = ["Warehouse"]

_COLUMNS = ("id", "submitted_at", "labelled_at", *FEATURES, "label")


class Warehouse:
    """Labelled applications in a SQLite file.

    Examples
    --------
    >>> import tempfile
    >>> from watchkeeper.demo.data import sample_applications
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     w = Warehouse(Path(tmp) / "w.db")
    ...     records = sample_applications(rng, 3).to_dict("records")
    ...     for rec, i, t in zip(records, "abc", [10.0, 20.0, 30.0]):
    ...         rec.update(id=i, submitted_at=t)
    ...     w.add(records, ["good", "bad", "good"], 40.0)
    ...     print(w.count_since(15.0), list(w.labelled_since(15.0)["label"]))
    ...     w.close()
    2 ['bad', 'good']
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._lock = threading.Lock()
        kinds = {name: "REAL" for name in NUMERIC} | {name: "TEXT" for name in CATEGORICAL}
        columns = ", ".join(
            ["id TEXT PRIMARY KEY", "submitted_at REAL", "labelled_at REAL"]
            + [f"{name} {kinds[name]}" for name in FEATURES]
            + ["label TEXT"]
        )
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS outcomes ({columns})")
            self._db.execute("CREATE INDEX IF NOT EXISTS by_time ON outcomes (submitted_at)")

    def add(
        self, records: Sequence[Mapping[str, Any]], labels: Sequence[str], labelled_at: float
    ) -> None:
        """Record applications (``id``, ``submitted_at`` and the features as the model saw
        them; missing values as ``None``) with their outcomes."""
        rows = [
            (
                str(r["id"]),
                float(r["submitted_at"]),
                float(labelled_at),
                *(r.get(name) for name in FEATURES),
                str(y),
            )
            for r, y in zip(records, labels, strict=True)
        ]
        marks = ", ".join("?" * len(_COLUMNS))
        with self._lock, self._db:
            self._db.executemany(
                f"INSERT OR IGNORE INTO outcomes ({', '.join(_COLUMNS)}) VALUES ({marks})", rows
            )

    def count_since(self, since: float) -> int:
        """Labelled applications submitted at or after ``since``."""
        with self._lock:
            cur = self._db.execute(
                "SELECT COUNT(*) FROM outcomes WHERE submitted_at >= ?", (since,)
            )
            return int(cur.fetchone()[0])

    def labelled_since(self, since: float) -> pd.DataFrame:
        """The labelled applications submitted at or after ``since``, oldest first."""
        with self._lock:
            cur = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM outcomes WHERE submitted_at >= ? "
                "ORDER BY submitted_at",
                (since,),
            )
            frame = pd.DataFrame(cur.fetchall(), columns=list(_COLUMNS))
        for name in NUMERIC:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(np.float64)
        return frame

    def close(self) -> None:
        with self._lock:
            self._db.close()
