"""Your batch normalization, backward (notebook 09): written by check_batch_norm_backward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def batch_norm_backward(grad_output, x, gamma, eps):
    if x.shape[0] < 2:
        raise ValueError(f"batch norm needs at least 2 samples to measure a spread, got x of shape {x.shape}")
    mean, var = x.mean(axis=0), x.var(axis=0)    # (D,) each; np.var divides by N
    x_hat = (x - mean) / np.sqrt(var + eps)      # (N, D)
    d = grad_output * gamma                      # the gradient reaching x_hat
    grad_x = (d - d.mean(axis=0) - x_hat * (d * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return grad_x, (grad_output * x_hat).sum(axis=0), grad_output.sum(axis=0)
