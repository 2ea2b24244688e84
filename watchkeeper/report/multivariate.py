"""The "why did it change?" part of a report: multivariate drift and root causes.

Both sides are sampled row by row into a :class:`~watchkeeper.profile.reservoir.Reservoir`
(one more pass over each file, one batch in memory at a time), then
:func:`~watchkeeper.stats.multivariate.assess` runs the PCA statistic and the domain
classifier on the samples and ranks the features, each with the column's univariate
verdict from the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from watchkeeper._batch import to_columns
from watchkeeper.errors import ConfigError
from watchkeeper.profile.reservoir import Reservoir
from watchkeeper.report.build import Report
from watchkeeper.schema import Schema, validate
from watchkeeper.stats.multivariate import (
    MultivariateConfig,
    MultivariateFindings,
    assess,
    multivariate_columns,
)
from watchkeeper.tables import BATCH_ROWS, iter_batches

__all__ = [
    "SAMPLE_ROWS",
    "add_multivariate",
    "report_schema",
    "require_files",
    "sample_batches",
    "sample_file",
]

SAMPLE_ROWS = 5_000
"""Rows sampled per side; the classifier trains on ``max_rows`` of them."""


def sample_batches(
    batches: Iterable[Any], schema: Schema, *, rows: int = SAMPLE_ROWS, seed: int = 0
) -> Reservoir:
    """A uniform sample of ``rows`` rows of ``batches`` (data frames or mappings of
    columns), validated against ``schema`` (wrong values become missing)."""
    sample = Reservoir(rows, seed)
    for batch in batches:
        columns, n = to_columns(batch)
        sample.add(validate(columns, schema, strict=False, allow_extra=True).columns, n)
    return sample


def sample_file(path: Path, schema: Schema, *, rows: int = SAMPLE_ROWS, seed: int = 0) -> Reservoir:
    """:func:`sample_batches` of a data file, read batch by batch.

    Raises
    ------
    ConfigError
        ``path`` is a directory or a glob (the sample is taken from one file).
    """
    require_files(path)
    return sample_batches(iter_batches(path, BATCH_ROWS), schema, rows=rows, seed=seed)


def require_files(*paths: Path) -> None:
    """Check that each path is one data file, not a directory or a glob (the samples
    are read from one file per side), before any work is done.

    Raises
    ------
    ConfigError
        A path is a directory or a glob.
    """
    for path in paths:
        if path.is_dir() or any(ch in str(path) for ch in "*?["):
            raise ConfigError(
                f"--multivariate: {str(path)!r} is a dataset of several files; expected one "
                "data file per side",
                field="multivariate",
                value=str(path),
                expected="a data file",
            )


def add_multivariate(
    report: Report,
    reference: Reservoir,
    current: Reservoir,
    config: MultivariateConfig | None = None,
) -> Report:
    """``report`` with its multivariate findings on the two samples (the features of the
    report's schema, each cause with its column's univariate verdict).

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.report import compare_frames
    >>> import pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> def frame(rho, n):
    ...     x = rng.normal(size=n)
    ...     return pd.DataFrame({"x": x, "y": rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)})
    >>> ref, cur = frame(0.9, 2_000), frame(-0.9, 2_000)
    >>> report = compare_frames(ref, cur)
    >>> schema = report_schema(report)
    >>> cfg = MultivariateConfig(n_permutations=9, max_iter=10, max_rows=500)
    >>> out = add_multivariate(report, sample_batches([ref], schema),
    ...                        sample_batches([cur], schema), cfg)
    >>> report.drift.drifted, out.multivariate.drifted
    (False, True)
    """
    features = multivariate_columns(report_schema(report))
    univariate = {
        c.name: (c.drift.statistic, c.drift.drifted) for c in report.columns if c.drift is not None
    }
    ref_cols, cur_cols = reference.columns(), current.columns()
    findings: MultivariateFindings = assess(
        {f: ref_cols[f] for f in features if f in ref_cols},
        {f: cur_cols[f] for f in features if f in ref_cols and f in cur_cols},
        config,
        univariate=univariate,
    )
    return dataclasses.replace(report, multivariate=findings)


def report_schema(report: Report) -> Schema:
    """The reference schema a report was built on (its columns' names, kinds, roles)."""
    return Schema.from_dict({c.name: {"kind": c.kind, "role": c.role} for c in report.columns})
