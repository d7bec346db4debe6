"""LeNet-5 [LeCun et al., 1998]: CONV-POOL-CONV-POOL-CONV-FC on 32x32 grey images.

Taught in 07_case_studies_lenet. The lecture's summary of the design:
5x5 convolutions at stride 1, 2x2 subsampling (pooling) at stride 2.

    input   (N,   1, 32, 32)
    C1      (N,   6, 28, 28)   6 filters 5x5          6 * (5*5*1 + 1)  =    156 parameters
    S2      (N,   6, 14, 14)   2x2 pooling, stride 2                          0
    C3      (N,  16, 10, 10)   16 filters 5x5        16 * (5*5*6 + 1)  =  2,416
    S4      (N,  16,  5,  5)   2x2 pooling, stride 2                          0
    C5      (N, 120,  1,  1)   120 filters 5x5      120 * (5*5*16 + 1) = 48,120
    F6      (N,  84)           fully connected       84 * (120 + 1)    = 10,164
    output  (N,  10)           fully connected       10 * (84 + 1)     =    850
                                                                  total  61,706

Three simplifications against the 1998 paper, all usual today: C3 sees all six S2 maps (the
paper wired each C3 map to a subset, 1,516 parameters instead of 2,416), the pooling layers
have no trainable scale and bias, and the output is a linear layer instead of the paper's
Gaussian (RBF) units.
"""
from __future__ import annotations

from cnnlib.checks import check_int
from cnnlib.models._layers import layer_classes

ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU"}
POOLINGS = {"avg": "AvgPool2d", "max": "MaxPool2d"}


def lenet5(num_classes: int = 10, layers=None, activation: str = "tanh", pooling: str = "avg"):
    """LeNet-5 as one flat ``Sequential`` of 12 layers (61,706 parameters for 10 classes).

    Args:
        num_classes: size of the output layer.
        layers: where the layer classes come from: ``None`` for ``torch.nn``, or a namespace
            with the same class names (``cnnlib.torch_nn``). The model is a plain positional
            ``Sequential``, so any namespace with ``Sequential`` and ``Flatten`` works too.
        activation: ``"tanh"`` (the paper's squashing function) or ``"relu"``.
        pooling: ``"avg"`` (the paper's subsampling averages a 2x2 window) or ``"max"``.

    Shape:
        input ``(N, 1, 32, 32)``, output ``(N, num_classes)``.
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {sorted(POOLINGS)}, got {pooling!r}")
    L = layer_classes(layers, "Conv2d", "Linear", ACTIVATIONS[activation], POOLINGS[pooling])
    Act = getattr(L, ACTIVATIONS[activation])
    Pool = getattr(L, POOLINGS[pooling])
    return L.Sequential(
        L.Conv2d(1, 6, kernel_size=5),       # C1: (N, 6, 28, 28)
        Act(),
        Pool(kernel_size=2, stride=2),       # S2: (N, 6, 14, 14)
        L.Conv2d(6, 16, kernel_size=5),      # C3: (N, 16, 10, 10)
        Act(),
        Pool(kernel_size=2, stride=2),       # S4: (N, 16, 5, 5)
        L.Conv2d(16, 120, kernel_size=5),    # C5: (N, 120, 1, 1)
        Act(),
        L.Flatten(),                         # (N, 120)
        L.Linear(120, 84),                   # F6: (N, 84)
        Act(),
        L.Linear(84, num_classes),           # output: (N, num_classes)
    )
