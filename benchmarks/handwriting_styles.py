"""One handwritten digit, written and captured in different ways: the pictures foreign_digits.py reads.

The source is a coarse ink map (UCI's 8x8 digits). `scan` enlarges it as it is: blocky strokes,
a fifth of the digit's height wide. The others redraw its strokes with a pen: the map is enlarged
smoothly, reduced to its centre line (scikit-image's skeletonize) and drawn with a round nib of a
chosen width, given as a fraction of the digit's height (MNIST's strokes: ~0.14 of the digit's
longest side, 5th-95th percentile 0.105-0.22). Then the picture is made as a user's would be:

    scan       the ink map as 8x8 pixels enlarged to 64x64 (bicubic): a small scan of blocky strokes
    pen        a pen of MNIST's width (0.13), on white paper
    fine_pen   a fine pen (0.05): a ballpoint in a large scan
    marker     a marker (0.28): loops close up
    slanted    pen, sheared 19 degrees left or right
    off_centre pen, the digit 40 px high somewhere on a 320x240 page
    photo      pen, photographed: grey paper lit unevenly, blur, sensor noise, colour, JPEG

Every picture is dark ink on light paper, as `lenet_lab.predict` would get it from a user.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from scipy import ndimage

PEN_SIDE = 128  # the redrawn digit's picture: a phone photo or scan cropped around one digit
MNIST_LIKE, FINE, MARKER = 0.13, 0.05, 0.28  # nib widths, fractions of the digit's height
SHEAR = 0.35  # tan(19 degrees): a strong slant, at the edge of MNIST's own


def enlarged(ink8: np.ndarray, side: int) -> np.ndarray:
    """float [8, 8] ink in [0, 1] -> float [side, side], bicubic."""
    return np.asarray(Image.fromarray(ink8.astype(np.float32), mode="F").resize((side, side), Image.Resampling.BICUBIC))


def pen_strokes(ink8: np.ndarray, width: float) -> np.ndarray:
    """The digit redrawn with a round nib `width` x its height wide: float [PEN_SIDE, PEN_SIDE] ink."""
    from skimage.morphology import skeletonize

    shape = enlarged(ink8, PEN_SIDE) > 0.5
    rows = np.nonzero(shape.any(1))[0]
    from_centre_line = ndimage.distance_transform_edt(~skeletonize(shape))
    radius = width * (np.ptp(rows) + 1) / 2
    return np.clip(radius + 0.5 - from_centre_line, 0.0, 1.0)  # edges anti-aliased over one pixel


def on_paper(ink: np.ndarray, margin: float = 0.25) -> np.ndarray:
    """Ink -> gray picture (1 = white paper) with a margin of `margin` x its side around it."""
    m = round(margin * ink.shape[0])
    return 1.0 - np.pad(ink, m)


def sheared(ink: np.ndarray, shear: float) -> np.ndarray:
    """Each row shifted by `shear` pixels per row from the middle: slanted writing."""
    h = ink.shape[0]
    ink = np.pad(ink, ((0, 0), (round(abs(shear) * h / 2) + 2,) * 2))
    image = Image.fromarray(ink.astype(np.float32), mode="F")
    return np.asarray(image.transform(image.size, Image.Transform.AFFINE, (1, shear, -shear * h / 2, 0, 1, 0), resample=Image.Resampling.BILINEAR))


def small_on_page(ink: np.ndarray, rng: np.random.Generator, height: int = 40, page: tuple[int, int] = (240, 320)) -> np.ndarray:
    """The digit shrunk to `height` pixels, somewhere on a large white page."""
    small = np.asarray(Image.fromarray(ink.astype(np.float32), mode="F").resize((height, height), Image.Resampling.BOX))
    out = np.zeros(page, dtype=np.float32)
    top, left = int(rng.integers(0, page[0] - height)), int(rng.integers(0, page[1] - height))
    out[top : top + height, left : left + height] = small
    return 1.0 - out


def photographed(gray: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A gray picture as a phone would take it: RGB JPEG of grey paper lit from one side, blurred, noisy."""
    h, w = gray.shape
    light = np.linspace(rng.uniform(0.4, 0.6), rng.uniform(0.85, 1.0), w)[None, :] * np.linspace(0.85, 1.0, h)[:, None]
    if rng.random() < 0.5:
        light = light[:, ::-1]
    picture = ndimage.gaussian_filter(light * (0.3 + 0.7 * gray), 1.2) + rng.normal(0, 0.03, gray.shape)
    rgb = np.stack([picture * 0.85, picture * 0.92, picture], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=60)
    return Image.open(buffer)


def as_image(gray: np.ndarray) -> Image.Image:
    return Image.fromarray(np.round(np.clip(gray, 0, 1) * 255).astype(np.uint8))


# name -> (8x8 ink in [0, 1], random generator) -> the picture a user would hand to predict
STYLES: dict[str, Callable[[np.ndarray, np.random.Generator], Image.Image]] = {
    "scan": lambda ink8, rng: as_image(1.0 - ink8).resize((64, 64), Image.Resampling.BICUBIC),
    "pen": lambda ink8, rng: as_image(on_paper(pen_strokes(ink8, MNIST_LIKE))),
    "fine_pen": lambda ink8, rng: as_image(on_paper(pen_strokes(ink8, FINE))),
    "marker": lambda ink8, rng: as_image(on_paper(pen_strokes(ink8, MARKER))),
    "slanted": lambda ink8, rng: as_image(on_paper(sheared(pen_strokes(ink8, MNIST_LIKE), float(rng.choice([-SHEAR, SHEAR]))))),
    "off_centre": lambda ink8, rng: as_image(small_on_page(pen_strokes(ink8, MNIST_LIKE), rng)),
    "photo": lambda ink8, rng: photographed(on_paper(pen_strokes(ink8, MNIST_LIKE)), rng),
}
