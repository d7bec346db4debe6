"""plot_losses: identical curves stay visible and distinguishable without colour."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnnlib.plots import colour_only_series  # noqa: E402
from cnnlib.viz.training import WIDTHS, plot_losses  # noqa: E402


def test_identical_curves_differ_in_width_and_dashes_not_colour_alone():
    y = np.linspace(2.3, 0.5, 20)
    fig = plot_losses({"yours": y, "cnnlib's": y, "torch.nn": y}, title="t")
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["yours", "cnnlib's", "torch.nn"]
    assert [line.get_linewidth() for line in lines] == list(WIDTHS)
    assert len({line.get_linestyle() for line in lines}) == 3
    assert colour_only_series(fig) == []
    np.testing.assert_array_equal(lines[0].get_xdata(), np.arange(1, 21))
    plt.close(fig)


@pytest.mark.parametrize("curves, says", [({}, "non-empty dict"), ({"a": [1, 2], "b": [1]}, "same number of steps")])
def test_bad_input_is_refused_with_what_is_wrong(curves, says):
    with pytest.raises(ValueError, match=says):
        plot_losses(curves)
