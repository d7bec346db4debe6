"""One-line parity checks against PyTorch, in float64, for forward values and every gradient.

    from parity import assert_matches_torch          # pytest puts tests/ on sys.path

    def numpy_side(x, weight, bias, grad_output):     # returns (output, one gradient per input)
        out, cache = conv2d_forward(x, weight, bias, stride, padding)
        return out, conv2d_backward(grad_output, cache)

    assert_matches_torch(numpy_side, lambda x, w, b: F.conv2d(x, w, b, stride, padding),
                         [x, weight, bias], grad_output)

The contract:

- ``inputs`` is a list of NumPy arrays (or ``None``, e.g. a missing bias). Floating arrays are
  converted to float64 and handed, as fresh copies, to both sides: to PyTorch as tensors with
  ``requires_grad=True``, so autograd computes a gradient for each; integer arrays (class labels)
  are handed over as they are, without a gradient.
- ``numpy_fn(*inputs, grad_output)`` returns ``(output, grads)``: ``grads`` has one entry per
  input, the gradient of ``sum(output * grad_output)`` with respect to that input, or ``None``
  where there is nothing to compare (a ``None`` or integer input, a target you do not
  differentiate). ``grad_output=None`` means the output is a scalar (a loss): the gradients are
  those of the output itself.
- ``torch_fn(*tensors)`` returns one tensor; the helper calls ``backward`` on it.

Every compared array must have the same shape and dtype as PyTorch's, and a relative error of
at most ``tol`` (1e-10 by default): ``|a - b| / (|a| + |b|)`` entry by entry, where entries
smaller than 1e-3 of the array's largest magnitude are measured against that size instead (a
sum that cancels to nearly zero would otherwise turn round-off of 1e-17 into a large ratio).

The second oracle, `assert_matches_finite_differences`, checks analytic gradients against
centred differences (`cnnlib.testing.numerical_gradient`).

For comparing two PyTorch functions (e.g. ``cnnlib.torch_nn`` against ``torch.nn.functional``),
possibly on a GPU, use `assert_torch_fns_match`; `torch_forward_backward` is the building block.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from cnnlib.testing import numerical_gradient, rel_error

TOL = 1e-10


def scaled_rel_error(actual, expected, floor_fraction: float = 1e-3, floor: float = 1e-12) -> float:
    """`cnnlib.testing.rel_error` with a floor of ``floor_fraction`` times the arrays' largest magnitude.

    With ``floor_fraction=1`` it is the error relative to the whole array's size, the right measure
    for finite differences, whose error (about 1e-10) is absolute, not relative to each entry.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(e), initial=0.0)))
    return rel_error(a, e, floor=max(floor_fraction * scale, floor))


def _as_float64(inputs: Sequence) -> list:
    out = []
    for i, x in enumerate(inputs):
        if x is None:
            out.append(None)
            continue
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float64)
        elif not (np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
            raise TypeError(f"inputs[{i}] has dtype {x.dtype}; pass float or integer NumPy arrays")
        out.append(x)
    return out


def torch_forward_backward(torch_fn: Callable, inputs: Sequence, grad_output=None, device="cpu"):
    """Run ``torch_fn`` on tensors made from ``inputs`` and back-propagate ``grad_output``.

    Returns ``(output, grads)`` as float64 NumPy arrays on the CPU, ``grads[i]`` being ``None``
    for inputs that are ``None`` or integer, or that did not reach the output.
    """
    tensors = []
    for x in _as_float64(inputs):
        if x is None:
            tensors.append(None)
        else:
            t = torch.tensor(x, device=device)
            tensors.append(t.requires_grad_() if t.is_floating_point() else t)
    out = torch_fn(*tensors)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"torch_fn must return one tensor, got {type(out).__name__}")
    if any(t is not None and t.requires_grad for t in tensors) and out.requires_grad:
        if grad_output is None:
            out.backward()
        else:
            out.backward(torch.tensor(np.asarray(grad_output, dtype=np.float64), device=device))
    grads = [None if t is None or t.grad is None else t.grad.detach().cpu().numpy() for t in tensors]
    return out.detach().cpu().numpy(), grads


