"""cnnlib.torch_nn under ``torch.autocast("cpu", dtype=torch.bfloat16)`` does what torch.nn does.

torch.nn casts convolutions and linear layers to bfloat16, computes its losses and local response
norm in float32 and runs everything else in the input's dtype (see `cnnlib.torch_nn.autocast`). Every
layer must give torch.nn's output dtype and gradient dtypes, forward and backward; convolution (both
algorithms), linear and batch norm must also give torch.nn's values to bfloat16 precision; and
``cnnlib.train.fit(amp=True)`` must train a model built from cnnlib.torch_nn.
"""
from __future__ import annotations

import pytest
import torch
from torch_layer_cases import CASES, layer_names, reference, run_layer

from cnnlib import torch_nn
from cnnlib.data import load_digits
from cnnlib.train import fit

BF16 = dict(dtype=torch.bfloat16)


def _dtypes(out, grad_x, grads):
    return out.dtype, grad_x.dtype, [None if g is None else g.dtype for g in grads]


def _autocast_run(layer, case, x):
    torch.manual_seed(0)
    return run_layer(layer, case, x, forward_context=torch.autocast("cpu", **BF16))


@pytest.mark.parametrize("input_dtype", [torch.float32, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("name", layer_names())
def test_layer_gives_torch_nn_dtypes_under_autocast(name, input_dtype):
    case = CASES[name]
    params = torch.float64 if input_dtype == torch.float64 else torch.float32  # the layer's own dtype
    x = torch.randn(case.shape, generator=torch.Generator().manual_seed(0)).to(input_dtype)
    expected = _dtypes(*_autocast_run(reference(name).to(params), case, x))
    got = _dtypes(*_autocast_run(case.make(torch_nn).to(params), case, x))
    if name in ("Maxout", "HingeLoss", "MultiClassHingeLoss"):  # their twins' parameters differ in number only
        got, expected = got[:2] + (set(got[2]),), expected[:2] + (set(expected[2]),)
    assert got == expected


def _max_relative_error(got, expected):
    got, expected = got.detach().float(), expected.detach().float()
    return float((got - expected).abs().max() / expected.abs().max())


VALUE_CASES = {
    "conv 5x5 stride 2 (im2col)": (lambda L, **kw: L.Conv2d(6, 8, 5, stride=2, padding=1, **kw), (4, 6, 13, 13)),
    "conv 3x3 (Winograd)": (lambda L, **kw: L.Conv2d(6, 8, 3, padding=1, **kw), (4, 6, 10, 10)),
    "linear": (lambda L, **kw: L.Linear(40, 12, **kw), (16, 40)),
    "batch norm": (lambda L, **kw: L.BatchNorm2d(6, **kw), (4, 6, 5, 5)),
}


@pytest.mark.parametrize("input_dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("label", list(VALUE_CASES))
def test_values_and_gradients_match_torch_nn_under_autocast(label, input_dtype):
    """Forward and backward against torch.nn under autocast, to bfloat16 precision (8 bits: 2**-8 = 0.004)."""
    make, shape = VALUE_CASES[label]
    kwargs = {"algorithm": "winograd" if "Winograd" in label else "im2col"} if "conv" in label else {}
    torch.manual_seed(0)
    theirs = make(torch.nn)
    ours = make(torch_nn, **kwargs)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(input_dtype)
    results = []
    for layer in (theirs, ours):
        xi = x.clone().requires_grad_()
        with torch.autocast("cpu", **BF16):
            out = layer(xi)
        g = torch.randn(out.shape, generator=torch.Generator().manual_seed(2)).to(out.dtype)
        out.backward(g)
        results.append([out.detach(), xi.grad, layer.weight.grad])
    for what, got, expected in zip(("output", "input gradient", "weight gradient"), *reversed(results)):
        assert got.dtype == expected.dtype, what
        assert _max_relative_error(got, expected) < 3e-2, what


def test_conv_then_batch_norm_under_autocast_as_torch_nn():
    """The bfloat16 output of a convolution goes into batch norm with float32 statistics (it was refused).

    No convolution bias: batch norm removes it, so its gradient would be 0 plus rounding noise."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 5, stride=2, bias=False), torch.nn.BatchNorm2d(3))
    ours = torch_nn.Sequential(torch.nn.Conv2d(2, 3, 5, stride=2, bias=False), torch.nn.BatchNorm2d(3))
    ours.load_state_dict(theirs.state_dict())
    x, weights = torch.randn(4, 2, 11, 11), torch.randn(4, 3, 4, 4)  # a random weighted sum: sum(out**2) of a
    outs = []                                                         # normalized output is constant, its gradient 0
    for model in (theirs, ours):
        with torch.autocast("cpu", **BF16):
            out = model(x)
        (out.float() * weights).sum().backward()
        outs.append(out)
    assert outs[1].dtype == outs[0].dtype == torch.bfloat16
    assert _max_relative_error(outs[1], outs[0]) < 3e-2
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert p.grad.dtype == torch.float32, name
        assert _max_relative_error(p.grad, q.grad) < 5e-2, name
    torch.testing.assert_close(ours[1].running_mean, theirs[1].running_mean, rtol=2e-2, atol=1e-3)
    assert ours[1].running_var.dtype == torch.float32


def test_batch_norm_takes_a_bfloat16_input_with_float32_parameters_as_torch_nn():
    """Not only under autocast: torch.nn normalizes a bfloat16 input with float32 parameters in float32."""
    torch.manual_seed(0)
    theirs, ours = torch.nn.BatchNorm2d(3), torch_nn.BatchNorm2d(3)
    x = torch.randn(4, 3, 5, 5).bfloat16()
    torch.testing.assert_close(ours(x), theirs(x))
    with pytest.raises(ValueError, match="input has dtype torch.float64 but running_mean has dtype torch.float32"):
        ours(x.double())


def _tiny_model(layers):
    """Conv 3x3 (Winograd on the CPU) - BatchNorm - ReLU - MaxPool - Conv 5x5/2 (im2col) - Flatten - Linear."""
    return layers.Sequential(
        layers.Conv2d(1, 4, 3, padding=1),             # (N, 4, 16, 16)
        layers.BatchNorm2d(4), layers.ReLU(),
        layers.MaxPool2d(2),                           # (N, 4, 8, 8)
        layers.Conv2d(4, 6, 5, stride=2, padding=2),   # (N, 6, 4, 4)
        layers.ReLU(), layers.Flatten(),
        layers.Linear(6 * 4 * 4, 10),
    )


def test_fit_with_amp_trains_a_torch_nn_model_as_it_trains_torch_nn():
    (x, y), (x_test, y_test) = load_digits(size=16)
    data, test = (x[:160], y[:160]), (x_test[:60], y_test[:60])
    torch.manual_seed(0)
    theirs = _tiny_model(torch.nn)
    ours = _tiny_model(torch_nn)
    ours.load_state_dict(theirs.state_dict())
    histories = [fit(m, data, test, torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9), epochs=3,
                     batch_size=32, device="cpu", progress=False, amp=True) for m in (theirs, ours)]
    assert all(p.dtype == torch.float32 for p in ours.parameters())
    # the same arithmetic up to bfloat16 rounding: the first epoch's loss agrees closely (2.2174 and 2.2179 when
    # written); later epochs drift apart as rounding differences grow, as torch.nn's own amp and float32 runs do
    assert histories[1].train_loss[0] == pytest.approx(histories[0].train_loss[0], rel=1e-2)
    for h in histories:
        assert h.train_loss[2] < 0.7 * h.train_loss[0]  # both learn (2.2 -> 1.2-1.3 when written)
