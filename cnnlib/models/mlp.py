"""A multilayer perceptron for images: flatten, one hidden fully connected layer, class scores.

Taught in 07_case_studies_lenet, where it answers the lecture's question "what is the drawback of
only using fully connected layers?" with a measurement: an MLP given LeNet-5's parameter budget,
trained on the same images, against LeNet-5.

    input   (N, C, H, W)
    flatten (N, C*H*W)
    hidden  (N, hidden)        (C*H*W + 1) * hidden parameters
    output  (N, num_classes)   (hidden + 1) * num_classes parameters
"""
from __future__ import annotations

from cnnlib.checks import check_int
from cnnlib.models._layers import layer_classes

ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU"}


def mlp_params(in_features: int, hidden: int, num_classes: int = 10) -> int:
    """The number of weights and biases of ``mlp(in_features, hidden, num_classes)``."""
    return (in_features + 1) * hidden + (hidden + 1) * num_classes


def hidden_for_budget(in_features: int, budget: int, num_classes: int = 10) -> int:
    """The widest hidden layer whose MLP has at most ``budget`` parameters.

    >>> hidden_for_budget(32 * 32, 61_706), mlp_params(32 * 32, 59)
    (59, 61075)
    """
    in_features = check_int(in_features, "in_features", minimum=1)
    budget = check_int(budget, "budget", minimum=1)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    hidden = (budget - num_classes) // (in_features + 1 + num_classes)  # budget = h*(in+1+nc) + nc
    if hidden < 1:
        raise ValueError(f"budget={budget} cannot pay for even one hidden unit of an MLP with "
                         f"{in_features} inputs and {num_classes} classes ({mlp_params(in_features, 1, num_classes)} parameters)")
    return hidden


def mlp(in_features: int, hidden: int, num_classes: int = 10, activation: str = "relu", layers=None):
    """``Flatten -> Linear(in_features, hidden) -> activation -> Linear(hidden, num_classes)``.

    Shape:
        input ``(N, *)`` with ``in_features`` numbers per example, output ``(N, num_classes)``.
    """
    in_features = check_int(in_features, "in_features", minimum=1)
    hidden = check_int(hidden, "hidden", minimum=1)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    L = layer_classes(layers, "Linear", ACTIVATIONS[activation])
    return L.Sequential(
        L.Flatten(),                              # (N, in_features)
        L.Linear(in_features, hidden),            # (N, hidden)
        getattr(L, ACTIVATIONS[activation])(),
        L.Linear(hidden, num_classes),            # (N, num_classes)
    )
