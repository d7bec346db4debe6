"""Figure text reads from the back of a lecture hall (issue 27): at least 14 pt on a 1280x720 slide.

`cnnlib.projector.small_text` works out how large each text of a figure shows once the deck has scaled the
figure to the slide, and the figure functions of `cnnlib.viz` and `cnnlib.plots` are held to it."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib import models  # noqa: E402
from cnnlib.arch import summary  # noqa: E402
from cnnlib.numpy_nn import ELU, LeakyReLU, ReLU, Sigmoid  # noqa: E402
from cnnlib.plots import show_images, show_kernels, show_signed_maps  # noqa: E402
from cnnlib.projector import CSS_PX_PER_PT, MIN_PT, png_size, slide_px_per_pt, small_text  # noqa: E402
from cnnlib.viz import case_study_figures as figs  # noqa: E402
from cnnlib.viz.activations import plot_activations, plot_unit_activity  # noqa: E402
from cnnlib.viz.convolution import plot_filter_positions, plot_kernel, show_named_images  # noqa: E402
from cnnlib.viz.losses import plot_hinge  # noqa: E402
from cnnlib.viz.optimizers import plot_chain, plot_gradient_noise  # noqa: E402
from cnnlib.viz.pooling import plot_grids, plot_pooling  # noqa: E402
from cnnlib.viz.saliency import plot_feature_maps, plot_filters, plot_saliency  # noqa: E402
from test_figure_colour import FIGURES as COLOUR_FIGURES  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- the measure


def test_a_narrow_figure_shows_at_its_own_size_and_a_wide_one_is_scaled_to_the_slide():
    narrow, _ = plt.subplots(figsize=(4, 2))
    assert slide_px_per_pt(narrow, dpi=150) == pytest.approx(150 / 72)          # 600 px wide: not scaled
    wide, _ = plt.subplots(figsize=(20, 2))
    width, _ = png_size(wide, dpi=150)
    assert slide_px_per_pt(wide, dpi=150) == pytest.approx(150 / 72 * 1262 / width)


def test_small_text_flags_an_8_pt_label_and_passes_a_large_one():
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.set_title("tiny", fontsize=8)              # 8 pt at 150 dpi, unscaled: 16.7 px < 18.7 px
    ax.set_xlabel("large", fontsize=16)
    ax.tick_params(labelsize=16)
    ax.set_yticks([])
    found = small_text(fig, dpi=150)
    assert len(found) == 1 and "'tiny': 8 pt shows at 16.7 px" in found[0]


def test_the_same_font_fails_once_the_figure_is_too_wide_for_the_slide():
    def figure(width):
        fig, ax = plt.subplots(figsize=(width, 3))
        ax.set_title("title", fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    assert small_text(figure(6), dpi=150) == []    # 12 pt * 150/72 = 25 px
    assert small_text(figure(16), dpi=150) != []   # scaled to 1262 px of ~2400: 13 px
    assert MIN_PT * CSS_PX_PER_PT == pytest.approx(18.67, abs=0.01)


# ---------------------------------------------------------------- every figure function


def _summary():
    return summary(models.lenet5(), (1, 32, 32), depth=None)


def _lenet():
    torch.manual_seed(0)
    return models.lenet5().double()


rng = np.random.default_rng(0)
SLICE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])
FIGURES = {
    **COLOUR_FIGURES,
    "activations": lambda: plot_activations({"ReLU": ReLU(), "ELU": ELU(), "Sigmoid": Sigmoid(),
                                             "Leaky": LeakyReLU()}, np.linspace(-4, 4, 81)),
    "unit activity": lambda: plot_unit_activity({"as initialised": rng.normal(size=(64, 32)),
                                                 "every bias lowered by 1.5": rng.normal(size=(64, 32)) - 1.5}),
    "filter positions": lambda: plot_filter_positions(7, 3, 2, 1),
    "kernel": lambda: plot_kernel(np.array([[-1.0, 0.0, 1.0]] * 3), title="Sobel x"),
    "named images": lambda: show_named_images({"photo": rng.random((16, 16)), "edges": rng.normal(size=(16, 16)),
                                               "blur": rng.random((16, 16))}),
    "hinge": lambda: plot_hinge(np.linspace(-2, 3, 51), np.maximum(0, 1 - np.linspace(-2, 3, 51)),
                                zero_one=(np.linspace(-2, 3, 51) < 0).astype(float),
                                examples=([-1.0, 0.5], [2.0, 0.5])),
    "chain": lambda: plot_chain(["x", "h", "L"], ["dL/dx", "dL/dh"], below={1: "dL/dW"}, title="graph"),
    "gradient noise": lambda: plot_gradient_noise([1, 10, 100], [2.0, 0.6, 0.2], [2.1, 0.66, 0.21]),
    "pooling": lambda: plot_pooling(SLICE, np.array([[6, 8], [3, 4]]), 2, 2),
    "grids": lambda: plot_grids({"a": np.zeros((4, 4)), "b": np.full((2, 2), 4.0)}, suptitle="maps"),
    "filters": lambda: plot_filters(_lenet()[0].weight.detach()),
    "feature maps": lambda: plot_feature_maps(_lenet()[:2](torch.randn(1, 1, 32, 32, dtype=torch.float64)).detach()),
    "saliency": lambda: plot_saliency(torch.zeros(1, 32, 32), torch.rand(32, 32)),
    "layer profile": lambda: figs.plot_layer_profile(_summary(), title="LeNet-5"),
    "depth history": figs.plot_depth_history,
    "train curves": lambda: figs.plot_train_curves({"plain": [np.linspace(2, 1, 40)],
                                                    "residual": [np.linspace(2, 0.5, 40)]}, smooth=5),
    "row times": lambda: figs.plot_row_times({"A": {"r1": 0.2, "r2": 0.3, "r3": 0.01}, "B": {"s1": 0.1}},
                                             macs={"A": 2e9, "B": 1e9}),
    "show images": lambda: show_images(rng.random((10, 8, 8)), titles=list(range(10)), ncols=5),
    "show kernels": lambda: show_kernels(rng.normal(size=(6, 1, 5, 5)), ncols=6),
    "signed maps": lambda: show_signed_maps({"g": rng.normal(size=(8, 8)), "h": rng.normal(size=(8, 8))}, title="t"),
}


@pytest.mark.parametrize("name", FIGURES)
def test_every_text_of_the_figure_is_at_least_14_pt_on_a_1280x720_slide(name):
    assert small_text(FIGURES[name]()) == []
