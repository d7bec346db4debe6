import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.viz.convolution import plot_filter_positions, plot_kernel, show_named_images, window_starts  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_window_starts_follow_the_lecture():
    assert window_starts(7, 3, 1) == ([0, 1, 2, 3, 4], 0)  # 5x5 output
    assert window_starts(7, 3, 2) == ([0, 2, 4], 0)  # 3x3 output
    assert window_starts(7, 3, 3) == ([0, 3], 1)  # doesn't fit: one column left over
    assert window_starts(7, 3, 1, padding=1) == (list(range(7)), 0)  # 7x7 output
    with pytest.raises(ValueError, match="larger than the padded input"):
        window_starts(2, 3)
    with pytest.raises(ValueError, match="stride must be positive"):
        window_starts(7, 3, 0)


@pytest.mark.parametrize("stride, padding, dots, title_end", [
    (1, 0, 25, "-> 5x5 output"), (2, 0, 9, "-> 3x3 output"), (3, 0, 4, "-> 2.33: doesn't fit"),
    (1, 1, 49, "-> 7x7 output"),
])
def test_filter_positions_show_one_dot_per_output_pixel(stride, padding, dots, title_end):
    fig = plot_filter_positions(7, 3, stride, padding)
    ax = fig.axes[0]
    assert ax.get_lines()[0].get_xdata().size == dots
    assert ax.get_title().endswith(title_end)
    zeros = [t for t in ax.texts if t.get_text() == "0"]
    assert len(zeros) == (7 + 2 * padding) ** 2 - 49  # every padding cell holds a 0


def test_filter_that_does_not_fit_hangs_over_the_edge():
    ax = plot_filter_positions(7, 3, stride=3).axes[0]
    dotted = [p for p in ax.patches if p.get_linestyle() == ":"]
    assert len(dotted) == 1 and dotted[0].get_x() == 6 and dotted[0].get_width() == 3  # columns 6..8 of 0..6
    assert ax.get_xlim()[1] > 9
    ax = plot_filter_positions(7, 3, stride=1, width=10).axes[0]
    assert ax.get_xlim() == (-0.2, 10.2)  # room kept so it matches a neighbour's scale


def test_plot_kernel_writes_every_weight():
    ax = plot_kernel(np.array([[-1.0, 0.0, 1.0]] * 3), title="Sobel").axes[0]
    assert [t.get_text() for t in ax.texts[:3]] == ["-1.00", "0.00", "1.00"]
    assert ax.get_images()[0].get_cmap().name == "RdBu_r"
    assert len(plot_kernel(np.ones((5, 5)), fmt=None).axes[0].texts) == 0
    with pytest.raises(ValueError, match="2-D"):
        plot_kernel(np.zeros(3))


def test_plot_kernel_can_share_the_signed_scale_and_draw_a_colour_bar():
    gauss = np.array([[0.1, 0.2], [0.2, 0.5]])
    fig = plot_kernel(gauss, fmt=None, signed=True, colorbar=True)
    kernel_ax, bar = fig.axes
    assert kernel_ax.get_images()[0].get_cmap().name == "RdBu_r"
    assert kernel_ax.get_images()[0].get_clim() == (-0.5, 0.5)      # 0 is white, as in the Sobel panels
    assert bar.get_ylim() == (-0.5, 0.5)
    assert len(plot_kernel(gauss).axes) == 1                           # no colour bar unless asked
    assert plot_kernel(gauss).axes[0].get_images()[0].get_cmap().name == "Blues"
    with pytest.raises(ValueError, match="signed must be True, False or None"):
        plot_kernel(gauss, signed="yes")


def test_show_images_picks_a_colour_map_by_sign():
    fig = show_named_images({"photo": np.ones((4, 4)), "edges": np.array([[-2.0, 1.0]]), "rgb": np.zeros((2, 2, 3))},
                      ncols=2)
    photo, edges, rgb, spare, colour_bar = fig.axes   # one colour bar: for the signed map only
    assert colour_bar.get_ylim() == (-2.0, 2.0)
    assert photo.get_images()[0].get_cmap().name == "gray"
    assert edges.get_images()[0].get_cmap().name == "RdBu_r"
    assert edges.get_images()[0].get_clim() == (-2.0, 2.0)  # 0 stays white
    assert rgb.get_title() == "rgb" and not spare.get_visible()
    maps = show_named_images({"a": np.array([[-1.0, 3.0]]), "b": np.ones((2, 2))}, cmap="viridis").axes
    assert [m.get_images()[0].get_cmap().name for m in maps] == ["viridis", "viridis"]
    assert maps[0].get_images()[0].get_clim() == (-1.0, 3.0)  # its own range, not symmetric
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
        show_named_images({"bad": np.zeros((2, 2, 2))})
