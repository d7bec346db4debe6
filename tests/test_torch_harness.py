"""PyTorch's own test configurations (op_db sample inputs) run through cnnlib.torch_nn.

For every sample input (float64, CPU) of the ops below, cnnlib gives torch's forward and the
gradients of every tensor argument that requires one, or raises a ValueError/TypeError whose
message names the argument at fault. This file covers softmax, log_softmax and the losses and
holds the machinery (`check_call`, `tally`) that test_torch_harness_layers.py reuses for the
layers' ops and for module_db.
"""
from __future__ import annotations

import collections
import re
import warnings

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
             "label_smoothing", "size_average", "reduce", "bias", "stride", "padding", "dilation", "groups",
             "kernel_size", "ceil_mode", "count_include_pad", "divisor_override", "return_indices", "inplace",
             "negative_slope", "alpha", "size", "k", "running_mean", "running_var", "training", "momentum",
             "eps", "padding_mode", "affine", "track_running_stats", "in_channels", "out_channels",
             "in_features", "out_features", "num_features", "x", "grad_output")
RTOL, ATOL = 1e-10, 1e-12


def _fresh(value, leaves):
    """A copy of a sample argument; tensors that require grad become new leaves (appended to leaves)."""
    if isinstance(value, torch.Tensor):
        if value.requires_grad:
            leaf = value.detach().clone().requires_grad_()
            leaves.append(leaf)
            return leaf
        return value.clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_fresh(v, leaves) for v in value)
    if isinstance(value, dict):
        return {k: _fresh(v, leaves) for k, v in value.items()}
    return value


def assert_refusal_names_an_argument(err):
    named = [a for a in ARGUMENTS if re.search(rf"\b{a}\b", str(err))]
    assert named, f"refused without naming an argument: {type(err).__name__}: {err}"


def assert_same(out, expected, leaves, expected_leaves):
    """Forward equal, and the gradients of out and expected (for one random output gradient) equal."""
    torch.testing.assert_close(out, expected, rtol=RTOL, atol=ATOL, equal_nan=True)
    if not expected.requires_grad:
        return
    g = torch.randn(expected.shape, dtype=expected.dtype, generator=torch.Generator().manual_seed(0))
    grads = torch.autograd.grad(out, leaves, g, allow_unused=True)
    expected_grads = torch.autograd.grad(expected, expected_leaves, g, allow_unused=True)
    for i, (grad, grad_ref) in enumerate(zip(grads, expected_grads)):
        assert (grad is None) == (grad_ref is None), f"gradient {i}: {grad} vs torch's {grad_ref}"
        if grad is not None:
            torch.testing.assert_close(grad, grad_ref, rtol=RTOL, atol=ATOL, equal_nan=True, msg=lambda m, i=i:
                                       f"gradient {i}: {m}")


def quietly(reference, *args, **kwargs):
    """torch's reference, with torch's own warnings silenced (conv2d warns about padding='same')."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return reference(*args, **kwargs)


def check_call(ours, reference, args, kwargs, constant=()):
    """'pass' or 'refused' for ours(*args, **kwargs) against reference(...); AssertionError otherwise.

    The positional arguments at the indices in `constant` (a loss's target) are passed detached:
    cnnlib's losses differentiate with respect to the input only.
    """
    args = tuple(a.detach() if i in constant and isinstance(a, torch.Tensor) else a for i, a in enumerate(args))
    leaves = []
    call = _fresh(args, leaves), _fresh(kwargs, leaves)
    try:
        out = ours(*call[0], **call[1])
    except (ValueError, TypeError) as err:
        assert_refusal_names_an_argument(err)
        return "refused"
    expected_leaves = []
    expected = quietly(reference, *_fresh(args, expected_leaves), **_fresh(kwargs, expected_leaves))
    assert_same(out, expected, leaves, expected_leaves)
    return "pass"


def tally(cases):
    """Run (op, case name, thunk) triples; per-op Counter of pass/refused/fail and the failures' reasons.

    A thunk returns 'pass', 'refused' or None (not applicable); any other exception than the ones a
    clear refusal raises is a failure, as is a wrong answer.
    """
    counts, failures = collections.defaultdict(collections.Counter), {}
    try:
        for op, name, thunk in cases:
            try:
                result = thunk()
            except Exception as err:  # noqa: BLE001  (a wrong answer or an internal error: both are failures)
                result = "fail"
                failures[name] = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            if result is not None:
                counts[op][result] += 1
    finally:
        _thaw_backend_flags()
    for op, c in sorted(counts.items()):
        print(f"{op:40s} cases {sum(c.values()):4d}  pass {c['pass']:4d}  refused {c['refused']:4d}  fail {c['fail']}")
    return counts, failures


def op_db_cases(ours_by_name, keep=lambda op, sample: True, every=None, constant=()):
    """(op name, case name, thunk) for the op_db samples of the ops in ours_by_name (every[name]-th sample)."""
    every = every or {}
    for op in op_db:
        if op.name in ours_by_name:
            ours = ours_by_name[op.name]
            for i, s in enumerate(op.sample_inputs("cpu", torch.float64, requires_grad=True)):
                if i % every.get(op.name, 1) == 0 and keep(op, s):
                    name = f"{op.name}{'.' + op.variant_test_name if op.variant_test_name else ''}[{i}]"
                    yield op.name, name, lambda ours=ours, op=op, s=s: check_call(
                        ours, op.op, (s.input, *s.args), s.kwargs, constant)


def test_every_op_db_sample_gives_torchs_answer_or_a_clear_refusal():
    counts, failures = tally(op_db_cases(OURS, constant=(1,)))  # a loss's target: no gradient
    assert failures == {}
    for op in OURS:
        assert counts[op]["pass"] + counts[op]["refused"] > 0, op
    total = sum(counts.values(), collections.Counter())
    assert total["pass"] + total["refused"] >= 60  # op_db holds about 70 samples for these ops
    assert total["pass"] >= total["refused"]
