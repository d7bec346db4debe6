"""Figures the notebooks share: training curves, a grid of images, the filters of a layer.

Each function draws with matplotlib and returns the ``Figure``; it shows nothing by itself, so a
notebook cell ends with ``plt.show()`` (and a test closes the figure). Introduced in
05_backpropagation and 06_optimizers (curves) and 07_case_studies_lenet (digits, learned filters).

    >>> fig = plot_history(history)
    >>> plt.show()

The project's colours are the Okabe-Ito palette (``OKABE_ITO``), which stays distinguishable under
the common colour-vision deficiencies. Importing this module (``cnnlib.viz`` imports it) makes it
matplotlib's default colour cycle (``use_style``), so "C0", "C1", ... are Okabe-Ito colours, and sets
larger default text for figures shown on a projector. Colour is never the only difference between
series: ``series_style(k)`` gives the k-th series its colour, line style and marker together, and
``colour_only_series(fig)`` finds series that differ by colour alone (the tests run it on the figures).
"""
from __future__ import annotations

import math

import numpy as np

# Okabe & Ito (2008), "Color Universal Design": blue, vermillion, bluish green, reddish purple, orange,
# sky blue, black, yellow (yellow last: it is faint on white).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")
# At least 14 pt on a 1280x720 slide (cnnlib.projector): a figure up to ~10 inches wide and ~3.6 tall is shown
# at 150 dpi scaled by about 0.8, so 14 pt here is about 19 px there.
STYLE = {"font.size": 14, "axes.titlesize": 14, "axes.labelsize": 14, "legend.fontsize": 14,
         "legend.title_fontsize": 14, "xtick.labelsize": 14, "ytick.labelsize": 14, "figure.titlesize": 15}


