"""PyTorch's own test configurations for cnnlib's layers: op_db samples and module_db modules.

op_db: the functional ops (convolution, pooling, linear, activations, normalization, dropout in
eval mode or with p=0). module_db: each torch.nn module is built with the entry's constructor
arguments, and cnnlib.torch_nn's module of the same name with the same arguments; ours loads
torch's state_dict and both run forward and backward (float64, CPU) in training and eval mode.
Every case gives torch's output, gradients (input and parameters) and buffers, or a
ValueError/TypeError that names the argument. The machinery is test_torch_harness's.
"""
from __future__ import annotations

import torch

from test_torch_harness import (
    ATOL, RTOL, _fresh, _thaw_backend_flags, assert_refusal_names_an_argument, assert_same, op_db_cases, quietly,
    tally,
)
from torch.testing._internal.common_modules import FunctionInput, ModuleInput, module_db  # noqa: E402

_thaw_backend_flags()  # importing common_modules may freeze them again

import cnnlib.torch_nn as nn  # noqa: E402
from cnnlib.torch_nn import dropout as D, normalization as N  # noqa: E402
from cnnlib.torch_nn import functional as F  # noqa: E402

OPS = {
    "nn.functional.conv2d": F.conv2d,
    "nn.functional.max_pool2d": F.max_pool2d,
    "nn.functional.avg_pool2d": F.avg_pool2d,
    "nn.functional.linear": F.linear,
    "nn.functional.relu": F.relu,
    "nn.functional.leaky_relu": F.leaky_relu,
    "nn.functional.elu": F.elu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "nn.functional.local_response_norm": N.local_response_norm,
    "nn.functional.batch_norm": N.batch_norm,
    "nn.functional.dropout": D.dropout,
}
EVERY = {"nn.functional.max_pool2d": 11}  # of op_db's 1440 (every 12th would hold return_indices=True only)

MODULES = {  # torch.nn class -> cnnlib.torch_nn class (None: cnnlib has no module of that name)
    torch.nn.Conv2d: nn.Conv2d, torch.nn.MaxPool2d: nn.MaxPool2d, torch.nn.AvgPool2d: nn.AvgPool2d,
    torch.nn.Linear: nn.Linear, torch.nn.ReLU: nn.ReLU, torch.nn.LeakyReLU: nn.LeakyReLU, torch.nn.ELU: nn.ELU,
    torch.nn.Sigmoid: nn.Sigmoid, torch.nn.Tanh: nn.Tanh, torch.nn.BatchNorm2d: nn.BatchNorm2d,
    torch.nn.LocalResponseNorm: nn.LocalResponseNorm, torch.nn.Dropout: nn.Dropout,
    torch.nn.CrossEntropyLoss: nn.CrossEntropyLoss, torch.nn.MSELoss: nn.MSELoss, torch.nn.L1Loss: nn.L1Loss,
    torch.nn.SmoothL1Loss: nn.SmoothL1Loss, torch.nn.MultiMarginLoss: getattr(nn, "MultiMarginLoss", None),
}
LOSSES = (torch.nn.CrossEntropyLoss, torch.nn.MSELoss, torch.nn.L1Loss, torch.nn.SmoothL1Loss,
          torch.nn.MultiMarginLoss)


def _deterministic(op, sample):
    """Dropout only where it draws nothing: eval mode or p=0."""
    if op.name != "nn.functional.dropout":
        return True
    p = sample.kwargs.get("p", sample.args[0] if sample.args else 0.5)
    return sample.kwargs.get("training", True) is False or p == 0


def _max_pool2d_without_return_indices(x, *args, return_indices=False, **kwargs):
    """cnnlib's max_pool2d has numpy_nn's signature, without return_indices; False asks for nothing more."""
    if return_indices:
        raise ValueError("return_indices=True is not supported")
    return F.max_pool2d(x, *args, **kwargs)


MAX_POOL_AGAIN = "nn.functional.max_pool2d, return_indices=False left out"


def _layer_cases():
    yield from op_db_cases(OPS, keep=_deterministic, every=EVERY)
    # Every max_pool2d sample passes return_indices (cnnlib refuses the keyword): the same samples again
    # without it, so that the values are checked too.
    for _, name, thunk in op_db_cases({"nn.functional.max_pool2d": _max_pool2d_without_return_indices},
                                      every=EVERY):
        yield MAX_POOL_AGAIN, name, thunk


def test_every_layer_op_db_sample_gives_torchs_answer_or_a_clear_refusal():
    counts, failures = tally(_layer_cases())
    assert failures == {}
    for op in (*OPS, MAX_POOL_AGAIN):
        assert counts[op]["pass"] + counts[op]["refused"] > 0, op
    for op in (*OPS.keys() - {"nn.functional.max_pool2d"}, MAX_POOL_AGAIN):
        assert counts[op]["pass"] > 0, op


