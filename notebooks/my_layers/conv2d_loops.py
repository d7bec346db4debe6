"""Your convolution as loops, forward (notebook 02): written by check_conv2d_loops when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def conv2d_loops(x, weight, bias, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, w = x.shape
    c_out, _, f, _ = weight.shape
    if f > h or f > w:
        raise ValueError(f"the {f}x{f} filter is larger than the padded input ({h}x{w})")
    out = np.zeros((n, c_out, (h - f) // stride + 1, (w - f) // stride + 1))
    for b in range(n):
        for k in range(c_out):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    patch = x[b, :, i * stride:i * stride + f, j * stride:j * stride + f]   # (C_in, F, F)
                    out[b, k, i, j] = np.sum(patch * weight[k]) + bias[k]
    return out
