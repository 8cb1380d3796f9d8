"""lenet_lab: Hydra + Lightning experiment sweeps on MNIST, turned into comparison tables."""

from lenet_lab import placement, resolvers, schema

# What conf/config.yaml refers to: the unique_dir resolver, the job_devices and job_strategy
# resolvers, and the run_schema config.
resolvers.register()
placement.register()
schema.register()
