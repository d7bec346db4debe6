import numpy as np

from cnnlib.exercises import nb02
from cnnlib.exercises.functions import allow_shortcuts
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


# -- function exercises: each plausible mistake rejected for its own reason, the reference accepted --
import pytest  # noqa: E402
import torch  # noqa: E402

from cnnlib.exercises import core  # noqa: E402
from exercise_notebooks import rejected_for  # noqa: E402


def output_size_reference(n, f, stride, padding):
    span = n - f + 2 * padding
    if span < 0 or span % stride:
        raise ValueError("the filter doesn't fit")
    return span // stride + 1


def _fitting(formula):
    def output_size(n, f, stride, padding):
        size = formula(n, f, stride, padding)
        if size != int(size) or size < 1:
            raise ValueError("the filter doesn't fit")
        return int(size)
    return output_size


OUTPUT_SIZE_MUTATIONS = [
    (lambda n, f, s, p: (n - f + 2 * p) // s + 1, "the filter doesn't fit: raise ValueError"),
    (lambda n, f, s, p: (n - f + 2 * p) / s + 1, "the filter doesn't fit: raise ValueError"),
    (_fitting(lambda n, f, s, p: (n - f) / s + 1), "padding ignored"),
    (_fitting(lambda n, f, s, p: (n - f + p) / s + 1), "added on both sides"),
    (_fitting(lambda n, f, s, p: n - f + 2 * p + 1), "stride ignored"),
]


@pytest.mark.parametrize("wrong, hint", OUTPUT_SIZE_MUTATIONS)
def test_output_size_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb02.check_output_size, wrong, hint, OUTPUT_SIZE_MUTATIONS, capsys)
    assert core.latest("output_size").status == "fail"


def test_output_size_accepts_the_reference(capsys):
    assert nb02.check_output_size(output_size_reference) is True
    assert "Output size: correct on all 46 cases!" in capsys.readouterr().out


def conv_loops(x, weight, bias, stride, padding, flip=False, use_bias=True, step=None, pad=None):
    p = padding if pad is None else pad
    s = stride if step is None else step
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    w = weight[..., ::-1, ::-1] if flip else weight
    n, _, h, wd = x.shape
    k, _, f, _ = w.shape
    out = np.zeros((n, k, (h - f) // s + 1, (wd - f) // s + 1))
    for b in range(n):
        for c in range(k):
            for i in range(out.shape[2]):
                for j in range(out.shape[3]):
                    out[b, c, i, j] = np.sum(x[b, :, i * s:i * s + f, j * s:j * s + f] * w[c])
                    out[b, c, i, j] += bias[c] if use_bias else 0.0
    return out


CONV_MUTATIONS = [
    (lambda *a: conv_loops(*a, use_bias=False), "forgot the bias"),
    (lambda *a: conv_loops(*a, step=1), "stride ignored"),
    (lambda *a: conv_loops(*a, pad=0), "padding ignored"),
    (lambda *a: conv_loops(*a, flip=True), "the filter is flipped"),
]


@pytest.mark.parametrize("wrong, hint", CONV_MUTATIONS)
def test_conv2d_loops_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb02.check_conv2d_loops, wrong, hint, CONV_MUTATIONS, capsys)
    assert "The smallest case it fails" in out


def test_conv2d_loops_accepts_the_reference_and_torch(capsys):
    assert nb02.check_conv2d_loops(conv_loops) is True
    with allow_shortcuts():  # parity of the checker's reference with torch; a learner's torch call is refused
        assert nb02.check_conv2d_loops(lambda x, w, b, s, p: torch.nn.functional.conv2d(
            torch.as_tensor(x), torch.as_tensor(w), torch.as_tensor(b), stride=s, padding=p)) is True
    assert capsys.readouterr().out.count("Conv2d forward: correct on all 33 cases!") == 2


def test_conv2d_loops_cases_include_every_geometry_the_notebook_calls_it_with():
    geometries = {(c.inputs["x"].shape, c.inputs["weight"].shape, c.inputs["stride"], c.inputs["padding"])
                  for c in nb02._conv_cases()}
    assert ((1, 3, 32, 32), (6, 3, 5, 5), 2, 2) in geometries   # 02's cell after the exercise: the astronaut


def _exact_fit_only(x, weight, bias, stride, padding):
    """Loops that refuse a stride that does not fit, as the output_size exercise does."""
    span_h, span_w = x.shape[2] + 2 * padding - weight.shape[2], x.shape[3] + 2 * padding - weight.shape[3]
    if span_h % stride or span_w % stride:
        raise ValueError("the filter doesn't fit")
    return conv_loops(x, weight, bias, stride, padding)


def _rounding_up(x, weight, bias, stride, padding):
    """Loops that count a last, partial step: one output row and column too many where the stride does not fit."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    f = weight.shape[2]
    h_out, w_out = -(-(x.shape[2] - f) // stride) + 1, -(-(x.shape[3] - f) // stride) + 1
    xp = np.pad(x, ((0, 0), (0, 0), (0, f), (0, f)))
    out = np.zeros((x.shape[0], weight.shape[0], h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = xp[:, :, i * stride:i * stride + f, j * stride:j * stride + f]
            out[:, :, i, j] = np.einsum("nchw,kchw->nk", patch, weight) + bias
    return out


def test_conv2d_loops_rejects_loops_that_only_work_where_the_stride_fits(capsys):
    assert nb02.check_conv2d_loops(_exact_fit_only) is False
    out = capsys.readouterr().out
    assert "raised ValueError: the filter doesn't fit" in out and "round down" in out, out
    assert core.latest("conv2d_loops").status == "error"
    assert nb02.check_conv2d_loops(_rounding_up) is False
    out = capsys.readouterr().out
    assert "round down" in out and "has shape" in out, out


def test_function_stubs_are_not_attempted(capsys):
    def conv2d_loops(x, weight, bias, stride, padding):
        raise NotImplementedError  # your code here

    def output_size(n, f, stride, padding):
        ...

    assert nb02.check_conv2d_loops(conv2d_loops) is False
    assert nb02.check_output_size(output_size) is False
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("conv2d_loops").status == "not attempted"


def test_code_that_raises_is_an_error_with_its_last_line(capsys):
    def conv2d_loops(x, weight, bias, stride, padding):
        return x[:, :, ::stride, ::stride] * weight  # shapes that do not broadcast

    assert nb02.check_conv2d_loops(conv2d_loops) is False
    out = capsys.readouterr().out
    assert out.startswith("Conv2d forward: conv2d_loops raised ValueError: operands could not be broadcast"), out
    assert core.latest("conv2d_loops").status == "error"
