"""Helpers shared by the cnnlib.torch_nn tests: devices, dtypes and the three-way parity check.

    from torch_support import DEVICES, assert_three_way, run   # pytest puts tests/ on sys.path

`assert_three_way` checks cnnlib.torch_nn against torch.nn(.functional) on a device and against
cnnlib.numpy_nn, forward and every gradient, in float64 (via tests/parity.py). `run` evaluates a
function on tensors of a chosen device and dtype and returns its output and input gradients, for
the float32 and CUDA-versus-CPU checks.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pytest
import torch
from parity import TOL, assert_same_results, assert_torch_fns_match, torch_forward_backward

from cnnlib.device import available_devices

DEVICES = available_devices()
DTYPES = [torch.float32, torch.float64]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

# float32 sums of a few dozen products agree to about 1e-6 relative; leave room for reordering
F32 = dict(rtol=1e-4, atol=1e-5)


@pytest.fixture
def full_float32_precision():
    """Make torch's own float32 convolutions and matmuls on a GPU exact float32, not TensorFloat-32.

    cuDNN may use TF32 (10-bit mantissa) for float32 convolutions by default; our im2col matmul
    does not, so the two would differ by ~1e-3 and the float32 comparisons would measure TF32.
    """
    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    yield
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


def skip_unsupported(device: str, dtype) -> None:
    if device == "mps" and dtype == torch.float64:
        pytest.skip("Apple's MPS has no float64")


def tensor(array, device="cpu", dtype=None, requires_grad=False):
    """A fresh tensor from a NumPy array (None stays None); integer arrays keep their dtype."""
    if array is None:
        return None
    t = torch.tensor(np.asarray(array), device=device)
    if dtype is not None and t.is_floating_point():
        t = t.to(dtype)
    return t.requires_grad_() if requires_grad and t.is_floating_point() else t


def run(fn: Callable, inputs: Sequence, grad_output=None, device="cpu", dtype=torch.float64):
    """``fn`` on tensors of ``device`` and ``dtype`` made from ``inputs``: (output, input grads), on the CPU."""
    tensors = [tensor(x, device, dtype, requires_grad=True) for x in inputs]
    out = fn(*tensors)
    out.backward(None if grad_output is None else tensor(grad_output, device, dtype))
    grads = [None if t is None or t.grad is None else t.grad.cpu() for t in tensors]
    return out.detach().cpu(), grads


def assert_runs_close(actual, expected, **tolerances) -> None:
    """Compare two `run` results entry by entry (outputs, then gradients) with torch.testing."""
    (out_a, grads_a), (out_e, grads_e) = actual, expected
    torch.testing.assert_close(out_a, out_e, **tolerances)
    for i, (a, e) in enumerate(zip(grads_a, grads_e)):
        assert (a is None) == (e is None), f"inputs[{i}]: one side has no gradient"
        if a is not None:
            torch.testing.assert_close(a, e, **tolerances, msg=lambda m: f"grad of inputs[{i}]: {m}")


def assert_three_way(ours: Callable, reference: Callable, numpy_fn: Callable | None, inputs: Sequence,
                     grad_output=None, names: Sequence[str] | None = None, device="cpu", tol: float = TOL) -> None:
    """cnnlib.torch_nn == torch (on ``device``) == cnnlib.numpy_nn, output and all gradients, float64.

    ``ours`` and ``reference`` take tensors and return one tensor; ``numpy_fn(*arrays, grad_output)``
    returns ``(output, grads)`` as in tests/parity.py (``None`` skips the NumPy leg).
    """
    skip_unsupported(device, torch.float64)
    assert_torch_fns_match(ours, reference, inputs, grad_output, names, device, tol)
    if numpy_fn is None:
        return
    arrays = [None if x is None else np.array(x, dtype=np.float64 if np.asarray(x).dtype.kind == "f" else None)
              for x in inputs]
    g = None if grad_output is None else np.array(grad_output, dtype=np.float64)
    out, grads = numpy_fn(*arrays, g)
    ours_result = torch_forward_backward(ours, inputs, grad_output, device)
    assert_same_results((np.asarray(out), list(grads)), ours_result, names, tol,
                        label=f"cnnlib.numpy_nn vs cnnlib.torch_nn on {device}: ")
