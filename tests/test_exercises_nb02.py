import numpy as np

from cnnlib.exercises import nb02
from cnnlib.numpy_nn.conv import Conv2d


def test_output_shape_matches_the_layer(capsys):
    out = Conv2d(3, 10, 5, stride=1, padding=2, rng=0)(np.zeros((4, 3, 32, 32)))
    assert nb02.check_output_shape(out.shape) is True
    assert nb02.check_output_shape([4, 10, 32, 32]) is True
    assert nb02.check_output_shape((4, 32, 32, 10)) is False
    assert "NCHW" in capsys.readouterr().out
    assert nb02.check_output_shape((4, 10, 28, 28)) is False
    assert nb02.check_output_shape(7) is False  # not a shape: a verdict, not a crash


def test_conv_parameters_match_the_layer(capsys):
    layer = Conv2d(16, 64, 3, rng=0)
    assert nb02.check_conv_parameters(sum(p.data.size for p in layer.parameters())) is True
    assert nb02.check_conv_parameters(9216) is False
    assert "bias" in capsys.readouterr().out
    assert nb02.check_conv_parameters(640) is False
    assert "16 input channels" in capsys.readouterr().out


def test_stride_padding(capsys):
    assert nb02.check_stride_padding((2, 1)) is True
    assert nb02.check_stride_padding((1, 0)) is False  # 5x5
    assert "the output size is 5" in capsys.readouterr().out
    assert nb02.check_stride_padding((3, 0)) is False  # doesn't fit
    assert "doesn't fit" in capsys.readouterr().out
    assert nb02.check_stride_padding((4, 4)) is False
    assert "zeros only" in capsys.readouterr().out
    assert nb02.check_stride_padding(2) is False
    assert "pair (stride, padding)" in capsys.readouterr().out
