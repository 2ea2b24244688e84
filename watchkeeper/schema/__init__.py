"""Column kinds, schema inference and batch validation.

A :class:`Schema` names each column's *kind* (how it is profiled and compared) and
*role* (what it is to the model). It is declared, or inferred from a reference batch by
:func:`infer_schema`, with declared kinds overriding inference.

Inference rules (documented here because users rely on them):

- ``bool`` values → ``boolean``.
- Integers with at most ``max_int_categories`` (default 10) distinct values →
  ``categorical`` (codes such as a rating or a number of children); other integers and
  all floats → ``numeric``.
- ``datetime64`` values and ``datetime``/``date`` objects → ``datetime``.
- Strings → ``text`` when they look like free text (median length of at least 30
  characters, or more than 50 distinct values that are over half of the rows), else
  ``categorical``.
- Object columns mixing types take the kind of the majority of their non-missing
  values; the minority values are type errors at validation.
- An all-missing or empty column cannot be inferred: a :class:`SchemaError` asks for a
  declaration.

Media are declared, never inferred: ``{"kind": "image"}``, ``"audio"``, ``"embedding"``
(or ``{"kind": "text", "descriptors": true}``) stand for numeric descriptor columns
``column.descriptor`` (:mod:`watchkeeper.schema.media`).

:func:`validate` converts a batch to arrays of the schema's kinds and reports every
missing column, extra column and value of the wrong type, naming the column, the value,
its row and what was expected. ``strict=True`` raises on the first problem;
``strict=False`` (the serving path) turns bad values into missing values and returns the
problems as :class:`Issue` records, so nothing raises into a model's request path.
"""

from __future__ import annotations

from watchkeeper.schema.convert import convert_column
from watchkeeper.schema.inference import infer_schema
from watchkeeper.schema.spec import KINDS, ROLES, ColumnSpec, Schema
from watchkeeper.schema.validated import ColumnData, Encoded, Issue, Problem, ValidatedBatch
from watchkeeper.schema.validation import validate

__all__ = [
    "KINDS",
    "ROLES",
    "ColumnData",
    "ColumnSpec",
    "Encoded",
    "Issue",
    "Problem",
    "Schema",
    "ValidatedBatch",
    "convert_column",
    "infer_schema",
    "validate",
]
