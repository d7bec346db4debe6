"""Your Adam, one step (notebook 06): written by check_adam_step when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def adam_step(theta, grad, m, v, step, lr, betas, eps):
    beta1, beta2 = betas
    t = step + 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    assert np.all(v_hat >= 0)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
