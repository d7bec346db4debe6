"""The five interactive explorers: ipywidgets controls around the pure functions of this package.

Each explorer is a function that builds fresh widgets (no global state) and returns one
displayable `Explorer` (an ``ipywidgets.VBox``): the controls, a one-line message, and the figure
as a PNG in an ``ipywidgets.Image``. Moving a control recomputes the result, draws a new figure and swaps the
PNG; figures are made without pyplot (see `cnnlib.widgets.figures`), so nothing piles up.

    from cnnlib.widgets import conv_arithmetic_explorer
    conv_arithmetic_explorer()          # the last line of a notebook cell
"""
from __future__ import annotations

import base64
import html
from typing import Callable

import ipywidgets as widgets
import numpy as np

from cnnlib.shapes import nearest_fitting_padding
from cnnlib.widgets import arithmetic, curves, figures, kernels, paths

EXPLORER_CLASS = "cnnlib-explorer"        # CSS classes: the browser test finds explorers by them
ERROR_CLASS = "cnnlib-explorer-error"
_STYLE = {"description_width": "initial"}


def _message(text: str, ok: bool = True) -> str:
    color = figures.GOOD if ok else figures.BAD
    return f'<span style="color:{color}; font-size:1.05em">{html.escape(text)}</span>'


class Explorer(widgets.VBox):
    """The box an explorer returns: controls, message, figure. Its text form names it, because that is
    what a notebook shows where widgets cannot run (a saved notebook opened before running, GitHub).

    Beside the live widget its output also holds a PNG of the explorer as it opened: the static
    fallback that the website and the decks show (with the cell's alt text, its caption on what to
    try, and a link that runs the notebook on Binder; see tools/figure_text.py). JupyterLab shows
    the live widget, which it ranks above any picture."""

    def __init__(self, title: str, children, picture: bytes = b""):
        super().__init__(children)
        self._title = title
        self._picture = picture
        self.add_class(EXPLORER_CLASS)

    def __repr__(self) -> str:
        return f"{self._title}: an interactive explorer (run this cell in Jupyter to use it)"

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self._picture:
            bundle["image/png"] = base64.b64encode(self._picture).decode("ascii")
        return bundle


def _explorer(controls: dict[str, widgets.ValueWidget], render: Callable[..., tuple], extra=(),
              title: str = "explorer") -> Explorer:
    """Wire ``controls`` to ``render(**values) -> (figure, message_html)`` and lay them out.

    The figure is redrawn on every change of any control's value; an exception is shown in red
    in the message line (a callback's traceback would otherwise vanish into the kernel's log).
    """
    image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
    image.add_class("cnnlib-explorer-figure")
    status = widgets.HTML()

    def update(change=None):
        values = {name: control.value for name, control in controls.items()}
        try:
            fig, message = render(**values)
            image.value = figures.figure_png(fig)
            status.value = message
            status.remove_class(ERROR_CLASS)
        except Exception as exc:  # noqa: BLE001 - shown to the learner rather than lost
            status.value = _message(f"{type(exc).__name__}: {exc}", ok=False)
            status.add_class(ERROR_CLASS)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    row = widgets.HBox([*controls.values(), *extra], layout=widgets.Layout(flex_flow="row wrap"))
    return Explorer(title, [row, status, image], picture=image.value)


def _width(description: str) -> widgets.Layout:
    """Room for the description AND a usable track (a fixed width would squeeze the track)."""
    return widgets.Layout(width=f"{max(300, 200 + 8 * len(description))}px")


def _int_slider(description, value, low, high, step=1):
    return widgets.IntSlider(value=value, min=low, max=high, step=step, description=description,
                             continuous_update=False, style=_STYLE, layout=_width(description))


def _float_slider(description, value, low, high, step, fmt=".2f"):
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               continuous_update=False, readout_format=fmt, style=_STYLE,
                               layout=_width(description))


