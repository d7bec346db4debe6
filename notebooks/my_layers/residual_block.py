"""Your residual block, identity shortcut (notebook 09): written by check_residual_block when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def residual_block(x, w1, w2):
    f = np.maximum(x @ w1, 0.0) @ w2            # the residual branch F(x)
    return np.maximum(f + x, 0.0)               # add the shortcut, then the ReLU
