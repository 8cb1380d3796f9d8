"""Digit pictures for the preprocessing and prediction tests: printed glyphs, and renderings of a
28x28 digit the way a user's file might hold it (inverted, photographed, off-centre, in colour).

The tiny MNIST of conftest.py encodes labels by position, which centring erases; the prediction
tests need digits that are digits, so they train on glyphs of Pillow's built-in font made
MNIST-style.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from lenet_lab.evaluation.digit_images import mnist_style
from tests.conftest import make_mnist_root


def glyph(digit: int, size: int = 160, canvas: tuple[int, int] = (240, 240), at: tuple[int, int] = (60, 20), ink=0, paper=255, mode: str = "L", stroke: int = 0) -> Image.Image:
    """The digit printed in Pillow's built-in font on a plain canvas."""
    image = Image.new(mode, canvas, paper)
    ImageDraw.Draw(image).text(at, str(digit), fill=ink, font=ImageFont.load_default(size=size), stroke_width=stroke, stroke_fill=ink)
    return image


def glyph_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n MNIST-style uint8 [28, 28] digits from varied printed glyphs (size, stroke, slant, place)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    for k, label in enumerate(labels):
        picture = glyph(int(label), size=int(rng.integers(36, 56)), canvas=(72, 72), at=(int(rng.integers(4, 24)), int(rng.integers(0, 10))), stroke=int(rng.integers(0, 3)))
        picture = picture.rotate(float(rng.uniform(-12, 12)), fillcolor=255, resample=Image.Resampling.BILINEAR)
        images[k] = mnist_style(np.asarray(picture, dtype=np.float32) / 255)
    return images, labels


def make_glyph_mnist_root(root: Path, n_train: int = 300, n_test: int = 40) -> Path:
    return make_mnist_root(root, glyph_digits, n_train, n_test)


def enlarge(digit: np.ndarray, factor: int) -> np.ndarray:
    """float [0, 1] digit, `factor` times larger (smooth, like a scan at a higher resolution)."""
    image = Image.fromarray(digit).resize((28 * factor, 28 * factor), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(image, dtype=np.float32) / 255, 0, 1)


def styles(digit: np.ndarray) -> dict[str, Image.Image]:
    """One uint8 [28, 28] MNIST digit as a user's files might hold it."""
    big = enlarge(digit, 4)  # 112 x 112, ink bright
    h, w = big.shape
    rng = np.random.default_rng(int(digit.sum()))
    on_paper = 1 - big  # dark ink on white paper
    off_centre = np.ones((300, 420), dtype=np.float32)
    off_centre[170 : 170 + h, 290 : 290 + w] = on_paper
    # A photo: grey paper lit from one side, blue-black ink, sensor noise, a 3-channel file.
    light = np.linspace(0.55, 0.95, w)[None, :] * np.linspace(0.9, 1.0, h)[:, None]
    photo = light * (1 - 0.75 * big) + rng.normal(0, 0.02, big.shape)
    photo_rgb = np.stack([photo * 0.85, photo * 0.9, photo], axis=-1)
    return {
        "mnist": Image.fromarray(digit),  # as in the data set: 28 x 28, bright on black
        "inverted": Image.fromarray(to_uint8(on_paper)),
        "off_centre": Image.fromarray(to_uint8(off_centre)),
        "photo": Image.fromarray(to_uint8(photo_rgb), mode="RGB"),
    }


def to_uint8(values: np.ndarray) -> np.ndarray:
    return np.round(np.clip(values, 0, 1) * 255).astype(np.uint8)
