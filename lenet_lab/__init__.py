"""lenet_lab: Hydra + Lightning experiment sweeps on MNIST, turned into comparison tables."""

from lenet_lab import resolvers, schema

# What conf/config.yaml refers to: the unique_dir resolver and the run_schema config.
resolvers.register()
schema.register()
