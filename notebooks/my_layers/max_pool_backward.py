"""Your max pooling, backward (notebook 03): written by check_max_pool_backward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def max_pool_backward(grad_output, x, kernel_size, stride):
    k, s = kernel_size, stride
    if k > x.shape[2] or k > x.shape[3]:
        raise ValueError(f"kernel_size {k} is larger than the {x.shape[2]}x{x.shape[3]} image")
    grad = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(grad_output.shape[2]):
                for j in range(grad_output.shape[3]):
                    window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    a, b = np.unravel_index(np.argmax(window), window.shape)   # the first maximum
                    grad[n, c, i * s + a, j * s + b] += grad_output[n, c, i, j]  # += : windows may overlap
    return grad
