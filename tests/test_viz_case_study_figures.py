"""cnnlib.viz.case_study_figures: each figure draws what its numbers say."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib import models  # noqa: E402
from cnnlib.arch import summary  # noqa: E402
from cnnlib.viz import case_study_figures as figs  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def heights(ax):
    return [round(p.get_height()) for p in ax.patches]


def test_layer_profile_bars_are_the_rows():
    s = summary(models.lenet5(), (1, 32, 32), depth=None)
    fig = figs.plot_layer_profile(s)
    top, bottom = fig.axes
    assert heights(top) == [row.activations for row in s.rows]
    assert heights(bottom) == [row.params for row in s.rows]
    assert [t.get_text() for t in bottom.get_xticklabels()] == [row.name for row in s.rows]
    assert top.get_title() == "Sequential: 14.7K activations, 61.7K parameters"


def test_inception_macs_stacks_the_branches():
    fig = figs.plot_inception_macs({"naive": {"1x1": 10, "3x3": 30}, "reduced": {"1x1": 10, "3x3 reduce": 2, "3x3": 8}})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["1x1", "3x3", "3x3 reduce"]
    widths = [round(p.get_width()) for p in ax.patches]
    assert widths == [10, 10, 30, 8, 0, 2]  # by branch, then by design
    assert [t.get_text().strip() for t in ax.texts] == ["40", "20"]
    hatches = [p.get_hatch() for p in ax.patches]
    assert hatches[0] == hatches[1] and len({hatches[0], hatches[2], hatches[4]}) == 3  # a hatch per branch, not colour alone


def test_depth_history_skips_what_is_unknown():
    fig = figs.plot_depth_history()
    left, right = fig.axes
    assert [round(p.get_width()) for p in left.patches] == [5, 8, 19, 22, 152]     # bars on their side
    assert [p.get_width() for p in right.patches] == [16.4, 11.2, 7.3, 6.7, 3.6]
    assert len(left.get_yticklabels()) == len(figs.ILSVRC_HISTORY) == 6
    top = max(left.get_yticklabels(), key=lambda label: label.get_position()[1])
    assert top.get_text() == "LeNet-5\n(1998)"                                  # the first network on top
    notes = [t.get_text() for t in right.texts]
    assert notes[0] == "16.4  (5 nets, 10 crops)" and "144 crops" in notes[3] and len(notes) == 5
    assert [p.get_hatch() for p in right.patches] == [None, "//", None, None, None]  # outside data, hatched


def test_compute_vs_depth_marks_each_network():
    fig = figs.plot_compute_vs_depth({"VGG-19": (19, 19.6e9), "ResNet-18": (18, 1.8e9), "ResNet-152": (152, 11.3e9)},
                                     paper={"ResNet-152": (152, 11.3e9)})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["VGG-19", "ResNet-18", "ResNet-152", "the paper's figure"]
    assert len(ax.collections) == 4 and ax.get_xscale() == ax.get_yscale() == "log"
    paths = [c.get_paths()[0].vertices.round(3).tobytes() for c in ax.collections[:3]]
    assert len(set(paths)) == 3  # a marker per network, not colour alone
    assert ax.yaxis.get_major_formatter()(2e10, 0) == "20G"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["18", "152"]  # 19 would touch 18


def test_gradient_norms_on_a_log_scale():
    fig = figs.plot_gradient_norms({"plain": np.array([1e-6, 1e-3, 1.0]), "residual": np.ones(3)})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and [line.get_label() for line in ax.get_lines()] == ["plain", "residual"]
    assert list(ax.get_lines()[0].get_ydata()) == [1e-6, 1e-3, 1.0]
    first, second = ax.get_lines()
    assert (first.get_linestyle(), first.get_marker()) != (second.get_linestyle(), second.get_marker())


def test_train_curves_smooth_average_and_label_each_network():
    curves = {"plain": [np.arange(20.0), np.arange(20.0) + 2], "residual": [np.zeros(20), np.ones(20)]}
    fig = figs.plot_train_curves(curves, smooth=5)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 6 and list(lines[0].get_xdata()) == list(range(5, 21))
    assert lines[0].get_ydata()[0] == 2.0 and lines[2].get_ydata()[0] == 3.0  # running mean; mean of the seeds
    assert lines[2].get_linestyle() != lines[5].get_linestyle()  # not colour alone
    assert sorted(t.get_text() for t in ax.texts) == ["plain", "residual"]  # named at the end of its line
    close = figs.plot_train_curves({"a": [np.ones(20)], "b": [np.ones(20) * 1.001]}, smooth=5).axes[0]
    (_, ya), (_, yb) = (t.get_position() for t in close.texts)
    assert abs(yb - ya) >= 0.04 * np.ptp(close.get_ylim())  # ends that meet: the names do not overlap
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plain (mean of 2 seeds)", "residual (mean of 2 seeds)"]


def test_row_times_stacks_rows_and_writes_totals():
    fig = figs.plot_row_times({"A": {"r1": 0.2, "r2": 0.3, "r3": 0.01}, "B": {"s1": 0.1}}, macs={"A": 2e9, "B": 1e9})
    ax = fig.axes[0]
    assert [round(p.get_width()) for p in ax.patches] == [200, 300, 10, 100]  # milliseconds
    texts = [" ".join(t.get_text().split()) for t in ax.texts]
    assert texts == ["r1", "r2", "510 ms 2.0G multiply-adds", "s1", "100 ms 1.0G multiply-adds"]  # r3 too thin


def test_layer_profile_of_a_meta_model():
    with torch.device("meta"):
        model = models.vgg16()
    fig = figs.plot_layer_profile(summary(model, (3, 224, 224), depth=1), title="VGG16")
    assert fig.axes[0].get_title() == "VGG16" and len(fig.axes[1].patches) == 21


def test_row_times_groups_share_a_colour_and_hatch_and_no_two_groups_do():
    times = {"A": {f"r{k}": 0.01 * (k + 1) for k in range(12)}, "B": {"s1": 0.1, "s2": 0.05}}
    groups = {"A": {f"r{k}": f"g{k // 3}" for k in range(12)}, "B": {"s1": "g0", "s2": "g4"}}
    ax = figs.plot_row_times(times, groups=groups).axes[0]
    looks = [(tuple(p.get_facecolor()), p.get_hatch()) for p in ax.patches]
    by_group = {}
    for look, row in zip(looks, [groups["A"][r] for r in times["A"]] + [groups["B"][r] for r in times["B"]]):
        by_group.setdefault(row, set()).add(look)
    assert all(len(v) == 1 for v in by_group.values())             # one look per group, across both bars
    assert len({v.pop() for v in by_group.values()}) == 5           # five groups, five looks
    assert len({hatch for _, hatch in looks}) == 5                  # told apart without colour too
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["g0", "g1", "g2", "g3", "g4"]


def test_row_times_refuses_more_groups_than_it_can_tell_apart():
    times = {"A": {f"r{k}": 0.01 for k in range(9)}}
    with pytest.raises(ValueError, match="groups: at most 8"):
        figs.plot_row_times(times)
