"""lenet_lab: Hydra + Lightning experiment sweeps on MNIST, turned into comparison tables.

Importing the package changes nothing but one thing: module paths from before the package was
laid out by stage (`lenet_lab.train`, `lenet_lab.optimizers.sdlm`, ...) keep working, for configs
saved in older job folders and for users' scripts (see legacy_paths.py). Entry points import
`lenet_lab.startup` to register the config's resolvers.
"""

from lenet_lab import legacy_paths

legacy_paths.install()
