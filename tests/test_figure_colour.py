"""Colour is never the only difference between series (issue 27): the project palette, the checker
`cnnlib.plots.colour_only_series`, and the figures that used to separate their series by colour alone."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.plots import (OKABE_ITO, colour_only_series, compare_histories, compare_seeds,  # noqa: E402
                          plot_history, series_style)
from cnnlib.surfaces import optimizer_path, ravine  # noqa: E402
from cnnlib.train import History  # noqa: E402
from cnnlib.viz import case_study_figures as figs  # noqa: E402
from cnnlib.viz.activations import plot_gradient_by_depth  # noqa: E402
from cnnlib.viz.losses import plot_fits, plot_loss_and_gradient  # noqa: E402
from cnnlib.viz.optimizers import plot_curves, plot_descent_1d, plot_paths  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_the_default_colour_cycle_is_okabe_ito():
    cycle = [c.lower() for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [c.lower() for c in OKABE_ITO]


def test_series_style_never_repeats_a_look_within_32_series():
    looks = {(s["linestyle"], s["marker"]) for s in map(series_style, range(32))}
    assert len(looks) == 32


# ---------------------------------------------------------------- the checker


def test_checker_flags_lines_that_differ_by_colour_alone():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], "-", color="red", label="L2")
    ax.plot([0, 1], [1, 0], "-", color="green", label="smooth L1")
    ax.axhline(0, color="grey")                        # unlabelled helper lines are not series
    found = colour_only_series(fig)
    assert len(found) == 1 and "['L2', 'smooth L1']" in found[0]


@pytest.mark.parametrize("second", [dict(linestyle="--"), dict(marker="s")])
def test_checker_passes_lines_with_another_style_or_marker(second):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], color="red", label="a")
    ax.plot([0, 1], [1, 0], color="green", label="b", **second)
    assert colour_only_series(fig) == []


def test_checker_passes_a_direct_label():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], color="red", label="a")
    ax.plot([0, 1], [1, 0], color="green", label="b")
    ax.text(1, 0, "b")
    assert colour_only_series(fig) == []


def test_checker_flags_bars_and_points_with_one_hatch_or_marker():
    fig, (left, right) = plt.subplots(1, 2)
    left.barh(["x"], [1], color="C0", label="1x1")
    left.barh(["x"], [2], left=[1], color="C1", label="3x3")
    right.scatter([1], [1], color="C0", label="VGG")
    right.scatter([2], [2], color="C1", label="ResNet")
    assert len(colour_only_series(fig)) == 2
    fig, (left, right) = plt.subplots(1, 2)
    left.barh(["x"], [1], color="C0", label="1x1")
    left.barh(["x"], [2], left=[1], color="C1", hatch="//", label="3x3")
    right.scatter([1], [1], color="C0", label="VGG")
    right.scatter([2], [2], color="C1", marker="s", label="ResNet")
    assert colour_only_series(fig) == []


# ---------------------------------------------------------------- the figures


def history(offset=0.0):
    return History(train_loss=[2.0 + offset, 1.0 + offset, 0.5], train_acc=[0.3, 0.6, 0.9],
                   test_loss=[2.1, 1.2 + offset, 0.7], test_acc=[0.3, 0.5, 0.8])


x = np.linspace(-3, 3, 61)
FIGURES = {
    "04 regression losses": lambda: plot_loss_and_gradient(
        x, {"L1": (np.abs(x), np.sign(x)), "L2": (x ** 2, 2 * x),
            "smooth L1": (np.where(abs(x) < 1, x ** 2 / 2, abs(x) - 0.5), np.clip(x, -1, 1))}),
    "04 fits": lambda: plot_fits(np.arange(5.0), np.arange(5.0), {"L1": (0.0, 1.0), "L2": (0.1, 1.0),
                                                                "smooth L1": (0.05, 1.0)}, outliers=[4]),
    "06 ravine": lambda: plot_paths(ravine, {name: optimizer_path(name, steps=20) for name in ("sgd", "momentum",
                                                                                                "adam")}),
    "06 curves": lambda: plot_curves(np.arange(5), {"B = 1": np.ones(5), "B = 32": np.ones(5) / 2}, "epoch", "loss"),
    "06 descent": lambda: plot_descent_1d(x, x ** 2, {"lr 0.1": np.array([2.0, 1.6]), "lr 0.9": np.array([2.0, -1.6])},
                                          lambda w: w ** 2),
    "09 inception bars": lambda: figs.plot_inception_macs({"naive": {"1x1": 10, "3x3": 30, "5x5": 20},
                                                           "reduced": {"1x1": 10, "3x3 reduce": 2, "3x3": 8}}),
    "09 compute vs depth": lambda: figs.plot_compute_vs_depth({"VGG-19": (19, 19.6e9), "ResNet-152": (152, 11.3e9)}),
    "09 gradient norms": lambda: figs.plot_gradient_norms({"plain": np.array([1e-6, 1e-3, 1.0]),
                                                          "residual": np.ones(3)}),
    "01 gradient by depth": lambda: plot_gradient_by_depth({"sigmoid": [0.25, 0.06], "tanh": [1.0, 0.9],
                                                            "ReLU": [1.0, 1.0]}),
    "plot_history": lambda: plot_history(history()),
    "compare_histories": lambda: compare_histories({"SGD": history(), "Adam": history(-0.25), "RMSprop": history(0.1)}),
    "compare_seeds": lambda: compare_seeds({"SGD": np.ones((3, 4)), "Adam": np.zeros((3, 4))}),
}


@pytest.mark.parametrize("name", FIGURES)
def test_no_figure_separates_its_series_by_colour_alone(name):
    assert colour_only_series(FIGURES[name]()) == []
