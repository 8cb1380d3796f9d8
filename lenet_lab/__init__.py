"""lenet_lab: Hydra + Lightning experiment sweeps on MNIST, turned into comparison tables."""

from lenet_lab import resolvers

resolvers.register()
