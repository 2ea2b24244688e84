"""Image descriptors against direct NumPy, SciPy and Pillow computation on generated images."""

from __future__ import annotations

import io

import numpy as np
import pytest
import scipy.ndimage
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from watchkeeper.descriptors import describe_image
from watchkeeper.errors import InvalidBatchError, MissingExtraError

PIL = pytest.importorskip("PIL.Image")
from PIL import Image, ImageStat  # noqa: E402

LUMA = np.array([0.299, 0.587, 0.114])


def _images(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    gradient = np.broadcast_to(np.linspace(0, 255, 64, dtype=np.uint8)[None, :, None], (48, 64, 3))
    dark = (rng.random((48, 64, 3)) * 20).astype(np.uint8)
    bright = np.clip(rng.normal(245, 8, (48, 64, 3)), 0, 255).astype(np.uint8)
    return [noise, np.ascontiguousarray(gradient), dark, bright]


@pytest.mark.parametrize("seed", [0, 1])
def test_image_descriptors_match_numpy_and_pillow(seed: int) -> None:
    for img in _images(seed):
        d = describe_image(img)
        luma = img.astype(np.float64) @ LUMA
        assert d["width"] == img.shape[1] and d["height"] == img.shape[0]
        assert d["brightness"] == pytest.approx(luma.mean() / 255, abs=1e-6)
        assert d["contrast"] == pytest.approx(luma.std() / 255, abs=1e-6)
        # Pillow's "L" conversion rounds each pixel: within half a grey level on average
        pil_mean = ImageStat.Stat(Image.fromarray(img).convert("L")).mean[0]
        assert d["brightness"] * 255 == pytest.approx(pil_mean, abs=0.6)
        hsv = np.asarray(Image.fromarray(img).convert("HSV"), dtype=np.float64)
        assert d["saturation"] == pytest.approx(hsv[:, :, 1].mean() / 255, abs=1 / 255)
        lap = scipy.ndimage.laplace(luma)[1:-1, 1:-1]  # same kernel, interior pixels
        assert d["blur"] == pytest.approx(lap.var(), rel=1e-5, abs=1e-6)
        assert d["overexposed_share"] == pytest.approx(np.mean(luma >= 250), abs=1e-3)
        assert d["underexposed_share"] == pytest.approx(np.mean(luma <= 5), abs=1e-3)


def test_a_blurred_image_has_a_lower_laplacian_variance() -> None:
    sharp = _images(0)[0]
    blurred = scipy.ndimage.uniform_filter(sharp.astype(np.float64), size=(5, 5, 1))
    assert describe_image(blurred.astype(np.uint8))["blur"] < describe_image(sharp)["blur"] / 10


def test_encoded_png_bytes_pillow_images_and_float_arrays_read_the_same() -> None:
    img = _images(3)[0]
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    direct = describe_image(img)
    assert describe_image(buf.getvalue()) == direct
    assert describe_image(Image.fromarray(img)) == direct
    rgba = np.dstack([img, np.full(img.shape[:2], 7, np.uint8)])
    assert describe_image(rgba) == direct
    assert describe_image(img / 255.0) == direct


def test_grey_images_have_no_saturation() -> None:
    grey = _images(1)[0][:, :, 0]
    d = describe_image(grey)
    assert d["saturation"] == 0.0
    assert d["brightness"] == pytest.approx(grey.mean() / 255)


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(3, 12), st.integers(3, 12), st.just(3))))
def test_descriptors_stay_in_their_ranges(img: np.ndarray) -> None:
    d = describe_image(img)
    for name in ("brightness", "contrast", "saturation", "overexposed_share", "underexposed_share"):
        assert 0.0 <= d[name] <= 1.0, name
    assert d["blur"] >= 0.0
    assert d["brightness"] == pytest.approx((img.astype(np.float64) @ LUMA).mean() / 255, abs=1e-6)


def test_not_an_image_is_one_clear_error() -> None:
    with pytest.raises(InvalidBatchError, match=r"image: expected H x W.*shape \(5,\)"):
        describe_image(np.zeros(5))


def test_encoded_images_without_pillow_name_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "PIL", None)
    with pytest.raises(MissingExtraError, match=r'pip install "watchkeeper\[media\]"'):
        describe_image(b"\x89PNG....")
