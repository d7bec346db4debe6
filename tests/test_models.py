"""cnnlib.models: parameter counts, the rows of the tables, torchvision parity, the layers= namespace.

Big models are built on the meta device (shapes only, no memory); small ones run for real.
"""
from __future__ import annotations

import importlib
import inspect
import types

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from cnnlib import models
from cnnlib import numpy_nn as N
from cnnlib import torch_nn as T
from cnnlib.arch import tables
from cnnlib.device import available_devices


def on_meta(builder, *args, **kwargs):
    with torch.device("meta"):
        return builder(*args, **kwargs)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def torchvision_model(name: str):
    return on_meta(getattr(torchvision.models, name), weights=None)


# ---------------------------------------------------------------- LeNet-5

def test_lenet5_has_61706_parameters_layer_by_layer():
    model = models.lenet5()
    # C1 6*(25+1), C3 16*(150+1), C5 120*(400+1), F6 84*(120+1), output 10*(84+1)
    assert [n_params(layer) for layer in model] == [156, 0, 0, 2_416, 0, 0, 48_120, 0, 0, 10_164, 0, 850]
    assert n_params(model) == 61_706


def test_lenet5_output_shape_classes_and_variants():
    x = torch.zeros(2, 1, 32, 32)
    assert models.lenet5()(x).shape == (2, 10)
    seven = models.lenet5(num_classes=7)
    assert seven(x).shape == (2, 7)
    assert n_params(seven) == 61_706 - 850 + 7 * 85
    modern = models.lenet5(activation="relu", pooling="max")
    assert [type(layer).__name__ for layer in modern[:3]] == ["Conv2d", "ReLU", "MaxPool2d"]
    assert [type(layer).__name__ for layer in models.lenet5()[:3]] == ["Conv2d", "Tanh", "AvgPool2d"]


@pytest.mark.parametrize("device", available_devices())
def test_lenet5_learns_a_batch_on_every_device(device):
    torch.manual_seed(0)
    model = models.lenet5().to(device)
    x = torch.randn(8, 1, 32, 32, device=device)
    y = torch.arange(8, device=device) % 10
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]  # memorizes 8 random images: 2.31 -> 0.02 on the CPU


def test_lenet5_rejects_bad_arguments_by_name():
    with pytest.raises(ValueError, match=r"activation must be one of \['relu', 'tanh'\], got 'sigmoid'"):
        models.lenet5(activation="sigmoid")
    with pytest.raises(ValueError, match=r"pooling must be one of \['avg', 'max'\]"):
        models.lenet5(pooling="min")
    with pytest.raises(ValueError, match="num_classes must be positive, got 0"):
        models.lenet5(num_classes=0)


def test_layers_namespace_supplies_the_layers_and_torch_nn_the_containers():
    class MyConv2d(nn.Conv2d):
        pass

    namespace = types.SimpleNamespace(Conv2d=MyConv2d, Linear=nn.Linear, Tanh=nn.Tanh, AvgPool2d=nn.AvgPool2d)
    model = models.lenet5(layers=namespace)
    assert sum(isinstance(layer, MyConv2d) for layer in model) == 3
    assert isinstance(model, nn.Sequential) and n_params(model) == 61_706
    incomplete = types.SimpleNamespace(Conv2d=nn.Conv2d, Linear=nn.Linear)
    with pytest.raises(ValueError, match=r"has no Tanh, AvgPool2d; this model needs Conv2d, Linear, Tanh, AvgPool2d"):
        models.lenet5(layers=incomplete)
    with pytest.raises(ValueError, match="has no ReLU, MaxPool2d, LocalResponseNorm, Dropout"):
        models.alexnet(layers=namespace)


