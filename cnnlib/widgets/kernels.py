"""Classic image filters as small kernels, and a photograph to run them on (taught in 02_convolution).

A filter is just a (size, size) weight matrix; sliding it over a grey-scale photograph with
`cnnlib.numpy_nn.conv.conv2d` is exactly what one channel of a convolutional layer does. These
are the hand-made filters the lecture shows before a network learns its own:

- ``gaussian``: weights exp(-(a² + b²) / 2σ²), summing to 1 — a blur whose width is σ;
- ``box``: every weight 1/size² — the plain average;
- ``edge_x`` / ``edge_y``: Sobel-like, a ramp across one axis times a triangle along the other,
  scaled so that a step from 0 to 1 gives 1 (for size 3 it is Sobel / 4);
- ``sharpen``: 2·identity − box, i.e. image + (image − blurred image); weights sum to 1.
"""
from __future__ import annotations

import numpy as np

from cnnlib.checks import check_float, check_int
from cnnlib.numpy_nn.conv import conv2d

FILTERS = ("gaussian", "box", "edge_x", "edge_y", "sharpen")


def filter_kernel(name: str, size: int = 3, sigma: float = 1.0) -> np.ndarray:
    """The (size, size) float64 kernel of a named filter; ``size`` must be odd so the kernel has a centre.

    >>> filter_kernel("edge_x", 3) * 4
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
    """
    if name not in FILTERS:
        raise ValueError(f"name must be one of {', '.join(FILTERS)}; got {name!r}")
    size = check_int(size, "size", minimum=1)
    if size % 2 == 0:
        raise ValueError(f"size must be odd (3, 5, 7, ...) so the kernel has a centre pixel, got {size}")
    sigma = check_float(sigma, "sigma", minimum=0.0, strict_minimum=True)
    c = size // 2
    offsets = np.arange(size) - c                                  # (size,) e.g. [-1, 0, 1]
    if name == "gaussian":
        k = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * sigma ** 2))
        return k / k.sum()
    box = np.full((size, size), 1.0 / size ** 2)
    if name == "box":
        return box
    if name == "sharpen":
        identity = np.zeros((size, size))
        identity[c, c] = 1.0
        return 2 * identity - box
    triangle = (c + 1 - np.abs(offsets)).astype(np.float64)        # e.g. [1, 2, 1]
    k = triangle[:, None] * offsets[None, :]                      # rows: triangle, columns: ramp
    positive = k[k > 0].sum()
    k = k / positive if positive > 0 else k                       # size 1: no edge to see, all zeros
    return k if name == "edge_x" else k.T


def sample_photograph(step: int = 2) -> np.ndarray:
    """scikit-image's ``camera`` (shipped with the package: offline), every ``step``-th pixel, in [0, 1].

    Shape: (512 // step, 512 // step), float32 (half the memory of float64 for the unfolded image).
    """
    from skimage.data import camera  # imported here: only the filter explorer needs scikit-image

    step = check_int(step, "step", minimum=1)
    return (camera()[::step, ::step] / 255.0).astype(np.float32)


def apply_filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Convolve a grey-scale image with one kernel, zero-padded so the output has the image's size.

    Math: out[i, j] = sum_{a, b} kernel[a, b] * image_pad[i + a, j + b]  (cross-correlation, as PyTorch).

    Shape: image (H, W), kernel (k, k) with k odd -> (H, W), in the image's float dtype.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be a grey-scale (H, W) array, got shape {image.shape}")
    if not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float64)
    kernel = np.asarray(kernel, dtype=image.dtype)
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 == 0:
        raise ValueError(f"kernel must be square with an odd size, got shape {kernel.shape}")
    out = conv2d(image[None, None], kernel[None, None], padding=kernel.shape[0] // 2)  # (1, 1, H, W)
    return out[0, 0]


def as_grey_image(image, max_side: int = 256) -> np.ndarray:
    """Any photograph as a float32 grey-scale (H, W) array in [0, 1], at most ``max_side`` pixels a side.

    Colour (H, W, 3 or 4) becomes luminance 0.2126 R + 0.7152 G + 0.0722 B; whole-number images
    are divided by their type's maximum (255 for uint8); large images keep every k-th pixel.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] in (3, 4):
        scale = np.iinfo(image.dtype).max if np.issubdtype(image.dtype, np.integer) else 1.0
        image = (image[..., :3] / scale) @ np.array([0.2126, 0.7152, 0.0722])
    elif image.ndim == 2 and np.issubdtype(image.dtype, np.integer):
        image = image / np.iinfo(image.dtype).max
    elif image.ndim != 2:
        raise ValueError(f"image must be grey-scale (H, W) or colour (H, W, 3), got shape {image.shape}")
    step = max(1, -(-max(image.shape) // max_side))             # ceil division
    return np.clip(image[::step, ::step], 0.0, 1.0).astype(np.float32)
