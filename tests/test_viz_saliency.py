"""cnnlib.viz.saliency: the saliency values are autograd's input gradients; the plots show the right numbers."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib import models  # noqa: E402
from cnnlib.viz.saliency import DPI, plot_feature_maps, plot_filters, plot_saliency, saliency_map  # noqa: E402


def _lenet():
    torch.manual_seed(0)
    return models.lenet5().double().eval()


def test_saliency_is_the_absolute_input_gradient_of_the_class_score():
    model = _lenet()
    x = torch.randn(3, 1, 32, 32, dtype=torch.float64)
    target = [2, 7, 0]
    sal = saliency_map(model, x, target)
    for i, t in enumerate(target):
        xi = x[i:i + 1].clone().requires_grad_()
        (grad,) = torch.autograd.grad(model(xi)[0, t], xi)
        torch.testing.assert_close(sal[i], grad[0].abs().amax(dim=0), rtol=1e-12, atol=0)
    assert all(p.grad is None for p in model.parameters()) and not x.requires_grad


def test_saliency_of_a_linear_model_is_its_weight():
    weight = torch.randn(4, 2 * 3 * 3, dtype=torch.float64)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(18, 4, bias=False).double())
    with torch.no_grad():
        model[1].weight.copy_(weight)
    sal = saliency_map(model, torch.randn(2, 3, 3, dtype=torch.float64), 1)  # one image (C, H, W)
    torch.testing.assert_close(sal, weight[1].reshape(2, 3, 3).abs().amax(dim=0))  # max over the 2 channels
    with pytest.raises(ValueError, match=r"target must be one class in 0..3"):
        saliency_map(model, torch.randn(2, 3, 3, dtype=torch.float64), 4)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        saliency_map(model, np.zeros((2, 3, 3)), 0)


def test_filter_and_feature_map_figures_use_one_symmetric_scale(tmp_path):
    model = _lenet()
    weight = model[0].weight.detach()
    fig = plot_filters(weight)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    limit = float(weight.abs().max())
    assert len(images) == 6 and fig.dpi == DPI
    assert all(im.get_clim() == (-limit, limit) and im.get_cmap().name == "RdBu_r" for im in images)
    np.testing.assert_array_equal(images[3].get_array(), weight[3, 0].numpy())
    assert any(ax.get_label() == "<colorbar>" for ax in fig.axes)
    fig.savefig(tmp_path / "filters.png")
    maps = model[:2](torch.randn(1, 1, 32, 32, dtype=torch.float64)).detach()
    fig = plot_feature_maps(maps)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 6 and images[0].get_clim() == (-float(maps.abs().max()), float(maps.abs().max()))
    np.testing.assert_array_equal(images[5].get_array(), maps[0, 5].numpy())
    sal = saliency_map(model, torch.randn(1, 32, 32, dtype=torch.float64), 3)
    fig = plot_saliency(torch.zeros(1, 32, 32), sal)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), sal.numpy())
    with pytest.raises(ValueError, match=r"weight must be \(C_out, C_in, kH, kW\)"):
        plot_filters(torch.zeros(3, 3))