# -- 02_convolution -------------------------------------------------------------------------------
def conv_arithmetic_explorer(n: int = 7, kernel_size: int = 3, stride: int = 2, padding: int = 0) -> Explorer:
    """Input size N, filter size F, stride S and padding P -> where the filter lands and the output size.

    Shows the padded input with every filter position, the output grid, the lecture's formula
    (N − F + 2P) / S + 1 with the numbers filled in, and, when it is not a whole number, a
    "doesn't fit" message with the nearest padding that fits (the button applies it).
    Taught in 02_convolution.
    """
    controls = {
        "n": _int_slider("input size N", n, 1, 16),
        "kernel_size": _int_slider("filter size F", kernel_size, 1, 7),
        "stride": _int_slider("stride S", stride, 1, 4),
        "padding": _int_slider("padding P", padding, 0, 4),
    }
    fix = widgets.Button(description="use the nearest padding that fits", layout=widgets.Layout(width="auto"))

    def render(n, kernel_size, stride, padding):
        r = arithmetic.conv_arithmetic(n, kernel_size, stride, padding)
        fix.disabled = r.fits or r.suggestion is None or r.suggestion > controls["padding"].max
        return figures.conv_arithmetic_figure(r), _message(r.message, ok=r.fits)

    def apply_suggestion(_button):
        c = {name: control.value for name, control in controls.items()}
        suggestion = nearest_fitting_padding(c["n"], c["kernel_size"], c["stride"], c["padding"])
        if suggestion is not None:
            controls["padding"].value = min(suggestion, controls["padding"].max)

    fix.on_click(apply_suggestion)
    return _explorer(controls, render, extra=[fix], title="conv_arithmetic_explorer")


def filter_explorer(image: np.ndarray | None = None) -> Explorer:
    """A hand-made filter (Gaussian with σ, box, edges, sharpen) and its size -> the kernel and the filtered photo.

    ``image``: a grey-scale (H, W) or colour (H, W, 3) array; by default scikit-image's ``camera``
    at 256 × 256 (offline). The filtering is `cnnlib.numpy_nn.conv.conv2d`. Taught in 02_convolution.
    """
    photo = kernels.sample_photograph() if image is None else kernels.as_grey_image(image)
    names = [("Gaussian blur", "gaussian"), ("box blur", "box"), ("edges along x (Sobel-like)", "edge_x"),
             ("edges along y (Sobel-like)", "edge_y"), ("sharpen", "sharpen")]
    controls = {
        "name": widgets.Dropdown(options=names, value="gaussian", description="filter", style=_STYLE),
        "size": _int_slider("size", 5, 1, 15, step=2),
        "sigma": _float_slider("σ (Gaussian)", 1.0, 0.3, 5.0, 0.1, ".1f"),
    }

    def render(name, size, sigma):
        controls["sigma"].disabled = name != "gaussian"
        kernel = kernels.filter_kernel(name, size, sigma)
        filtered = kernels.apply_filter(photo, kernel.astype(photo.dtype))
        signed = name in ("edge_x", "edge_y")
        label = dict((v, k) for k, v in names)[name] + (f", σ = {sigma:.1f}" if name == "gaussian" else "")
        fig = figures.filter_figure(kernel, photo, filtered, f"{label}: {size}×{size} kernel", signed)
        return fig, _message(f"conv2d of a {photo.shape[0]}×{photo.shape[1]} photograph with a "
                             f"{size}×{size} kernel, zero padding {size // 2} (same size out)")

    return _explorer(controls, render, title="filter_explorer")


# -- 01_neural_nets_activations -------------------------------------------------------------------
def activation_explorer() -> Explorer:
    """Sigmoid, tanh, ReLU, leaky ReLU (negative slope) or ELU (α) -> f(x) and f′(x) on [-5, 5].

    Both curves come from `cnnlib.numpy_nn.activation`'s forward and backward passes.
    Taught in 01_neural_nets_activations.
    """
    x = np.linspace(-5, 5, 1001)
    controls = {
        "name": widgets.Dropdown(options=[("sigmoid", "sigmoid"), ("tanh", "tanh"), ("ReLU", "relu"),
                                          ("leaky ReLU", "leaky_relu"), ("ELU", "elu")],
                                 value="sigmoid", description="activation", style=_STYLE),
        "negative_slope": _float_slider("negative_slope (leaky ReLU)", 0.1, 0.0, 1.0, 0.01),
        "alpha": _float_slider("α (ELU)", 1.0, 0.1, 3.0, 0.1, ".1f"),
    }

    def render(name, negative_slope, alpha):
        controls["negative_slope"].disabled = name != "leaky_relu"
        controls["alpha"].disabled = name != "elu"
        y, dy = curves.activation_curves(name, x, negative_slope=negative_slope, alpha=alpha)
        formula = curves.activation_formula(name, negative_slope=negative_slope, alpha=alpha)
        peak = float(dy.max())
        return figures.activation_figure(x, y, dy, formula), _message(
            f"{formula};  largest slope f′ on [-5, 5]: {peak:.3f}")

    return _explorer(controls, render, title="activation_explorer")


