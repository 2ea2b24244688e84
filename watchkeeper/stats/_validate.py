"""Argument checks shared by the statistics' value objects: one error shape for all.

Every bad argument becomes a :class:`~watchkeeper.errors.ConfigError` naming the field,
the value and what was expected, so a bad config fails at load with one line.
"""

from __future__ import annotations

import numpy as np

from watchkeeper.errors import ConfigError

__all__ = ["config_error", "is_count", "is_number"]


def config_error(name: str, value: object, expected: str, where: str = "") -> ConfigError:
    """The :class:`~watchkeeper.errors.ConfigError` for ``name`` = ``value``.

    Examples
    --------
    >>> str(config_error("seed", -1, "an integer >= 0", "column 'x': "))
    "column 'x': seed: expected an integer >= 0, got -1"
    """
    return ConfigError(
        f"{where}{name}: expected {expected}, got {value!r}",
        field=name,
        value=value,
        expected=expected,
    )


def is_number(x: object) -> bool:
    """A Python or NumPy real number, not a bool.

    Examples
    --------
    >>> is_number(0.5), is_number(np.int64(3)), is_number(True), is_number("1")
    (True, True, False, False)
    """
    return isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool)


def is_count(x: object) -> bool:
    """A Python or NumPy integer, not a bool.

    Examples
    --------
    >>> is_count(3), is_count(np.int32(3)), is_count(3.0), is_count(False)
    (True, True, False, False)
    """
    return isinstance(x, int | np.integer) and not isinstance(x, bool)
