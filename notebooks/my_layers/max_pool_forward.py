"""Your max pooling, forward (notebook 03): written by check_max_pool_forward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def max_pool_forward(x, kernel_size, stride):
    n, c, h, w = x.shape
    k, s = kernel_size, stride
    if k > h or k > w:
        raise ValueError(f"kernel_size {k} is larger than the {h}x{w} image")
    out = np.zeros((n, c, (h - k) // s + 1, (w - k) // s + 1), dtype=x.dtype)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))  # every image and map at once
    return out