# -- 03_pooling -----------------------------------------------------------------------------------
def pooling_explorer(activation_map: np.ndarray | None = None) -> Explorer:
    """Max or average pooling, window and stride on a small activation map -> the windows and the output.

    ``activation_map``: a 2-D array (by default an 8 × 8 map of whole numbers 0..9).
    Taught in 03_pooling.
    """
    x = arithmetic.example_activation_map() if activation_map is None else np.asarray(activation_map, float)
    if x.ndim != 2:
        raise ValueError(f"activation_map must be a 2-D array (H, W), got shape {x.shape}")
    controls = {
        "mode": widgets.ToggleButtons(options=[("max", "max"), ("average", "avg")], value="max",
                                      description="pooling", style=_STYLE),
        "kernel_size": _int_slider("window K", 2, 1, min(4, *x.shape)),
        "stride": _int_slider("stride S", 2, 1, 4),
    }

    def render(mode, kernel_size, stride):
        res = arithmetic.pool_map(x, mode, kernel_size, stride)
        h_out, w_out = res.output.shape
        note = "" if res.ignored == 0 else f"; the last {res.ignored} row(s)/column(s) are never pooled"
        return figures.pooling_figure(x, res), _message(
            f"{x.shape[0]}×{x.shape[1]} → {h_out}×{w_out} with floor(({x.shape[0]} − {kernel_size}) / {stride}) + 1"
            f" = {h_out}{note}", ok=res.ignored == 0)

    return _explorer(controls, render, title="pooling_explorer")


# -- 06_optimizers -----------------------------------------------------------------------
def optimizer_explorer() -> Explorer:
    """Learning rate, momentum, β₁, β₂ and steps -> the paths of SGD, momentum and Adam across a ravine.

    The paths come from `cnnlib.surfaces.optimizer_path`, i.e. from the optimizers in
    `cnnlib.numpy_nn.optim` run on a 2-D loss surface. Taught in 06_optimizers.
    """
    controls = {
        "surface": widgets.Dropdown(options=[("ravine x²/20 + y²", "ravine"), ("bowl (x² + y²)/2", "bowl")],
                                    value="ravine", description="surface", style=_STYLE),
        "lr": widgets.FloatLogSlider(value=0.1, base=10, min=-3, max=0.3, step=0.1, description="lr",
                                     continuous_update=False, readout_format=".3f", style=_STYLE),
        "momentum": _float_slider("momentum", 0.9, 0.0, 0.99, 0.01),
        "beta1": _float_slider("β₁", 0.9, 0.0, 0.99, 0.01),
        "beta2": _float_slider("β₂", 0.999, 0.9, 0.9999, 0.0001, ".4f"),
        "steps": _int_slider("steps", 50, 1, 200),
    }

    def render(surface, lr, momentum, beta1, beta2, steps):
        result = paths.optimizer_paths(lr=lr, momentum=momentum, betas=(beta1, beta2), steps=steps,
                                       surface=surface)
        title = f"lr = {lr:.3g}, momentum = {momentum:.2f}, β = ({beta1:.2f}, {beta2:.4f}), {steps} steps"
        fig = figures.optimizer_figure(result.surface, result.paths, title)
        ok = not any(np.isnan(list(result.final_losses.values())))
        return fig, _message(f"loss after {steps} steps: {paths.describe_final_losses(result.final_losses)}", ok)

    return _explorer(controls, render, title="optimizer_explorer")
