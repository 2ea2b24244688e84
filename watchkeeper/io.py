"""Read tabular files for the command line (parquet, feather, csv), via pandas/pyarrow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from watchkeeper.errors import InvalidBatchError

__all__ = ["read_table"]

_READERS = {".parquet": "read_parquet", ".feather": "read_feather", ".csv": "read_csv"}


def read_table(path: Path) -> Any:
    """Read a data file into a pandas DataFrame; the suffix picks the reader."""
    import pandas as pd

    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InvalidBatchError(
            f"file {str(path)!r}: unsupported suffix {path.suffix!r}; expected one of: "
            + ", ".join(_READERS),
            field="path",
            value=str(path),
            expected=", ".join(_READERS),
        )
    if not path.is_file():
        raise InvalidBatchError(
            f"file {str(path)!r}: not found",
            field="path",
            value=str(path),
            expected="an existing data file",
        )
    return getattr(pd, reader)(path)
