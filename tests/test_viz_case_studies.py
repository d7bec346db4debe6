"""cnnlib.viz.case_studies: rounding rules, the paper-vs-code tables, layer depth, timing."""
import re

import numpy as np
import pytest
import torch
import torch.nn as nn

from cnnlib import models
from cnnlib.arch import summary
from cnnlib.viz import case_studies as cs


def on_meta(builder, **kwargs):
    with torch.device("meta"):
        return builder(**kwargs)


# ---------------------------------------------------------------- rounding rules

def test_parse_count():
    assert cs.parse_count("3.2M") == 3.2e6 and cs.parse_count("800K") == 8e5
    assert cs.parse_count("4096") == 4096 and cs.parse_count(159) == 159 and cs.parse_count("1.8G") == 1.8e9
    assert cs.parse_count("1,072K") == 1_072_000
    with pytest.raises(ValueError, match="written must be a number as a table prints it.*got 'lots'"):
        cs.parse_count("lots")


def test_same_when_rounded_uses_the_written_significant_figures():
    assert cs.same_when_rounded(224 * 224 * 64, "3.2M")        # 3,211,264
    assert cs.same_when_rounded(802_816, "800K")               # one figure
    assert cs.same_when_rounded(150_528, "150K") and cs.same_when_rounded(25_088, "25K")
    assert cs.same_when_rounded(4096, "4096") and not cs.same_when_rounded(4097, "4096")
    assert not cs.same_when_rounded(3_260_000, "3.2M")         # rounds to 3.3M
    assert not cs.same_when_rounded(15_237_608, "24M")
    assert cs.same_when_rounded(0, 0) and not cs.same_when_rounded(1, 0)


def test_within_last_digit():
    assert cs.within_last_digit(159.5, 159) and cs.within_last_digit(379.0, 380)
    assert not cs.within_last_digit(366.75, 364)
    assert cs.within_last_digit(3.858, 3.8) and cs.within_last_digit(11.28, 11.3)
    assert not cs.within_last_digit(9.19, 2.7)
    assert cs.within_last_digit(3.86e9, "3.8G") and not cs.within_last_digit(3.91e9, "3.8G")


# ---------------------------------------------------------------- the table

def small_table():
    rows = [("conv1", ["convolution", cs.Cell((55, 55, 96), (55, 55, 96), True), cs.Cell("35K", 34_848, True)]),
            ("pool1", ["max pool", cs.Cell((27, 27, 96), (27, 27, 96), True), cs.Cell(None, 0)]),
            ("fc", ["linear", cs.Cell(5, 7.25, False), cs.Cell(1.5, 1.0, False)])]
    return cs.Comparison("toy", ["type", "output", "params"], rows, note="a note")


def test_comparison_text():
    t = small_table()
    lines = str(t).splitlines()
    assert lines[0] == "toy" and lines[-1] == "a note"
    assert lines[2].split() == ["type", "output", "(paper)", "output", "(code)", "params", "(paper)", "params", "(code)"]
    assert re.search(r"^conv1\s+convolution\s+55×55×96\s+55×55×96\s+35K\s+34,848$", str(t), re.M)
    assert re.search(r"^fc\s+linear\s+5\s+7.25 ✗\s+1.5\s+1 ✗$", str(t), re.M)
    assert lines[-2] == "disagree in 1 of 3 rows: fc (output, params)"
    assert repr(t) == str(t)


def test_comparison_html_and_disagreements():
    t = small_table()
    page = t._repr_html_()
    assert page.startswith("<table><caption>toy</caption>")
    assert page.count("<tr>") == 4 and page.count("#fbdcdc") == 2 and page.count("#e3f4e3") == 3
    assert "55×55×96" in page and "disagree in 1 of 3 rows" in page
    assert t.disagreements == [("fc", "output"), ("fc", "params")]
    agreeing = cs.Comparison("ok", ["x"], [("a", [cs.Cell(1, 1, True)])])
    assert agreeing.disagreements == [] and "agree everywhere" in str(agreeing)
    with pytest.raises(ValueError, match="row 'a' has 2 cells but there are 1 columns"):
        cs.Comparison("bad", ["x"], [("a", [1, 2])])


def test_hwc_and_weights_only():
    assert cs.hwc((96, 55, 55)) == (55, 55, 96) and cs.hwc((4096,)) == (4096,)
    assert cs.weights_only(nn.Conv2d(3, 96, 11)) == 34_848
    assert cs.weights_only(nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))) == 216 + 8


# ---------------------------------------------------------------- the case studies

def test_alexnet_and_vgg16_tables_agree_with_the_lecture():
    alex = cs.compare_alexnet(summary(on_meta(models.alexnet), (3, 227, 227), depth=1))
    assert alex.disagreements == [] and len(alex.rows) == 13
    assert alex.rows[0][0] == "CONV1" and alex.rows[0][1][1:] == [34_944, 105_415_200]
    vgg = cs.compare_vgg16(summary(on_meta(models.vgg16), (3, 224, 224), depth=1))
    assert vgg.disagreements == [] and len(vgg.rows) == 22
    label, (size, memory, params) = vgg.rows[1]
    assert label == "conv1_1 CONV3-64" and (memory.paper, memory.code) == ("3.2M", 3_211_264)
    assert (params.paper, params.code) == (1728, 1728)


