"""Your ReLU, forward (notebook 01): written by check_relu_forward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def relu_forward(x):
    return np.maximum(x, 0)                   # a new array; x is left as it was
