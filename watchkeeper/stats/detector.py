"""Drift of a dataset from two profiles: the profile path of every drift method.

:class:`DriftDetector` is fitted on a reference profile (``fit(reference) -> self``):
it keeps, per column, what the methods need of the reference — bin edges and counts,
category counts, a quantile grid — and the nulls that give each statistic's natural
spread: for the default methods laws known at fit time
(:mod:`watchkeeper.stats.null_laws`; ``chi2`` falls back to a simulation when Cochran's
rule fails), so a compare at a window size never seen costs no simulation.
``compare(current)`` then computes each column's statistic from the current profile,
judges all columns together (:func:`watchkeeper.stats.verdict.judge`) and returns a
:class:`~watchkeeper.stats.verdict.DatasetDrift`. No raw rows are used.

How a column becomes method inputs:

- numeric and datetime columns, and text columns through their lengths: ``"counts"``
  methods compare histograms on the reference's quantile bins (exact counts when the
  current profile was built on the reference's layout, else read off its sketch);
  ``"cdf"`` methods compare the two quantile sketches' CDFs on the union of both
  sketches' quantiles at ``GRID_POINTS`` ranks, so they carry the sketches' rank error
  (about 0.5% per side at the default size; it is exact while a sketch holds every value).
- categorical and boolean columns: counts of the reference's categories, plus one slot
  for every other value (new categories land there).

Datetime columns are profiled but not tested for drift by default (time moves forward by
design); name them in ``column_methods`` to test them. Columns whose role is ``id``,
``timestamp`` or ``label`` are not compared.

This module imports no profile class: it reads profiles through the attributes they
share (``count``, ``edges``, ``histogram()``, ``cdf()``, ``quantiles()``, ``std``,
``count_vector()``), keeping ``stats`` independent of ``profile``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from watchkeeper.errors import ColumnNotFoundError, ConfigError
from watchkeeper.schema import ColumnSpec
from watchkeeper.stats.config import DriftConfig
from watchkeeper.stats.drift import CdfPair, DriftMethod, MethodResult, default_method, get_method
from watchkeeper.stats.null_grid import GridNull
from watchkeeper.stats.null_laws import (
    BridgeNull,
    ChiSquareLaw,
    NullSpread,
    chi_square_law_applies,
)
from watchkeeper.stats.null_model import NullModel
from watchkeeper.stats.verdict import DatasetDrift, Observation, judge, screen_resamples
from watchkeeper.types import FloatArray, IntArray

__all__ = ["ATOMS", "GRID_POINTS", "DriftDetector"]

GRID_POINTS = 512
"""Ranks per sketch at which CDFs are compared by the ``"cdf"`` methods."""

ATOMS = 200
"""Equal-probability atoms that stand for the reference in the ``"cdf"`` null models."""

COMPARED_ROLES = ("feature", "output")


@dataclass
class _ColumnReference:
    spec: ColumnSpec
    kind: str
    n: int
    edges: FloatArray | None
    counts: IntArray | None
    categories: list[str] | None
    atoms: FloatArray | None
    scale: float
    profile: Any


def _unseen_mass(ref: _ColumnReference) -> dict[int, float]:
    """Probability of the slots a no-drift sample can fill but the reference did not.

    Numeric: below the reference's minimum or above its maximum, 1/(n+1) each (the chance
    that one more draw is a new extreme). Categorical: a value outside the tracked
    categories, estimated by Good–Turing as the share of categories seen exactly once
    (at least 1/(n+1)).
    """
    assert ref.counts is not None
    floor = 1.0 / (ref.n + 1)
    if ref.kind == "numeric":
        return {0: floor, len(ref.counts) - 1: floor}
    singletons = sum(1 for c in ref.profile.counts.values() if c == 1)
    return {len(ref.counts) - 1: max(floor, singletons / max(ref.n, 1))}


def _numeric_part(col: Any) -> Any:
    """The numeric profile a column is compared on (a text column's lengths)."""
    return col.lengths if hasattr(col, "lengths") else col


def _reference_edges(col: Any) -> FloatArray | None:
    if col.edges is not None:
        return np.asarray(col.edges, dtype=np.float64)
    if col.count == 0:
        return None
    return np.unique(col.quantiles(np.linspace(0.0, 1.0, 21)))


class DriftDetector:
    """Compare current profiles with a reference profile, column by column.

    Parameters
    ----------
    config
        Method, mode, false-alarm rate, effect floor, correction and dataset share.
    column_methods
        Method per column name, overriding the default (``config.method`` or the
        default by kind and sample size).

    Attributes
    ----------
    columns_
        Per compared column, what was kept of the reference.
    null_models_
        ``{(column, method): GridNull | BridgeNull}``; the bridges and the grids of the
        methods chosen (their screening draws) are built at fit, the grids of ``chi2`` on
        sparse tables and of the full draws as they are needed; all cached.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> rng = np.random.default_rng(0)
    >>> ref = profile_table({"x": rng.normal(size=20_000), "c": rng.choice(["a", "b"], 20_000)})
    >>> cur = profile_table({"x": rng.normal(0.3, 1, 5_000), "c": rng.choice(["a", "b"], 5_000)},
    ...               reference=ref)
    >>> result = DriftDetector().fit(ref).compare(cur)
    >>> [(c.column, c.method, c.drifted) for c in result.columns]
    [('x', 'ks_binned', True), ('c', 'chi2', False)]
    """

    def __init__(
        self,
        config: DriftConfig | None = None,
        *,
        column_methods: Mapping[str, str] | None = None,
    ) -> None:
        self.config = config or DriftConfig()
        self.column_methods = dict(column_methods or {})
        for name, method in self.column_methods.items():
            get_method(method)  # fail at construction on an unknown method
            if not isinstance(name, str):
                raise ConfigError(
                    f"column_methods: expected column names, got {name!r}",
                    field="column_methods",
                    value=name,
                    expected="str",
                )
        if self.config.method is not None:
            get_method(self.config.method)

    def fit(self, reference: Any) -> DriftDetector:
        """Learn what the methods need from a reference dataset profile; returns self."""
        self.reference_ = reference
        self.columns_: dict[str, _ColumnReference] = {}
        self.null_models_: dict[tuple[str, str], GridNull | BridgeNull] = {}
        for spec in reference.schema:
            if spec.role not in COMPARED_ROLES:
                continue
            if spec.kind == "datetime" and spec.name not in self.column_methods:
                continue
            self.columns_[spec.name] = self._fit_column(spec, reference.columns[spec.name])
        self._prepare_bridges()
        return self

    def _prepare_bridges(self) -> None:
        """Simulate the bridge laws now, so that no compare ever waits for them.

        Their draws do not depend on the window size, so this is the whole cost of the
        natural spread of every ``ks_binned`` column: the screening and the full number
        of draws, once per set of bin shares (20 equal-probability bins of any continuous
        column share one set, cached for the process).
        """
        if self.config.mode != "natural_spread":
            return
        k = len(self.columns_)
        draws = {screen_resamples(self.config, k), self.config.resamples_for(k)}
        for ref in self.columns_.values():
            if ref.n == 0 or ref.kind != "numeric":
                continue
            name = ref.spec.name
            chosen = self.column_methods.get(name) or self.config.method
            if (chosen or default_method(ref.spec.kind, ref.n)) != "ks_binned":
                continue
            null = self._null_model(ref, get_method("ks_binned"), None)
            for b in sorted(draws):
                null.p_value(ref.n, 0.0, b)
        self._prepare_grids(screen_resamples(self.config, k))

    def _prepare_grids(self, n_resamples: int) -> None:
        """Simulate, now, the grid of sizes of every column whose binned method has no law
        known at fit time (Jensen–Shannon, PSI, Hellinger, L1, L∞), at the screening
        draws: a compare at any size then only interpolates
        (:mod:`watchkeeper.stats.null_grid`); columns with the same bin shares share one
        grid. The grids of the sketch-CDF methods (``ks``, ``wasserstein``: 200 atoms,
        one grid per column) are simulated a grid point at a time, when a window size
        first needs it, so each costs at most once per √2 band of window sizes.
        """
        for ref in self.columns_.values():
            if ref.n == 0:
                continue
            chosen = self.column_methods.get(ref.spec.name) or self.config.method
            if chosen is None or chosen in ("ks_binned", "chi2"):
                continue
            try:
                method = self._method_for(ref, ref.n)
            except ConfigError:  # a method for another kind: compare() says so
                continue
            if method.representation != "counts":
                continue
            null = self._null_model(ref, method, None)
            if isinstance(null, GridNull):
                null.prepare(n_resamples)

    def _fit_column(self, spec: ColumnSpec, col: Any) -> _ColumnReference:
        if spec.kind in ("categorical", "boolean"):
            cats = sorted(col.counts)
            return _ColumnReference(
                spec, "categorical", col.count, None, col.count_vector(cats), cats, None, 0.0, col
            )
        num = _numeric_part(col)
        edges = _reference_edges(num)
        counts = num.histogram(edges) if edges is not None else None
        atoms = num.quantiles((np.arange(ATOMS) + 0.5) / ATOMS) if num.count else None
        scale = float(num.std) if num.count else 0.0
        return _ColumnReference(spec, "numeric", num.count, edges, counts, None, atoms, scale, num)

    def _method_for(self, ref: _ColumnReference, n_current: int) -> DriftMethod:
        name = (
            self.column_methods.get(ref.spec.name)
            or self.config.method
            or default_method(ref.spec.kind, n_current)
        )
        method = get_method(name)
        family = "categorical" if ref.kind == "categorical" else "numeric"
        if family not in method.kinds:
            raise ConfigError(
                f"column {ref.spec.name!r}: method {name!r} does not apply to {family} "
                f"columns; expected one of its kinds: {', '.join(sorted(method.kinds))}",
                field=ref.spec.name,
                value=name,
                expected=", ".join(sorted(method.kinds)),
            )
        return method

    def _null_model(
        self, ref: _ColumnReference, method: DriftMethod, cur_counts: IntArray | None
    ) -> NullSpread:
        if method.name == "chi2" and cur_counts is not None:
            assert ref.counts is not None
            if chi_square_law_applies(ref.counts, cur_counts):
                # chi-square with one degree of freedom fewer than the slots not empty
                # on both sides, as in scipy.stats.chi2_contingency
                dof = int(np.count_nonzero((ref.counts + cur_counts) > 0)) - 1
                return ChiSquareLaw(method, dof=max(dof, 0))
        key = (ref.spec.name, method.name)
        model = self.null_models_.get(key)
        if model is None:
            if method.name == "ks_binned":
                assert ref.counts is not None
                bridge = BridgeNull(method, seed=self.config.seed)
                model = bridge.fit_counts(ref.counts, unseen=_unseen_mass(ref))
                self.null_models_[key] = model
                return model
            simulated = NullModel(method, seed=self.config.seed)
            if method.representation == "counts":
                assert ref.counts is not None  # guarded: empty references are skipped
                simulated.fit_counts(ref.counts, unseen=_unseen_mass(ref))
            else:
                assert ref.atoms is not None
                simulated.fit_atoms(ref.atoms, ref.n, ref.scale)
            model = GridNull(simulated)
            self.null_models_[key] = model
        return model

    def _measure(
        self, ref: _ColumnReference, method: DriftMethod, cur: Any
    ) -> tuple[MethodResult, int, IntArray | None]:
        if ref.kind == "categorical":
            assert ref.categories is not None and ref.counts is not None
            cur_counts = cur.count_vector(ref.categories)
            assert method.from_counts is not None
            result = method.from_counts(ref.counts, cur_counts)
            return result, int(cur_counts.sum()), cur_counts
        num = _numeric_part(cur)
        if method.representation == "counts":
            assert ref.edges is not None and ref.counts is not None
            assert method.from_counts is not None
            cur_counts = num.histogram(ref.edges)
            result = method.from_counts(ref.counts, cur_counts)
            return result, int(cur_counts.sum()), cur_counts
        ranks = np.linspace(0.0, 1.0, GRID_POINTS)
        grid = np.unique(np.concatenate([ref.profile.quantiles(ranks), num.quantiles(ranks)]))
        pair = CdfPair(
            grid=grid,
            cdf_ref=ref.profile.cdf(grid),
            cdf_cur=num.cdf(grid),
            n_ref=ref.n,
            n_cur=num.count,
            ref_scale=ref.scale,
        )
        assert method.from_cdfs is not None
        return method.from_cdfs(pair), int(num.count), None

    def compare(self, current: Any) -> DatasetDrift:
        """Judge a current dataset profile against the fitted reference.

        Columns with no values on either side are left out of the verdict (they are a
        data-quality matter, reported by missing ratios, not a drift).

        Raises
        ------
        ColumnNotFoundError
            When the current profile lacks a compared column.
        """
        if not hasattr(self, "columns_"):
            raise ConfigError(
                "DriftDetector: compare() called before fit(); expected a fitted detector",
                field="reference",
                value=None,
                expected="fit(reference) first",
            )
        observations = []
        for name, ref in self.columns_.items():
            if name not in current.columns:
                raise ColumnNotFoundError(
                    f"column {name!r}: in the reference but not in the current profile; "
                    "expected the same schema",
                    field=name,
                    value=None,
                    expected="the reference's columns",
                )
            cur = current.columns[name]
            n_current = int(_numeric_part(cur).count) if ref.kind == "numeric" else int(cur.count)
            if ref.n == 0 or n_current == 0:
                continue
            method = self._method_for(ref, n_current)
            result, n_cur, cur_counts = self._measure(ref, method, cur)
            null = (
                self._null_model(ref, method, cur_counts)
                if self.config.mode == "natural_spread"
                else None
            )
            observations.append(
                Observation(
                    column=name,
                    kind=ref.spec.kind,
                    method=method,
                    result=result,
                    n_reference=ref.n,
                    n_current=n_cur,
                    null=null,
                )
            )
        return judge(observations, self.config)
