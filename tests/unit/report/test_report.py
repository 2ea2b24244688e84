"""The offline report: its verdicts are the detector's, its data-quality figures and
distributions equal NumPy/pandas on the same rows, its JSON is strict and complete, its
HTML escapes names; the check applies each condition and only that condition."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from watchkeeper.errors import ConfigError
from watchkeeper.profile import profile_table
from watchkeeper.report import (
    FORMAT,
    CheckPolicy,
    compare_frames,
    render_html,
    report_to_dict,
    report_to_json,
    run_check,
)
from watchkeeper.report.files import compare_files
from watchkeeper.stats import DriftConfig, DriftDetector

XSS = "<script>alert(1)</script>"


def _frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference and a current frame with one change of each kind."""
    rng = np.random.default_rng(seed)
    n, m = 20_000, 8_000
    ref = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 0.4, n),
            "stable": rng.normal(0, 1, n),
            "city": rng.choice(["Oslo", "Rome", "Lima"], n, p=[0.5, 0.3, 0.2]),
            XSS: rng.normal(0, 1, n),
            "dropped": rng.normal(0, 1, n),
        }
    )
    age = rng.normal(44, 10, m)  # shifted
    age[rng.random(m) < 0.15] = np.nan  # and often missing
    income = rng.lognormal(10, 0.4, m)
    income[:400] *= 1000  # a unit change in 5% of the rows
    cur = pd.DataFrame(
        {
            "age": age,
            "income": income,
            "stable": rng.normal(0, 1, m),
            "city": rng.choice(["Oslo", "Rome", "Lima", "Baku"], m, p=[0.4, 0.3, 0.2, 0.1]),
            XSS: rng.normal(0, 1, m),
            "added": rng.normal(0, 1, m),
        }
    )
    return ref, cur


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _frames()


@pytest.fixture(scope="module")
def report(frames: tuple[pd.DataFrame, pd.DataFrame]) -> Any:
    ref, cur = frames
    return compare_frames(ref, cur, reference_name="ref.parquet", current_name="cur.parquet")


def test_verdicts_are_the_detectors_on_the_same_profiles(frames: Any, report: Any) -> None:
    ref, cur = frames
    ref_p = profile_table(ref)
    cur_p = profile_table(cur, reference=ref_p)
    want = DriftDetector(DriftConfig()).fit(ref_p).compare(cur_p)
    assert report.drift == want
    assert set(report.drifted_columns) == {"age", "income", "city"}
    assert report["stable"].drift is not None and not report["stable"].drifted


def test_quality_figures_equal_numpy(frames: Any, report: Any) -> None:
    ref, cur = frames
    age = report["age"]
    assert age.missing == pytest.approx((ref["age"].isna().mean(), cur["age"].isna().mean()))
    finite = cur["age"].dropna().to_numpy()
    assert age.summary["mean"] == pytest.approx((ref["age"].mean(), finite.mean()))
    assert age.summary["std"] == pytest.approx((ref["age"].std(ddof=0), finite.std(ddof=0)))
    assert age.summary["max"] == (ref["age"].max(), finite.max())

    income = report["income"]
    lo, hi = ref["income"].min(), ref["income"].max()
    outside = ((cur["income"] < lo) | (cur["income"] > hi)).mean()
    assert income.out_of_range == pytest.approx(outside)

    city = report["city"]
    counts = cur["city"].value_counts()
    new = {c: int(n) for c, n in counts.items() if c not in set(ref["city"])}
    assert dict(city.new_categories) == new
    assert city.new_category_share == pytest.approx(sum(new.values()) / len(cur))


def test_distributions_equal_numpy_histograms(frames: Any, report: Any) -> None:
    ref, cur = frames
    dist = report["income"].distribution
    edges = np.asarray(dist.edges)

    def shares(values: np.ndarray) -> np.ndarray:
        values = values[np.isfinite(values)]
        inner, _ = np.histogram(values, bins=edges)  # last bin closed, as ours
        counts = [np.sum(values < edges[0]), *inner, np.sum(values > edges[-1])]
        return np.asarray(counts) / values.size

    assert dist.reference == pytest.approx(shares(ref["income"].to_numpy()))
    assert dist.current == pytest.approx(shares(cur["income"].to_numpy()))
    assert dist.current[-1] == pytest.approx(report["income"].out_of_range)  # the unit change

    cats = report["city"].distribution
    ref_share = ref["city"].value_counts(normalize=True)
    cur_share = cur["city"].value_counts(normalize=True)
    assert cats.labels[:3] == tuple(ref_share.index)  # by reference frequency
    assert cats.reference == pytest.approx([*ref_share.to_numpy(), 0.0])
    assert cats.current == pytest.approx([*(cur_share[c] for c in cats.labels[:3]), 0.1], abs=0.01)
    assert math.isclose(sum(cats.current), 1.0)


def test_absent_and_extra_columns_are_reported(report: Any) -> None:
    assert report["dropped"].absent and report["dropped"].missing[1] == 1.0
    assert report["dropped"].drift is None  # no values to judge: a quality matter
    assert report.extra_columns == ("added",)


