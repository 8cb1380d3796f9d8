
import pytest
import torch

from lenet_lab.data.batches import EpochPermutation, TensorBatches, auto_batches_per_step
from lenet_lab.data.mnist import MNISTDataModule
from lenet_lab.data.pixels import to_inputs
from lenet_lab.errors import DataError
from tests.conftest import TINY_TEST, TINY_TRAIN


def setup_datamodule(root, **kwargs) -> MNISTDataModule:
    kwargs.setdefault("val_size", 20)
    datamodule = MNISTDataModule(root=str(root), download=False, **kwargs)
    datamodule.prepare_data()
    datamodule.setup("fit")
    return datamodule


def test_splits_hold_out_validation_from_train_and_keep_the_official_test_set(mnist_root):
    dm = setup_datamodule(mnist_root, val_size=20)
    sizes = {split: len(labels) for split, (_, labels) in dm.splits.items()}
    assert sizes == {"train": TINY_TRAIN - 20, "val": 20, "test": TINY_TEST}
    # Train and validation together are exactly the official training images, none twice.
    train_and_val = torch.cat([dm.splits["train"][0], dm.splits["val"][0]]).flatten(1)
    assert len(torch.unique(train_and_val, dim=0)) == TINY_TRAIN


def test_validation_split_depends_on_split_seed_only(mnist_root):
    torch.manual_seed(1)
    first = setup_datamodule(mnist_root, val_size=20).splits["val"][1]
    torch.manual_seed(2)  # another training seed: same hold-out
    same = setup_datamodule(mnist_root, val_size=20).splits["val"][1]
    other = setup_datamodule(mnist_root, val_size=20, split_seed=5).splits["val"][1]
    assert torch.equal(first, same)
    assert not torch.equal(first, other)


def test_val_size_zero_trains_on_everything_and_validates_on_nothing(mnist_root):
    dm = setup_datamodule(mnist_root, val_size=0)
    assert len(dm.splits["train"][1]) == TINY_TRAIN
    assert dm.val_dataloader() == []


@pytest.mark.parametrize("pad, side", [(0, 28), (2, 32)])
def test_batches_have_the_requested_shape(mnist_root, pad, side):
    dm = setup_datamodule(mnist_root, pad=pad, batch_size=16, batches_per_step=1)
    images, labels = next(iter(dm.train_dataloader()))
    assert images.shape == (16, 1, side, side) and images.dtype == torch.float32
    assert labels.shape == (16,) and labels.dtype == torch.int64
    assert len(dm.test_dataloader()) == 1  # eval batches of 1000


def test_batches_come_in_groups_with_the_same_examples_in_the_same_order(mnist_root):
    grouped = list(setup_datamodule(mnist_root, batch_size=8, batches_per_step=3).train_dataloader())
    single = list(setup_datamodule(mnist_root, batch_size=8, batches_per_step=1).train_dataloader())
    assert [len(group) for group in grouped] == [3, 3, 3, 3, 1] and len(single) == 13  # 100 images
    flat = [batch for group in grouped for batch in group]
    assert [len(labels) for _, labels in flat] == [len(labels) for _, labels in single]  # the last one short
    for (images, labels), (images1, labels1) in zip(flat, single):
        assert torch.equal(labels, labels1) and torch.equal(images, images1)



def test_a_group_is_cut_where_lightning_moves_it(mnist_root):
    # With data.on_device=false the tensors stay on the host; Lightning moves a batch by calling
    # its `to`, so each batch of a group must land on that device when it is cut.
    from lightning.fabric.utilities.apply_func import move_data_to_device

    group = next(iter(setup_datamodule(mnist_root, batch_size=8, batches_per_step=3).train_dataloader()))
    moved = move_data_to_device(group, torch.device("meta"))
    batches = list(moved)
    assert len(batches) == len(group) == 3
    assert all(images.device.type == labels.device.type == "meta" and images.shape[0] == 8 for images, labels in batches)
    assert all(images.device.type == "cpu" for images, _ in group)  # the group itself is untouched

def test_batches_per_step_defaults_to_about_4096_images():
    assert [auto_batches_per_step(b) for b in (1, 64, 256, 1000, 4096, 10_000)] == [4096, 64, 16, 4, 1, 1]