def test_lenet5_from_cnnlib_torch_nn_matches_torch_nn():
    from cnnlib.torch_nn import activation, conv, linear, pooling

    namespace = types.SimpleNamespace(Conv2d=conv.Conv2d, Linear=linear.Linear, Tanh=activation.Tanh,
                                      AvgPool2d=pooling.AvgPool2d)
    torch.manual_seed(0)
    reference = models.lenet5().double()
    ours = models.lenet5(layers=namespace).double()
    assert isinstance(ours[0], conv.Conv2d) and isinstance(ours, nn.Sequential)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(3, 1, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(ours(x), reference(x), rtol=1e-10, atol=1e-12)


def test_lenet5_from_cnnlib_numpy_nn_matches_torch_nn():
    from cnnlib.numpy_nn import activation, conv, linear, module, pooling

    namespace = types.SimpleNamespace(Conv2d=conv.Conv2d, Linear=linear.Linear, Tanh=activation.Tanh,
                                      AvgPool2d=pooling.AvgPool2d, Sequential=module.Sequential,
                                      Flatten=module.Flatten)
    torch.manual_seed(0)
    reference = models.lenet5().double()
    ours = models.lenet5(layers=namespace)
    assert isinstance(ours, module.Sequential)
    ours.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = torch.randn(3, 1, 32, 32, dtype=torch.float64)
    torch.testing.assert_close(torch.from_numpy(ours(x.numpy())), reference(x), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- AlexNet

def test_alexnet_children_are_the_lecture_rows():
    model = on_meta(models.alexnet)
    assert [name for name, _ in model.named_children()] == [r.name for r in tables.ALEXNET_LECTURE_TABLE[1:]]
    assert model.conv1.conv.weight.shape == (96, 3, 11, 11)  # (11*11*3)*96 = 34,848 weights
    assert n_params(model) == 62_378_344


def test_alexnet_two_towers_is_the_papers_60_million():
    model = on_meta(models.alexnet, two_towers=True)
    assert model.conv2.conv.weight.shape == (256, 48, 5, 5)  # each tower sees 96/2 maps
    assert model.conv3.conv.weight.shape == (384, 256, 3, 3)  # CONV3 sees both towers
    assert n_params(model) == 60_965_224


def test_alexnet_normalization_is_the_papers_formula():
    torch.manual_seed(0)
    a = torch.randn(1, 7, 2, 2, dtype=torch.float64)
    b = on_meta(models.alexnet).norm1(a)  # no parameters: runs on any device
    # b_i = a_i / (k + alpha * sum_{|j - i| <= 2} a_j^2)^beta with k=2, alpha=1e-4, beta=0.75
    squares = F.pad(a**2, (0, 0, 0, 0, 2, 2))
    window = sum(squares[:, j:j + 7] for j in range(5))
    torch.testing.assert_close(b, a / (2 + 1e-4 * window) ** 0.75, rtol=1e-12, atol=0)


# ---------------------------------------------------------------- VGG

@pytest.mark.parametrize("name, count", [("vgg16", 138_357_544), ("vgg19", 143_667_240)])
def test_vgg_parameters_equal_torchvisions_in_order_and_shape(name, count):
    ours, theirs = on_meta(getattr(models, name)), torchvision_model(name)
    assert [p.shape for p in ours.parameters()] == [p.shape for p in theirs.parameters()]
    assert n_params(ours) == n_params(theirs) == count


def test_vgg16_children_are_the_lecture_rows():
    names = [name for name, _ in on_meta(models.vgg16).named_children()]
    assert names == [row.name for row in tables.VGG16_LECTURE_TABLE[1:]]
    assert len([n for n in on_meta(models.vgg19).named_children() if n[0].startswith("conv")]) == 16
    with pytest.raises(ValueError, match="depth must be 16 or 19"):
        models.vgg(11)


# ---------------------------------------------------------------- GoogLeNet

def test_googlenet_children_are_table1_rows():
    model = on_meta(models.googlenet)
    names = [row.name for row in tables.GOOGLENET_TABLE1 if row.name != "softmax"]
    assert [name for name, _ in model.named_children()] == names
    assert n_params(model) == 6_998_552
    assert model.inception3a.branch5x5.conv.conv.kernel_size == (5, 5)
    assert model.dropout.p == 0.4


def test_inception_stacks_its_four_branches_in_table_order():
    torch.manual_seed(0)
    block = models.Inception(8, 2, 3, 4, 1, 5, 6)
    x = torch.randn(2, 8, 5, 5)
    out = block(x)
    assert out.shape == (2, 2 + 4 + 5 + 6, 5, 5)
    torch.testing.assert_close(out[:, :2], block.branch1x1(x))
    torch.testing.assert_close(out[:, 2:6], block.branch3x3(x))
    torch.testing.assert_close(out[:, 6:11], block.branch5x5(x))
    torch.testing.assert_close(out[:, 11:], block.branch_pool(x))


# ---------------------------------------------------------------- ResNet

@pytest.mark.parametrize("depth", [18, 34, 50, 101, 152])
def test_resnet_parameters_equal_torchvisions_in_order_and_shape(depth):
    ours, theirs = on_meta(getattr(models, f"resnet{depth}")), torchvision_model(f"resnet{depth}")
    assert [p.shape for p in ours.parameters()] == [p.shape for p in theirs.parameters()]
    assert [name for name, _ in ours.named_children()] == [
        "conv1", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "avgpool", "fc"]
    blocks = [len([n for n in stage.named_children() if n[0].startswith("block")])
              for stage in (ours.conv2_x, ours.conv3_x, ours.conv4_x, ours.conv5_x)]
    assert tuple(blocks) == tables.RESNET_TABLE1[depth].blocks


def test_resnet18_with_torchvisions_weights_computes_torchvisions_output():
    torch.manual_seed(0)
    theirs = torchvision.models.resnet18(weights=None).eval()
    ours = models.resnet18().eval()
    ours.load_state_dict(dict(zip(ours.state_dict(), theirs.state_dict().values())))
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(ours(x), theirs(x))


def test_residual_block_adds_its_input():
    torch.manual_seed(0)
    block = models.BasicBlock(4, 4).eval()
    nn.init.zeros_(block.bn2.weight)  # F(x) = 0, so y = relu(0 + x)
    x = torch.randn(2, 4, 6, 6)
    torch.testing.assert_close(block(x), torch.relu(x))
    down = models.Bottleneck(16, 8, stride=2)
    assert down.conv1.stride == (2, 2) and down.conv2.stride == (1, 1)  # the paper strides the first 1x1
    assert down(torch.randn(1, 16, 8, 8)).shape == (1, 32, 4, 4)
    with pytest.raises(ValueError, match=r"depth must be one of \[18, 34, 50, 101, 152\]"):
        models.resnet(20)


@pytest.mark.parametrize("builder, size", [(models.alexnet, 227), (models.vgg16, 224), (models.vgg19, 224),
                                           (models.googlenet, 224), (models.resnet50, 224)])
def test_big_models_take_num_classes(builder, size):
    assert on_meta(builder, num_classes=10)(torch.zeros(1, 3, size, size, device="meta")).shape == (1, 10)


# ---------------------------------------------------------------- built from cnnlib's own layers

CONTAINERS = (nn.Sequential, nn.Flatten)
has_groups = "groups" in inspect.signature(T.Conv2d).parameters
has_ceil_mode = "ceil_mode" in inspect.signature(T.MaxPool2d).parameters
has_adaptive_pool = hasattr(T, "AdaptiveAvgPool2d")


def foreign_layers(model: nn.Module) -> set[str]:
    """The torch.nn classes in ``model`` other than containers: what cnnlib did not compute."""
    return {type(m).__name__ for m in model.modules()
            if not type(m).__module__.startswith("cnnlib.") and not isinstance(m, CONTAINERS)}


@pytest.mark.parametrize("builder, kwargs", [
    (models.lenet5, {}), (models.lenet5, {"activation": "relu", "pooling": "max"}), (models.alexnet, {}),
    (models.vgg16, {}),
    pytest.param(models.alexnet, {"two_towers": True}, marks=pytest.mark.xfail(
        not has_groups, raises=TypeError, strict=True, reason="cnnlib.torch_nn.Conv2d has no groups yet")),
    pytest.param(models.googlenet, {}, marks=pytest.mark.xfail(
        not has_ceil_mode, raises=TypeError, strict=True, reason="cnnlib.torch_nn.MaxPool2d has no ceil_mode yet")),
    pytest.param(models.resnet18, {}, marks=pytest.mark.xfail(
        not has_adaptive_pool, raises=ValueError, strict=True, reason="cnnlib.torch_nn has no AdaptiveAvgPool2d yet")),
])
def test_layers_cnnlib_torch_nn_builds_every_layer_from_cnnlib(builder, kwargs):
    ours, theirs = on_meta(builder, layers=T, **kwargs), on_meta(builder, **kwargs)
    assert foreign_layers(ours) == set()
    assert foreign_layers(theirs) - {"Inception", "BasicBlock", "Bottleneck"}  # the reference is torch.nn's
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, v.shape) for k, v in theirs.state_dict().items()]


