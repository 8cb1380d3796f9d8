"""torchvision's ResNet-18 with a one-channel stem for MNIST.

stem="imagenet": 7x7 stride-2 conv + max pool, as torchvision has it, only with one input
channel (11,175,370 parameters; the reference's Lightning comparison). stem="small": a 3x3
stride-1 conv and no max pool, the usual choice for 28x28 images: 10x slower, a little better.
"""

from torch import nn
from torchvision.models import resnet18

STEMS = ("imagenet", "small")


def mnist_resnet18(num_classes: int = 10, stem: str = "imagenet") -> nn.Module:
    if stem not in STEMS:
        raise ValueError(f"unknown stem {stem!r}; choose one of {', '.join(STEMS)}")
    model = resnet18(weights=None, num_classes=num_classes)
    if stem == "imagenet":
        model.conv1 = nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3, bias=False)
    else:
        model.conv1 = nn.Conv2d(1, 64, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    return model
