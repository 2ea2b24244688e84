"""The one exception tree of watchkeeper, and its warnings.

::

    WatchkeeperError
     ├── ConfigError (ValueError)
     ├── SchemaError (ValueError)
     │    ├── ColumnNotFoundError
     │    └── ColumnTypeError
     ├── InvalidBatchError (ValueError)
     ├── ProfileFormatError (ValueError)
     ├── IncompatibleProfilesError (ValueError)
     ├── StoreError
     ├── RuleError (ValueError)
     └── MissingExtraError (ImportError)

    WatchkeeperWarning (UserWarning)
     ├── SmallSampleWarning
     └── SketchApproximationWarning

Every error names the field, the value and what was expected in one sentence, and
carries those facts as attributes (``field``, ``value``, ``expected``) so that the
server can render a JSON 4xx and the CLI one line, without parsing the text.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ColumnNotFoundError",
    "ColumnTypeError",
    "ConfigError",
    "IncompatibleProfilesError",
    "InvalidBatchError",
    "MissingExtraError",
    "ProfileFormatError",
    "RuleError",
    "SchemaError",
    "SketchApproximationWarning",
    "SmallSampleWarning",
    "StoreError",
    "WatchkeeperError",
    "WatchkeeperWarning",
]


class WatchkeeperError(Exception):
    """Base of every error watchkeeper raises on purpose.

    Parameters
    ----------
    message
        One sentence naming the field, the value and what was expected.
    field
        The column, key or argument at fault, when there is one.
    value
        The offending value (kept as given; render it with ``repr``).
    expected
        What would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value
        self.expected = expected

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready mapping (``value`` rendered with ``repr``)."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "field": self.field,
            "value": None if self.value is None else repr(self.value),
            "expected": self.expected,
        }


class ConfigError(WatchkeeperError, ValueError):
    """A configuration key or constructor argument has a bad value."""


class SchemaError(WatchkeeperError, ValueError):
    """Data does not match the declared or inferred schema."""


class ColumnNotFoundError(SchemaError):
    """A column the schema declares is absent from a batch."""


class ColumnTypeError(SchemaError):
    """A value in a column is not of the column's kind."""


class InvalidBatchError(WatchkeeperError, ValueError):
    """A batch is malformed as a whole (unknown container, ragged columns, extra columns)."""


class ProfileFormatError(WatchkeeperError, ValueError):
    """Bytes are not a watchkeeper profile, are corrupt, or have an unknown format version."""


class IncompatibleProfilesError(WatchkeeperError, ValueError):
    """Two profiles cannot be merged or compared (different kinds or bins)."""


class StoreError(WatchkeeperError):
    """The store failed to read or write."""


class RuleError(WatchkeeperError, ValueError):
    """An alert rule is malformed."""


class MissingExtraError(WatchkeeperError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    @classmethod
    def needs(
        cls, what: str, extra: str, *, field: str = "extra", value: Any = None
    ) -> MissingExtraError:
        """The error for ``what`` (e.g. "the Spark engine needs pyspark") missing its
        ``extra``; raise it ``from`` the ImportError.

        >>> str(MissingExtraError.needs("the demo needs scikit-learn", "demo"))
        'the demo needs scikit-learn: expected pip install "watchkeeper[demo]"'
        """
        install = f'pip install "watchkeeper[{extra}]"'
        return cls(
            f"{what}: expected {install}",
            field=field,
            value=extra if value is None else value,
            expected=install,
        )


class WatchkeeperWarning(UserWarning):
    """Base of watchkeeper's warnings about statistical caveats."""


class SmallSampleWarning(WatchkeeperWarning):
    """A statistic was computed on too few rows to be trusted."""


class SketchApproximationWarning(WatchkeeperWarning):
    """A result comes from a sketch approximation where an exact path was expected."""