def assert_same_output_and_input_grad(ours, theirs, x):
    """Both models on copies of ``x``: the same output and, for one random grad_output, the same input gradient."""
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_ref, out = theirs(xa), ours(xb)
    g = torch.randn_like(out_ref)
    out_ref.backward(g), out.backward(g)
    torch.testing.assert_close(out, out_ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(xb.grad, xa.grad, rtol=1e-10, atol=1e-12)


def test_resnet_blocks_from_cnnlib_layers_match_torch_nn_in_train_and_eval():
    for block_cls, args in ((models.BasicBlock, (4, 4)), (models.BasicBlock, (4, 6, 2)),
                            (models.Bottleneck, (8, 2, 2))):
        torch.manual_seed(0)
        theirs = block_cls(*args).double()
        ours = block_cls(*args, layers=T).double()
        assert foreign_layers(ours) == set() and isinstance(ours.bn1, T.BatchNorm2d)
        ours.load_state_dict(theirs.state_dict())
        for mode in ("train", "train", "eval"):
            theirs.train(mode == "train"), ours.train(mode == "train")
            assert_same_output_and_input_grad(ours, theirs, torch.randn(3, args[0], 6, 6, dtype=torch.float64))
        for key, value in theirs.state_dict().items():  # running statistics after two training steps
            torch.testing.assert_close(ours.state_dict()[key], value, rtol=1e-12, atol=1e-14, msg=key)


def test_alexnet_from_cnnlib_layers_computes_torch_nns_output():
    torch.manual_seed(0)
    theirs = models.alexnet(num_classes=10).eval()
    ours = models.alexnet(num_classes=10, layers=T).eval()
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(1, 3, 227, 227)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-5)
    assert isinstance(ours.norm1, T.LocalResponseNorm) and isinstance(ours.fc6.dropout, T.Dropout)


