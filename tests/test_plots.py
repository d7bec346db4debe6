"""cnnlib.plots: each function returns a Figure whose axes hold exactly the data it was given."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.plots import compare_histories, compare_seeds, plot_history, show_images, show_kernels  # noqa: E402
from cnnlib.plots import show_signed_maps  # noqa: E402
from cnnlib.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def history(offset=0.0):
    return History(train_loss=[2.0 + offset, 1.0 + offset, 0.5 + offset], train_acc=[0.3, 0.6, 0.9],
                   test_loss=[2.1, 1.2, 0.7], test_acc=[0.25, 0.55, 0.8])


def lines(ax):
    return {line.get_label(): (line.get_xdata().tolist(), line.get_ydata().tolist()) for line in ax.get_lines()}


def test_plot_history_draws_train_and_test_curves():
    fig = plot_history(history(), title="LeNet-5")
    loss_ax, acc_ax = fig.axes
    assert lines(loss_ax) == {"train loss": ([1, 2, 3], [2.0, 1.0, 0.5]), "test loss": ([1, 2, 3], [2.1, 1.2, 0.7])}
    assert lines(acc_ax)["test accuracy"] == ([1, 2, 3], [0.25, 0.55, 0.8])
    assert loss_ax.get_xlabel() == "epoch" and acc_ax.get_ylabel() == "accuracy"
    assert fig._suptitle.get_text() == "LeNet-5"


def test_history_plots_tick_whole_epochs():
    long = History(train_loss=list(np.linspace(2, 0.1, 20)), train_acc=list(np.linspace(0.1, 0.99, 20)))
    for fig in (plot_history(long), compare_histories({"a": long, "b": long})):
        fig.canvas.draw()
        for ax in fig.axes:
            ticks = [t for t in ax.get_xticks() if 1 <= t <= 20]
            assert len(ticks) >= 3 and all(float(t).is_integer() for t in ticks), ticks


def test_plot_history_without_test_data():
    fig = plot_history(History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.8]))
    assert list(lines(fig.axes[0])) == ["train loss"]


def test_compare_histories_one_line_per_run():
    fig = compare_histories({"SGD": history(), "Adam": history(offset=-0.25)})
    loss_ax, acc_ax = fig.axes
    assert lines(loss_ax) == {"SGD": ([1, 2, 3], [2.0, 1.0, 0.5]), "Adam": ([1, 2, 3], [1.75, 0.75, 0.25])}
    assert loss_ax.get_title() == "train loss" and acc_ax.get_title() == "train accuracy"
    test_fig = compare_histories({"SGD": history()}, split="test")
    assert lines(test_fig.axes[1]) == {"SGD": ([1, 2, 3], [0.25, 0.55, 0.8])}


def test_compare_histories_bad_arguments():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        compare_histories({"SGD": history()}, split="val")
    with pytest.raises(ValueError, match="histories must be a non-empty dict"):
        compare_histories([history()])


def test_show_images_grid_layouts_and_titles():
    x = np.random.default_rng(0).random((10, 1, 8, 8))  # NCHW, as load_digits returns
    fig = show_images(x, titles=list(range(10)), ncols=4)
    assert len(fig.axes) == 12  # 3 rows of 4; the last two empty
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 10 and shown[3].get_title() == "3"
    np.testing.assert_array_equal(shown[3].images[0].get_array(), x[3, 0])
    assert shown[0].images[0].get_clim() == (0, 1)  # values in [0, 1] are shown on that scale
    colour = show_images(np.random.default_rng(1).random((2, 3, 5, 6)))  # (N, 3, H, W) -> drawn as (H, W, 3)
    assert colour.axes[0].images[0].get_array().shape == (5, 6, 3)
    assert len(show_images(np.zeros((3, 7, 7, 3))).axes) == 3


def test_show_images_bad_arguments():
    with pytest.raises(ValueError, match=r"images must have shape \(N, H, W\)"):
        show_images(np.zeros((8, 8)))
    with pytest.raises(ValueError, match="titles must have one entry per image"):
        show_images(np.zeros((3, 8, 8)), titles=["a"])
    with pytest.raises(ValueError, match="images is empty"):
        show_images(np.zeros((0, 8, 8)))


def test_show_kernels_one_panel_per_filter():
    weight = np.arange(6 * 2 * 3 * 3, dtype=float).reshape(6, 2, 3, 3) - 50
    fig = show_kernels(weight, channel=1, ncols=4)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 8 and len(panels) == 6
    np.testing.assert_array_equal(panels[5].images[0].get_array(), weight[5, 1])
    assert len(panels[0].texts) == 0  # a grid shows no numbers
    with pytest.raises(ValueError, match=r"channel must be in \[0, 1\]"):
        show_kernels(weight, channel=2)
    with pytest.raises(ValueError, match=r"weight must have shape \(C_out, C_in, kH, kW\)"):
        show_kernels(weight[0])


def test_compare_seeds_mean_band_and_integer_epochs():
    runs = {"SGD": np.array([[0.5, 0.7, 0.8], [0.6, 0.8, 0.9]]), "Adam": np.array([[0.7, 0.8, 0.9], [0.7, 0.9, 0.9]])}
    fig = compare_seeds(runs, title="t")
    ax = fig.axes[0]
    means = [line for line in ax.get_lines() if line.get_label() in runs]
    assert len(means) == 2
    np.testing.assert_allclose(means[0].get_ydata(), [0.55, 0.75, 0.85])
    np.testing.assert_array_equal(means[0].get_xdata(), [1, 2, 3])
    assert all(float(t).is_integer() for t in ax.get_xticks())
    assert len(ax.collections) == 2                       # one min-max band per setting
    assert ax.get_legend().get_title().get_text().startswith("mean of 2 seeds")
    plt.close(fig)


def test_compare_seeds_bad_arguments():
    with pytest.raises(ValueError, match="non-empty dict"):
        compare_seeds({})
    with pytest.raises(ValueError, match="same shape"):
        compare_seeds({"a": np.zeros((2, 3)), "b": np.zeros((2, 4))})


def test_show_signed_maps_share_one_symmetric_scale_with_a_colourbar():
    fig = show_signed_maps({"g": np.array([[1.0, -3.0], [0.0, 2.0]]), "big": np.ones((3, 4))}, title="t")
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 2
    assert all(im.get_clim() == (-3.0, 3.0) for im in images)   # symmetric about 0, shared by both panels
    assert len(fig.axes) == 3                                    # two panels and the colourbar
    assert fig.axes[1].get_title() == "big\n3×4"
    plt.close(fig)
    fig = show_signed_maps({"g": np.array([[1.0, -3.0]]), "big": np.full((3, 4), 0.5)}, shared=False)
    assert [im.get_clim() for ax in fig.axes for im in ax.get_images()] == [(-3.0, 3.0), (-0.5, 0.5)]
    assert len(fig.axes) == 4                                    # a colourbar per panel
    plt.close(fig)


def test_show_signed_maps_bad_arguments():
    with pytest.raises(ValueError, match="non-empty dict"):
        show_signed_maps({})
    with pytest.raises(ValueError, match="2-D"):
        show_signed_maps({"a": np.zeros((2, 2, 2))})


def test_compare_seeds_settings_differ_by_marker_not_only_colour():
    runs = {name: np.full((2, 3), 0.5) for name in ("SGD", "momentum", "Adam")}
    fig = compare_seeds(runs)
    assert len({ln.get_marker() for ln in fig.axes[0].get_lines() if ln.get_label() in runs}) == 3
    plt.close(fig)
