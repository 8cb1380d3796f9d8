"""`python -m lenet_lab.predict`: a user's pictures of test digits get the predictions the model gives the digits themselves."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torchvision.datasets import MNIST

from lenet_lab import predict
from lenet_lab.data.pixels import to_inputs
from lenet_lab.training.train import train
from lenet_lab.training.trained_model import load_trained, scores_of
from tests.conftest import skip_figures
from tests.digit_pictures import glyph, glyph_digits, make_glyph_mnist_root, styles

STYLES = ("mnist", "inverted", "off_centre", "photo")


@pytest.fixture(scope="module")
def glyph_job(tmp_path_factory):  # its tests are marked slow: 8 epochs, a model good enough to judge pictures by
    """A LeNet trained on printed digits made MNIST-style, its test digits and its own predictions of them."""
    from hydra import compose, initialize_config_dir

    from tests.conftest import PROJECT

    root = make_glyph_mnist_root(tmp_path_factory.mktemp("glyph_mnist"), n_train=300, n_test=40)
    with initialize_config_dir(config_dir=str(PROJECT / "conf"), version_base="1.3"):
        cfg = compose("config", overrides=[f"data.root={root}", "data.val_size=20", "data.batch_size=16", "epochs=8", "threads=1"])
    job_dir = tmp_path_factory.mktemp("glyph_job")
    with pytest.MonkeyPatch.context() as monkeypatch:
        skip_figures(monkeypatch)  # nothing here looks at the job's evaluation figures
        assert train(cfg, job_dir)["status"] == "completed"
    test = MNIST(str(root), train=False)
    digits = test.data.numpy()
    own = scores_of(load_trained(job_dir).model, to_inputs(test.data, cfg.data.normalize, cfg.data.pad)).argmax(1).numpy()
    return job_dir, digits, own


@pytest.fixture(scope="module")
def pictures(glyph_job, tmp_path_factory):
    """style -> folder holding every test digit drawn that way, as <index>.png."""
    _, digits, _ = glyph_job
    folders = {}
    for style in STYLES:
        folders[style] = tmp_path_factory.mktemp(style)
        for k, digit in enumerate(digits):
            styles(digit)[style].save(folders[style] / f"{k:03d}.png")
    return folders


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
def test_pictures_of_test_digits_get_the_models_own_predictions(glyph_job, pictures, style, tmp_path, capsys):
    job_dir, digits, own = glyph_job
    csv = tmp_path / "predictions.csv"
    assert predict.main([str(job_dir), str(pictures[style]), "--csv", str(csv), "--show-preprocessed", str(tmp_path / "seen")]) == 0
    table = pd.read_csv(csv)
    assert table.file.tolist() == [str(pictures[style] / f"{k:03d}.png") for k in range(len(digits))]
    agreement = (table.prediction.to_numpy() == own).mean()
    # A 28x28 MNIST digit passes through unchanged; a rendering is resampled and re-cropped, and a
    # digit this small model is unsure of may tip over (measured: 0 to 2 of 40; a wrong polarity
    # or centring gets most of them wrong).
    assert agreement == 1.0 if style == "mnist" else agreement >= 0.9, agreement
    probabilities = table[[f"p{c}" for c in range(10)]].to_numpy()
    assert np.allclose(probabilities.sum(1), 1, atol=1e-5)
    assert (table.probability >= table.runner_up_probability).all() and (table.prediction != table.runner_up).all()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(digits)
    first = table.iloc[0]
    assert lines[0].split() == [first.file, str(first.prediction), f"{100 * first.probability:.2f}%", "runner-up", str(first.runner_up), f"{100 * first.runner_up_probability:.2f}%"]
    seen = sorted((tmp_path / "seen").iterdir())
    assert len(seen) == len(digits) and Image.open(seen[0]).size == (28, 28)


def test_bad_files_are_reported_and_skipped_with_exit_1(trained_job, tmp_path, capsys):
    job_dir, _ = trained_job  # conftest's default LeNet: which digits it sees does not matter here
    (tmp_path / "notes.png").write_text("not a picture")
    Image.new("RGB", (50, 50), (200, 200, 200)).save(tmp_path / "blank.jpg")
    good = [tmp_path / "inverted.png", tmp_path / "photo.png"]
    styles(glyph_digits(1, seed=0)[0][0])["inverted"].save(good[0])
    styles(glyph_digits(2, seed=1)[0][1])["photo"].save(good[1])
    assert predict.main([str(job_dir), *map(str, good)]) == 0
    alone = [line.split()[:2] for line in capsys.readouterr().out.splitlines()]
    code = predict.main([str(job_dir), str(good[0]), str(tmp_path / "notes.png"), str(tmp_path / "missing.png"), str(tmp_path / "blank.jpg"), str(good[1])])
    assert code == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"error: {tmp_path / 'notes.png'}: not a readable image (UnidentifiedImageError: cannot identify image file '{tmp_path / 'notes.png'}')",
        f"error: {tmp_path / 'missing.png'}: no such file",
        f"error: {tmp_path / 'blank.jpg'}: the picture is one flat colour: no digit in it",
        "3 of 5 files could not be read",
    ]
    predicted = [line.split()[:2] for line in out.splitlines()]
    assert [p[0] for p in predicted] == [str(g) for g in good]
    assert predicted == alone  # the bad files between them change nothing


def test_a_folder_that_is_not_a_job_is_one_line_and_exit_2(tmp_path, capsys):
    assert predict.main([str(tmp_path), str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path} has no checkpoints/last.ckpt: not a job folder, or the job never finished an epoch"


def test_a_checkpoint_file_works_as_well_as_its_job_folder(trained_job, tmp_path, capsys):
    job_dir, _ = trained_job
    picture = tmp_path / "3.png"
    glyph(3).save(picture)
    assert predict.main([str(job_dir), str(picture)]) == 0
    from_folder = capsys.readouterr().out
    assert predict.main([str(job_dir / "checkpoints" / "last.ckpt"), str(picture)]) == 0
    assert capsys.readouterr().out == from_folder
    assert torch.load(job_dir / "checkpoints" / "last.ckpt", weights_only=True)["config"]["model"]["_target_"].endswith("LeNet5")
