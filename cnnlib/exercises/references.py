"""cnnlib's reference for every layer the learner writes, called the way the learner's function is declared.

The checkers compare the learner's function with these on many cases, and
:mod:`cnnlib.exercises.my_layers` falls back to them for a layer whose exercise has not passed yet.
Each one wraps cnnlib's NumPy layer (``cnnlib.numpy_nn``): the truth a learner can read.

=============================  ==================================================================
learner's function              returns
=============================  ==================================================================
relu_forward(x)                 out
relu_backward(grad_output, x)   grad_x
sigmoid_backward(grad_output, x)  grad_x
linear_forward(x, weight, bias)   out = x @ weight.T + bias
linear_backward(grad_output, x, weight)   (grad_x, grad_weight, grad_bias)
conv2d_loops / conv2d_im2col(x, weight, bias, stride, padding)   out (N, C_out, H_out, W_out)
conv2d_backward_loops / conv2d_backward_im2col(grad_output, x, weight, stride, padding)
                                (grad_x, grad_weight, grad_bias)
max_pool_forward(x, kernel_size, stride)   out
max_pool_backward(grad_output, x, kernel_size, stride)   grad_x
softmax_cross_entropy(logits, labels)   (mean loss, grad_logits)
sgd_momentum_step(theta, grad, buffer, lr, momentum)   (theta, buffer)
adam_step(theta, grad, m, v, step, lr, betas, eps)   (theta, m, v)
batch_norm_forward(x, gamma, beta, eps)   out: x (N, D), the batch's mean and biased variance
batch_norm_backward(grad_output, x, gamma, eps)   (grad_x, grad_gamma, grad_beta)
residual_block(x, w1, w2)   relu(relu(x @ w1) @ w2 + x)
residual_block_projection(x, w1, w2, w_proj)   relu(relu(x @ w1) @ w2 + x @ w_proj)
=============================  ==================================================================
"""
from __future__ import annotations

import numpy as np

from cnnlib.numpy_nn.activation import relu_backward as _relu_backward, relu_forward as _relu_forward
from cnnlib.numpy_nn.activation import sigmoid_backward as _sigmoid_backward, sigmoid_forward as _sigmoid_forward
from cnnlib.numpy_nn.conv import conv2d, conv2d_backward as _conv2d_backward, conv2d_forward as _conv2d_forward
from cnnlib.numpy_nn.linear import linear_backward as _linear_backward, linear_forward as _linear_forward
from cnnlib.numpy_nn.loss import cross_entropy_backward, cross_entropy_forward
from cnnlib.numpy_nn.normalization import batch_norm_backward as _bn_backward, batch_norm_forward as _bn_forward
from cnnlib.numpy_nn.pooling import max_pool2d, max_pool2d_backward, max_pool2d_forward


def relu_forward(x):
    return _relu_forward(x)[0]


def relu_backward(grad_output, x):
    return _relu_backward(grad_output, _relu_forward(x)[1])


def sigmoid_backward(grad_output, x):
    return _sigmoid_backward(grad_output, _sigmoid_forward(x)[1])


def linear_forward(x, weight, bias):
    return _linear_forward(x, weight, bias)[0]


def linear_backward(grad_output, x, weight):
    return _linear_backward(grad_output, _linear_forward(x, weight, np.zeros(weight.shape[0], weight.dtype))[1])


def conv2d_im2col(x, weight, bias, stride, padding):
    return conv2d(x, weight, bias, stride=stride, padding=padding, algorithm="im2col")


conv2d_loops = conv2d_im2col


def conv2d_backward_im2col(grad_output, x, weight, stride, padding):
    bias = np.zeros(len(weight), dtype=np.asarray(weight).dtype)   # a bias, so that its gradient exists
    _, cache = _conv2d_forward(x, weight, bias, stride, padding, algorithm="im2col")
    return _conv2d_backward(grad_output, cache)


conv2d_backward_loops = conv2d_backward_im2col


def max_pool_forward(x, kernel_size, stride):
    return max_pool2d(x, kernel_size, stride)


def max_pool_backward(grad_output, x, kernel_size, stride):
    return max_pool2d_backward(grad_output, max_pool2d_forward(x, kernel_size, stride)[1])


def softmax_cross_entropy(logits, labels):
    loss, cache = cross_entropy_forward(logits, labels)
    return loss, cross_entropy_backward(1.0, cache)


def sgd_momentum_step(theta, grad, buffer, lr, momentum):
    """PyTorch's SGD with momentum (dampening 0, no Nesterov): b = momentum * b + grad; theta -= lr * b."""
    buffer = momentum * np.asarray(buffer) + grad
    return theta - lr * buffer, buffer


def adam_step(theta, grad, m, v, step, lr, betas, eps):
    """One step of Adam with bias correction; ``step`` counts the steps taken before this one."""
    b1, b2 = betas
    t = step + 1
    m = b1 * np.asarray(m) + (1 - b1) * grad
    v = b2 * np.asarray(v) + (1 - b2) * grad * grad
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _bn(x, gamma, beta, eps):
    x = np.asarray(x)
    return _bn_forward(x[:, :, None, None], None, None, gamma, beta, training=True, eps=eps)


def batch_norm_forward(x, gamma, beta, eps):
    return _bn(x, gamma, beta, eps)[0][:, :, 0, 0]


def batch_norm_backward(grad_output, x, gamma, eps):
    _, cache = _bn(x, gamma, np.zeros_like(gamma), eps)
    grad_x, grad_gamma, grad_beta = _bn_backward(np.asarray(grad_output)[:, :, None, None], cache)
    return grad_x[:, :, 0, 0], grad_gamma, grad_beta


def residual_block(x, w1, w2):
    return np.maximum(np.maximum(x @ w1, 0.0) @ w2 + x, 0.0)


def residual_block_projection(x, w1, w2, w_proj):
    return np.maximum(np.maximum(x @ w1, 0.0) @ w2 + x @ w_proj, 0.0)
