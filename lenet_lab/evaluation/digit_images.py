"""A real-world picture of one digit -> a 28x28 MNIST-style image, made the way MNIST was made.

MNIST digits are bright ink on a black background, fitted into a 20x20 box keeping their aspect
ratio (anti-aliased), then placed in a 28x28 field so that their centre of mass is at its centre.
A model trained on them expects exactly that, so a photo or a scan goes through the same steps:

    grayscale -> ink made bright on dark (polarity detected) -> uneven background removed ->
    noise floor cut -> strokes of a width MNIST never has (a fine pen, a marker) redrawn at its
    usual width -> cropped to the digit's bounding box -> longest side to 20 px ->
    pasted into 28x28 with its centre of mass at the centre

`mnist_style(image)` returns uint8 [28, 28]; `lenet_lab.data.pixels.to_inputs` then applies the model's
own normalisation and padding, as for its training data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError
from scipy import ndimage

from lenet_lab.errors import UserError

FIELD, BOX = 28, 20  # MNIST's field and the box its digits were fitted into
# MNIST's stroke widths as fractions of its digits' longest side (stroke_width of ink > 0.5, 10,000
# training digits): 5th-95th percentile 0.105-0.22, median 0.142.
MNIST_STROKES = (0.105, 0.22)
MNIST_STROKE = 0.142
MEASURABLE_SIDE = 40  # a digit fewer pixels high or wide: its strokes are too few pixels to measure
WORKING_SIDE = 280  # larger pictures are shrunk first: the result is 20 px, detail beyond this is noise
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm")


class ImageError(UserError):
    """A file that is not a readable picture, or a picture without a digit in it."""


def load_gray(path: str | Path) -> np.ndarray:
    """Any picture file -> float32 [H, W] in [0, 1]. Transparent pixels count as white paper."""
    if not Path(path).is_file():
        raise ImageError(f"{path}: no such file")
    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                # A drawing app's PNG: dark strokes on a transparent canvas. Dropping the alpha
                # channel would leave black on black; on white paper it is a normal drawing.
                rgba = image.convert("RGBA")
                paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                image = Image.alpha_composite(paper, rgba)
            gray = image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"{path}: not a readable image ({type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'unknown format'})") from error
    return np.asarray(gray, dtype=np.float32) / 255.0


def shrink(gray: np.ndarray, side: int = WORKING_SIDE) -> np.ndarray:
    """At most `side` pixels on the longest side (area-averaged), so that a 12-megapixel photo costs
    what a scan does."""
    h, w = gray.shape
    if max(h, w) <= side:
        return gray
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(gray, mode="F").resize(size, Image.Resampling.BOX), dtype=np.float32)


def ink_is_dark(gray: np.ndarray) -> bool:
    """Whether the ink is darker than the paper.

    The border is mostly paper; the ink is whichever extreme lies farther from it. (The mean alone
    fails for a thick digit that covers most of the picture, the border alone for a photo whose
    paper is mid-grey.)
    """
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    paper = float(np.median(border))
    # Extremes of all but 0.1% of the pixels: a thin "1" in a wide photo is under 1% of its area.
    darkest, brightest = np.percentile(gray, [0.1, 99.9])
    return paper - darkest > brightest - paper


def remove_background(ink: np.ndarray) -> np.ndarray:
    """Bright ink on a dark but uneven background (a photo's shading) -> the ink above its local background.

    The background is estimated by a grey-level opening (minimum, then maximum filter) with a
    window wider than any stroke, which erases the strokes and keeps the slow shading. It is done
    on a small copy: shading is smooth.
    """
    h, w = ink.shape
    if min(h, w) < 8:  # too small to tell strokes from shading
        return ink - ink.min()
    small_side = 64
    scale = min(1.0, small_side / max(h, w))
    small_size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = np.asarray(Image.fromarray(ink, mode="F").resize(small_size, Image.Resampling.BOX), dtype=np.float32)
    # Odd, and half the picture: wider than the strokes of a bold digit that fills the frame (a
    # quarter is not), while shading across the page still shows.
    window = max(3, min(small_size) // 2) | 1
    background = square_filter(square_filter(small, window, np.min), window, np.max)
    # The opening's plateaus have steps at the window's scale; smoothed, they leave no edges to find.
    background = Image.fromarray(box_blur(background, window // 2), mode="F")
    background = background.resize((w, h), Image.Resampling.BILINEAR)
    return np.clip(ink - np.asarray(background, dtype=np.float32), 0.0, None)


def square_filter(image: np.ndarray, window: int, reduce) -> np.ndarray:
    """Minimum (`reduce=np.min`) or maximum over each odd `window` x `window` square, edges repeated.
    Separable: rows, then columns, so it costs the window, not its square (Pillow's rank filters
    sort every window: 50 ms for one picture)."""
    radius = window // 2
    out = np.pad(image, radius, mode="edge")
    for axis in (0, 1):
        out = reduce(np.lib.stride_tricks.sliding_window_view(out, window, axis=axis), axis=-1)
    return out


def box_blur(image: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a (2 radius + 1)-wide square, edges repeated. (Pillow's blurs take no float images.)"""
    padded = np.pad(image, radius, mode="edge")
    width = 2 * radius + 1
    for axis in (0, 1):
        sums = np.cumsum(np.insert(padded, 0, 0.0, axis=axis), axis=axis, dtype=np.float64)
        upper = np.take(sums, np.arange(width, sums.shape[axis]), axis=axis)
        lower = np.take(sums, np.arange(0, sums.shape[axis] - width), axis=axis)
        padded = (upper - lower) / width
    return padded.astype(np.float32)


def otsu_threshold(values: np.ndarray) -> float:
    """The level that best splits `values` (in [0, 1]) into two classes (Otsu's method)."""
    hist, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    p = hist / max(hist.sum(), 1)
    weight = np.cumsum(p)
    mean = np.cumsum(p * edges[:-1])
    between = (mean[-1] * weight - mean) ** 2 / np.maximum(weight * (1 - weight), 1e-12)
    return float(edges[np.argmax(between) + 1])


def clean_ink(ink: np.ndarray) -> np.ndarray:
    """Ink in [0, 1]: paper at exactly 0, stroke cores at 1, specks away from the digit gone.

    The noise floor comes from the pixels that are not strokes (median + 4 robust standard
    deviations): it is 0 for a clean rendering, whose faint anti-aliased edges are kept, and
    above the grain of paper in a photo.
    """
    peak = float(ink.max())
    if peak <= 0:
        raise ValueError("no ink: the picture is blank")
    ink = ink / peak
    strokes = ink > otsu_threshold(ink)
    paper = ink[~strokes]
    floor = 0.0
    if paper.size:
        median = float(np.median(paper))
        floor = median + 4 * 1.4826 * float(np.median(np.abs(paper - median)))
    core = float(np.percentile(ink[strokes], 95)) if strokes.any() else 1.0
    ink = np.clip((ink - floor) / max(core - floor, 1e-6), 0.0, 1.0)
    if min(ink.shape) >= 56:
        # Keep only ink near the strokes that survive a 3x3 opening: a speck of dust would
        # otherwise stretch the bounding box. (Pictures near MNIST's size have strokes 1-2 px wide.)
        mask = square_filter(square_filter(strokes.astype(np.uint8), 3, np.min), 3, np.max)
        near = max(3, min(ink.shape) // 40) | 1
        mask = square_filter(mask, near, np.max)
        if mask.any():
            ink = ink * (mask > 0)
    return ink


def stroke_width(strokes: np.ndarray) -> float:
    """Mean width in pixels of the strokes of a boolean mask: 2 x area / edge pixels (a stroke w wide
    and l long covers w l pixels and has two edges l long)."""
    edges = strokes & ~ndimage.binary_erosion(strokes)
    return 2 * float(strokes.sum()) / max(int(edges.sum()), 1)


def even_strokes(ink: np.ndarray) -> np.ndarray:
    """Strokes thinner or thicker than MNIST's 5th-95th percentile (a fine pen in a large scan, a
    marker) brought to MNIST's median width, by a grey-level dilation or erosion with a disk, which
    keeps their anti-aliased edges; other digits are returned as they are.

    Why: a model trained on MNIST reads a stroke's width as part of the digit. Measured on other
    writers' digits (benchmarks/foreign_digits.py), the recommended LeNet-5 got 75% of
    marker-drawn and 84% of fine-pen digits right against 90% of the same digits in a pen of
    MNIST's width.
    """
    strokes = ink > 0.5
    rows, cols = np.nonzero(strokes)
    if rows.size == 0:
        return ink
    side = max(np.ptp(rows), np.ptp(cols)) + 1
    width = stroke_width(strokes)
    low, high = MNIST_STROKES
    if side < MEASURABLE_SIDE or low * side <= width <= high * side:
        return ink
    radius = round(abs(MNIST_STROKE * side - width) / 2)
    if radius == 0:
        return ink
    offsets = np.arange(-radius, radius + 1)
    disk = offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius**2
    if width < low * side:
        return ndimage.grey_dilation(np.pad(ink, radius), footprint=disk)  # padded: the strokes grow outwards
    return ndimage.grey_erosion(ink, footprint=disk)


def fit_box(ink: np.ndarray, box: int = BOX) -> np.ndarray:
    """The ink cropped to its bounding box, longest side scaled to `box` pixels, aspect kept."""
    rows, cols = np.nonzero(ink > 0)
    if rows.size == 0:
        raise ValueError("no ink left after removing the background")
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Bilinear in Pillow low-pass filters when it shrinks: the anti-aliasing MNIST's digits have.
    fitted = Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.BILINEAR)
    fitted = np.clip(np.asarray(fitted, dtype=np.float32), 0.0, 1.0)
    # Enlarging a tiny picture blurs its strokes below full ink; MNIST's strokes reach 255.
    return fitted / max(float(fitted.max()), 1e-6)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel indices."""
    total = float(image.sum())
    rows = np.arange(image.shape[0], dtype=np.float64)
    cols = np.arange(image.shape[1], dtype=np.float64)
    return float(image.sum(1) @ rows) / total, float(image.sum(0) @ cols) / total


def place_in_field(digit: np.ndarray, field: int = FIELD) -> np.ndarray:
    """`digit` (at most 20x20) pasted into a black `field` x `field` image by a whole-pixel shift
    that puts its centre of mass at pixel (14, 14), as in MNIST (measured: its test digits'
    centres of mass are at row 14.0 and column 14.0, +-0.3). The shift is limited so the digit
    stays whole: a cut-off stroke would cost more than an off-centre one."""
    h, w = digit.shape
    centre = field // 2
    com_row, com_col = centre_of_mass(digit)
    top = int(np.clip(round(centre - com_row), 0, field - h))
    left = int(np.clip(round(centre - com_col), 0, field - w))
    out = np.zeros((field, field), dtype=np.float32)
    out[top : top + h, left : left + w] = digit
    return out


def mnist_style(gray: np.ndarray, even_width: bool = True) -> np.ndarray:
    """A grayscale picture (float [H, W] in [0, 1], any size, either polarity) -> uint8 [28, 28]
    MNIST-style digit. ValueError if there is no digit to find. `even_width=False` leaves strokes
    as wide as drawn (to measure what `even_strokes` does)."""
    gray = shrink(np.asarray(gray, dtype=np.float32))
    if gray.size == 0:
        raise ValueError("the picture is empty")
    if float(gray.max() - gray.min()) < 1e-3:
        raise ValueError("the picture is one flat colour: no digit in it")
    ink = 1.0 - gray if ink_is_dark(gray) else gray
    ink = clean_ink(remove_background(ink))
    if even_width:
        ink = even_strokes(ink)
    field = place_in_field(fit_box(ink))
    return np.round(field * 255).astype(np.uint8)


def load_digit(path: str | Path, even_width: bool = True) -> np.ndarray:
    """A picture file -> uint8 [28, 28] MNIST-style digit; ImageError with the reason if it can't be."""
    gray = load_gray(path)
    try:
        return mnist_style(gray, even_width=even_width)
    except ValueError as error:
        raise ImageError(f"{path}: {error}") from error


def find_images(paths: list[str | Path]) -> list[Path]:
    """Files given directly (whatever their name: a bad one is reported when read) and picture
    files inside given folders (by suffix, sorted). A path that does not exist is kept too: it is
    reported like any other unreadable file."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            found.append(path)
    return found
