"""cnnlib.viz.pooling: window geometry (exact values) and what the figures draw."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from cnnlib.viz.pooling import (plot_grids, plot_pooling, window_argmax, window_coverage,  # noqa: E402
                                window_origins)

SLICE = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]])


def test_window_origins():
    assert window_origins((4, 4), 2) == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert window_origins((5, 5), 3, 2) == [(0, 0), (0, 2), (2, 0), (2, 2)]
    assert window_origins((4, 6), (2, 3), (2, 3)) == [(0, 0), (0, 3), (2, 0), (2, 3)]
    assert len(window_origins((55, 55), 3, 2)) == 27 * 27  # AlexNet POOL1


def test_window_origins_rejects_a_window_larger_than_the_slice():
    with pytest.raises(ValueError, match="kernel_size .* larger than the slice"):
        window_origins((2, 2), 3)
    with pytest.raises(ValueError, match="stride must be positive"):
        window_origins((4, 4), 2, 0)


def test_window_coverage_counts_overlap():
    assert np.array_equal(window_coverage((4, 4), 2, 2), np.ones((4, 4), int))
    expected = np.array([[1, 1, 2, 1, 1],
                         [1, 1, 2, 1, 1],
                         [2, 2, 4, 2, 2],
                         [1, 1, 2, 1, 1],
                         [1, 1, 2, 1, 1]])
    assert np.array_equal(window_coverage((5, 5), 3, 2), expected)
    # 2x2/2 on a 5x5 slice: the floor rule leaves the last row and column unread
    cov = window_coverage((5, 5), 2, 2)
    assert cov[:4, :4].min() == 1 and cov[4].sum() == 0 and cov[:, 4].sum() == 0


def test_window_argmax_on_the_classic_slice():
    assert window_argmax(SLICE, 2) == [(1, 1), (1, 3), (2, 0), (3, 3)]
    assert [SLICE[r, c] for r, c in window_argmax(SLICE, 2)] == [6, 8, 3, 4]
    assert window_argmax(np.zeros((2, 2)), 2) == [(0, 0)]  # ties: the first, like argmax
    with pytest.raises(ValueError, match="2-D"):
        window_argmax(np.zeros((1, 4, 4)), 2)


def test_plot_pooling_draws_windows_numbers_and_maxima():
    fig = plot_pooling(SLICE, np.array([[6, 8], [3, 4]]), 2, 2)
    ax_in, ax_out = fig.axes
    assert [t.get_text() for t in ax_out.texts] == ["6", "8", "3", "4"]
    assert len(ax_in.texts) == 16
    windows = [p for p in ax_in.patches if isinstance(p, Rectangle)]
    circles = [p for p in ax_in.patches if isinstance(p, Circle)]
    assert len(windows) == 4 and len(ax_out.patches) == 4
    assert sorted(c.center for c in circles) == sorted([(1, 1), (3, 1), (0, 2), (3, 3)])  # (x=col, y=row)
    # output cell k has the colour of window k
    assert [w.get_edgecolor() for w in windows] == [p.get_edgecolor() for p in ax_out.patches]
    plt.close(fig)


def test_plot_pooling_rejects_an_output_of_the_wrong_size():
    with pytest.raises(ValueError, match="out has 4 cells .* 9 windows"):
        plot_pooling(np.zeros((5, 5)), np.zeros((2, 2)), 3, 1)


def test_plot_grids_one_panel_per_entry_with_shared_scale():
    fig = plot_grids({"a": np.zeros((2, 2)), "b": np.full((3, 3), 4.0)}, suptitle="maps")
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    assert [im.get_clim() for ax in fig.axes for im in ax.images] == [(0.0, 4.0), (0.0, 4.0)]
    assert [t.get_text() for t in fig.axes[1].texts] == ["4"] * 9
    plt.close(fig)
    with pytest.raises(ValueError, match="at least one"):
        plot_grids({})
