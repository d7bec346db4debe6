"""Your residual block, projection shortcut (notebook 09): written by check_residual_block_projection when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def residual_block_projection(x, w1, w2, w_proj):
    f = np.maximum(x @ w1, 0.0) @ w2             # (N, D_out): the residual branch F(x)
    return np.maximum(f + x @ w_proj, 0.0)       # the projected shortcut, added, then the ReLU
