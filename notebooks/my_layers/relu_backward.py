"""Your ReLU, backward (notebook 01): written by check_relu_backward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
def relu_backward(grad_output, x):
    return grad_output * (x > 0)              # slope 1 where x > 0, 0 elsewhere (x == 0 included)