@pytest.mark.parametrize("layers", ["torch.nn", "cnnlib.torch_nn", "cnnlib.numpy_nn"])
def test_alexnet_norm_layers_compute_the_papers_formula_in_every_library(layers):
    alexnet_module = importlib.import_module("cnnlib.models.alexnet")  # the module, not the function
    # torch's convention divides alpha by size: the constant passed is 5 times the paper's 1e-4
    assert (alexnet_module.LRN_SIZE, alexnet_module.LRN_ALPHA) == (5, 5 * 1e-4)
    a = np.random.default_rng(0).standard_normal((1, 7, 2, 2))
    if layers == "cnnlib.numpy_nn":  # numpy_nn's Sequential holds no named rows: build the layer from the constants
        norm = N.LocalResponseNorm(alexnet_module.LRN_SIZE, alexnet_module.LRN_ALPHA, alexnet_module.LRN_BETA,
                                   alexnet_module.LRN_K)
        b = norm(a)
    else:
        norm = on_meta(models.alexnet, layers=None if layers == "torch.nn" else T).norm2  # no parameters
        b = norm(torch.tensor(a)).numpy()
    squares = np.pad(a**2, ((0, 0), (2, 2), (0, 0), (0, 0)))
    window = sum(squares[:, j:j + 7] for j in range(5))  # the 5 maps centred on each channel
    np.testing.assert_allclose(b, a / (2 + 1e-4 * window) ** 0.75, rtol=1e-12)


def test_dropout_rows_of_alexnet_vgg_and_googlenet():
    assert on_meta(models.googlenet, layers=None).dropout.p == 0.4  # GoogLeNet's 40%
    for builder in (models.alexnet, models.vgg16):
        model = on_meta(builder, layers=T)
        assert [type(model.fc6.dropout), model.fc6.dropout.p, model.fc7.dropout.p] == [T.Dropout, 0.5, 0.5]
    head = on_meta(models.alexnet, layers=T, dropout=0.3).fc7
    assert head.dropout.p == 0.3


def test_resnet18_from_cnnlib_layers_computes_torch_nns_output_and_gradient():
    torch.manual_seed(0)
    theirs = models.resnet18(num_classes=10).double().eval()
    ours = models.resnet18(num_classes=10, layers=T).double().eval()
    ours.load_state_dict(theirs.state_dict())
    assert isinstance(ours.avgpool, T.AdaptiveAvgPool2d)
    x = torch.randn(2, 3, 40, 40, dtype=torch.float64)  # conv5_x is 2x2 here, so the pooling really averages
    assert_same_output_and_input_grad(ours, theirs, x)


def test_plain_basic_block_is_the_same_layers_without_the_shortcut():
    torch.manual_seed(0)
    plain, residual = models.BasicBlock(4, 4, residual=False).eval(), models.BasicBlock(4, 4).eval()
    residual.load_state_dict(plain.state_dict())  # same parameters, name for name
    x = torch.randn(2, 4, 5, 5)
    f = plain.bn2(plain.conv2(plain.relu1(plain.bn1(plain.conv1(x)))))
    torch.testing.assert_close(plain(x), torch.relu(f))
    torch.testing.assert_close(residual(x), torch.relu(f + x))
    assert plain.shortcut is None and not plain.residual
    assert models.BasicBlock(4, 8, stride=2, residual=False)(x).shape == (2, 8, 3, 3)  # no projection needed


def test_narrow_resnet_shapes_depth_and_twins():
    from cnnlib.arch import summary
    from cnnlib.viz.case_studies import weight_layer_depth

    torch.manual_seed(0)
    resid = models.narrow_resnet(3)
    plain = models.narrow_resnet(3, residual=False)
    assert resid(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    assert weight_layer_depth(resid) == weight_layer_depth(plain) == 2 * 3 + 2
    assert [k for k, _ in resid.named_parameters()] == [k for k, _ in plain.named_parameters()]
    assert summary(resid, (1, 28, 28), depth=1)["blocks"].output_shape == (16, 7, 7)
    assert all(b.residual for b in resid.blocks) and not any(b.residual for b in plain.blocks)
    with pytest.raises(ValueError, match="blocks"):
        models.narrow_resnet(0)
