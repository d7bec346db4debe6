import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.numpy_nn.activation import ELU, LeakyReLU, Maxout, ReLU, Sigmoid  # noqa: E402
from cnnlib.viz.activations import (  # noqa: E402
    DEAD_COLOUR, curve_and_slope, dead_unit_fraction, plot_activations, plot_gradient_by_depth, plot_unit_activity,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_slope_comes_from_the_backward_pass():
    y, slope = curve_and_slope(ReLU(), [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(y, [0, 0, 2])
    np.testing.assert_array_equal(slope, [0, 0, 1])  # PyTorch's convention: 0 at the kink
    y, slope = curve_and_slope(Sigmoid(), [0.0])
    assert y[0] == 0.5 and slope[0] == 0.25
    _, slope = curve_and_slope(LeakyReLU(0.1), [-2.0, 3.0])
    np.testing.assert_allclose(slope, [0.1, 1.0])


def test_maxout_with_one_input_is_a_piecewise_linear_curve():
    m = Maxout(1, 1, pieces=2)
    m.weight.data[:] = [[1.0], [0.1]]
    m.bias.data[:] = 0.0
    y, slope = curve_and_slope(m, [-2.0, 3.0])
    np.testing.assert_allclose(y, [-0.2, 3.0])  # max(x, 0.1x): the lecture's leaky ReLU
    np.testing.assert_allclose(slope, [0.1, 1.0])


def test_curve_and_slope_refuses_bad_input():
    with pytest.raises(ValueError, match="1-D"):
        curve_and_slope(ReLU(), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="one number"):
        curve_and_slope(Maxout(1, 2), [0.0, 1.0])


def test_plot_activations_draws_function_and_derivative():
    x = np.linspace(-3, 3, 61)
    fig = plot_activations({"ReLU": ReLU(), "ELU": ELU(), "Sigmoid": Sigmoid(), "Leaky": LeakyReLU()}, x)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["ReLU", "ELU", "Sigmoid", "Leaky"]
    assert len(fig.axes) == 6  # a 2 x 3 grid, the last two hidden
    elu_f, elu_slope = visible[1].get_lines()[-2:]
    np.testing.assert_allclose(elu_f.get_ydata(), np.where(x > 0, x, np.expm1(x)))
    np.testing.assert_allclose(elu_slope.get_ydata(), np.where(x > 0, 1.0, np.exp(x)))
    with pytest.raises(ValueError, match="at least one"):
        plot_activations({})


def test_gradient_by_depth_is_on_a_log_scale():
    fig = plot_gradient_by_depth({"sigmoid": [0.25, 0.0625, 0.015625], "relu": [1.0, 0.9, 0.8]})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    with pytest.raises(ValueError, match="positive"):
        plot_gradient_by_depth({"bad": [1.0, 0.0]})


def test_dead_unit_fraction_counts_columns_never_positive():
    h = np.array([[1.0, -1.0, 0.0, 0.0],
                  [2.0, -3.0, 0.0, 0.5]])
    assert dead_unit_fraction(h) == 0.5  # units 1 and 2 never fire; unit 3 fires once
    assert dead_unit_fraction(np.maximum(h, 0)) == 0.5  # the same after a ReLU
    with pytest.raises(ValueError, match=r"\(N, units\)"):
        dead_unit_fraction(np.zeros(3))


def test_plot_unit_activity_titles_carry_the_dead_fraction():
    h = np.array([[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 2.0, 0.0]])
    fig = plot_unit_activity({"bad bias": h})
    assert fig.axes[0].get_title() == "bad bias: 50% of units never fire"
    rgb = fig.axes[0].get_images()[0].get_array()
    assert rgb.shape == (2, 4, 3)
    np.testing.assert_array_equal(rgb[:, 0], 1.0)  # fired every time: white
    np.testing.assert_array_equal(rgb[0, 2], 0.0)  # did not fire for this sample: black
    np.testing.assert_array_equal(rgb[1, 2], 1.0)
    for unit in (1, 3):  # dead: red from top to bottom
        np.testing.assert_array_equal(rgb[:, unit], [DEAD_COLOUR, DEAD_COLOUR])
