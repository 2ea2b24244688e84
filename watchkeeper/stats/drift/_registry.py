"""The drift methods by name, and the default method per column kind and sample size.

A new method is one module defining a :class:`~watchkeeper.stats.drift.DriftMethod` and
one line in :data:`METHODS`.

Examples
--------
>>> sorted(METHODS)
['chi2', 'hellinger', 'jensen_shannon', 'ks', 'l1', 'linf', 'psi', 'wasserstein']
"""

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
"""Every registered drift method, by its ``name``."""

SMALL_SAMPLE = 1000
"""Below this many current values the test-style methods (KS, chi-square) are the default."""


def get_method(name: str) -> DriftMethod:
    """The registered drift method called ``name``.

    Parameters
    ----------
    name
        A key of :data:`METHODS`, e.g. ``"jensen_shannon"``.

    Returns
    -------
    DriftMethod
        The method.

    Raises
    ------
    ConfigError
        For an unknown name; the message lists the known ones, sorted.

    Examples
    --------
    >>> get_method("ks").display_name
    'Kolmogorov-Smirnov D'
    >>> get_method("kl")
    Traceback (most recent call last):
    ...
    watchkeeper.errors.ConfigError: unknown drift method 'kl'; expected one of: chi2, hellinger, jensen_shannon, ks, l1, linf, psi, wasserstein
    """  # noqa: E501
    try:
        return METHODS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(METHODS))
        raise ConfigError(
            f"unknown drift method {name!r}; expected one of: {known}",
            field="method",
            value=name,
            expected=known,
        ) from None


def default_method(kind: ColumnKind, n_current: int) -> str:
    """The method used when none is configured, by column kind and current sample size.

    Parameters
    ----------
    kind
        The column's kind, one of :data:`watchkeeper.types.ColumnKind`.
    n_current
        Number of values in the current window.

    Returns
    -------
    str
        A key of :data:`METHODS`.

    Raises
    ------
    ConfigError
        For an unknown kind; the message lists the known ones.

    Notes
    -----
    - numeric, datetime and text (the last two compared on numbers derived from them —
      timestamps, lengths): ``ks`` below :data:`SMALL_SAMPLE` (1,000) current values,
      because on few rows binning into 20 bins throws away the resolution KS keeps and
      KS has an exact p-value; from 1,000 values on, ``jensen_shannon`` on the
      reference's quantile bins, whose counts are exact in a profile (KS on profiles
      carries the quantile sketch's rank error) and which is bounded in [0, 1] and
      finite for values outside the reference's range.
    - categorical and boolean: ``chi2`` below 1,000 values, a test with an analytic
      p-value that suits small windows; from 1,000 on, ``jensen_shannon``, whose size
      does not grow with the sample and stays finite for new categories.

    Examples
    --------
    >>> default_method("numeric", 200), default_method("categorical", 50_000)
    ('ks', 'jensen_shannon')
    >>> default_method("boolean", 999), default_method("datetime", 1_000)
    ('chi2', 'jensen_shannon')
    """
    kinds: tuple[str, ...] = get_args(ColumnKind)
    if kind not in kinds:
        known = ", ".join(kinds)
        raise ConfigError(
            f"unknown column kind {kind!r}; expected one of: {known}",
            field="kind",
            value=kind,
            expected=known,
        )
    small = n_current < SMALL_SAMPLE
    if kind in ("categorical", "boolean"):
        return "chi2" if small else "jensen_shannon"
    return "ks" if small else "jensen_shannon"
