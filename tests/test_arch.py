"""cnnlib.arch.summary against the lecture's and the papers' tables, and against PyTorch's FLOP counter.

The numbers asserted here are the ones the case-study notebooks print; where a table is wrong,
the test pins down by how much, so the notebook can say so.
"""
from __future__ import annotations

import re

import pytest
import torch
import torch.nn as nn
import torchvision
from torch.utils.flop_counter import FlopCounterMode

from cnnlib import models
from cnnlib.arch import macs_by_resolution, summary, tables
from cnnlib.arch import resolution as summary_resolution
from cnnlib.shapes import conv_output_size


def on_meta(builder, *args, **kwargs):
    with torch.device("meta"):
        return builder(*args, **kwargs)


def hwc(shape: tuple) -> tuple:
    """PyTorch's (C, H, W) as the lecture writes it, H x W x C; (features,) stays."""
    return (*shape[1:], shape[0]) if len(shape) == 3 else shape


def written(value: str) -> float:
    """'3.2M' -> 3.2e6, '800K' -> 8e5, '4096' -> 4096."""
    scale = {"K": 1e3, "M": 1e6}.get(value[-1], 1)
    return float(value.rstrip("KM")) * scale


def weights_only(module: nn.Module) -> int:
    return sum(p.numel() for name, p in module.named_parameters() if name.endswith("weight"))


def torch_flops(model: nn.Module, x: torch.Tensor) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(x)
    return counter.get_total_flops()


@pytest.fixture(scope="module")
def vgg16_table():
    return summary(on_meta(models.vgg16), (3, 224, 224), depth=1)


@pytest.fixture(scope="module")
def googlenet_model():
    return on_meta(models.googlenet)


# ---------------------------------------------------------------- AlexNet, the lecture's arithmetic

def test_alexnet_conv1_and_pool1_as_the_lecture_computes_them():
    s = summary(on_meta(models.alexnet), (3, 227, 227), depth=1)
    assert conv_output_size(227, 11, stride=4) == 55 and conv_output_size(55, 3, stride=2) == 27
    assert s["conv1"].output_shape == (96, 55, 55)
    assert s["conv1"].params == (11 * 11 * 3) * 96 + 96 == 34_944  # 34,848 weights ("35K") and 96 biases
    assert f"{34_848 / 1000:.0f}K" == tables.ALEXNET_LECTURE_CONV1_PARAMS
    assert s["pool1"].output_shape == (96, 27, 27) and s["pool1"].params == tables.ALEXNET_LECTURE_POOL1_PARAMS
    assert s["conv1"].macs == 55 * 55 * 96 * (11 * 11 * 3) == 105_415_200


def test_alexnet_every_output_size_of_the_lecture():
    s = summary(on_meta(models.alexnet), (3, 227, 227), depth=1)
    lecture = [(row.name, row.output_hwc) for row in tables.ALEXNET_LECTURE_TABLE[1:]]
    assert [(row.name, hwc(row.output_shape)) for row in s.rows] == lecture
    assert s.total_params == 62_378_344 and s.total_macs == 1_135_256_096


# ---------------------------------------------------------------- VGG16, the lecture's table

def test_vgg16_rows_match_the_lecture_memory_and_params(vgg16_table):
    s = vgg16_table
    for row in tables.VGG16_LECTURE_TABLE[1:]:
        ours = s[row.name]
        biases = ours.output_shape[0] if ours.params else 0
        assert hwc(ours.output_shape) in (row.output_hwc, row.output_hwc[2:]), row.name
        assert ours.params - biases == row.params, row.name  # the lecture leaves biases out
        # "3.2M" is 3,211,264 = 224*224*64: the lecture rounds to two figures (0.35% off)
        assert abs(ours.activations - written(row.memory)) <= 0.004 * ours.activations, row.name
    assert s.total_params == 138_357_544  # "138M"
    assert s.total_params - sum(row.params for row in tables.VGG16_LECTURE_TABLE) == 13_416  # the biases


