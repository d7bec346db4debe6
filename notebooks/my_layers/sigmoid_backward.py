"""Your sigmoid, backward (notebook 01): written by check_sigmoid_backward when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
from cnnlib.numpy_nn.activation import sigmoid


def sigmoid_backward(grad_output, x):
    s = sigmoid(x)                            # the forward output
    return grad_output * s * (1 - s)          # chain rule: upstream gradient times sigma'(x)
