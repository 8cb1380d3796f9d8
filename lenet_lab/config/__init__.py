"""From the command line to a checked config: the schema, the resolvers conf/config.yaml uses, the
one override parser, and where and on how many threads a job runs (launcher, placement, threads).

Nothing is registered on import: `lenet_lab.startup` does that for the entry points.
"""
