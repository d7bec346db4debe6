"""What a trained network looks at: learned filters, feature maps, and saliency maps (07_case_studies_lenet).

- `saliency_map`: back-propagation run to the *input*. The gradient of one class score with
  respect to every pixel says how much a small change of that pixel would change the score; its
  absolute value, maximised over the colour channels, is the saliency map (Simonyan et al., 2013).
- `plot_filters`: the weights of a convolution layer, one small image per filter.
- `plot_feature_maps`: the maps one layer computes for one image.

Filters and feature maps are signed, so they are drawn on a symmetric colour scale around zero
(``RdBu_r``: blue negative, white zero, red positive) with a colourbar; saliency is non-negative.
Figures use 150 dpi, so a PNG reads on a laptop screen.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

DPI = 150


def saliency_map(model: torch.nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    """``max over channels of |d score[target] / d x|``, per image.

    Args:
        model: maps ``(N, C, H, W)`` to class scores ``(N, num_classes)``; it is run as it is
            (call ``model.eval()`` first so dropout and batch norm behave as at test time).
        x: the images, ``(N, C, H, W)`` or one image ``(C, H, W)``. Not modified.
        target: the class whose score is differentiated: an int, or one int per image.

    Shape:
        returns ``(N, H, W)`` (or ``(H, W)`` for one image), on ``x``'s device, non-negative.

    The model's parameters get no gradient (``torch.autograd.grad`` is asked for the input only).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of images, got {type(x).__name__}")
    single = x.dim() == 3
    if x.dim() not in (3, 4):
        raise ValueError(f"x must be (N, C, H, W) or (C, H, W), got shape {tuple(x.shape)}")
    images = (x[None] if single else x).detach().clone().requires_grad_(True)
    scores = model(images)
    if scores.dim() != 2 or scores.shape[0] != images.shape[0]:
        raise ValueError(f"model must return scores (N, num_classes), got shape {tuple(scores.shape)}")
    target = torch.as_tensor(target, device=scores.device).reshape(-1).long()
    if target.numel() == 1:
        target = target.expand(images.shape[0])
    if target.numel() != images.shape[0] or not ((0 <= target) & (target < scores.shape[1])).all():
        raise ValueError(f"target must be one class in 0..{scores.shape[1] - 1}, or one per image "
                         f"({images.shape[0]}), got {target.tolist()}")
    chosen = scores.gather(1, target[:, None]).sum()  # images are independent: the sum's gradient is each one's
    (grad,) = torch.autograd.grad(chosen, images)
    saliency = grad.abs().amax(dim=1)                 # (N, H, W)
    return saliency[0] if single else saliency


def _grid(count: int, ncols: int | None):
    ncols = ncols or min(count, 8)
    return math.ceil(count / ncols), ncols


def _signed_panels(maps: np.ndarray, titles, suptitle: str, ncols: int | None, size: float):
    """Draw 2-D arrays on one symmetric colour scale with one shared colourbar; return the figure."""
    nrows, ncols = _grid(len(maps), ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols + 0.8, size * nrows + 0.4), dpi=DPI,
                             squeeze=False)
    limit = float(np.max(np.abs(maps))) or 1.0
    image = None
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(maps):
            image = ax.imshow(maps[i], cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(titles[i])
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8)
    fig.suptitle(suptitle)
    return fig


def plot_filters(weight, ncols: int | None = None, size: float = 1.2, channel: int = 0):
    """The filters of a convolution, ``weight`` (C_out, C_in, kH, kW), input channel ``channel`` of each.

    One panel per filter, all on the same symmetric colour scale (so sizes compare) with a colourbar.
    Returns the Figure.
    """
    w = weight.detach().cpu().numpy() if isinstance(weight, torch.Tensor) else np.asarray(weight)
    if w.ndim != 4:
        raise ValueError(f"weight must be (C_out, C_in, kH, kW), got shape {w.shape}")
    if not 0 <= channel < w.shape[1]:
        raise ValueError(f"channel must be in 0..{w.shape[1] - 1}, got {channel}")
    return _signed_panels(w[:, channel], [f"filter {i}" for i in range(w.shape[0])],
                          f"{w.shape[0]} learned {w.shape[2]}x{w.shape[3]} filters", ncols, size)


def plot_feature_maps(maps, ncols: int | None = None, size: float = 1.4, title: str = "feature maps"):
    """The maps of one image, ``(C, H, W)`` (or ``(1, C, H, W)``), on a symmetric colour scale; returns the Figure."""
    m = maps.detach().cpu().numpy() if isinstance(maps, torch.Tensor) else np.asarray(maps)
    if m.ndim == 4 and m.shape[0] == 1:
        m = m[0]
    if m.ndim != 3:
        raise ValueError(f"maps must be one image's (C, H, W), got shape {m.shape}")
    return _signed_panels(m, [f"map {i}" for i in range(m.shape[0])], title, ncols, size)


def plot_saliency(image, saliency, title: str = "saliency"):
    """The image beside its saliency map (non-negative: one colour scale from 0, with a colourbar)."""
    img = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    sal = saliency.detach().cpu().numpy() if isinstance(saliency, torch.Tensor) else np.asarray(saliency)
    img = img[0] if img.ndim == 3 and img.shape[0] == 1 else np.moveaxis(img, 0, -1) if img.ndim == 3 else img
    fig, (left, right) = plt.subplots(1, 2, figsize=(6, 2.8), dpi=DPI)
    left.imshow(img, cmap="gray")
    left.set_title("input")
    shown = right.imshow(sal, cmap="hot", vmin=0)
    right.set_title(title)
    for ax in (left, right):
        ax.axis("off")
    fig.colorbar(shown, ax=right, shrink=0.8)
    return fig