def use_style() -> None:
    """Okabe-Ito as matplotlib's colour cycle, and text large enough for a projector (see the module)."""
    import matplotlib.pyplot as plt
    from cycler import cycler

    plt.rcParams["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))
    plt.rcParams.update(STYLE)


def series_style(k: int) -> dict:
    """The k-th series' colour, line style and marker, each different from series k-1 and k+1: pass as
    ``ax.plot(x, y, **series_style(k))``. Eight colours, four line styles and eight markers, so no two
    of the first 32 series look the same even without colour."""
    return {"color": OKABE_ITO[k % len(OKABE_ITO)], "marker": MARKERS[k % len(MARKERS)],
            "linestyle": LINESTYLES[(k + k // len(MARKERS)) % len(LINESTYLES)]}


use_style()


def _no_line(style) -> bool:
    return style in ("None", "none", "", " ", None)


def colour_only_series(fig) -> list[str]:
    """The series of ``fig`` that a reader can tell apart only by their colour (empty: none).

    A series is a legend entry: a line, a group of bars or points with a label (not starting with
    "_"). Within one axes, two lines with the same line style and marker, two bar groups with the
    same hatch, or two point sets with the same marker differ by colour alone, unless the axes
    names each of them in a text beside it (a direct label).
    """
    found = []
    for ax in fig.axes:
        direct = {t.get_text().strip() for t in ax.texts}
        groups: dict = {}

        def add(kind, key, label):
            if label and not label.startswith("_") and label.strip() not in direct:
                groups.setdefault((kind, key), []).append(label)

        for line in ax.get_lines():
            style = "no line" if _no_line(line.get_linestyle()) else line.get_linestyle()
            marker = line.get_marker()
            add("line", (style, "no marker" if _no_line(marker) else str(marker)), line.get_label())
        for container in ax.containers:
            patches = list(container) if hasattr(container, "__iter__") else []
            if patches and hasattr(patches[0], "get_hatch"):
                add("bars", patches[0].get_hatch() or "no hatch", container.get_label())
        for points in ax.collections:
            if type(points).__name__ == "PathCollection":
                paths = points.get_paths()
                shape = tuple(np.round(paths[0].vertices, 3).ravel()) if paths else ()
                add("points", (shape, bool(np.size(points.get_facecolors()))), points.get_label())
        for (kind, key), labels in groups.items():
            if len(labels) > 1:
                where = ax.get_title() or f"axes {fig.axes.index(ax)}"
                found.append(f"{where!r}: the {kind} {labels} differ by colour alone")
    return found

_METRICS = (("loss", "train_loss", "test_loss", "cross-entropy"), ("accuracy", "train_acc", "test_acc", "accuracy"))


def plot_history(history, title: str | None = None):
    """Loss (left) and accuracy (right) per epoch, train solid and test dashed; integer epoch ticks."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (name, train_key, test_key, ylabel) in zip(axes, _METRICS):
        train, test = getattr(history, train_key), getattr(history, test_key)
        ax.plot(_epochs(train), train, "-o", color="C0", markersize=3, label=f"train {name}")
        if len(test):
            ax.plot(_epochs(test), test, "--o", color="C1", markersize=3, label=f"test {name}")
        ax.set(xlabel="epoch", ylabel=ylabel)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def compare_histories(histories: dict, split: str = "train"):
    """Several runs on one pair of axes each (loss, accuracy): ``{"SGD": h1, "Adam": h2}``.

    ``split`` picks the curves: "train" or "test". Used to compare training runs (one seed each).
    Epochs get integer ticks.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if not isinstance(histories, dict) or not histories:
        raise ValueError("histories must be a non-empty dict {label: History}, e.g. {'SGD': h1, 'Adam': h2}")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, (name, train_key, test_key, ylabel) in zip(axes, _METRICS):
        key = train_key if split == "train" else test_key
        for k, (label, history) in enumerate(histories.items()):
            values = getattr(history, key)
            ax.plot(_epochs(values), values, markersize=4, label=str(label), **series_style(k))
        ax.set(xlabel="epoch", ylabel=ylabel, title=f"{split} {name}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def compare_seeds(runs: dict, ylabel: str = "test accuracy", title: str = ""):
    """Mean and spread over seeds, one curve per setting: ``{"SGD": array (seeds, epochs), ...}``.

    Each curve is the mean over the seeds (rows) with a band from the lowest to the highest seed,
    and the seeds themselves as faint lines; epochs are numbered from 1 with integer ticks. Used
    to compare optimizers in 06_optimizers.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict {label: array of shape (seeds, epochs)}")
    arrays = {label: np.atleast_2d(np.asarray(v, dtype=np.float64)) for label, v in runs.items()}
    if len({a.shape for a in arrays.values()}) != 1 or any(a.ndim != 2 for a in arrays.values()):
        raise ValueError(f"runs must all have the same shape (seeds, epochs), got "
                         f"{ {k: a.shape for k, a in arrays.items()} }")
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, (label, a) in enumerate(arrays.items()):
        epochs = _epochs(a[0])
        style = series_style(k)
        ax.plot(epochs, a.T, color=style["color"], linestyle=style["linestyle"], alpha=0.25, linewidth=0.8)
        ax.fill_between(epochs, a.min(axis=0), a.max(axis=0), color=style["color"], alpha=0.15)
        ax.plot(epochs, a.mean(axis=0), markersize=5, label=str(label), **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    n_seeds = len(next(iter(arrays.values())))
    ax.legend(loc="best", title=f"mean of {n_seeds} seeds; band: lowest to highest")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _epochs(values) -> np.ndarray:
    return np.arange(1, len(values) + 1)


def show_images(images, titles=None, ncols: int = 8, cmap: str = "gray", size: float = 1.4):
    """A grid of images, one per axis, without ticks; ``titles`` (e.g. labels) above each.

    Shape:
        - images: (N, H, W), (N, 1, H, W) greyscale, (N, 3, H, W) colour (NCHW as the layers use),
          or (N, H, W, 3) as ``plt.imshow`` takes it. Values are shown as they are (no rescaling
          for colour; greyscale spans its own min..max unless they lie in [0, 1]).
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]  # (N, H, W)
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise ValueError(
            f"images must have shape (N, H, W), (N, 1|3, H, W) or (N, H, W, 3), got {images.shape}"
        )
    n = len(images)
    if n == 0:
        raise ValueError("images is empty; pass at least one image")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}")
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2), squeeze=False)
    in_unit = images.min() >= 0 and images.max() <= 1
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        if images.ndim == 3:
            ax.imshow(images[i], cmap=cmap, vmin=0 if in_unit else None, vmax=1 if in_unit else None)
        else:
            ax.imshow(np.clip(images[i], 0, 1) if in_unit else images[i])
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    return fig


def show_kernels(weight, channel: int = 0, ncols: int = 8, size: float = 1.0):
    """The filters of a convolution, input ``channel`` of each, as a grid of heat maps (no numbers).

    Each panel is ``cnnlib.viz.convolution.plot_kernel`` (which draws one kernel, numbers included).

    Shape: weight (C_out, C_in, kH, kW), as ``Conv2d.weight``; one panel per output channel.
    """
    import matplotlib.pyplot as plt

    from cnnlib.viz.convolution import plot_kernel

    weight = np.asarray(weight, dtype=float)
    if weight.ndim != 4:
        raise ValueError(f"weight must have shape (C_out, C_in, kH, kW), got {weight.shape}")
    if not 0 <= channel < weight.shape[1]:
        raise ValueError(f"channel must be in [0, {weight.shape[1] - 1}] (C_in={weight.shape[1]}), got {channel}")
    n = weight.shape[0]
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < n:
            plot_kernel(weight[i, channel], ax=ax, fmt=None)
        else:
            ax.axis("off")
    fig.tight_layout()
    return fig


def show_signed_maps(maps: dict, title: str | None = None, shared: bool = True, size: float = 2.6):
    """Signed 2-D arrays side by side on symmetric colour scales (0 is white), with colourbars.

    ``maps`` is ``{"panel title": array (H, W)}``. With ``shared`` the one scale runs from -m to +m,
    m the largest absolute value over all panels, so equal colours mean equal values everywhere
    (one colourbar); without it each panel has its own symmetric scale and colourbar, for maps of
    very different sizes. Pixels are square. Used for convolution's gradients in 05_backpropagation.
    """
    import matplotlib.pyplot as plt

    if not isinstance(maps, dict) or not maps:
        raise ValueError("maps must be a non-empty dict {title: 2-D array}")
    arrays = {k: np.asarray(v, dtype=np.float64) for k, v in maps.items()}
    bad = {k: a.shape for k, a in arrays.items() if a.ndim != 2}
    if bad:
        raise ValueError(f"every map must be 2-D (H, W), got {bad}")
    overall = max(float(np.abs(a).max()) for a in arrays.values()) or 1.0
    fig, axes = plt.subplots(1, len(arrays), figsize=(size * len(arrays) + 1.0, size), squeeze=False)
    for ax, (name, a) in zip(axes[0], arrays.items()):
        limit = overall if shared else (float(np.abs(a).max()) or 1.0)
        image = ax.imshow(a, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="equal")
        ax.set_title(f"{name}\n{a.shape[0]}×{a.shape[1]}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        if not shared:
            fig.colorbar(image, ax=ax, shrink=0.8)
    if shared:
        fig.colorbar(image, ax=list(axes[0]), shrink=0.85)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
