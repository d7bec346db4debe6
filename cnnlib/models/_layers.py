"""Where a model builder takes its layer classes from: ``torch.nn``, or a namespace with the same names.

Every builder in ``cnnlib.models`` accepts ``layers=``. Left as ``None`` it means ``torch.nn``;
``layers=cnnlib.torch_nn`` builds the network from the learner's own layers. Layers that compute
(``Conv2d``, ``Linear``, ``ReLU``, ...) must exist in the namespace, so a model never mixes in
``torch.nn`` layers silently. Containers and reshapes that hold no arithmetic (``Sequential``,
``Flatten``) are taken from the namespace when it has them and from ``torch.nn`` otherwise.
"""
from __future__ import annotations

from types import SimpleNamespace

import torch.nn as nn

CONTAINERS = ("Sequential", "Flatten")


def layer_classes(layers, *names: str) -> SimpleNamespace:
    """The classes ``names`` from ``layers`` (``None`` means ``torch.nn``), plus the containers.

    >>> L = layer_classes(None, "Conv2d", "ReLU")
    >>> L.Conv2d is nn.Conv2d, L.Sequential is nn.Sequential
    (True, True)
    """
    namespace = nn if layers is None else layers
    missing = [name for name in names if not hasattr(namespace, name)]
    if missing:
        label = getattr(namespace, "__name__", type(namespace).__name__)
        raise ValueError(
            f"layers={label} has no {', '.join(missing)}; this model needs {', '.join(names)}. "
            f"Pass a namespace that defines them, or layers=None for torch.nn"
        )
    found = {name: getattr(namespace, name) for name in names}
    for name in CONTAINERS:
        found.setdefault(name, getattr(namespace, name, getattr(nn, name)))
    return SimpleNamespace(**found)
