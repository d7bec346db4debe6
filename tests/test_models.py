"""cnnlib.models: parameter counts, the rows of the tables, torchvision parity, the layers= namespace.

Big models are built on the meta device (shapes only, no memory); small ones run for real.
"""
from __future__ import annotations

import types

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from cnnlib import models
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
