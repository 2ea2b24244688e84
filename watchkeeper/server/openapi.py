"""What the OpenAPI document says about the bodies the ingest routes read themselves.

The ingest routes stream their bodies (to enforce the size limit and to accept Arrow
and Parquet as well as JSON), so FastAPI cannot derive the request schemas; these are
the JSON Schemas and ``openapi_extra`` documents it shows instead.
"""

from __future__ import annotations

from typing import Any

from watchkeeper import wire

__all__ = [
    "BINARY",
    "LABELS_BODY",
    "LABELS_SCHEMA",
    "PREDICTIONS_BODY",
    "REFERENCE_BODY",
    "ROWS_SCHEMA",
    "SIGNALS_BODY",
    "SIGNALS_SCHEMA",
    "WRITE_RESPONSES",
]

ROWS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rows": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["features"],
                "properties": {
                    "features": {"type": "object", "additionalProperties": True},
                    "outputs": {},
                    "id": {"type": "string"},
                    "timestamp": {"type": "number"},
                    "latency": {"type": "number", "minimum": 0},
                    "error": {"type": ["string", "null"]},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
        "columns": {"type": "object", "additionalProperties": {"type": "array"}},
    },
}
LABELS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ids", "labels"],
    "properties": {
        "ids": {"type": "array", "items": {"type": "string"}},
        "labels": {"type": "array"},
        "timestamps": {"type": "array", "items": {"type": "number"}},
    },
}
SIGNALS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "metrics": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {
                    "name": {"type": "string"},
                    "value": {"type": "number"},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                    "timestamp": {"type": "number"},
                },
            },
        },
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "timestamp": {"type": "number"}},
            },
        },
    },
}
BINARY = {"schema": {"type": "string", "format": "binary"}}


PREDICTIONS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            wire.JSON: {"schema": ROWS_SCHEMA},
            wire.ARROW_STREAM: BINARY,
            wire.PARQUET: BINARY,
        },
    }
}
LABELS_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {wire.JSON: {"schema": LABELS_SCHEMA}}}
}
SIGNALS_BODY: dict[str, Any] = {
    "requestBody": {"required": True, "content": {wire.JSON: {"schema": SIGNALS_SCHEMA}}}
}
REFERENCE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {wire.PARQUET: BINARY, wire.ARROW_STREAM: BINARY, "text/csv": BINARY},
    }
}


_RETRY = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many writes wait to be applied (the model's or the collector's "
        "ingest queue is over its bound); nothing was kept: retry after Retry-After.",
        "headers": _RETRY,
    },
    503: {
        "description": "The disk is full or the collector is shutting down (nothing was "
        "kept), or the write was kept but not applied in time (a retry with the same "
        "Idempotency-Key gets its answer): retry after Retry-After.",
        "headers": _RETRY,
    },
}
"""The refusals of a write that may succeed later, as the OpenAPI document lists them."""
