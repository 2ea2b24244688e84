"""Column kinds and roles, and the :class:`Schema` that names them per column."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast, get_args

from watchkeeper.errors import ColumnNotFoundError, SchemaError
from watchkeeper.schema.media import MEDIA_KINDS, declared_keys, descriptor_names
from watchkeeper.types import ColumnKind, ColumnRole

__all__ = ["KINDS", "ROLES", "ColumnSpec", "Schema"]

KINDS: tuple[ColumnKind, ...] = get_args(ColumnKind)
ROLES: tuple[ColumnRole, ...] = get_args(ColumnRole)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a schema.

    Parameters
    ----------
    name
        Column name as it appears in batches.
    kind
        One of ``numeric``, ``categorical``, ``boolean``, ``text``, ``datetime``.
    role
        One of ``feature`` (default), ``output``, ``label``, ``id``, ``timestamp``.
    source, source_kind
        For a descriptor column (``photo.brightness``): the declared column it describes
        and its kind (``image``, ``audio``, ``embedding``, ``text``); ``None`` otherwise.
        Not part of equality, so a schema read back from a profile equals the declared one.
    """

    name: str
    kind: ColumnKind
    role: ColumnRole = "feature"
    source: str | None = field(default=None, compare=False)
    source_kind: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SchemaError(
                f"column {self.name!r}: unknown kind {self.kind!r}; expected one of: "
                + ", ".join(KINDS),
                field=self.name,
                value=self.kind,
                expected=", ".join(KINDS),
            )
        if self.role not in ROLES:
            raise SchemaError(
                f"column {self.name!r}: unknown role {self.role!r}; expected one of: "
                + ", ".join(ROLES),
                field=self.name,
                value=self.role,
                expected=", ".join(ROLES),
            )


@dataclass(frozen=True)
class Schema:
    """An ordered set of :class:`ColumnSpec`.

    Examples
    --------
    >>> s = Schema.from_dict({"age": "numeric", "score": {"kind": "numeric", "role": "output"}})
    >>> s.names, s["score"].role
    (('age', 'score'), 'output')
    """

    columns: tuple[ColumnSpec, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for col in self.columns:
            if col.name in seen:
                raise SchemaError(
                    f"column {col.name!r}: declared twice; expected unique names",
                    field=col.name,
                    value=col.name,
                    expected="unique column names",
                )
            seen.add(col.name)

    @classmethod
    def from_dict(cls, spec: Mapping[str, str | Mapping[str, Any]]) -> Schema:
        """Build from ``{name: kind}`` or ``{name: {"kind": ..., "role": ...}}``.

        A media column (``{"kind": "image"}``, ``"audio"``, ``"embedding"``) becomes its
        numeric descriptor columns ``name.descriptor``; a text column with
        ``"descriptors": true`` (or a list of names) gains them beside itself
        (:mod:`watchkeeper.schema.media`).

        Examples
        --------
        >>> Schema.from_dict({"voice": {"kind": "audio", "descriptors": ["rms_dbfs"]},
        ...                   "q": {"kind": "text", "descriptors": ["empty"]}}).names
        ('voice.rms_dbfs', 'q', 'q.empty')
        """
        cols: list[ColumnSpec] = []
        for name, value in spec.items():
            if isinstance(value, str):
                value = {"kind": value}
            declared_keys(name, value)
            kind, role = str(value["kind"]), cast(ColumnRole, value.get("role", "feature"))
            if kind not in KINDS and kind not in MEDIA_KINDS:
                declared = (*KINDS, *MEDIA_KINDS)
                raise SchemaError(
                    f"column {name!r}: unknown kind {kind!r}; expected one of: "
                    + ", ".join(declared),
                    field=name,
                    value=kind,
                    expected=", ".join(declared),
                )
            if kind not in MEDIA_KINDS:
                cols.append(ColumnSpec(name, cast(ColumnKind, kind), role))
            if kind in MEDIA_KINDS or "descriptors" in value:
                described = descriptor_names(name, kind, value.get("descriptors"))
                cols.extend(
                    ColumnSpec(f"{name}.{d}", "numeric", "feature", name, kind) for d in described
                )
        return cls(tuple(cols))

    def described(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """The declared columns that have descriptors: ``{source: (kind, names)}``.

        >>> Schema.from_dict({"img": {"kind": "image", "descriptors": ["width"]}}).described()
        {'img': ('image', ('width',))}
        """
        out: dict[str, tuple[str, tuple[str, ...]]] = {}
        for col in self.columns:
            if col.source is not None and col.source_kind is not None:
                kind, names = out.get(col.source, (col.source_kind, ()))
                out[col.source] = (kind, (*names, col.name[len(col.source) + 1 :]))
        return out

    def to_dict(self) -> dict[str, dict[str, str]]:
        """The inverse of :meth:`from_dict`."""
        return {c.name: {"kind": c.kind, "role": c.role} for c in self.columns}

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in declaration order."""
        return tuple(c.name for c in self.columns)

    def with_role(self, role: ColumnRole) -> tuple[ColumnSpec, ...]:
        """The columns of one role, e.g. ``schema.with_role("feature")``."""
        return tuple(c for c in self.columns if c.role == role)

    def __getitem__(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise ColumnNotFoundError(
            f"column {name!r}: not in the schema; expected one of: " + ", ".join(self.names),
            field=name,
            value=name,
            expected=", ".join(self.names),
        )

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def __iter__(self) -> Iterator[ColumnSpec]:
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)
