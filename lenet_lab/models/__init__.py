"""Plain `nn.Module`s: no Lightning inside, so they can be used, tested and exported on their own.

Each file has a config in `conf/model/` of the same name; `lenet.py` also backs the `lenet_keras`
and `lenet_classic` configs, which are LeNets with other options rather than other code.
"""
