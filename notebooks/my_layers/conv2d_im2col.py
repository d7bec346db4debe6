"""Your convolution vectorized, forward (notebook 02): written by check_conv2d_im2col when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def conv2d_im2col(x, weight, bias, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    c_out, c_in, f, _ = weight.shape
    if f > x.shape[2] or f > x.shape[3]:
        raise ValueError(f"the {f}x{f} filter is larger than the padded input {x.shape[2:]}")
    patches = np.lib.stride_tricks.sliding_window_view(x, (f, f), axis=(2, 3))[:, :, ::stride, ::stride]
    n, _, h_out, w_out = patches.shape[:4]                                  # (N, C_in, H_out, W_out, F, F)
    rows = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * h_out * w_out, c_in * f * f)
    out = rows @ weight.reshape(c_out, -1).T + bias                         # (N * H_out * W_out, C_out)
    return out.reshape(n, h_out, w_out, c_out).transpose(0, 3, 1, 2)        # (N, C_out, H_out, W_out)
