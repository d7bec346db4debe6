"""Initial weights matched to the activation: Glorot/Xavier for tanh, He for ReLU.

A layer's output variance is its fan-in times the weight variance times the input's. To keep the
signal's scale from layer to layer the weight variance should undo the fan-in:

- **Xavier** (Glorot and Bengio, 2010): Var(w) = 2 / (fan_in + fan_out), for tanh and sigmoid,
  which are close to the identity around 0;
- **He** (He et al., 2015, "Delving deep into rectifiers"): Var(w) = 2 / fan_in, for ReLU, which
  zeroes half of its inputs and so halves the variance that passes;
- **PyTorch's default** for ``Conv2d`` and ``Linear`` is neither: a uniform distribution with
  Var(w) = 1 / (3 fan_in), a third of He's.

Taught in 07_case_studies_lenet (tanh with Xavier against ReLU with He) and 01 (why the scale matters).
"""
from __future__ import annotations

import torch

SCHEMES = ("xavier", "he", "torch")


def initialize(model, scheme: str):
    """Draw every ``Conv2d``/``Linear`` weight of ``model`` anew by ``scheme``, zero their biases.

    ``"xavier"``: normal with variance 2 / (fan_in + fan_out); ``"he"``: normal with variance
    2 / fan_in; ``"torch"``: leave PyTorch's default as it is. Uses torch's global generator
    (seed it with ``torch.manual_seed``). Returns ``model``.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    if scheme == "torch":
        return model
    for layer in model.modules():
        weight = getattr(layer, "weight", None)
        if weight is None or weight.dim() < 2:  # Conv2d and Linear weights; norms have 1-d weights
            continue
        with torch.no_grad():
            if scheme == "xavier":
                torch.nn.init.xavier_normal_(weight)
            else:
                torch.nn.init.kaiming_normal_(weight, nonlinearity="relu")
            if getattr(layer, "bias", None) is not None:
                layer.bias.zero_()
    return model
