"""cnnlib.viz.optimizers: paths follow the update rules, the noise matches its formula, figures draw their data."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib.numpy_nn.optim import SGD, Adam, LectureMomentum  # noqa: E402
from cnnlib.surfaces import optimizer_path, ravine  # noqa: E402
from cnnlib.viz.optimizers import (descent_path, minibatch_gradient_noise, plot_chain, plot_curves,  # noqa: E402
                                   plot_descent_1d, plot_gradient_noise, plot_paths, torch_descent_path)


def test_descent_path_is_gradient_descent():
    path = descent_path(lambda w: 2 * w, 1.0, lambda p: SGD(p, lr=0.1), steps=3)
    np.testing.assert_allclose(path, [1.0, 0.8, 0.64, 0.512], rtol=1e-15)
    # the lecture's momentum on theta^2 from 1: v = 0.2, 0.34, 0.398
    path = descent_path(lambda w: 2 * w, 1.0, lambda p: LectureMomentum(p, lr=0.1, momentum=0.9), steps=3)
    np.testing.assert_allclose(path, [1.0, 0.8, 0.46, 0.062], rtol=1e-12)
    assert descent_path(lambda w: w, [1.0, 2.0], lambda p: SGD(p, lr=0.5), steps=0).tolist() == [[1.0, 2.0]]


def test_descent_path_on_the_ravine_is_surfaces_optimizer_path():
    grad = lambda w: np.array(ravine.grad(*w))  # noqa: E731
    ours = descent_path(grad, ravine.start, lambda p: Adam(p, lr=0.1), steps=30)
    assert ours.shape == (31, 2)
    np.testing.assert_array_equal(ours, optimizer_path("adam", steps=30, surface=ravine, lr=0.1))


def test_torch_descent_path_matches_numpy_optimizers():
    grad = lambda w: np.array(ravine.grad(*w))  # noqa: E731
    theirs = torch_descent_path(grad, ravine.start, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 50)
    ours = descent_path(grad, ravine.start, lambda p: SGD(p, lr=0.1, momentum=0.9), 50)
    assert theirs.shape == (51, 2) and theirs.dtype == np.float64
    np.testing.assert_allclose(theirs, ours, rtol=0, atol=1e-14)
    first = torch_descent_path(lambda w: 1e-6, 0.0, lambda p: torch.optim.Adam(p, lr=1.0), 1)
    np.testing.assert_allclose(first, [0.0, -1e-6 / (1e-6 + 1e-8)], rtol=1e-9)


def test_descent_path_rejects_negative_steps():
    with pytest.raises(ValueError, match="steps must be non-negative"):
        descent_path(lambda w: w, 0.0, lambda p: SGD(p, lr=0.1), steps=-1)


def test_minibatch_gradient_noise_on_scalars():
    # gradients 0, 1, 2, 3 (mean 1.5, sigma^2 = 1.25): B = n is exact, B = 1 averages (g_i - 1.5)^2
    values = np.array([0.0, 1.0, 2.0, 3.0])
    rng = np.random.default_rng(0)
    noise = minibatch_gradient_noise(lambda idx: values[idx].mean(), 4, [4], trials=3, rng=rng)
    assert noise.tolist() == [0.0]
    noise = minibatch_gradient_noise(lambda idx: values[idx].mean(), 4, [1, 2], trials=4000, rng=rng)
    expected = 1.25 / np.array([1, 2]) * (4 - np.array([1, 2])) / 3   # 1.25, 0.4167
    np.testing.assert_allclose(noise, expected, rtol=0.05)


def test_minibatch_gradient_noise_rejects_oversized_batches():
    with pytest.raises(ValueError, match="batch_sizes must be at most n = 4"):
        minibatch_gradient_noise(lambda idx: 0.0, 4, [8], trials=1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="trials must be positive"):
        minibatch_gradient_noise(lambda idx: 0.0, 4, [2], trials=0, rng=np.random.default_rng(0))


def test_plot_chain_draws_one_box_per_node_and_the_labels():
    fig = plot_chain(["x", "h", "L"], ["dL/dx", "dL/dh"], below={1: "dL/dW"}, title="graph")
    ax = fig.axes[0]
    assert len(ax.patches) == 3
    texts = [t.get_text() for t in ax.texts]
    assert {"x", "h", "L", "dL/dx", "dL/dh", "dL/dW"} <= set(texts)
    assert ax.get_title() == "graph"
    plt.close(fig)


def test_plot_chain_rejects_a_wrong_number_of_labels():
    with pytest.raises(ValueError, match="one backward label per arrow \\(2\\)"):
        plot_chain(["x", "h", "L"], ["only one"])
    with pytest.raises(ValueError, match="node indices in \\[0, 1\\]"):
        plot_chain(["x", "L"], ["g"], below={5: "nowhere"})


def test_plot_curves_draws_each_curve_with_its_style():
    x = np.array([1.0, 2.0, 3.0])
    fig = plot_curves(x, {"a": x ** 2, "b": -x}, xlabel="t", ylabel="v", logx=True, styles={"b": "--"})
    ax = fig.axes[0]
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert lines["a"].get_ydata().tolist() == [1, 4, 9]
    assert lines["b"].get_linestyle() == "--" and lines["a"].get_linestyle() == "-"
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    plt.close(fig)
    fig, axes = plt.subplots(1, 2)
    assert plot_curves(x, {"a": x}, "t", "v", ax=axes[1]) is fig and len(axes[1].get_lines()) == 1
    plt.close(fig)
    with pytest.raises(ValueError, match="curve 'a' has shape \\(2,\\); it must match x"):
        plot_curves(x, {"a": [1.0, 2.0]}, "t", "v")


def test_plot_descent_1d_puts_the_points_on_the_curve():
    f = lambda w: w ** 2  # noqa: E731
    grid = np.linspace(-1, 1, 5)
    fig = plot_descent_1d(grid, f(grid), {"run": np.array([1.0, 0.5, 0.25])}, f)
    ax = fig.axes[0]
    run = [ln for ln in ax.get_lines() if ln.get_label() == "run"][0]
    assert run.get_xdata().tolist() == [1.0, 0.5, 0.25]
    assert run.get_ydata().tolist() == [1.0, 0.25, 0.0625]
    plt.close(fig)
    with pytest.raises(ValueError, match="same length"):
        plot_descent_1d(grid, grid[:3], {}, f)


def test_plot_gradient_noise_is_log_log():
    fig = plot_gradient_noise([1, 10], [2.0, 0.2], [2.1, 0.21])
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert [ln.get_label() for ln in ax.get_lines()][1] == "measured"
    plt.close(fig)
    with pytest.raises(ValueError, match="one entry each per batch size"):
        plot_gradient_noise([1, 10], [2.0], [2.1, 0.21])


def test_plot_paths_draws_paths_and_losses():
    paths = {"sgd": optimizer_path("sgd", steps=5), "adam": optimizer_path("adam", steps=5)}
    fig = plot_paths(ravine, paths, title="ravine")
    ax_map, ax_loss = fig.axes[:2]
    sgd = [ln for ln in ax_map.get_lines() if ln.get_label() == "sgd"][0]
    np.testing.assert_array_equal(sgd.get_xydata(), paths["sgd"])
    loss = [ln for ln in ax_loss.get_lines() if ln.get_label() == "adam"][0]
    np.testing.assert_allclose(loss.get_ydata(), ravine(paths["adam"][:, 0], paths["adam"][:, 1]))
    assert ax_map.get_xlim() == ravine.xlim and ax_loss.get_yscale() == "log"
    assert "minimum" in [ln.get_label() for ln in ax_map.get_lines()]
    plt.close(fig)


def test_plot_paths_clips_a_diverging_path_and_needs_a_window():
    far = np.array([[0.0, 0.0], [100.0, -100.0]])
    fig = plot_paths(ravine, {"far": far})
    line = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "far"][0]
    assert line.get_xydata()[-1].tolist() == [5.0, -2.5]
    plt.close(fig)
    with pytest.raises(ValueError, match="pass xlim and ylim"):
        plot_paths(lambda x, y: x * y, {"far": far})
    with pytest.raises(ValueError, match="shape \\(steps \\+ 1, 2\\)"):
        plot_paths(ravine, {"bad": np.zeros(3)})


def test_descent_and_path_series_differ_by_marker_not_only_colour():
    f = lambda w: w ** 2  # noqa: E731
    grid = np.linspace(-1, 1, 5)
    fig = plot_descent_1d(grid, f(grid), {"left": np.array([-1.0, -0.5]), "right": np.array([1.0, 0.5])}, f)
    runs = {ln.get_label(): ln for ln in fig.axes[0].get_lines() if ln.get_label() in ("left", "right")}
    assert runs["left"].get_marker() != runs["right"].get_marker()
    plt.close(fig)
    paths = {name: optimizer_path(name, steps=5) for name in ("sgd", "momentum", "adam")}
    fig = plot_paths(ravine, paths)
    ax_map, ax_loss = fig.axes[:2]
    assert len({ln.get_marker() for ln in ax_map.get_lines() if ln.get_label() in paths}) == 3
    assert len({ln.get_linestyle() for ln in ax_loss.get_lines() if ln.get_label() in paths}) == 3
    plt.close(fig)


def test_explorer_figure_optimizers_differ_by_marker_and_line_not_only_colour():
    from cnnlib.widgets import figures, paths as explorer_paths

    result = explorer_paths.optimizer_paths(lr=0.1, momentum=0.9, betas=(0.9, 0.999), steps=5, surface="ravine")
    fig = figures.optimizer_figure(result.surface, result.paths, "06's explorer")
    ax_map, ax_loss = fig.axes[:2]
    drawn = [ln for ln in ax_map.get_lines() if ln.get_label() in result.paths]
    assert len(drawn) == len(result.paths) == len({ln.get_marker() for ln in drawn})
    assert len({ln.get_linestyle() for ln in ax_loss.get_lines()}) == len(result.paths)
    plt.close(fig)