def test_json_is_strict_complete_and_versioned(report: Any) -> None:
    def no_constants(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    doc = json.loads(report_to_json(report), parse_constant=no_constants)
    assert doc == report_to_dict(report) | {"generated_at": doc["generated_at"]}
    assert doc["format"] == FORMAT
    assert doc["drift"]["drifted_columns"] == list(report.drifted_columns)
    by_name = {c["name"]: c for c in doc["columns"]}
    assert set(by_name) == {c.name for c in report.columns}
    age = by_name["age"]
    assert age["drift"]["statistic"] == report["age"].drift.statistic
    assert age["missing_ratio"]["current"] == report["age"].missing[1]
    assert by_name["city"]["new_categories"] == [
        {"value": v, "count": n} for v, n in report["city"].new_categories.items()
    ]
    assert by_name["dropped"]["drift"] is None and by_name["dropped"]["absent"] is True
    assert doc["extra_columns"] == ["added"]


def test_html_escapes_names_and_inlines_everything(report: Any) -> None:
    page = render_html(report)
    assert XSS not in page  # the column name is text (HTML) or \u003c-escaped (JSON)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    markup = page.split('<script type="application/json"')[0]
    assert "https://" not in markup and "http://" not in markup  # no link, no CDN
    assert page.count("<script") == 4 and " src=" not in page  # data, plotly, charts, report
    for name in report.drifted_columns:
        assert f'<tr data-column="{name}">' in page


# -- the check --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "failed"),
    [
        (CheckPolicy(), {("dataset_drift", None), ("absent_columns", "dropped")}),
        (CheckPolicy(dataset_drift=False, absent_columns=False), set()),
        (
            CheckPolicy(dataset_drift=False, absent_columns=False, columns=["age"]),
            {("columns", "age")},
        ),
        (
            CheckPolicy(dataset_drift=False, absent_columns=False, any_column_drift=True),
            {("any_column_drift", c) for c in ("age", "income", "city")},
        ),
        (
            CheckPolicy(dataset_drift=False, absent_columns=False, max_missing_ratio=0.1),
            {("max_missing_ratio", "age")},
        ),
        (
            CheckPolicy(dataset_drift=False, absent_columns=False, max_missing_increase=0.2),
            set(),  # age's rose by about 0.15
        ),
        (
            CheckPolicy(dataset_drift=False, absent_columns=False, max_out_of_range=0.02),
            {("max_out_of_range", "income")},
        ),
        (
            CheckPolicy(dataset_drift=False, absent_columns=False, max_new_category_share=0.05),
            {("max_new_category_share", "city")},
        ),
    ],
)
def test_each_check_condition_fails_where_it_should(
    report: Any, policy: CheckPolicy, failed: set[tuple[str, str | None]]
) -> None:
    result = run_check(report, policy)
    assert {(f.condition, f.column) for f in result.failures} == failed
    assert result.passed is (not failed)
    for f in result.failures:
        assert f.message and (f.column is None or f.column in f.message)
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["passed"] is result.passed


def test_unchanged_data_passes_the_default_check() -> None:
    rng = np.random.default_rng(7)

    def frame(n: int) -> pd.DataFrame:
        return pd.DataFrame(
            {f"x{i}": rng.normal(i, 1 + i, n) for i in range(10)}
            | {"c": rng.choice(list("abcde"), n)}
        )

    report = compare_frames(frame(20_000), frame(5_000))
    result = run_check(report, CheckPolicy(any_column_drift=True))
    assert result.passed, [f.message for f in result.failures]


def test_bad_policy_and_unknown_column_name_the_field(report: Any) -> None:
    with pytest.raises(ConfigError, match="max_out_of_range: expected a share in"):
        CheckPolicy(max_out_of_range=-0.1)
    with pytest.raises(ConfigError, match="columns: expected a list of column names"):
        CheckPolicy(columns="age")
    with pytest.raises(ConfigError, match="unknown column 'nope'; expected one of: "):
        run_check(report, CheckPolicy(columns=["nope"]))


@pytest.mark.parametrize("suffix", [".parquet", ".feather", ".csv"])
def test_files_compared_batch_by_batch_agree_with_numpy(
    tmp_path: Path, frames: Any, report: Any, suffix: str
) -> None:
    ref, cur = frames
    paths = []
    for frame, name in ((ref, "ref"), (cur, "cur")):
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".parquet":
            frame.to_parquet(path, row_group_size=2_500)
        elif suffix == ".feather":
            frame.to_feather(path)
        else:
            frame.to_csv(path, index=False)
        paths.append(path)
    seen: list[tuple[str, int, int | None]] = []
    streamed = compare_files(*paths, batch_rows=3_000, progress=lambda *a: seen.append(a))
    assert streamed.rows == (len(ref), len(cur))
    assert set(streamed.drifted_columns) == set(report.drifted_columns)
    lo, hi = ref["income"].min(), ref["income"].max()
    outside = ((cur["income"] < lo) | (cur["income"] > hi)).mean()
    assert streamed["income"].out_of_range == pytest.approx(outside)  # exact ends: exact share
    assert streamed["age"].missing == pytest.approx(report["age"].missing)
    assert dict(streamed["city"].new_categories) == dict(report["city"].new_categories)
    assert streamed["dropped"].absent and streamed.extra_columns == ("added",)
    stages = [s for s, _, _ in seen]
    assert stages[0] == "scanning the reference" and stages[-1] == "judging drift"
    done = [d for s, d, _ in seen if s == "profiling the current data"]
    assert done[-1] == len(cur) and len(done) > 1  # several batches, rows counted up
