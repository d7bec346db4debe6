"""Your SGD with momentum, one step (notebook 06): written by check_sgd_momentum_step when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
def sgd_momentum_step(theta, grad, buffer, lr, momentum):
    buffer = momentum * buffer + grad              # no lr inside: that is the lecture's v = lr * b
    assert buffer.shape == theta.shape
    return theta - lr * buffer, buffer
