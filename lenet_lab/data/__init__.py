"""MNIST as tensors: IDX files (idx), pixels to inputs (pixels), batches (batches), distortions, and
the DataModule (mnist).

Names that `lenet_lab.data` had when it was one module (configs name `lenet_lab.data.MNISTDataModule`)
are still found here, imported when first asked for.
"""

_FORMER_NAMES = {
    "MNISTDataModule": "lenet_lab.data.mnist",
    "RAW_FILES": "lenet_lab.data.idx",
    "OFFICIAL_COUNTS": "lenet_lab.data.idx",
    "check_idx": "lenet_lab.data.idx",
    "missing_files": "lenet_lab.data.idx",
    "check_files": "lenet_lab.data.idx",
    "ensure_mnist": "lenet_lab.data.idx",
    "load_split": "lenet_lab.data.idx",
    "to_inputs": "lenet_lab.data.pixels",
    "IMAGES_PER_STEP": "lenet_lab.data.batches",
    "auto_batches_per_step": "lenet_lab.data.batches",
}


def __getattr__(name: str):
    if name in _FORMER_NAMES:
        import importlib

        return getattr(importlib.import_module(_FORMER_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
