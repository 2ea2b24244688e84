"""Descriptors of images: size, brightness, contrast, saturation, blur, exposure.

Computed with NumPy on 8-bit RGB (an encoded image is decoded by Pillow first), on the
luma ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601, the weights of Pillow's ``"L"``
conversion, here without its rounding), in units of the 0–255 scale:

- ``width``, ``height``: pixels;
- ``brightness``: mean of ``Y`` / 255; ``contrast``: standard deviation of ``Y`` / 255
  (RMS contrast);
- ``saturation``: mean HSV saturation ``(max − min) / max`` of the channels (0 for black
  and for greys), as Pillow's ``"HSV"`` conversion / 255;
- ``blur``: variance of the Laplacian of ``Y`` (4-neighbour kernel ``[[0, 1, 0], [1, −4,
  1], [0, 1, 0]]`` on the interior pixels): low for a blurred or out-of-focus picture
  (Pech-Pacheco et al., 2000). OpenCV's ``cv2.Laplacian(y, cv2.CV_64F).var()`` uses the
  same kernel with reflected borders, so the two differ only by the border pixels;
- ``overexposed_share``: share of pixels with ``Y >= 250``; ``underexposed_share``: with
  ``Y <= 5``.

Accepted values: a NumPy array (``H x W`` grey, ``H x W x 3`` RGB or ``x 4`` RGBA;
``uint8``, or floats in [0, 1]), a Pillow image (converted to RGB), or the bytes of an
encoded image (PNG, JPEG, ...: needs Pillow, ``pip install "watchkeeper[media]"``).

References
----------
Pech-Pacheco, J. L., Cristóbal, G., Chamorro-Martínez, J., Fernández-Valdivia, J.
(2000). Diatom autofocusing in brightfield microscopy: a comparative study. ICPR.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.descriptors._per_value import PerValueDescriptors
from watchkeeper.errors import InvalidBatchError, MissingExtraError

__all__ = ["ImageDescriptors", "describe_image", "image_pixels"]

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
OVER, UNDER = 250.0, 5.0
"""Luma at or above / at or below which a pixel counts as over-/under-exposed."""


def image_pixels(image: Any) -> npt.NDArray[np.uint8]:
    """The image as ``H x W`` (grey) or ``H x W x 3`` (RGB) 8-bit pixels.

    Raises
    ------
    InvalidBatchError
        Not an image (naming its type and shape).
    MissingExtraError
        Encoded bytes or a path without Pillow installed.
    """
    if isinstance(image, bytes | bytearray | memoryview):
        try:
            from PIL import Image
        except ImportError as exc:
            raise MissingExtraError.needs(
                "image descriptors of encoded images need Pillow", "media"
            ) from exc
        with Image.open(io.BytesIO(bytes(image))) as img:
            return np.asarray(img.convert("RGB"))
    if type(image).__module__.startswith("PIL."):
        return np.asarray(image.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3) or 0 in arr.shape:
        raise InvalidBatchError(
            f"image: expected H x W, H x W x 3 or H x W x 4 pixels, got an array of shape "
            f"{arr.shape}",
            field="image",
            value=str(arr.shape),
            expected="H x W (x 3|4) pixels",
        )
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "f":
        arr = np.rint(arr * 255.0)
    out: npt.NDArray[np.uint8] = np.clip(arr, 0, 255).astype(np.uint8)
    return out


def describe_image(image: Any) -> dict[str, float]:
    """The image descriptors of one image (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((4, 6, 3), dtype=np.uint8)
    >>> img[:, 3:] = (255, 0, 0)                      # right half pure red
    >>> d = describe_image(img)
    >>> d["width"], d["height"], d["saturation"], d["underexposed_share"]
    (6.0, 4.0, 0.5, 0.5)
    >>> round(d["brightness"], 4)
    0.1495
    """
    px = image_pixels(image)
    h, w = px.shape[:2]
    if px.ndim == 3:
        # channel by channel: a reduction over the last axis of 3, or a BLAS product,
        # costs several times more on a shared machine
        r, g, b = px[:, :, 0], px[:, :, 1], px[:, :, 2]
        luma = r * _LUMA[0] + g * _LUMA[1] + b * _LUMA[2]
        hi = np.maximum(np.maximum(r, g), b)
        spread = (hi - np.minimum(np.minimum(r, g), b)).astype(np.float32)
        sat = np.divide(spread, hi, out=np.zeros_like(spread), where=hi > 0)
        saturation = float(sat.sum(dtype=np.float64)) / sat.size
    else:
        luma = px.astype(np.float32)
        saturation = 0.0
    n = float(luma.size)
    if h >= 3 and w >= 3:
        lap = (
            luma[:-2, 1:-1] + luma[2:, 1:-1] + luma[1:-1, :-2] + luma[1:-1, 2:]
            - 4.0 * luma[1:-1, 1:-1]
        )  # fmt: skip
        blur = float(lap.var(dtype=np.float64))
    else:
        blur = float("nan")
    return {
        "width": float(w),
        "height": float(h),
        "brightness": float(luma.mean(dtype=np.float64)) / 255.0,
        "contrast": float(luma.std(dtype=np.float64)) / 255.0,
        "saturation": saturation,
        "blur": blur,
        "overexposed_share": float(np.count_nonzero(luma >= OVER)) / n,
        "underexposed_share": float(np.count_nonzero(luma <= UNDER)) / n,
    }


class ImageDescriptors(PerValueDescriptors):
    """Image descriptors of a column (stateless: :meth:`fit` learns nothing).

    Parameters
    ----------
    names
        The descriptors computed (default: all of ``DESCRIPTORS["image"]``).

    Examples
    --------
    >>> import numpy as np
    >>> d = ImageDescriptors(names=("width", "brightness"))
    >>> {k: v.tolist() for k, v in d.transform([np.full((2, 3), 255, np.uint8), None]).items()}
    {'width': [3.0, nan], 'brightness': [1.0, nan]}
    """

    kind = "image"

    @staticmethod
    def describe(value: Any) -> dict[str, float]:
        """Every descriptor of one image."""
        return describe_image(value)

    @staticmethod
    def is_one(value: Any) -> bool:
        """Whether ``value`` is one image rather than a batch of them."""
        if isinstance(value, bytes | bytearray | memoryview):
            return True
        if type(value).__module__.startswith("PIL."):
            return True
        return isinstance(value, np.ndarray) and value.ndim in (2, 3) and value.dtype != object
