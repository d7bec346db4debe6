"""Functions with ``torch.nn.functional``'s names and arguments, written in tensor operations.

    from cnnlib.torch_nn import functional as F
    y = F.conv2d(x, weight, bias, stride=2, padding=1)    # any device, float32 or float64

The same names as ``cnnlib.numpy_nn.functional``: each function's backward is hand-written (a
``torch.autograd.Function`` calls ``conv2d_backward`` & co.), and the pure pairs
(``conv2d_forward`` returning a cache, ``conv2d_backward`` taking it) and the naive loop versions
are re-exported here too.
"""
from cnnlib.torch_nn.activation import (
    elu, elu_backward, elu_forward, leaky_relu, leaky_relu_backward, leaky_relu_forward, maxout,
    maxout_backward, maxout_forward, relu, relu_backward, relu_forward, sigmoid, sigmoid_backward,
    sigmoid_forward, tanh, tanh_backward, tanh_forward,
)
from cnnlib.torch_nn.conv import (
    conv2d, conv2d_backward, conv2d_backward_naive, conv2d_forward, conv2d_naive,
)
from cnnlib.torch_nn.dropout import dropout, dropout_backward, dropout_forward
from cnnlib.torch_nn.linear import linear, linear_backward, linear_forward
from cnnlib.torch_nn.loss import (
    cross_entropy, cross_entropy_backward, cross_entropy_forward, hinge_loss, hinge_loss_backward,
    hinge_loss_forward, l1_loss, l1_loss_backward, l1_loss_forward, mse_loss, mse_loss_backward,
    mse_loss_forward, multi_margin_loss, multi_margin_loss_backward, multi_margin_loss_forward,
    multiclass_hinge_loss, multiclass_hinge_loss_backward, multiclass_hinge_loss_forward,
    smooth_l1_loss, smooth_l1_loss_backward, smooth_l1_loss_forward,
)
from cnnlib.torch_nn.normalization import (
    batch_norm, batch_norm_backward, batch_norm_forward, local_response_norm, local_response_norm_backward,
    local_response_norm_forward,
)
from cnnlib.torch_nn.pooling import (
    avg_pool2d, avg_pool2d_backward, avg_pool2d_backward_naive, avg_pool2d_forward, avg_pool2d_naive,
    max_pool2d, max_pool2d_backward, max_pool2d_backward_naive, max_pool2d_forward, max_pool2d_naive,
)
from cnnlib.torch_nn.pooling_adaptive import (
    adaptive_avg_pool2d, adaptive_avg_pool2d_backward, adaptive_avg_pool2d_forward, adaptive_avg_pool2d_naive,
)
from cnnlib.torch_nn.softmax import (
    log_softmax, log_softmax_backward, log_softmax_forward, softmax, softmax_backward, softmax_forward,
)

__all__ = [name for name in dir() if not name.startswith("_")]