@pytest.mark.parametrize(
    "normalize, background, ink",
    [("unit", 0.0, 1.0), ("standard", -0.1307 / 0.3081, (1 - 0.1307) / 0.3081), ("lecun", -0.1, 1.175)],
)
def test_normalizations_map_background_and_ink(normalize, background, ink):
    images = torch.tensor([[[0, 255], [255, 0]]], dtype=torch.uint8)
    x = to_inputs(images, normalize, pad=1)
    assert x.shape == (1, 1, 4, 4)
    # The padded border is background too, whatever the scaling.
    assert torch.allclose(x[0, 0, 0], torch.full((4,), background))
    assert x[0, 0, 1, 2].item() == pytest.approx(ink)
    assert x[0, 0, 1, 1].item() == pytest.approx(background)


def test_unknown_normalization_is_a_data_error():
    with pytest.raises(DataError, match="lecun"):
        to_inputs(torch.zeros(1, 28, 28, dtype=torch.uint8), "zscore", pad=0)


def test_missing_files_say_where_what_and_how_to_fix(tmp_path):
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"")
    with pytest.raises(DataError) as error:
        MNISTDataModule(root=str(tmp_path), download=False).prepare_data()
    message = str(error.value)
    assert str((tmp_path / "MNIST" / "raw").resolve()) in message
    assert "train-labels-idx1-ubyte" in message and "t10k-images-idx3-ubyte" in message
    assert "train-images-idx3-ubyte," not in message  # that one is there
    assert "data.root" in message and "LENET_LAB_DATA" in message
    assert "\n" not in message


def test_every_example_once_per_epoch_in_a_seeded_order():
    sampler = EpochPermutation(10, shuffle=True, seed=3)
    batches = TensorBatches(torch.arange(10.0), torch.arange(10), batch_size=4, sampler=sampler)
    assert len(batches) == 3
    epoch0 = torch.cat([labels for _, labels in batches])
    assert sorted(epoch0.tolist()) == list(range(10))
    assert torch.equal(epoch0, torch.cat([labels for _, labels in batches]))  # same epoch, same order
    sampler.set_epoch(1)
    assert not torch.equal(epoch0, torch.cat([labels for _, labels in batches]))


def test_devices_train_on_equal_shares_and_evaluate_each_example_once():
    training = [EpochPermutation(10, shuffle=True, seed=0, rank=r, world_size=3).indices() for r in range(3)]
    assert [len(s) for s in training] == [4, 4, 4]  # padded by wrapping around, as DistributedSampler
    assert set(torch.cat(training).tolist()) == set(range(10))
    evaluation = [EpochPermutation(10, shuffle=False, rank=r, world_size=3, pad=False) for r in range(3)]
    assert [len(s) for s in evaluation] == [4, 3, 3]
    assert sorted(torch.cat([s.indices() for s in evaluation]).tolist()) == list(range(10))  # no duplicates


def test_distortions_move_ink_but_keep_the_digit():
    from lenet_lab.data.distortions import random_affine

    images = torch.full((64, 1, 32, 32), -0.1)
    images[:, :, 10:22, 13:19] = 1.175  # a bar of ink on background, LeCun scaling
    distorted = random_affine(images, torch.Generator().manual_seed(0))
    assert distorted.shape == images.shape
    assert not torch.allclose(distorted, images)
    assert distorted.min() >= -0.1 - 1e-5 and distorted.max() <= 1.175 + 1e-5  # no new values
    assert torch.allclose(distorted[:, :, 0, :], torch.tensor(-0.1))  # the border stays background
    ink = (distorted > 0.5).flatten(1).sum(1).float()
    assert ((ink > 0.6 * 72) & (ink < 1.5 * 72)).all()  # the bar keeps roughly its area
    again = random_affine(images, torch.Generator().manual_seed(0))
    assert torch.equal(distorted, again)


def test_augment_touches_training_batches_only(mnist_root):
    from types import SimpleNamespace

    dm = setup_datamodule(mnist_root, augment=True)
    batch = next(iter(dm.test_dataloader()))
    dm.trainer = SimpleNamespace(training=False)
    assert dm.on_after_batch_transfer(batch, 0)[0] is batch[0]
    dm.trainer = SimpleNamespace(training=True)
    assert not torch.equal(dm.on_after_batch_transfer(batch, 0)[0], batch[0])
    group = next(iter(setup_datamodule(mnist_root, augment=True, batch_size=8, batches_per_step=3).train_dataloader()))
    distorted = dm.on_after_batch_transfer(group, 0)
    assert len(distorted) == 3 and all(not torch.equal(d, images) for (d, _), (images, _) in zip(distorted, group))
