"""Dropout in NumPy, forward and backward: AlexNet's FC6/FC7 (08_case_studies_alexnet_vgg) and GoogLeNet's 40%
(09_case_studies_googlenet_resnet).

While training, every unit is kept with probability ``1 - p`` and zeroed otherwise; the kept ones
are multiplied by ``1 / (1 - p)`` ("inverted" dropout, as PyTorch does), so the expected value of
every output equals its input and nothing needs rescaling at test time:

    out = x * mask,   mask[i] = 1 / (1 - p) with probability 1 - p, else 0      (p = 1: mask = 0)

In evaluation (``training=False`` or ``model.eval()``) dropout is the identity, and so is ``p = 0``
(which, as in torch.nn, draws no random numbers). The backward pass
multiplies by the same mask: a dropped unit passes no gradient.

Randomness: each `Dropout` module owns a ``numpy.random.Generator`` made from its ``rng=``
argument (an int seed, a Generator, or None for fresh, unpredictable entropy), so
``Dropout(0.5, rng=0)`` drops the same units every time the program runs. The functions take
``rng=`` the same way; they make a new generator from it on every call.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_float
from cnnlib.numpy_nn.conv import as_float_array
from cnnlib.numpy_nn.module import Module


def check_dropout_p(p) -> float:
    """``p`` as a float in [0, 1] (the probability of zeroing a unit), or a ValueError."""
    try:
        return check_float(p, "dropout probability p", minimum=0.0, maximum=1.0)
    except ValueError:
        raise ValueError(f"dropout probability p must be in [0, 1], got {p!r}") from None


def dropout_mask(shape, p: float, dtype, rng: np.random.Generator) -> np.ndarray:
    """The scaled mask: ``1 / (1 - p)`` where a unit is kept (probability ``1 - p``), 0 where it is dropped."""
    if p == 1.0:
        return np.zeros(shape, dtype=dtype)
    keep = rng.random(shape) >= p                  # True with probability 1 - p
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


def dropout_forward(x, p=0.5, training=True, inplace=False, rng=None):
    """Inverted dropout; returns ``(out, cache)``, the cache being the mask (None in evaluation or for p = 0).

    Math: out = x * mask, mask = Bernoulli(1 - p) / (1 - p) per element; out = x if not training.
    ``inplace=True`` writes the result into ``x`` (which must be a floating-point array) and returns it.

    Shape: x: any -> out: the same shape. Taught in 08_case_studies_alexnet_vgg.
    """
    p = check_dropout_p(p)
    if inplace and not (isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)):
        raise ValueError("inplace=True needs a floating-point NumPy array to write into")
    x = as_float_array(x, "input")
    if not training or p == 0.0:  # p = 0 keeps every unit: no random numbers drawn, as in torch.nn
        return x, None
    mask = dropout_mask(x.shape, p, x.dtype, np.random.default_rng(rng))
    if inplace:
        x *= mask
        return x, mask
    return x * mask, mask


def dropout_backward(grad_output, cache):
    """``grad_input = grad_output * mask``: the units that were dropped get no gradient.

    A cache of None (evaluation) passes the gradient through unchanged.
    """
    mask = cache
    grad_output = np.asarray(grad_output)
    if mask is None:
        return grad_output
    if grad_output.shape != mask.shape:
        raise ValueError(f"grad_output must have the output's shape {mask.shape}, got {grad_output.shape}")
    return grad_output.astype(mask.dtype, copy=False) * mask


def dropout(x, p=0.5, training=True, inplace=False, rng=None) -> np.ndarray:
    """``torch.nn.functional.dropout`` in NumPy (forward only); see `dropout_forward`."""
    return dropout_forward(x, p, training, inplace, rng)[0]


def dropout_naive(x, p=0.5, rng=None) -> np.ndarray:
    """Training-mode dropout one element at a time, for reading: the same draws as `dropout_forward`."""
    p = check_dropout_p(p)
    x = as_float_array(x, "input")
    if p == 0.0:
        return x.copy()                # every unit kept, and no numbers drawn
    u = np.random.default_rng(rng).random(x.shape)  # one uniform number per element, in the same order
    out = np.zeros_like(x)
    if p == 1.0:
        return out                     # every unit dropped
    scale = x.dtype.type(1.0 / (1.0 - p))
    for i in np.ndindex(x.shape):
        if u[i] >= p:                  # kept, with probability 1 - p
            out[i] = x[i] * scale
    return out


class Dropout(Module):
    """out = x * mask / (1 - p) while training (each unit kept with probability 1 - p); the identity in eval.

    ``torch.nn.Dropout``'s arguments; ``rng`` (keyword only) seeds this module's own generator.
    ``backward`` multiplies by the mask of the last forward. Taught in 08_case_studies_alexnet_vgg.

    Shape: input (*), any shape -> output (*), the same shape.
    """

    def __init__(self, p=0.5, inplace=False, *, rng=None):
        self.p = check_dropout_p(p)
        self.inplace = bool(inplace)
        self.rng = np.random.default_rng(rng)
        self._cache = None
        self._ran = False

    def forward(self, x):
        out, self._cache = dropout_forward(x, self.p, self.training, self.inplace, self.rng)
        self._ran = True
        return out

    def backward(self, grad_output):
        if not self._ran:
            raise RuntimeError("Dropout.backward called before forward")
        return dropout_backward(grad_output, self._cache)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
