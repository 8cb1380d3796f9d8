"""Optimizers torch doesn't ship; the others come straight from `torch.optim` (conf/optimizer/)."""
