"""How raw MNIST pixels p in [0, 255] become network inputs: x = scale * p / 255 + shift.

Kept apart from the DataModule so the config schema can name the choices without importing torch.
"""

NORMALIZATIONS = {
    "unit": (1.0, 0.0),  # [0, 1]
    "standard": (1 / 0.3081, -0.1307 / 0.3081),  # MNIST's mean 0.1307 and std 0.3081
    "lecun": (1.275, -0.1),  # 1998 paper: background -0.1, ink 1.175 (mean ~0, variance ~1)
}