def test_vgg16_activations_add_up_to_15_2M_not_the_widely_copied_24M(vgg16_table):
    s = vgg16_table
    with_input = 3 * 224 * 224 + s.total_activations
    assert s.total_activations == 15_087_080
    assert with_input == 15_237_608  # values per image, forward pass, the rows as the table lists them
    as_written = sum(written(row.memory) for row in tables.VGG16_LECTURE_TABLE)
    assert round(as_written / 1e6, 1) == 15.2  # the rows as printed agree with the code ...
    claimed = written(tables.VGG16_WIDELY_COPIED_TOTALS["memory"])
    assert claimed / with_input == pytest.approx(1.575, abs=0.001)  # ... the "24M" total does not
    assert round(4 * with_input / 1e6) == 61  # MB in float32, not "96MB"


# ---------------------------------------------------------------- GoogLeNet, Table 1

# Weights (no biases) per row: the paper's "params" column counts them in units of K = 1024.
GOOGLENET_WEIGHTS = {
    "conv1": 9_408, "conv2": 114_688, "inception3a": 163_328, "inception3b": 388_096,
    "inception4a": 375_552, "inception4b": 448_512, "inception4c": 509_440, "inception4d": 604_672,
    "inception4e": 867_328, "inception5a": 1_042_432, "inception5b": 1_442_816, "linear": 1_024_000,
}


def test_googlenet_output_sizes_follow_table1(googlenet_model):
    s = summary(googlenet_model, (3, 224, 224), depth=1)
    ours = {row.name: hwc(row.output_shape) for row in s.rows}
    ours["softmax"] = ours["linear"]
    for row in tables.GOOGLENET_TABLE1:
        assert ours[row.name] in (row.output_hwc, row.output_hwc[2:]), row.name
    assert s.total_params == 6_998_552 and s.total_macs == 1_582_671_872


def test_googlenet_table1_params_and_ops_row_by_row(googlenet_model):
    s = summary(googlenet_model, (3, 224, 224), depth=1)
    paper = {row.name: row for row in tables.GOOGLENET_TABLE1 if row.params_k is not None}
    weights = {name: weights_only(getattr(googlenet_model, name)) for name in paper}
    assert weights == GOOGLENET_WEIGHTS
    # Within the paper's rounding (one unit of its last digit): these rows agree ...
    params_agree = {n for n in paper if abs(weights[n] / 1024 - paper[n].params_k) <= 1}
    ops_agree = {n for n in paper if abs(s[n].macs / 1e6 - paper[n].ops_m) <= 1}
    assert params_agree == {"conv2", "inception3a", "inception3b", "inception4b", "linear"}
    assert ops_agree == set(paper) - {"conv1", "inception5a"}
    # ... and these do not: conv1 is 9.2K params and 118M ops, not 2.7K and 34M; 4c has 497.5K,
    # not 463K; 5a has 1018K and 51M, not 1072K and 54M (1072K x 49 positions is the 54M).
    assert round(weights["conv1"] / 1024, 1) == 9.2 and round(s["conv1"].macs / 1e6) == 118
    assert weights["inception4c"] / 1024 == 497.5
    assert weights["inception5a"] / 1024 == 1018 and round(s["inception5a"].macs / 1e6, 1) == 51.1
    # each row's ops are its weights times its output positions
    assert s["inception3a"].macs == GOOGLENET_WEIGHTS["inception3a"] * 28 * 28


def test_googlenet_against_alexnet_fewer_params_more_compute(googlenet_model):
    google = summary(googlenet_model, (3, 224, 224), depth=1)
    paper_alexnet = summary(on_meta(models.alexnet, two_towers=True), (3, 227, 227), depth=1)
    lecture_alexnet = summary(on_meta(models.alexnet), (3, 227, 227), depth=1)
    # "Only 5 million params": Table 1's own column adds up to 6.96M, the network to 7.0M
    column = sum(row.params_k for row in tables.GOOGLENET_TABLE1 if row.params_k) * 1024
    assert round(column / 1e6, 2) == 6.96 and round(google.total_params / 1e6, 1) == 7.0
    # "12X less params": 8.7x against the paper's two-tower AlexNet (60.97M), 8.9x against the single tower
    assert round(paper_alexnet.total_params / google.total_params, 1) == 8.7
    assert round(lecture_alexnet.total_params / google.total_params, 1) == 8.9
    # "2x more compute": 1.58G against 0.72G multiply-adds (2.2x); 1.4x against the single tower
    assert round(google.total_macs / paper_alexnet.total_macs, 1) == 2.2
    assert round(google.total_macs / lecture_alexnet.total_macs, 1) == 1.4