def assert_same_results(actual, expected, names: Sequence[str] | None = None, tol: float = TOL,
                        label: str = "", none_means_skip: bool = True, floor: float = 1e-12) -> None:
    """Compare ``(output, grads)`` pairs (``floor``: the smallest denominator of the relative error).

    With ``none_means_skip``, ``None`` in ``actual``'s grads means "not compared"; otherwise a
    ``None`` on either side stands for a zero gradient (what autograd reports by leaving ``.grad`` empty).
    """
    out_a, grads_a = actual
    out_e, grads_e = expected
    names = list(names) if names is not None else [f"inputs[{i}]" for i in range(len(grads_e))]
    if len(grads_a) != len(grads_e):
        raise AssertionError(f"{label}got {len(grads_a)} gradients for {len(grads_e)} inputs; "
                             f"return one per input (None where there is nothing to compare)")
    pairs = [("output", out_a, out_e)]
    for name, ga, ge in zip(names, grads_a, grads_e):
        if ga is None and (none_means_skip or ge is None):
            continue
        if ga is None:
            ga = np.zeros_like(ge)
        if ge is None:
            ge = np.zeros_like(ga)  # PyTorch leaves .grad empty for an input that does not matter
        pairs.append((f"grad of {name}", ga, ge))
    for what, a, e in pairs:
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            raise AssertionError(f"{label}{what}: shape {a.shape}, PyTorch gives {e.shape}")
        if a.dtype != e.dtype:
            raise AssertionError(f"{label}{what}: dtype {a.dtype}, PyTorch gives {e.dtype}")
        err = scaled_rel_error(a, e, floor=floor)
        if not err <= tol:
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(a - e))), a.shape))
            raise AssertionError(
                f"{label}{what}: relative error {err:.3g} > {tol:g}; worst at index {worst}: "
                f"got {float(a[worst]):.17g}, PyTorch gives {float(e[worst]):.17g}"
            )


def assert_matches_torch(numpy_fn: Callable, torch_fn: Callable, inputs: Sequence, grad_output=None,
                         names: Sequence[str] | None = None, tol: float = TOL, floor: float = 1e-12) -> None:
    """Assert that a NumPy forward/backward equals PyTorch's forward and autograd, in float64.

    ``numpy_fn(*inputs, grad_output) -> (output, grads)``; ``torch_fn(*tensors) -> tensor``;
    ``names`` label the inputs in failure messages. See the module docstring for the contract.
    """
    inputs = _as_float64(inputs)
    if grad_output is not None:
        grad_output = np.asarray(grad_output, dtype=np.float64)
    copies = [None if x is None else x.copy() for x in inputs]
    g_copy = None if grad_output is None else grad_output.copy()
    out, grads = numpy_fn(*copies, g_copy)
    for i, (x, c) in enumerate(zip(inputs, copies)):
        if x is not None and not np.array_equal(x, c):
            raise AssertionError(f"numpy_fn changed inputs[{i}] in place; a layer must not modify its input")
    expected = torch_forward_backward(torch_fn, inputs, grad_output)
    assert_same_results((out, list(grads)), expected, names, tol, label="NumPy vs PyTorch: ", floor=floor)


def assert_torch_fns_match(fn: Callable, reference_fn: Callable, inputs: Sequence, grad_output=None,
                           names: Sequence[str] | None = None, device="cpu", tol: float = TOL) -> None:
    """Assert that two PyTorch functions agree in float64 on ``device``: output and every input gradient."""
    actual = torch_forward_backward(fn, inputs, grad_output, device)
    expected = torch_forward_backward(reference_fn, inputs, grad_output, device)
    assert_same_results(actual, expected, names, tol, label=f"on {device}: ", none_means_skip=False)


def assert_matches_finite_differences(f: Callable, checks: Sequence, grad_output=None, h: float = 1e-6,
                                      tol: float = 1e-6) -> None:
    """Assert that analytic gradients agree with centred differences of ``sum(f() * grad_output)``.

    ``checks`` is a list of ``(name, array, analytic_grad)``; each array is perturbed in place,
    one entry at a time, so ``f`` (no arguments) must read the arrays themselves. The error is
    measured relative to the size of the whole gradient (``scaled_rel_error(..., floor_fraction=1)``):
    centred differences carry an absolute round-off of about eps * |f| / h, so an entry-by-entry
    ratio would fail on entries that are merely small.

        assert_matches_finite_differences(lambda: conv2d(x, w, b), [("input", x, gx), ("weight", w, gw)], g)
    """
    for name, x, analytic in checks:
        numeric = numerical_gradient(f, x, grad_output, h)
        err = scaled_rel_error(analytic, numeric, floor_fraction=1.0)
        if not err <= tol:
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(analytic - numeric))), numeric.shape))
            raise AssertionError(
                f"grad of {name}: analytic and numerical gradients differ by {err:.3g} (relative to the gradient's "
                f"size) > {tol:g}; worst at index {worst}: analytic {float(analytic[worst]):.10g}, "
                f"numerical {float(numeric[worst]):.10g}"
            )
