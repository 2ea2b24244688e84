"""How multivariate drift is judged: one frozen, validated configuration."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from watchkeeper.errors import ConfigError
from watchkeeper.stats._validate import config_error, is_count, is_number

__all__ = ["ClassifierWhen", "MultivariateConfig", "multivariate_config"]

ClassifierWhen = Literal["always", "on_alarm", "never"]


@dataclass(frozen=True)
class MultivariateConfig:
    """How multivariate drift is judged. Validated at construction.

    Raises
    ------
    ConfigError
        A field out of range or not one of its choices.

    Examples
    --------
    >>> MultivariateConfig(false_alarm_rate=0.05).classifier
    'on_alarm'
    >>> MultivariateConfig(folds=1)
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: multivariate.folds: expected an integer >= 2, got 1
    """

    false_alarm_rate: float = 0.01
    """α, in (0, 0.5): the chance that a window without drift is flagged, by each test."""
    pca_variance: float = 0.65
    """Share of the reference's standardised variance the PCA keeps, in (0, 1)."""
    classifier: ClassifierWhen = "on_alarm"
    """When the domain classifier runs in a monitor: every window, only when the PCA
    statistic or a univariate test flags it (it then confirms and ranks the causes), or
    never. Reports and checks always run it."""
    n_permutations: int = 19
    """Permutations of the domain labels in the classifier's null, >= 5; the cost of a
    verdict is ``(n_permutations + 1) * folds`` fits."""
    folds: int = 2
    """Cross-validation folds of the domain classifier, >= 2."""
    max_rows: int = 1_000
    """Rows per side the classifier is trained on (a seeded subsample beyond), >= 20."""
    max_iter: int = 30
    """Boosting iterations of the classifier, >= 1."""
    min_rows: int = 50
    """Fewer rows than this in the window or the reference: no multivariate verdict."""
    n_repeats: int = 3
    """Shuffles per feature in the permutation importance, >= 1."""
    seed: int = 0
    """Seed of the subsamples, folds, permutations and shuffles, >= 0."""
    impact: Mapping[str, float] | None = None
    """``{feature: model importance}`` (any non-negative scale, e.g. a model's
    ``feature_importances_``, see :func:`~watchkeeper.stats.multivariate.model_impact`):
    root causes are ranked by drift x impact; ``None``: by drift alone."""

    def __post_init__(self) -> None:
        def bad(name: str, value: object, expected: str) -> ConfigError:
            err = config_error(name, value, expected)
            return ConfigError(
                f"multivariate.{err.message}",
                field=f"multivariate.{name}",
                value=value,
                expected=expected,
            )

        for name in ("false_alarm_rate",):
            v = getattr(self, name)
            if not is_number(v) or not 0 < v < 0.5:
                raise bad(name, v, "a number in (0, 0.5)")
        if not is_number(self.pca_variance) or not 0 < self.pca_variance < 1:
            raise bad("pca_variance", self.pca_variance, "a number in (0, 1)")
        if self.classifier not in ("always", "on_alarm", "never"):
            raise bad("classifier", self.classifier, "one of: always, on_alarm, never")
        for name, low in (
            ("n_permutations", 5),
            ("folds", 2),
            ("max_rows", 20),
            ("max_iter", 1),
            ("min_rows", 2),
            ("n_repeats", 1),
            ("seed", 0),
        ):
            v = getattr(self, name)
            if not is_count(v) or v < low:
                raise bad(name, v, f"an integer >= {low}")
        if self.impact is not None:
            if not isinstance(self.impact, Mapping):
                raise bad("impact", self.impact, "a mapping of feature to importance")
            for feature, weight in self.impact.items():
                if not is_number(weight) or not weight >= 0:
                    raise bad(f"impact.{feature}", weight, "a number >= 0")


def multivariate_config(spec: Any) -> MultivariateConfig | None:
    """A :class:`MultivariateConfig` from ``True`` (the defaults), ``False``/``None``
    (off), itself or a mapping of its fields.

    Raises
    ------
    ConfigError
        Not one of those, an unknown key (listing the known ones) or a bad value.

    Examples
    --------
    >>> multivariate_config(True).folds, multivariate_config(False)
    (2, None)
    >>> multivariate_config({"alpha": 1})
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: multivariate.alpha: unknown setting; expected one of: classifier, false_alarm_rate, folds, impact, max_iter, max_rows, min_rows, n_permutations, n_repeats, pca_variance, seed
    """  # noqa: E501
    if spec is None or spec is False:
        return None
    if spec is True:
        return MultivariateConfig()
    if isinstance(spec, MultivariateConfig):
        return spec
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"multivariate: expected true, false or a mapping of settings, got {spec!r}",
            field="multivariate",
            value=spec,
            expected="true, false or a mapping",
        )
    known = sorted(f.name for f in dataclasses.fields(MultivariateConfig))
    for key in spec:
        if key not in known:
            raise ConfigError(
                f"multivariate.{key}: unknown setting; expected one of: {', '.join(known)}",
                field=f"multivariate.{key}",
                value=key,
                expected=", ".join(known),
            )
    return MultivariateConfig(**spec)
