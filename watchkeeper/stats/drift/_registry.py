"""The drift methods by name, and the default method per column kind and sample size."""

from __future__ import annotations

from typing import get_args

from watchkeeper.errors import ConfigError
from watchkeeper.stats.drift._base import DriftMethod
from watchkeeper.stats.drift.chi2 import CHI2
from watchkeeper.stats.drift.distance import L1, LINF
from watchkeeper.stats.drift.hellinger import HELLINGER
from watchkeeper.stats.drift.jensen_shannon import JENSEN_SHANNON
from watchkeeper.stats.drift.ks import KS
from watchkeeper.stats.drift.psi import PSI
from watchkeeper.stats.drift.wasserstein import WASSERSTEIN
from watchkeeper.types import ColumnKind

__all__ = ["METHODS", "SMALL_SAMPLE", "default_method", "get_method"]

METHODS: dict[str, DriftMethod] = {
    "chi2": CHI2,
    "hellinger": HELLINGER,
    "jensen_shannon": JENSEN_SHANNON,
    "ks": KS,
    "l1": L1,
    "linf": LINF,
    "psi": PSI,
    "wasserstein": WASSERSTEIN,
}

SMALL_SAMPLE = 1000
"""Below this many current values the test-style methods (KS, chi-square) are used."""


def get_method(name: str) -> DriftMethod:
    """The registered method called ``name``; an unknown name lists the known ones.

    Examples
    --------
    >>> get_method("ks").display_name
    'Kolmogorov-Smirnov D'
    """
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown drift method {name!r}; expected one of: " + ", ".join(sorted(METHODS)),
            field="method",
            value=name,
            expected=", ".join(sorted(METHODS)),
        ) from None


def default_method(kind: ColumnKind, n_current: int) -> str:
    """The method used when none is configured, by column kind and current sample size.

    - numeric, datetime and text (compared on lengths): ``ks`` below 1,000 current
      values — with few rows, binning throws away the power KS keeps — else
      ``jensen_shannon`` on the reference's quantile bins, whose counts are exact in a
      profile, so the verdict carries no sketch error where samples are large.
    - categorical and boolean: ``chi2`` below 1,000 values, else ``jensen_shannon``.

    Examples
    --------
    >>> default_method("numeric", 200), default_method("categorical", 50_000)
    ('ks', 'jensen_shannon')
    """
    kinds = get_args(ColumnKind)
    if kind not in kinds:
        raise ConfigError(
            f"unknown column kind {kind!r}; expected one of: " + ", ".join(kinds),
            field="kind",
            value=kind,
            expected=", ".join(kinds),
        )
    small = n_current < SMALL_SAMPLE
    if kind in ("categorical", "boolean"):
        return "chi2" if small else "jensen_shannon"
    return "ks" if small else "jensen_shannon"
