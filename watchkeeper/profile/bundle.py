"""A reference's bytes: its profile and, optionally, a uniform sample of its rows.

Plain :meth:`~watchkeeper.profile.DatasetProfile.to_bytes` output (every ``.wkprof``
file and stored reference written before reservoirs existed) is read as a profile
without rows; a bundle is::

    b"WKREFB" | u8 format version | u64 profile length | profile bytes | reservoir bytes
"""

from __future__ import annotations

import struct

from watchkeeper.errors import ProfileFormatError
from watchkeeper.profile.dataset import DatasetProfile
from watchkeeper.profile.reservoir import Reservoir

__all__ = ["pack_reference", "unpack_reference"]

MAGIC = b"WKREFB"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<6sBQ")


def pack_reference(profile: DatasetProfile, sample: Reservoir | None) -> bytes:
    """The bytes of a reference: the plain profile bytes without a sample (so they are
    the same as before reservoirs existed), else a bundle of both."""
    blob = profile.to_bytes()
    if sample is None:
        return blob
    return _HEADER.pack(MAGIC, FORMAT_VERSION, len(blob)) + blob + sample.to_bytes()


def unpack_reference(data: bytes) -> tuple[DatasetProfile, Reservoir | None]:
    """The profile and sample of :func:`pack_reference` bytes (or of plain profile bytes).

    Raises
    ------
    ProfileFormatError
        The bytes are damaged or of neither kind.

    Examples
    --------
    >>> import numpy as np
    >>> from watchkeeper.profile import profile_table
    >>> profile = profile_table({"x": np.arange(10.0)})
    >>> sample = Reservoir(5, 0).add({"x": np.arange(10.0)}, 10)
    >>> p, s = unpack_reference(pack_reference(profile, sample))
    >>> p.n_rows, len(s)
    (10, 5)
    >>> unpack_reference(profile.to_bytes())[1] is None
    True
    """
    if data[: len(MAGIC)] != MAGIC:
        return DatasetProfile.from_bytes(data), None
    try:
        _, version, size = _HEADER.unpack_from(data)
    except struct.error as exc:
        raise ProfileFormatError(
            "reference: truncated bundle header; expected bytes from pack_reference",
            field="reference",
            value=len(data),
            expected="a reference bundle",
        ) from exc
    if version != FORMAT_VERSION:
        raise ProfileFormatError(
            f"reference: bundle format version {version}, expected {FORMAT_VERSION}",
            field="reference",
            value=version,
            expected=str(FORMAT_VERSION),
        )
    start = _HEADER.size
    profile = DatasetProfile.from_bytes(data[start : start + size])
    return profile, Reservoir.from_bytes(data[start + size :])