def test_lecture_tables_are_labelled_lecture_and_the_papers_paper():
    alex = cs.compare_alexnet(summary(on_meta(models.alexnet), (3, 227, 227), depth=1))
    vgg = cs.compare_vgg16(summary(on_meta(models.vgg16), (3, 224, 224), depth=1))
    for table in (alex, vgg):   # their first numbers are the lecture's, not the papers'
        header = str(table).splitlines()[2]
        assert "(lecture)" in header and "(paper)" not in header and "(paper)" not in table._repr_html_()
        assert str(table).splitlines()[-2 if table.note else -1] == "lecture and code agree everywhere they can be compared."
    model = on_meta(models.googlenet)
    google = cs.compare_googlenet(model, summary(model, (3, 224, 224), depth=1))
    assert "params (K) (paper)" in str(google) and "(lecture)" not in str(google)


def test_googlenet_table_finds_the_three_bad_rows():
    model = on_meta(models.googlenet)
    t = cs.compare_googlenet(model, summary(model, (3, 224, 224), depth=1))
    assert t.disagreements == [("conv1", "params (K)"), ("conv1", "ops (M)"), ("inception4c", "params (K)"),
                               ("inception5a", "params (K)"), ("inception5a", "ops (M)")]
    cells = dict(t.rows)
    assert cells["conv1"][2] == cs.Cell(2.7, 9.2, False) and cells["inception4c"][2].code == 497.5
    assert cells["linear"][3] == cs.Cell(1, 1.0, True)  # 1.02M ops, printed "1M"
    assert len(t.rows) == 18  # Table 1 without the softmax row


def test_resnet_table_agrees_within_the_last_digit():
    t = cs.compare_resnets({d: summary(on_meta(models.resnet, depth=d), (3, 224, 224)) for d in (18, 50, 152)})
    assert t.disagreements == []
    assert [(label, cells[1].paper, cells[1].code) for label, cells in t.rows] == [
        ("ResNet-18", 1.8, 1.81), ("ResNet-50", 3.8, 3.86), ("ResNet-152", 11.3, 11.28)]


@pytest.mark.parametrize("builder, depth, count", [
    (models.lenet5, 5, 5), (models.alexnet, 8, 8), (models.vgg16, 16, 16), (models.vgg19, 19, 19),
    (models.googlenet, 22, 58), (models.resnet18, 18, 21), (models.resnet34, 34, 37),
    (models.resnet50, 50, 54), (models.resnet152, 152, 156),
])
def test_weight_layer_depth_is_the_depth_the_papers_quote(builder, depth, count):
    model = on_meta(builder)
    assert cs.weight_layer_depth(model) == depth and cs.count_weight_layers(model) == count


def test_weight_layer_depth_counts_parallel_branches_once():
    class TwoBranches(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4)

        def forward(self, x):
            return self.a(x) + self.c(self.b(x))  # depths 1 and 2, side by side

    assert cs.weight_layer_depth(TwoBranches()) == 2 and cs.count_weight_layers(TwoBranches()) == 3
    assert cs.weight_layer_depth(nn.Sequential(nn.ReLU())) == 0


# ---------------------------------------------------------------- timing

def test_time_by_rows_times_each_row_and_leaves_a_meta_model_on_meta():
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    model.train()
    seconds = cs.time_by_rows(model, (3, 8, 8), repeats=2, warmup=0)
    assert list(seconds) == ["0", "1", "2", "3", "4"] and all(s > 0 for s in seconds.values())
    assert all(p.is_meta for p in model.parameters()) and model.training
    real = nn.Sequential(nn.Linear(5, 3))
    before = real[0].weight.clone()
    assert list(cs.time_by_rows(real, (5,), repeats=1)) == ["0"]
    assert torch.equal(real[0].weight, before) and not real[0].weight.is_meta  # a real model keeps its weights
    assert cs.time_forward(real, (5,), repeats=2) > 0


def test_time_by_rows_splits_a_row_over_max_bytes_down_to_slices_of_a_linear_layer(monkeypatch):
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.Flatten(), nn.Linear(2 * 4 * 4, 40), nn.ReLU()))
    shapes = []
    real_best_time = cs._best_time

    def spy(run, repeats, warmup):
        seconds, out = real_best_time(run, repeats, warmup)
        shapes.append(tuple(out.shape))
        return seconds, out

    monkeypatch.setattr(cs, "_best_time", spy)
    max_bytes = 4 * 32 * 16  # 16 output units of 32 float32 inputs
    seconds = cs.time_by_rows(model, (1, 6, 6), repeats=1, warmup=0, max_bytes=max_bytes)
    assert list(seconds) == ["0", "1"] and seconds["1"] > 0
    # the conv whole; row "1" layer by layer, its linear layer (40 units) in slices of 16
    assert shapes == [(1, 2, 4, 4), (1, 32), (1, 16), (1, 16), (1, 8), (1, 40)]
    assert all(p.is_meta for p in model.parameters())


def test_timing_arguments_are_checked():
    with pytest.raises(ValueError, match="model must be an nn.Sequential whose children are the rows, got Linear"):
        cs.time_by_rows(nn.Linear(2, 2), (2,))
    with pytest.raises(ValueError, match="repeats must be"):
        cs.time_forward(nn.Linear(2, 2), (2,), repeats=0)
