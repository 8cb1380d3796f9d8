"""A real-world digit picture becomes the 28x28 MNIST-style digit a model expects, whatever its form."""

import time

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from lenet_lab.evaluation.digit_images import MNIST_STROKES, ImageError, centre_of_mass, even_strokes, find_images, load_digit, mnist_style, stroke_width
from tests.digit_pictures import glyph


def gray(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float32) / 255


def check_mnist_like(digit: np.ndarray) -> None:
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows, cols = np.nonzero(digit)
    # Fitted into 20x20 (longest side exactly 20), centre of mass at pixel (14, 14) within a pixel.
    assert max(np.ptp(rows) + 1, np.ptp(cols) + 1) == 20
    assert np.allclose(centre_of_mass(digit.astype(float)), (14, 14), atol=1.0)
    assert digit.max() >= 240  # stroke cores are full ink, like MNIST's
    assert digit[0].max() == digit[-1].max() == digit[:, 0].max() == digit[:, -1].max() == 0  # black background


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(float), b.ravel().astype(float))[0, 1])


@pytest.fixture(scope="module")
def reference():
    """A 3 printed dark on white, centred: what every variant below must come back to."""
    digit = mnist_style(gray(glyph(3)))
    check_mnist_like(digit)
    return digit


def photo_of(image: Image.Image) -> Image.Image:
    """Grey paper lit unevenly from the left, sensor noise, three channels."""
    g = gray(image)
    h, w = g.shape
    light = np.linspace(0.45, 0.95, w)[None, :] * np.linspace(0.85, 1.0, h)[:, None]
    picture = light * (0.25 + 0.75 * g) + np.random.default_rng(0).normal(0, 0.02, g.shape)
    rgb = np.stack([picture * 0.8, picture * 0.9, picture], axis=-1)
    return Image.fromarray(np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8), mode="RGB")


def tiny(image: Image.Image, height: int) -> Image.Image:
    """The digit with a little paper around it, shrunk to `height` pixels: a thumbnail."""
    left, top, right, bottom = ImageOps.invert(image.convert("L")).getbbox()
    margin = (bottom - top) // 8
    crop = image.crop((left - margin, top - margin, right + margin, bottom + margin))
    return crop.resize((max(1, round(crop.width * height / crop.height)), height), Image.Resampling.BOX)


VARIANTS = {
    "inverted": lambda: glyph(3, ink=255, paper=0),
    "off_centre": lambda: glyph(3, size=70, canvas=(400, 300), at=(300, 200)),
    "wide": lambda: glyph(3, size=90, canvas=(600, 140), at=(20, 10)),
    "tall": lambda: glyph(3, size=120, canvas=(150, 600), at=(30, 420)),
    "rgb": lambda: glyph(3, ink=(30, 30, 160), paper=(250, 240, 200), mode="RGB"),
    "tiny": lambda: tiny(glyph(3), height=16),
    "huge": lambda: glyph(3, size=2400, canvas=(3600, 3000), at=(1200, 100)),
    "photo": lambda: photo_of(glyph(3)),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_kind_of_picture_gives_the_same_centred_digit(variant, reference, tmp_path):
    path = tmp_path / f"{variant}.png"
    VARIANTS[variant]().save(path)
    started = time.perf_counter()
    digit = load_digit(path)
    assert time.perf_counter() - started < 2  # a 10-megapixel photo is shrunk first
    check_mnist_like(digit)
    assert similarity(digit, reference) > 0.8, variant


def test_transparent_drawing_is_dark_ink_on_white(reference, tmp_path):
    # A drawing app's PNG: black strokes on a fully transparent (black, alpha 0) canvas.
    strokes = np.asarray(glyph(3, ink=255, paper=0), dtype=np.uint8)
    rgba = np.zeros((*strokes.shape, 4), dtype=np.uint8)
    rgba[..., 3] = strokes
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "drawing.png")
    digit = load_digit(tmp_path / "drawing.png")
    check_mnist_like(digit)
    assert similarity(digit, reference) > 0.9


def test_an_mnist_digit_passes_through_unchanged(reference):
    again = mnist_style(reference.astype(np.float32) / 255)
    assert np.abs(again.astype(int) - reference.astype(int)).mean() < 2


def zero(pen_width: int, height: int = 160) -> np.ndarray:
    """A 0 drawn as an ellipse with a pen `pen_width` pixels wide, dark on white: float gray."""
    image = Image.new("L", (200, 240), 255)
    ImageDraw.Draw(image).ellipse((50, 40, 50 + height * 5 // 8, 40 + height), outline=0, width=pen_width)
    return gray(image)


def width_in_field(digit: np.ndarray) -> float:
    """Stroke width of a 28x28 digit as a fraction of its longest side, as MNIST's were measured."""
    strokes = digit > 127
    rows, cols = np.nonzero(strokes)
    return stroke_width(strokes) / (max(np.ptp(rows), np.ptp(cols)) + 1)


@pytest.mark.parametrize("pen_width", [3, 42])  # a ballpoint in a large scan; a marker that nearly fills the loop
def test_strokes_of_a_width_mnist_never_has_are_redrawn_at_its_width(pen_width):
    low, high = MNIST_STROKES
    as_drawn = width_in_field(mnist_style(zero(pen_width), even_width=False))
    assert not low <= as_drawn <= high  # the case the rule is for
    assert low <= width_in_field(mnist_style(zero(pen_width))) <= high


def test_strokes_of_mnist_width_and_small_pictures_are_left_as_drawn():
    ink = 1 - zero(pen_width=20)  # 20 / 160: inside MNIST's range
    assert even_strokes(ink) is ink
    small = 1 - np.asarray(Image.fromarray(zero(pen_width=3)).resize((30, 36), Image.Resampling.BOX))
    assert even_strokes(small) is small  # too few pixels to tell a fine pen from anti-aliasing


def test_blank_and_unreadable_files_say_why(tmp_path):
    Image.new("L", (40, 40), 255).save(tmp_path / "blank.png")
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ImageError, match="blank.png: the picture is one flat colour"):
        load_digit(tmp_path / "blank.png")
    with pytest.raises(ImageError, match="notes.png: not a readable image"):
        load_digit(tmp_path / "notes.png")
    with pytest.raises(ImageError, match="missing.png: no such file"):
        load_digit(tmp_path / "missing.png")


def test_folders_are_searched_for_pictures_files_are_taken_as_given(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("a/2.png", "a/1.JPG", "a/readme.txt", "b.dat"):
        (tmp_path / name).write_bytes(b"")
    assert find_images([tmp_path / "a", tmp_path / "b.dat"]) == [tmp_path / "a/1.JPG", tmp_path / "a/2.png", tmp_path / "b.dat"]
