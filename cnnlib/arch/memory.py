"""What training really keeps in memory per image: the tensors autograd saves, and the peak.

Taught in 08_case_studies_alexnet_vgg. A layer table adds up every layer's output ("memory per
image"), but autograd keeps something else: what each backward formula needs (a ReLU's output,
a convolution's input, a max pooling's input *and* the int64 index of each window's winner), and
during the backward pass the gradients of the layers it is working on, each freed once used.

``activation_memory(model, input_size)`` measures both, on any device, without timing anything:
it runs one forward and one backward pass under a ``TorchDispatchMode`` that adds up the bytes of
every new storage an operation creates and subtracts them when the last tensor on that storage is
freed. A model on the ``meta`` device computes nothing and allocates nothing, so VGG16 is measured
in about a second. The run is made with two batch sizes; the difference, divided by the difference
in images, is the part per image (the weights and their gradients, the same at both sizes, cancel).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from cnnlib.checks import check_int


class _LiveBytes(TorchDispatchMode):
    """Bytes of the storages created under this mode that are still referenced, after each operation."""

    def __init__(self):
        super().__init__()
        self.refs, self.nbytes, self.dtype = {}, {}, {}
        self.live, self.trace = 0, []

    def _release(self, key):
        self.refs[key] -= 1
        if self.refs[key] == 0:
            self.live -= self.nbytes.pop(key)
            del self.refs[key], self.dtype[key]

    def by_dtype(self) -> dict:
        out = {}
        for key, n in self.nbytes.items():
            out[self.dtype[key]] = out.get(self.dtype[key], 0) + n
        return out

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        inputs = {t.untyped_storage()._cdata for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)}
        for t in tree_leaves(out):
            if not isinstance(t, torch.Tensor):
                continue
            key = t.untyped_storage()._cdata
            if key in inputs and key not in self.refs:
                continue                      # a view of a tensor made outside (a weight's transpose)
            if key not in self.refs:          # a new storage
                self.refs[key], self.nbytes[key] = 0, t.untyped_storage().nbytes()
                self.dtype[key] = str(t.dtype).removeprefix("torch.")
                self.live += self.nbytes[key]
            self.refs[key] += 1
            weakref.finalize(t, self._release, key)
        self.trace.append(self.live)
        return out


@dataclass(frozen=True)
class ActivationMemory:
    """Bytes per image: ``saved`` after the forward pass (input image included), ``saved_by_dtype``
    split by dtype, and ``peak``, the most held at any moment of forward + backward."""

    saved: float
    saved_by_dtype: dict
    peak: float


def _run(model, input_size, batch, device):
    mode = _LiveBytes()
    with mode:
        x = torch.empty((batch, *input_size), device=device)   # (N, C, H, W)
        out = model(x)
        saved, by_dtype = mode.live, mode.by_dtype()
        out.sum().backward()
        del out, x
    model.zero_grad(set_to_none=True)
    return saved, by_dtype, mode.trace


def activation_memory(model: torch.nn.Module, input_size, batches=(1, 2)) -> ActivationMemory:
    """Per-image bytes that training keeps: saved for backward, and the peak of forward + backward.

    ``input_size`` is one image's (C, H, W). The model runs in its current mode (``train()``
    saves dropout masks) on the device of its first parameter; its ``.grad`` are reset to None.
    """
    small, large = (check_int(b, "batches", minimum=1) for b in batches)
    if large <= small:
        raise ValueError(f"batches must be two sizes, the second larger, such as (1, 2); got {batches!r}")
    device = next(iter(model.parameters())).device
    s1, d1, trace1 = _run(model, tuple(input_size), small, device)
    s2, d2, trace2 = _run(model, tuple(input_size), large, device)
    if len(trace1) != len(trace2):
        raise ValueError("the model ran different operations at the two batch sizes; its memory per image "
                         "cannot be told apart from its fixed memory")
    images = large - small
    by_dtype = {k: (d2.get(k, 0) - d1.get(k, 0)) / images for k in sorted(set(d1) | set(d2))}
    peak = max((b - a) / images for a, b in zip(trace1, trace2))
    return ActivationMemory(saved=(s2 - s1) / images, saved_by_dtype={k: v for k, v in by_dtype.items() if v},
                            peak=peak)
