"""lenet_lab: Hydra + Lightning experiment sweeps on MNIST, turned into comparison tables.

Importing the package does nothing: entry points import `lenet_lab.startup` to register the
config's resolvers.
"""
