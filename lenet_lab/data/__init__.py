"""MNIST as tensors: IDX files (idx), pixels to inputs (pixels), batches (batches), distortions, and
the DataModule (mnist)."""
