"""What ``torch.autocast`` does to cnnlib.torch_nn's layers: torch.nn's casts, in one place.

Under ``torch.autocast("cpu", dtype=torch.bfloat16)`` (``cnnlib.train.fit(amp=True)`` on a CPU) PyTorch
casts the arguments of some operations before it runs them, and leaves the others alone:

- convolution and linear layers (matrix multiplies) run in the low precision: a float32 input
  and float32 parameters are cast to bfloat16, so the output is bfloat16;
- the losses and local response norm run in float32: a bfloat16 input is cast up, the output is float32;
- everything else (batch norm, pooling, activations, dropout, softmax) runs in the input's dtype.

These are CPU autocast's lists in torch 2.14, checked layer by layer against torch.nn in
tests/test_torch_autocast.py. CUDA's float16 autocast has longer lists (it also runs exp, pow and
sums in float32, so an activation built on exp would come out in float32 there): not checked yet.

Only floating-point tensors other than float64 are cast, as autocast does. The casts are
ordinary differentiable ``Tensor.to`` calls made *before* our ``autograd.Function`` runs, so
autograd casts the gradients back: a float32 weight receives a float32 gradient, as in torch.nn.
Inside the Function itself (`autocast_off`) autocast is switched off, so the hand-written
forward and backward compute in the dtype they were given instead of having their own matrix
multiplies cast behind their back (which gave a bfloat16 matmul added to a float32 bias).
"""
from __future__ import annotations

import functools

import torch

__all__ = ["autocast_dtype", "to_low_precision", "to_float32", "autocast_off"]


def autocast_dtype(device_type: str):
    """The dtype autocast computes in on ``device_type``, or None where autocast is off (or unknown there)."""
    if not torch.amp.is_autocast_available(device_type) or not torch.is_autocast_enabled(device_type):
        return None
    return torch.get_autocast_dtype(device_type)


def _first_device_type(values):
    """The device type of the first tensor among ``values`` (a layer's tensors share one device), or None."""
    return next((v.device.type for v in values if isinstance(v, torch.Tensor)), None)


def _cast(dtype_for, tensors):
    device_type = _first_device_type(tensors)
    dtype = None if device_type is None else dtype_for(device_type)
    if dtype is None:  # autocast off (the usual case): nothing to cast
        return list(tensors)
    eligible = [isinstance(t, torch.Tensor) and t.is_floating_point() and t.dtype not in (torch.float64, dtype)
                for t in tensors]  # anything else stays as it is
    return [t.to(dtype) if cast else t for t, cast in zip(tensors, eligible)]


def to_low_precision(*tensors):
    """The tensors as autocast casts a convolution's or a linear layer's arguments (None stays None)."""
    return _cast(autocast_dtype, tensors)


def to_float32(*tensors):
    """The tensors as autocast casts a loss's arguments: float32 where autocast is on (None stays None)."""
    return _cast(lambda device_type: None if autocast_dtype(device_type) is None else torch.float32, tensors)


def autocast_off(method):
    """Run an ``autograd.Function``'s forward or backward with autocast off on its tensors' device.

    Where autocast is off already (the usual case) the method runs as it is: entering ``torch.autocast``
    took about 15 us a call here (a busy 2-core machine), which every layer would pay twice per step.
    """
    @functools.wraps(method)
    def wrapper(ctx, *args):
        device_type = _first_device_type(args)
        if device_type is None or autocast_dtype(device_type) is None:
            return method(ctx, *args)
        with torch.autocast(device_type, enabled=False):
            return method(ctx, *args)
    return wrapper