# ---------------------------------------------------------------- ResNet, Table 1

@pytest.mark.parametrize("depth", [18, 34, 50, 101, 152])
def test_resnet_multiply_adds_match_the_papers_flops(depth):
    s = summary(on_meta(getattr(models, f"resnet{depth}")), (3, 224, 224), depth=1)
    paper = tables.RESNET_TABLE1[depth].flops
    assert abs(s.total_macs - paper) < 0.1e9  # within one unit of the paper's last digit
    for name, size in tables.RESNET_TABLE1_OUTPUT_SIZE.items():
        assert s[name].output_shape[1:] in (size, ()), name


def test_resnet50_v1_costs_less_than_torchvisions_v1_5():
    ours = summary(on_meta(models.resnet50), (3, 224, 224)).total_macs
    theirs = torch_flops(on_meta(torchvision.models.resnet50, weights=None), torch.zeros(1, 3, 224, 224, device="meta"))
    assert round(ours / 1e9, 2) == 3.86 and round(theirs / 2e9, 2) == 4.09  # the paper: 3.8


# ---------------------------------------------------------------- cnnlib's count against PyTorch's

@pytest.mark.parametrize("builder, size", [
    (models.lenet5, (1, 32, 32)), (models.alexnet, (3, 227, 227)), (models.vgg19, (3, 224, 224)),
    (models.googlenet, (3, 224, 224)), (models.resnet152, (3, 224, 224)),
])
def test_multiply_adds_are_half_of_torchs_flop_count(builder, size):
    model = on_meta(builder)
    assert 2 * summary(model, size).total_macs == torch_flops(model, torch.zeros(1, *size, device="meta"))


def test_multiply_adds_of_grouped_1d_and_batched_linear_layers():
    model = nn.Sequential(nn.Conv2d(4, 6, 3, groups=2, padding=1), nn.Flatten(2), nn.Conv1d(6, 3, 5),
                          nn.Linear(60, 7))
    s = summary(model, (4, 8, 8))
    assert [row.macs for row in s.rows] == [64 * 6 * (2 * 9), 0, 60 * 3 * (6 * 5), 3 * 7 * 60]
    assert 2 * s.total_macs == torch_flops(model, torch.zeros(1, 4, 8, 8))


# ---------------------------------------------------------------- how summary works

def test_every_depth_accounts_for_all_parameters_and_multiply_adds():
    model = on_meta(models.resnet18)
    leaves = summary(model, (3, 224, 224))
    # conv1: conv, bn, relu; pool; 8 blocks of 6 layers; 3 shortcuts of 2; avgpool, flatten, linear
    assert len(leaves) == 3 + 1 + 8 * 6 + 3 * 2 + 3 == 61 and leaves[0].name == "conv1.conv"
    for depth in (None, 1, 2, 3, 9):
        s = summary(model, (3, 224, 224), depth=depth)
        assert sum(row.params for row in s.rows) == s.total_params == 11_689_512, depth
        assert sum(row.macs for row in s.rows) == s.total_macs == 1_814_073_344, depth
    assert [row.name for row in summary(model, (3, 224, 224), depth=2).rows][:4] == [
        "conv1.conv", "conv1.bn", "conv1.relu", "conv2_x.pool"]
    assert summary(model, (3, 224, 224), depth=9).rows == leaves.rows


