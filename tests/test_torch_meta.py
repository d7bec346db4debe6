"""No host read in any cnnlib.torch_nn layer: every layer, and LeNet, run forward and backward on the meta device.

A meta tensor has a shape and a dtype but no values, so ``.item()``, ``bool(t)``, ``float(t)``, ``.tolist()``
or Python control flow on a tensor's value raise there. On a GPU each such read is a sync: the host waits
for the device. The layers must therefore run on ``meta`` and give torch.nn's output and gradient shapes.
"""
from __future__ import annotations

import pytest
import torch
from torch_layer_cases import CASES, layer_names, reference, run_layer

from cnnlib import torch_nn
from cnnlib.models.lenet import lenet5


def test_every_layer_has_a_case():
    """A layer added to cnnlib.torch_nn without a case here fails, instead of going untested."""
    assert set(CASES) == set(layer_names())


def _shapes(out, grad_x, grads):
    return tuple(out.shape), tuple(grad_x.shape), [None if g is None else tuple(g.shape) for g in grads]


@pytest.mark.parametrize("name", layer_names())
def test_layer_runs_on_meta_with_torch_nn_shapes(name):
    case = CASES[name]
    torch.manual_seed(0)
    # torch.nn's layer on the CPU gives the shapes (torch.nn itself has no meta kernel for some backward
    # passes); a layer torch.nn lacks is compared with itself on the CPU
    expected_layer = case.make(torch.nn) if hasattr(torch.nn, name) else case.make(torch_nn)
    expected = _shapes(*run_layer(expected_layer, case, torch.randn(case.shape)))
    layer = case.make(torch_nn).to("meta")
    out, grad_x, grads = run_layer(layer, case, torch.empty(case.shape, device="meta"))
    assert out.device.type == "meta"
    assert _shapes(out, grad_x, grads) == expected


def test_batch_norm_with_cumulative_average_runs_on_meta():
    """momentum=None divides by the number of batches seen: a tensor, never read (torch.nn reads it: .item())."""
    layer = torch_nn.BatchNorm2d(3, momentum=None).to("meta")
    x = torch.empty(2, 3, 4, 4, device="meta", requires_grad=True)
    layer(x).sum().backward()
    assert x.grad.shape == x.shape and layer.weight.grad.shape == (3,)


def test_batch_norm_cumulative_average_still_matches_torch_nn():
    torch.manual_seed(0)
    ours, theirs = torch_nn.BatchNorm2d(3, momentum=None), torch.nn.BatchNorm2d(3, momentum=None)
    for _ in range(3):
        x = torch.randn(4, 3, 2, 2)
        ours(x), theirs(x)
    torch.testing.assert_close(ours.running_mean, theirs.running_mean)
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    assert int(ours.num_batches_tracked) == 3


@pytest.mark.parametrize("activation, pooling", [("tanh", "avg"), ("relu", "max")])
def test_lenet_forward_and_backward_on_meta(activation, pooling):
    torch.manual_seed(0)
    expected = lenet5(activation=activation, pooling=pooling)
    x = torch.randn(2, 1, 32, 32)
    torch.nn.functional.cross_entropy(expected(x), torch.tensor([3, 7])).backward()
    model = lenet5(layers=torch_nn, activation=activation, pooling=pooling).to("meta")
    loss = torch_nn.CrossEntropyLoss()(model(x.to("meta")), torch.tensor([3, 7], device="meta"))
    loss.backward()
    assert loss.device.type == "meta" and loss.shape == ()
    assert [(n, p.grad.shape) for n, p in model.named_parameters()] == \
           [(n, p.grad.shape) for n, p in expected.named_parameters()]


def test_max_pool_single_pass_with_the_nan_rule_matches_torch():
    """Off the CPU max pooling applies PyTorch's NaN rule in one pass (``nan_wins=True``) instead of asking
    whether the output holds a NaN; that pass alone must give PyTorch's values and winners, NaN or not."""
    from cnnlib.pool_args import _extent, pool_geometry
    from cnnlib.torch_nn.pooling import _max_stages, _padded, _winner_flat_index

    torch.manual_seed(0)
    x = torch.randn(2, 3, 7, 7)
    x[0, 1, 2, 3] = x[1, 2, 0, 0] = x[1, 2, 0, 1] = float("nan")
    geometry = pool_geometry(x.shape, 3, 2, 1, 1, False)
    x_pad = _padded(x, geometry[2], _extent(*(geometry[i] for i in (0, 1, 3, 4))), float("-inf"))
    out, column, row = _max_stages(x_pad, geometry, nan_wins=True)
    expected, indices = torch.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True)
    torch.testing.assert_close(out, expected, equal_nan=True)
    # the winner as a flat index in the padded input, mapped back to the input's own pixels
    flat = _winner_flat_index(column, row, x_pad.shape, geometry).view(expected.shape)
    w_pad, (ph, pw) = x_pad.shape[3], geometry[2]
    r, c = flat % (x_pad.shape[2] * w_pad) // w_pad - ph, flat % w_pad - pw
    assert torch.equal(r * x.shape[3] + c, indices)


def test_labels_off_the_cpu_are_checked_by_a_device_assertion_that_names_the_rule():
    """On a GPU the label range is asserted on the device (no host read); on the CPU the same assertion raises
    at once, which shows what it checks. CPU tensors keep the ValueError of cnnlib.labels."""
    from cnnlib.labels import _checked_on_device, class_labels

    for bad in ([0, 3], [-1, 1]):
        with pytest.raises(RuntimeError, match=r"target holds a label out of range: labels must be in \[0, 2\] "
                                               r"for 3 classes"):
            _checked_on_device(torch, torch.tensor(bad), 3, "target")
    assert torch.equal(_checked_on_device(torch, torch.tensor([0, 2]), 3, "target"), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="target holds the label 3, out of range"):
        class_labels(torch.tensor([0, 3]), 3, "target")
    meta = class_labels(torch.tensor([0, 1], dtype=torch.int32, device="meta"), 3, "target")
    assert meta.dtype == torch.int64 and meta.device.type == "meta"
