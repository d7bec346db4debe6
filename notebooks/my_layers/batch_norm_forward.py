"""Your batch normalization, forward (notebook 09): written by check_batch_norm_forward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def batch_norm_forward(x, gamma, beta, eps):
    if x.shape[0] < 2:
        raise ValueError(f"batch norm needs at least 2 samples to measure a spread, got x of shape {x.shape}")
    mean = x.mean(axis=0)                        # (D,): per feature, over the batch
    var = ((x - mean) ** 2).mean(axis=0)         # (D,): biased, divided by N
    return gamma * (x - mean) / np.sqrt(var + eps) + beta
