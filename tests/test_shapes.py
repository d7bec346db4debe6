"""cnnlib.shapes: the lecture's output-size formula, its "doesn't fit" error, and PyTorch's floor rule."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import cnnlib
from cnnlib.shapes import conv_output_size, fitting_paddings, floor_output_size, nearest_fitting_padding


@pytest.mark.parametrize("n, kernel_size, stride, padding, expected", [
    (7, 3, 1, 0, 5),       # the lecture's 7x7 input, 3x3 filter, stride 1
    (7, 3, 2, 0, 3),       # ... stride 2
    (227, 11, 4, 0, 55),   # AlexNet CONV1
    (55, 3, 2, 0, 27),     # AlexNet POOL1 (overlapping)
    (32, 5, 1, 0, 28),     # LeNet-style 5x5 filter on a 32x32 image
    (32, 5, 1, 2, 32),
    (224, 3, 1, 1, 224),   # VGG's 3x3, pad 1
    (1, 1, 1, 0, 1),
])
def test_lecture_numbers(n, kernel_size, stride, padding, expected):
    assert conv_output_size(n, kernel_size, stride, padding) == expected
    assert floor_output_size(n, kernel_size, stride, padding) == expected


@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7, 11])
@pytest.mark.parametrize("n", [5, 14, 32])
def test_padding_of_half_the_filter_keeps_the_size(n, kernel_size):
    if kernel_size <= n:
        assert conv_output_size(n, kernel_size, stride=1, padding=(kernel_size - 1) // 2) == n


def test_filter_that_does_not_fit_raises_and_suggests_a_padding():
    with pytest.raises(ValueError, match=r"doesn't fit.*= 2\.33 is not a whole number; padding=1 fits \(output 3\)"):
        conv_output_size(7, 3, stride=3)
    assert conv_output_size(7, 3, stride=3, padding=1) == 3  # the suggestion works
    assert floor_output_size(7, 3, stride=3) == 2            # what the layers (and PyTorch) compute instead
    with pytest.raises(ValueError, match=r"= 112\.50 is not a whole number"):
        conv_output_size(224, 7, stride=2, padding=3)        # ResNet's first convolution does not fit exactly ...
    assert floor_output_size(224, 7, stride=2, padding=3) == 112  # ... PyTorch drops the last row and column


def test_kernel_larger_than_padded_input_and_bad_arguments_raise():
    with pytest.raises(ValueError, match=r"kernel_size=5 is larger than the padded input \(3 \+ 2\*0 = 3\)"):
        conv_output_size(3, 5)
    with pytest.raises(ValueError, match="stride must be positive"):
        conv_output_size(7, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be non-negative"):
        conv_output_size(7, 3, padding=-1)
    with pytest.raises(ValueError, match="n must be an integer"):
        conv_output_size(7.0, 3)


def test_exported_at_the_top_level():
    assert cnnlib.conv_output_size is conv_output_size


@given(n=st.integers(1, 40), kernel_size=st.integers(1, 7), stride=st.integers(1, 4), padding=st.integers(0, 3))
def test_floor_rule_is_pytorchs_and_agrees_with_the_lecture_when_the_filter_fits(n, kernel_size, stride, padding):
    if kernel_size > n + 2 * padding:
        return
    out = F.conv2d(torch.zeros(1, 1, n, 1), torch.zeros(1, 1, kernel_size, 1), stride=(stride, 1),
                   padding=(padding, 0))
    assert floor_output_size(n, kernel_size, stride, padding) == out.shape[2]
    if (n + 2 * padding - kernel_size) % stride == 0:
        assert conv_output_size(n, kernel_size, stride, padding) == out.shape[2]
    else:
        with pytest.raises(ValueError, match="doesn't fit"):
            conv_output_size(n, kernel_size, stride, padding)


def test_docstring_examples():
    import doctest

    import cnnlib.shapes

    result = doctest.testmod(cnnlib.shapes)
    assert result.attempted >= 4 and result.failed == 0


# -- dilation, and the helpers refuse what conv_output_size refuses ------------------------------------
@given(n=st.integers(1, 30), kernel_size=st.integers(1, 5), stride=st.integers(1, 4), padding=st.integers(0, 3),
       dilation=st.integers(1, 4))
def test_floor_output_size_with_dilation_matches_pytorch(n, kernel_size, stride, padding, dilation):
    x, w = torch.zeros(1, 1, n, 1), torch.zeros(1, 1, kernel_size, 1)
    if dilation * (kernel_size - 1) + 1 > n + 2 * padding:
        with pytest.raises(ValueError, match=r"kernel_size=\d+.* is larger than the padded input"):
            floor_output_size(n, kernel_size, stride, padding, dilation)
        with pytest.raises(RuntimeError):
            F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1))
        return
    out = F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0), dilation=(dilation, 1)).shape[2]
    assert floor_output_size(n, kernel_size, stride, padding, dilation) == out
    if (n + 2 * padding - dilation * (kernel_size - 1) - 1) % stride == 0:
        assert conv_output_size(n, kernel_size, stride, padding, dilation) == out


@pytest.mark.parametrize("args, match", [
    ((0, 3, 1, 0), "n must be positive"),
    ((7, 0, 1, 0), "kernel_size must be positive"),
    ((7, 3, 0, 0), "stride must be positive"),
    ((7, 3, 1, -1), "padding must be non-negative"),
    ((7.0, 3, 1, 0), "n must be an integer"),
    ((7, "3", 1, 0), "kernel_size must be an integer"),
])
def test_size_helpers_refuse_what_conv_output_size_refuses(args, match):
    for helper in (conv_output_size, floor_output_size, nearest_fitting_padding, fitting_paddings):
        with pytest.raises(ValueError, match=match):
            helper(*args)
    with pytest.raises(ValueError, match="dilation must be positive"):
        floor_output_size(7, 3, 1, 0, 0)
    with pytest.raises(ValueError, match=r"kernel_size=3 \(with dilation=4 it spans 9\) is larger than the padded"):
        conv_output_size(7, 3, dilation=4)
    with pytest.raises(ValueError, match=r"kernel_size=5 is larger than the padded input \(3 \+ 2\*0 = 3\)"):
        floor_output_size(3, 5)
