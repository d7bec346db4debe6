"""cnnlib.viz.losses: the figures draw exactly the curves and lines they are given."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.viz.losses import plot_fits, plot_hinge, plot_loss_and_gradient  # noqa: E402


def test_plot_loss_and_gradient_puts_values_left_and_gradients_right():
    x = np.linspace(-2, 2, 5)
    fig = plot_loss_and_gradient(x, {"L1": (np.abs(x), np.sign(x)), "L2": (x ** 2, 2 * x)})
    ax_l, ax_g = fig.axes
    lines_l = [ln for ln in ax_l.get_lines() if ln.get_label() in ("L1", "L2")]
    lines_g = [ln for ln in ax_g.get_lines() if ln.get_label() in ("L1", "L2")]
    assert np.array_equal(lines_l[1].get_ydata(), [4, 1, 0, 1, 4])
    assert np.array_equal(lines_g[0].get_ydata(), [-1, -1, 0, 1, 1])
    assert lines_l[0].get_color() == lines_g[0].get_color() != lines_l[1].get_color()
    assert (ax_l.get_title(), ax_g.get_ylabel()) == ("loss", "dL/dx")
    plt.close(fig)


def test_plot_loss_and_gradient_rejects_mismatched_curves():
    with pytest.raises(ValueError, match="gradients of 'L1' has shape \\(2,\\); it must match x"):
        plot_loss_and_gradient(np.zeros(3), {"L1": (np.zeros(3), np.zeros(2))})
    with pytest.raises(ValueError, match="at least one"):
        plot_loss_and_gradient(np.zeros(3), {})


def test_plot_hinge_shades_three_regions():
    m = np.linspace(-2, 3, 11)
    hinge = np.maximum(0, 1 - m)
    fig = plot_hinge(m, hinge, zero_one=(m < 0).astype(float), examples=([-1.0, 0.5], [2.0, 0.5]))
    ax = fig.axes[0]
    assert ax.collections[0].get_offsets().tolist() == [[-1.0, 2.0], [0.5, 0.5]]
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert labels == ["hinge max(0, 1 − t·y)", "0-1 error"]
    assert np.array_equal(ax.get_lines()[0].get_ydata(), hinge)
    assert len(ax.patches) == 3 and ax.get_xlim() == (-2.0, 3.0)
    plt.close(fig)


def test_plot_fits_draws_each_line_and_marks_outliers():
    x = np.arange(5.0)
    y = np.array([0.0, 1, 2, 3, 40])
    fig, axes = plt.subplots(1, 2)
    assert plot_fits(x, y, {"L2": (0.0, 9.2), "L1": (1.0, 0.0)}, outliers=[4], ax=axes[1]) is fig
    ax = axes[1]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert np.array_equal(lines["L2"].get_ydata(), [9.2, 9.2])
    assert np.array_equal(lines["L1"].get_ydata(), [0.0, 4.0])
    assert (lines["L2"].get_linestyle(), lines["L1"].get_linestyle()) == ("-", "--")
    assert lines["L2"].get_linewidth() > lines["L1"].get_linewidth()  # a later fit on top of an equal one leaves it visible
    data, outlier = ax.collections
    assert len(data.get_offsets()) == 4 and outlier.get_offsets().tolist() == [[4.0, 40.0]]
    plt.close(fig)


def test_plot_hinge_checks_the_examples():
    m = np.linspace(-1, 2, 4)
    with pytest.raises(ValueError, match="the examples' losses has shape \\(1,\\); it must match x, shape \\(2,\\)"):
        plot_hinge(m, np.maximum(0, 1 - m), examples=([0.0, 1.0], [1.0]))
