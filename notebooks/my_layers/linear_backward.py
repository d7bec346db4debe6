"""Your fully connected, backward (notebook 01): written by check_linear_backward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
def linear_backward(grad_output, x, weight):
    grad_input = grad_output @ weight         # each input fed every output through weight[o, i]
    grad_weight = grad_output.T @ x           # weight[o, i] met x[n, i] in every sample n
    grad_bias = grad_output.sum(axis=0)       # every sample added the same bias[o]
    return grad_input, grad_weight, grad_bias
