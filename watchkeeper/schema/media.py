"""Columns declared as media (``{"kind": "image"}``, ``"audio"``, ``"embedding"``, or
``{"kind": "text", "descriptors": true}``) and the numeric columns they stand for.

A raw image, sound or vector is not profiled: it is turned into a few numbers, its
*descriptors*, by :mod:`watchkeeper.descriptors` where the raw value is (the SDK, or the
Monitor in-process), and those are monitored as numeric features named
``column.descriptor`` (``photo.brightness``, ``voice.rms_dbfs``). A schema declaring a
media column therefore holds the descriptor columns in its place; each remembers its
source (:attr:`ColumnSpec.source`, :attr:`ColumnSpec.source_kind`) so the describer can
be rebuilt from the schema alone. A text column keeps its own text profile and gains the
descriptors it asks for.

The catalogue below is the one list of descriptor names per kind; the functions that
compute them live in :mod:`watchkeeper.descriptors` and return exactly these keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from watchkeeper.errors import SchemaError

__all__ = ["DESCRIPTORS", "MEDIA_KINDS", "descriptor_names"]

DESCRIPTORS: dict[str, tuple[str, ...]] = {
    "text": (
        "length_chars",
        "length_tokens",
        "non_alpha_share",
        "latin_share",
        "empty",
        "oov_rate",
    ),
    "image": (
        "width",
        "height",
        "brightness",
        "contrast",
        "saturation",
        "blur",
        "overexposed_share",
        "underexposed_share",
    ),
    "audio": ("duration_seconds", "rms_dbfs", "silence_ratio", "clipping_share", "sample_rate_hz"),
    "embedding": ("norm", "proj1", "proj2", "proj3"),
}
"""Descriptor names per declared kind, in the order their columns are added."""

MEDIA_KINDS = ("image", "audio", "embedding")
"""Kinds monitored only through their descriptors (the raw value is never profiled)."""


def descriptor_names(column: str, kind: str, chosen: Any) -> tuple[str, ...]:
    """The descriptors a declaration asks for: all of the kind's (``chosen`` absent or
    ``True`` for a media kind; ``True`` for text), none (text without ``descriptors``,
    or ``False``), or the listed ones in catalogue order.

    Raises
    ------
    SchemaError
        ``chosen`` is neither a boolean nor a list of the kind's descriptor names.

    Examples
    --------
    >>> descriptor_names("voice", "audio", ["rms_dbfs", "duration_seconds"])
    ('duration_seconds', 'rms_dbfs')
    >>> descriptor_names("query", "text", None)
    ()
    """
    known = DESCRIPTORS.get(kind)
    if known is None:
        raise SchemaError(
            f"column {column!r}: kind {kind!r} has no descriptors; expected one of: "
            + ", ".join(DESCRIPTORS),
            field=column,
            value=kind,
            expected=", ".join(DESCRIPTORS),
        )
    if chosen is None:
        chosen = kind in MEDIA_KINDS
    if isinstance(chosen, bool):
        return known if chosen else ()
    names = [chosen] if isinstance(chosen, str) else chosen
    if not isinstance(names, list | tuple) or not names:
        names = [repr(chosen)]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SchemaError(
            f"column {column!r}: unknown {kind} descriptor {unknown[0]!s}; expected true or "
            "a list of: " + ", ".join(known),
            field=column,
            value=unknown[0],
            expected=", ".join(known),
        )
    return tuple(n for n in known if n in names)


def declared_keys(column: str, value: Mapping[str, Any]) -> None:
    """Check the keys of one column's declaration (``kind``, optional ``role`` and
    ``descriptors``).

    Raises
    ------
    SchemaError
        An unknown key, or no ``kind``.
    """
    unknown = set(value) - {"kind", "role", "descriptors"}
    if unknown or "kind" not in value:
        raise SchemaError(
            f"column {column!r}: expected keys 'kind' and optional 'role', 'descriptors', "
            f"got {sorted(value)}",
            field=column,
            value=dict(value),
            expected="{'kind': ..., 'role': ..., 'descriptors': ...}",
        )
