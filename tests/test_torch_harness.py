"""PyTorch's own test configurations (op_db sample inputs) run through cnnlib.torch_nn.

For every sample input (float64, CPU) of the ops below, cnnlib gives torch's forward and input
gradient, or raises a ValueError/TypeError whose message names the argument at fault. This file
covers softmax, log_softmax and the losses; the layers' ops (pooling, activations, linear,
convolution) are their owners' to add here.
"""
from __future__ import annotations

import collections
import re

import pytest
import torch

pytest.importorskip("expecttest")  # torch.testing._internal imports it
from torch.testing._internal.common_methods_invocations import op_db  # noqa: E402

# Importing torch's test utilities freezes torch.backends' flags for the whole process
# (disable_global_flags); the rest of the suite sets cudnn flags, so they are thawed again.
def _thaw_backend_flags():
    torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True


_thaw_backend_flags()

import cnnlib.torch_nn.loss as L  # noqa: E402

OURS = {  # op_db name -> our function, taking torch's positional arguments after the input
    "softmax": L.softmax,
    "log_softmax": L.log_softmax,
    "nn.functional.cross_entropy": L.cross_entropy,
    "nn.functional.mse_loss": L.mse_loss,
    "nn.functional.l1_loss": L.l1_loss,
    "nn.functional.smooth_l1_loss": L.smooth_l1_loss,
    "nn.functional.multi_margin_loss": L.multi_margin_loss,
}
ARGUMENTS = ("input", "target", "dim", "reduction", "margin", "beta", "weight", "dtype", "p", "ignore_index",
             "label_smoothing", "size_average", "reduce")


def _samples():
    for op in op_db:
        if op.name in OURS:
            for i, sample in enumerate(op.sample_inputs("cpu", torch.float64, requires_grad=True)):
                yield f"{op.name}{'.' + op.variant_test_name if op.variant_test_name else ''}[{i}]", op, sample


def _run(op, sample):
    """'pass' or 'refused'; an AssertionError says what differs."""
    ours = OURS[op.name]
    x = sample.input.detach().clone().requires_grad_()
    try:
        out = ours(x, *sample.args, **sample.kwargs)
    except (ValueError, TypeError) as err:
        named = [a for a in ARGUMENTS if re.search(rf"\b{a}\b", str(err))]
        assert named, f"refused without naming an argument: {type(err).__name__}: {err}"
        return "refused"
    x_ref = sample.input.detach().clone().requires_grad_()
    expected = op.op(x_ref, *sample.args, **sample.kwargs)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-12, equal_nan=True)
    g = torch.randn(expected.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    (grad,) = torch.autograd.grad(out, x, g)
    (grad_ref,) = torch.autograd.grad(expected, x_ref, g)
    torch.testing.assert_close(grad, grad_ref, rtol=1e-10, atol=1e-12, equal_nan=True)
    return "pass"


def test_every_op_db_sample_gives_torchs_answer_or_a_clear_refusal():
    counts, failures = collections.Counter(), {}
    try:
        for name, op, sample in _samples():
            try:
                counts[_run(op, sample)] += 1
            except AssertionError as err:
                counts["fail"] += 1
                failures[name] = str(err).splitlines()[0]
    finally:
        _thaw_backend_flags()
    print(dict(counts))
    assert failures == {}
    assert counts["pass"] + counts["refused"] >= 60  # op_db holds about 70 samples for these ops
    assert counts["pass"] >= counts["refused"]
