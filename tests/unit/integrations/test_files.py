"""Datasets on disk: a file, a directory or a glob, each file one partition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from watchkeeper.errors import InvalidBatchError
from watchkeeper.integrations import compare_datasets, dataset_files
from watchkeeper.report.files import compare_files


def _write(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n)}).to_parquet(path)


def test_a_directory_a_glob_and_a_file_name_their_data_files_sorted(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.parquet", "d/a.csv", "d/sub/c.feather", "d/notes.txt"):
        (tmp_path / name).write_bytes(b"")
    names = [p.relative_to(tmp_path).as_posix() for p in dataset_files(tmp_path / "d")]
    assert names == ["d/a.csv", "d/b.parquet", "d/sub/c.feather"]
    assert dataset_files(f"{tmp_path}/d/*.parquet") == [tmp_path / "d" / "b.parquet"]
    assert dataset_files(tmp_path / "d" / "a.csv") == [tmp_path / "d" / "a.csv"]


def test_nothing_matching_is_one_error_naming_the_argument(tmp_path: Path) -> None:
    with pytest.raises(InvalidBatchError, match=r"dataset '.*nothing-\*\.parquet': no data file"):
        dataset_files(f"{tmp_path}/nothing-*.parquet")


def test_one_file_on_the_local_engine_is_the_one_process_report(tmp_path: Path) -> None:
    _write(tmp_path / "ref.parquet", 5_000, 1)
    _write(tmp_path / "cur.parquet", 3_000, 2)
    ours = compare_datasets(tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    one = compare_files(tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    assert ours.rows == one.rows
    assert [(c.name, c.missing, c.drifted) for c in ours.columns] == [
        (c.name, c.missing, c.drifted) for c in one.columns
    ]


def test_an_unreadable_file_among_others_is_one_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "ref").mkdir()
    _write(tmp_path / "ref" / "a.parquet", 1_000, 1)
    (tmp_path / "ref" / "b.csv").write_text('x,c\n1.0,"a\n')  # an unterminated quote
    _write(tmp_path / "cur.parquet", 1_000, 2)
    with pytest.raises(InvalidBatchError, match=r"file '.*b\.csv': not a readable csv file"):
        compare_datasets(tmp_path / "ref", tmp_path / "cur.parquet")
