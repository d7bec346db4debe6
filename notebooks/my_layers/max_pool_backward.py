"""Your max pooling, backward (notebook 03): written by check_max_pool_backward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def max_pool_backward(grad_output, x, kernel_size, stride):
    k, s = kernel_size, stride
    if k > x.shape[2] or k > x.shape[3]:
        raise ValueError(f"kernel_size {k} is larger than the {x.shape[2]}x{x.shape[3]} image")
    n, c = x.shape[:2]
    grad = np.zeros_like(x)
    for i in range(grad_output.shape[2]):
        for j in range(grad_output.shape[3]):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)  # every image and map at once
            first = np.arange(k * k) == window.argmax(axis=2)[:, :, None]           # the first maximum of each
            sent = first * grad_output[:, :, i, j, None]
            grad[:, :, i * s:i * s + k, j * s:j * s + k] += sent.reshape(n, c, k, k)  # += : windows may overlap
    return grad
