"""Interactive explorers for the notebooks (ipywidgets + matplotlib), and the pure logic behind them.

Call one as the last line of a notebook cell to get sliders and a figure that redraws:

- `conv_arithmetic_explorer` (02_convolution): input size, filter size, stride, padding -> output grid;
- `filter_explorer` (02_convolution): Gaussian / box / edge / sharpen kernels on a photograph;
- `activation_explorer` (01_neural_nets_activations): f and f' of sigmoid, tanh, ReLU, leaky ReLU, ELU;
- `pooling_explorer` (03_pooling): max or average pooling windows on a small map;
- `optimizer_explorer` (06_optimizers): SGD, momentum and Adam paths across a ravine.

What they draw is computed by pure functions, tested without a browser:
`arithmetic` (conv_arithmetic, pool_map), `kernels` (filter_kernel, apply_filter),
`curves` (activation_curves), `paths` (optimizer_paths); `figures` draws, `explorers` wires widgets.
"""
from cnnlib.widgets.arithmetic import conv_arithmetic, pool_map
from cnnlib.widgets.curves import activation_curves
from cnnlib.widgets.explorers import (activation_explorer, conv_arithmetic_explorer, filter_explorer,
                                      optimizer_explorer, pooling_explorer)
from cnnlib.widgets.kernels import apply_filter, filter_kernel

__all__ = [
    "conv_arithmetic_explorer", "filter_explorer", "activation_explorer", "pooling_explorer",
    "optimizer_explorer", "conv_arithmetic", "pool_map", "activation_curves", "filter_kernel", "apply_filter",
]