def test_linear_backward_with_zero_in_features_gives_torchs_zero_gradients():
    x = torch.zeros(3, 0, dtype=torch.float64, requires_grad=True)
    w = torch.zeros(4, 0, dtype=torch.float64, requires_grad=True)
    b = torch.randn(4, dtype=torch.float64, requires_grad=True)
    F.linear(x, w, b).sum().backward()
    assert x.grad.shape == (3, 0) and w.grad.shape == (4, 0)
    torch.testing.assert_close(b.grad, torch.full((4,), 3.0, dtype=torch.float64))


def _check_module(ours_cls, torch_cls, module_input, training):
    c, f = module_input.constructor_input, module_input.forward_input
    if f is None or (torch_cls is torch.nn.Dropout and training and torch_cls(*c.args, **c.kwargs).p != 0):
        return None  # dropout in training mode draws a random mask
    reference = torch_cls(*_fresh(c.args, []), **_fresh(c.kwargs, [])).to(torch.float64).train(training)
    try:
        ours = ours_cls(*_fresh(c.args, []), **_fresh(c.kwargs, []))
        ours.to(torch.float64).train(training)
        ours.load_state_dict(reference.state_dict())
        # A loss's target gets no gradient from cnnlib (it differentiates with respect to the input).
        constant = (1,) if torch_cls in LOSSES else ()
        args = tuple(a.detach() if i in constant and isinstance(a, torch.Tensor) else a
                     for i, a in enumerate(f.args))
        leaves = []
        out = ours(*_fresh(args, leaves), **_fresh(f.kwargs, leaves))
    except (ValueError, TypeError) as err:
        assert_refusal_names_an_argument(err)
        return "refused"
    expected_leaves = []
    expected = quietly(reference, *_fresh(args, expected_leaves), **_fresh(f.kwargs, expected_leaves))
    names = [n for n, _ in reference.named_parameters()]
    assert_same(out, expected, leaves + [dict(ours.named_parameters())[n] for n in names],
                expected_leaves + [dict(reference.named_parameters())[n] for n in names])
    for (name, buf), (_, buf_ref) in zip(ours.named_buffers(), reference.named_buffers()):
        torch.testing.assert_close(buf, buf_ref, rtol=RTOL, atol=ATOL, msg=lambda m, name=name: f"{name}: {m}")
    return "pass"


def _module_cases(classes):
    for info in module_db:
        if info.module_cls in classes:
            ours_cls = MODULES[info.module_cls]
            for training in (False, True):
                for i, m in enumerate(info.module_inputs_func(info, device="cpu", dtype=torch.float64,
                                                               requires_grad=True, training=training)):
                    name = f"{info.name}[{i}]{'.train' if training else '.eval'}: {m.desc}"
                    if ours_cls is None:
                        yield info.name, name, lambda cls=info.module_cls: _missing(cls)
                    else:
                        yield info.name, name, lambda o=ours_cls, m=m, t=training: _check_module(
                            o, info.module_cls, m, t)


def _dropout_cases():
    """torch's module_db holds no Dropout entry: ours, in eval mode for several p and with p=0 in training."""
    x = torch.randn(3, 4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    for p, training in ((0.0, False), (0.3, False), (1.0, False), (0.0, True)):
        m = ModuleInput(constructor_input=FunctionInput(p), forward_input=FunctionInput(x))
        yield "nn.Dropout", f"nn.Dropout(p={p}).{'train' if training else 'eval'}", \
            lambda m=m, t=training: _check_module(nn.Dropout, torch.nn.Dropout, m, t)


def _missing(torch_cls):
    raise NotImplementedError(f"cnnlib.torch_nn has no {torch_cls.__name__}")


def test_every_module_db_entry_gives_torchs_answer_or_a_clear_refusal():
    classes = MODULES.keys() - {torch.nn.MultiMarginLoss}
    counts, failures = tally(_module_cases(classes))
    dropout, dropout_failures = tally(_dropout_cases())
    assert failures == {} and dropout_failures == {}
    assert dropout["nn.Dropout"]["pass"] == 4
    for torch_cls in classes - {torch.nn.Dropout}:
        name = f"nn.{torch_cls.__name__}"
        assert counts[name]["pass"] + counts[name]["refused"] > 0, name


def test_linear_forward_takes_torchs_keyword_input():
    ours, theirs = nn.Linear(3, 2, dtype=torch.float64), torch.nn.Linear(3, 2, dtype=torch.float64)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(ours(input=x), theirs(input=x))


def test_module_db_multi_margin_loss_gives_torchs_answer_or_a_clear_refusal():
    """Apart from the rest: cnnlib.torch_nn has multi_margin_loss but no MultiMarginLoss module (yet)."""
    counts, failures = tally(_module_cases({torch.nn.MultiMarginLoss}))
    assert failures == {}
    assert counts["nn.MultiMarginLoss"]["pass"] > 0
