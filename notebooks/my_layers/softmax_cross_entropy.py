"""Your softmax cross-entropy, loss and gradient (notebook 04): written by check_softmax_cross_entropy when it passed.

Edit it in the notebook and run its check again; this file is rewritten then.
"""
import numpy as np


def softmax_cross_entropy(logits, labels):
    n = len(labels)
    shifted = logits - logits.max(axis=1, keepdims=True)            # every exponent <= 0
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), labels].mean()
    grad = np.exp(log_p)                                            # softmax
    grad[np.arange(n), labels] -= 1                                 # softmax - onehot
    return loss, grad / n                                           # the mean divides by N
