"""The one table reader: parquet, feather (Arrow IPC) and csv, via pandas/pyarrow.

A file whole (:func:`read_table`, the suffix picks the format) or batch by batch in
bounded memory (:func:`iter_batches`), and a request body (:func:`read_table_bytes`, the
content type picks it). The CLI, the report, the Monitor and the server all read tables
here.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

from watchkeeper import wire
from watchkeeper.errors import InvalidBatchError

__all__ = ["BATCH_ROWS", "TABLE_CONTENT_TYPES", "count_rows", "iter_batches", "read_table",
           "read_table_bytes"]  # fmt: skip

_READERS = {".parquet": "read_parquet", ".feather": "read_feather", ".csv": "read_csv"}

BATCH_ROWS = 100_000
"""Rows per batch when a file is read batch by batch."""

_PARQUET_BUFFER_BYTES = 1 << 20
"""Bytes read at a time from a parquet column chunk (per column) when streaming batches."""


def _check(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _READERS:
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
    return suffix


def read_table(path: Path) -> Any:
    """Read a data file into a pandas DataFrame; the suffix picks the reader."""
    import pandas as pd

    return getattr(pd, _READERS[_check(path)])(path)


def count_rows(path: Path) -> int | None:
    """Rows in the file from its metadata (parquet, feather); ``None`` for csv."""
    suffix = _check(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    if suffix == ".feather":
        import pyarrow.ipc as ipc

        with ipc.open_file(path) as reader:
            return int(sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches)))
    return None


def iter_batches(path: Path, rows: int = BATCH_ROWS) -> Generator[Any, None, None]:
    """The file as pandas DataFrames of up to ``rows`` rows, so memory holds one batch
    whatever the file's size."""
    import pandas as pd

    suffix = _check(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        # pre-buffering keeps every column chunk read so far (memory grew with the file);
        # a buffered stream reads a column chunk a slice at a time, where the default reads
        # it whole: a file written as one row group would sit in memory whole
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=_PARQUET_BUFFER_BYTES)
        for batch in parquet.iter_batches(batch_size=rows):
            yield batch.to_pandas()
    elif suffix == ".feather":
        import pyarrow as pa
        import pyarrow.ipc as ipc

        # memory-mapped: a record batch costs only the pages its slices touch
        with pa.memory_map(str(path)) as source, ipc.open_file(source) as reader:
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                for offset in range(0, batch.num_rows, rows):
                    yield batch.slice(offset, rows).to_pandas()
    else:
        with pd.read_csv(path, chunksize=rows) as chunks:
            yield from chunks


TABLE_CONTENT_TYPES = (wire.PARQUET, wire.ARROW_STREAM, "text/csv")
"""Content types of a table sent as a request body."""


def read_table_bytes(body: bytes, content_type: str) -> Any:
    """Read a table sent as bytes (a reference or a new version's data) into a DataFrame.

    Raises
    ------
    InvalidBatchError
        The content type is not a table format, or the bytes are not a readable table.
    """
    import io

    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        if content_type == wire.PARQUET:
            return pq.read_table(pa.BufferReader(body)).to_pandas()
        if content_type == wire.ARROW_STREAM:
            return pa.ipc.open_stream(pa.BufferReader(body)).read_all().to_pandas()
        if content_type == "text/csv":
            return pd.read_csv(io.BytesIO(body))
    except (pa.ArrowInvalid, OSError, ValueError, pd.errors.ParserError) as exc:
        raise InvalidBatchError(
            f"body: not a readable {content_type} table ({exc})",
            field="body",
            value=len(body),
            expected=f"a {content_type} table",
        ) from exc
    expected = ", ".join(TABLE_CONTENT_TYPES)
    raise InvalidBatchError(
        f"content-type: {content_type!r} is not a table format; expected one of: {expected}",
        field="content-type",
        value=content_type,
        expected=expected,
    )