def test_summary_on_a_real_model_leaves_it_unchanged_and_matches_meta():
    torch.manual_seed(0)
    model = models.resnet18(num_classes=10).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    real = summary(model, (3, 64, 64), depth=1)
    assert model.training and all(m.training for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN statistics too
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    assert real.rows == summary(on_meta(models.resnet18, num_classes=10), (3, 64, 64), depth=1).rows
    assert real["conv5_x"].output_shape == (512, 2, 2)


def test_a_module_called_twice_is_two_rows_with_its_parameters_once():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(5, 5)

        def forward(self, x):
            return self.linear(self.linear(x))

    s = summary(Twice(), (5,))
    assert [(row.name, row.params, row.macs) for row in s.rows] == [("linear", 30, 25), ("linear", 0, 25)]
    assert s.total_params == 30 and s.total_macs == 50
    single = summary(nn.Conv2d(3, 8, 3), (3, 10, 10))
    assert [(row.name, row.output_shape, row.params) for row in single.rows] == [("Conv2d", (8, 8, 8), 224)]


def test_text_and_html_renderings():
    s = summary(models.lenet5(), (1, 32, 32), title="LeNet-5")
    text = str(s)
    assert text.splitlines()[0] == "LeNet-5, input (1, 32, 32)"
    assert re.search(r"^0\s+Conv2d\s+\(6, 28, 28\)\s+156\s+4,704\s+117,600$", text, re.M)
    assert re.search(r"^total\s+61,706\s+14,722\s+416,520$", text, re.M)
    table = text.splitlines()[1:-1]
    assert len({len(line) for line in table}) == 1  # aligned columns
    assert text.splitlines()[-1].startswith("61.7K parameters, 416.5K multiply-adds and 14.7K activations")
    page = s._repr_html_()
    assert page.startswith("<table><caption>LeNet-5, input (1, 32, 32)</caption>")
    assert page.count("<tr>") == len(s) + 2 and "<td>Conv2d</td>" in page
    assert repr(s) == text


def test_bad_arguments_are_named():
    model = models.lenet5()
    with pytest.raises(ValueError, match=r"input_size must be the shape of one example .* got 32"):
        summary(model, 32)
    with pytest.raises(ValueError, match="depth must be positive, got 0"):
        summary(model, (1, 32, 32), depth=0)
    with pytest.raises(ValueError, match="model must be a torch.nn.Module, got function"):
        summary(models.lenet5, (1, 32, 32))
    with pytest.raises(KeyError, match=r"no row named 'conv9'; the rows are \['0', '1'"):
        summary(model, (1, 32, 32))["conv9"]


def test_resolution_names_the_output_side_and_flat_rows():
    vgg = summary(on_meta(models.vgg19), (3, 224, 224), depth=1)
    assert [summary_resolution(vgg[name]) for name in ("conv1_2", "pool1", "conv5_4", "fc6")] == \
        ["224×224", "112×112", "14×14", "flat"]
    assert summary_resolution(summary(nn.Conv2d(3, 4, 3), (3, 10, 7))[0]) == "8×5"  # height × width, not square


def test_macs_by_resolution_adds_up_to_the_total_in_order():
    for builder in (models.vgg19, models.resnet152):
        table = summary(on_meta(builder), (3, 224, 224))
        by_side = macs_by_resolution(table)
        assert sum(by_side.values()) == table.total_macs
    vgg = macs_by_resolution(summary(on_meta(models.vgg19), (3, 224, 224)))
    assert list(vgg) == ["224×224", "112×112", "56×56", "28×28", "14×14", "7×7", "flat"]
    per_map = 3 * 3 * 64 * 64  # conv1_2's filter size times filters, per output pixel
    assert vgg["224×224"] == 224 * 224 * (3 * 3 * 3 * 64 + per_map) and vgg["7×7"] == 0  # pool5 alone
    resnet = macs_by_resolution(summary(on_meta(models.resnet152), (3, 224, 224)))
    assert "224×224" not in resnet and resnet["112×112"] == 112 * 112 * 64 * 7 * 7 * 3  # the stem only
