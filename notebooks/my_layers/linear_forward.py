"""Your fully connected, forward (notebook 01): written by check_linear_forward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
def linear_forward(x, weight, bias):
    return x @ weight.T + bias                # out[n, o] = sum_i x[n, i] weight[o, i] + bias[o]
