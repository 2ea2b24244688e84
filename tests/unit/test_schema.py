"""Schema inference and validation: kinds, overrides, and errors that name everything."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from watchkeeper.errors import (
    ColumnNotFoundError,
    ColumnTypeError,
    InvalidBatchError,
    SchemaError,
)
from watchkeeper.schema import Schema, infer_schema, validate

FRAME = {
    "age": [31.5, 40.0, None, 22.0],
    "stars": [1, 2, 3, 2],
    "city": ["Oslo", "Rome", None, "Oslo"],
    "ok": [True, False, True, None],
    "when": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2), None, dt.datetime(2024, 1, 3)],
}
KINDS = {
    "age": "numeric",
    "stars": "categorical",
    "city": "categorical",
    "ok": "boolean",
    "when": "datetime",
}


@pytest.mark.parametrize(
    "container",
    [
        lambda d: pd.DataFrame(d),
        lambda d: pl.DataFrame(d, strict=False),
        lambda d: pa.Table.from_pandas(pd.DataFrame(d)),
        lambda d: d,
        lambda d: [dict(zip(d, values, strict=True)) for values in zip(*d.values(), strict=True)],
    ],
    ids=["pandas", "polars", "arrow", "dict", "rows"],
)
def test_inference_is_the_same_from_every_container(container) -> None:
    schema = infer_schema(container(FRAME))
    assert {c.name: c.kind for c in schema} == KINDS
    vb = validate(container(FRAME), schema)
    assert np.isnan(vb.columns["age"][2]) and vb.columns["age"][0] == 31.5
    assert vb.columns["city"].decode().tolist() == ["Oslo", "Rome", None, "Oslo"]
    assert vb.columns["ok"].decode().tolist()[:2] == ["true", "false"]
    assert vb.columns["when"][1] - vb.columns["when"][0] == 86_400


def test_free_text_is_inferred_as_text_and_declared_kinds_win() -> None:
    texts = [f"the user asked about order number {i} and shipping" for i in range(80)]
    schema = infer_schema({"q": texts, "zip": list(range(80))}, kinds={"zip": "categorical"})
    assert schema["q"].kind == "text" and schema["zip"].kind == "categorical"


def test_an_all_missing_column_asks_for_a_declaration() -> None:
    with pytest.raises(SchemaError) as info:
        infer_schema({"a": [None, None], "b": [1.0, 2.0]})
    assert info.value.field == "a" and "declared kind" in str(info.value)


def test_strict_type_error_names_column_value_row_and_expectation() -> None:
    schema = Schema.from_dict({"age": "numeric"})
    with pytest.raises(ColumnTypeError) as info:
        validate({"age": [1, 2, "forty-two"]}, schema)
    err = info.value
    assert (err.field, err.value, err.expected) == ("age", "forty-two", "a number")
    assert str(err) == "column 'age': expected a number, got 'forty-two' in row 2"


def test_missing_and_extra_columns_are_reported_not_dropped() -> None:
    schema = Schema.from_dict({"a": "numeric", "b": "numeric"})
    with pytest.raises(ColumnNotFoundError, match="'b'"):
        validate({"a": [1.0]}, schema)
    with pytest.raises(InvalidBatchError, match="'c': not in the schema"):
        validate({"a": [1.0], "b": [2.0], "c": [3.0]}, schema)
    vb = validate({"a": [1.0], "c": [3.0]}, schema, strict=False)
    assert {(i.column, i.problem) for i in vb.issues} == {
        ("b", "missing_column"),
        ("c", "extra_column"),
    }
    assert np.isnan(vb.columns["b"]).all()


def test_lenient_mode_keeps_good_values_and_counts_bad_ones() -> None:
    schema = Schema.from_dict({"x": "numeric", "c": "categorical", "b": "boolean"})
    vb = validate(
        {"x": [1, "bad", 3.5, None], "c": ["a", {"k": 1}, 7, None], "b": [1, "maybe", "no", None]},
        schema,
        strict=False,
    )
    assert vb.columns["x"][[0, 2]].tolist() == [1.0, 3.5] and np.isnan(vb.columns["x"][1])
    assert vb.columns["c"].decode().tolist() == ["a", None, "7", None]
    assert vb.columns["b"].decode().tolist() == ["true", None, "false", None]
    assert vb.type_errors() == {"x": 1, "c": 1, "b": 1}


def test_ragged_columns_and_unknown_containers_are_invalid_batches() -> None:
    schema = Schema.from_dict({"a": "numeric", "b": "numeric"})
    with pytest.raises(InvalidBatchError, match="different lengths"):
        validate({"a": [1.0, 2.0], "b": [1.0]}, schema)
    with pytest.raises(InvalidBatchError, match="expected a DataFrame"):
        validate(42, schema)


def test_empty_batches_and_nan_inf_are_accepted() -> None:
    schema = Schema.from_dict({"a": "numeric"})
    assert validate({"a": []}, schema).n_rows == 0
    out = validate({"a": [np.nan, np.inf, -np.inf, 1.0]}, schema).columns["a"]
    assert np.isnan(out[0]) and np.isinf(out[1:3]).all()


def test_pandas_categorical_and_string_dtypes_match_object_arrays() -> None:
    values = ["x", None, "y", "x"]
    schema = Schema.from_dict({"c": "categorical"})
    expected = validate({"c": values}, schema).columns["c"].decode().tolist()
    for dtype in ("category", "string", object):
        got = validate(pd.DataFrame({"c": pd.Series(values, dtype=dtype)}), schema)
        assert got.columns["c"].decode().tolist() == expected


def test_timestamps_in_every_form_become_epoch_seconds() -> None:
    schema = Schema.from_dict({"t": "datetime"})
    aware = pd.DataFrame({"t": pd.to_datetime(["2024-01-01T01:00:00+01:00"])})
    forms = [
        aware,
        {"t": ["2024-01-01T00:00:00Z"]},
        {"t": [dt.datetime(2024, 1, 1)]},
        {"t": [1_704_067_200]},
    ]
    for batch in forms:
        assert validate(batch, schema).columns["t"].tolist() == [1_704_067_200.0]
    with pytest.raises(ColumnTypeError, match="expected a timestamp"):
        validate({"t": ["not a date"]}, schema)


def test_unknown_kind_and_duplicate_names_are_schema_errors() -> None:
    # "image" became a declared kind (issue 20: its descriptors are monitored)
    with pytest.raises(SchemaError, match=r"unknown kind 'video'; expected one of: .*image"):
        Schema.from_dict({"a": "video"})
    with pytest.raises(SchemaError, match="declared twice"):
        from watchkeeper.schema import ColumnSpec

        Schema((ColumnSpec("a", "numeric"), ColumnSpec("a", "text")))
