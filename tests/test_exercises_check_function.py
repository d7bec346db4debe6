"""check_function's judgement (cnnlib.exercises.functions, compare, own_code.shortcuts): the tolerance follows
the dtype, whole numbers stay whole, a failing entry shows the digits that differ, a function that calls
cnnlib or PyTorch is refused as a shortcut, and hints are claimed only where they name the mistake, with a
second mistake named too."""
import functools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlib.exercises import core, nb02
from cnnlib.exercises.answers import is_close
from cnnlib.exercises.examples import check_relu_forward
from cnnlib.exercises.functions import Case, Hint, allow_shortcuts, check_function
from cnnlib.numpy_nn.activation import relu as cnnlib_relu
from cnnlib.numpy_nn.activation import relu_forward as cnnlib_relu_forward
from cnnlib.shapes import conv_output_size


@pytest.fixture(autouse=True)
def fresh_registry():
    core.clear_verdicts()
    yield
    core.clear_verdicts()


def _exp_cases(dtype=np.float64):
    rng = np.random.default_rng(7)
    return [Case({"x": rng.uniform(60.0, 80.0, size=(3, 4)).astype(dtype)}, "large logits")]


def check_exp(fn, dtype=np.float64, **kw):
    return check_function(fn, lambda x: np.exp(x.astype(np.float64)), _exp_cases(dtype), "Exp", **kw)


def mine_float32(x):
    return np.exp(x.astype(np.float32))  # x rounded to float32 moves exp(x) by up to 4e-6, relatively


def test_a_float32_result_is_judged_at_float32_precision(capsys):
    x = _exp_cases()[0].inputs["x"]
    assert not np.allclose(mine_float32(x), np.exp(x), rtol=1e-6, atol=1e-8)  # the old fixed tolerance rejected it
    assert check_exp(mine_float32) is True, capsys.readouterr().out
    # float32 inputs: a result computed in float64 from them, or in float32, is right as well
    assert check_exp(lambda x: np.exp(x.astype(np.float64)), dtype=np.float32) is True
    assert check_exp(np.exp, dtype=np.float32) is True


def test_float32_precision_still_catches_a_wrong_result(capsys):
    assert check_exp(lambda x: mine_float32(x) * np.float32(1 + 1e-3)) is False
    out = capsys.readouterr().out
    assert "float32 precision: rtol 0.0001" in out and "(float32)" in out


def test_a_float64_result_keeps_the_tight_tolerance(capsys):
    assert check_exp(lambda x: np.exp(x) * (1 + 1e-5)) is False
    out = capsys.readouterr().out
    assert "rtol 1e-06" in out and "float32" not in out


def test_float64_because_refuses_float32_and_says_why(capsys):
    because = "the next cell subtracts two nearly equal sums"
    assert check_exp(mine_float32, float64_because=because) is False
    out = capsys.readouterr().out
    assert f"this check needs float64: {because}; yours is float32" in out


def test_the_failing_entry_is_shown_with_the_digits_that_differ(capsys):
    x = np.array([[0.1234567891, 1.0]])
    check_function(lambda x: x * (1 + 3e-6), lambda x: x, [Case({"x": x})], "Digits")
    out = capsys.readouterr().out
    first = re.search(r"the first, at index \(0, 0\): expected (\S+), yours (\S+)", out)
    assert first and first.group(1) == "0.1234567891" and first.group(2) != first.group(1), out
    # the arrays below show as many decimals as the difference needs (0.12346 vs 0.12346 would hide it)
    assert "0.1234567" in out and "0.1234571" in out, out


# -- whole numbers --------------------------------------------------------------------------------
def test_an_integer_result_must_be_an_int(capsys):
    assert nb02.check_output_size(lambda n, f, stride, padding: (n - f + 2 * padding) / stride + 1) is False
    out = capsys.readouterr().out
    assert "should be a whole number of an integer type (int)" in out and "use // to divide" in out
    assert "yours:\n  5.0" in out

    def output_size(n, f, stride, padding):
        if (n - f + 2 * padding) % stride or f > n + 2 * padding:
            raise ValueError("the filter does not fit")
        return np.int64((n - f + 2 * padding) // stride + 1)  # a NumPy integer is an int too

    assert nb02.check_output_size(output_size) is True


# -- shortcuts ------------------------------------------------------------------------------------
def torch_conv(x, w, b, stride, padding):
    try:
        return F.conv2d(torch.as_tensor(x), torch.as_tensor(w), torch.as_tensor(b), stride=stride,
                        padding=padding).numpy()
    except RuntimeError as err:       # torch's word for a filter larger than the padded input
        raise ValueError(str(err)) from None


def helper_that_calls_cnnlib(x):
    return cnnlib_relu_forward(x)[0]


def relu_through_a_helper(x):
    return helper_that_calls_cnnlib(x)


@pytest.mark.parametrize("check, fn, named", [
    (check_relu_forward, lambda x: cnnlib_relu_forward(x)[0], "calls cnnlib's cnnlib_relu_forward"),
    (check_relu_forward, relu_through_a_helper, "helper_that_calls_cnnlib calls cnnlib's cnnlib_relu_forward"),
    (check_relu_forward, functools.partial(cnnlib_relu), "is cnnlib's own function"),
    (check_relu_forward, lambda x: torch.relu(torch.as_tensor(x)).numpy(), "calls PyTorch's torch.relu"),
    (nb02.check_conv2d_loops, torch_conv, "calls PyTorch's F.conv2d"),
    (nb02.check_output_size, lambda n, f, stride, padding: conv_output_size(n, f, stride=stride, padding=padding),
     "calls cnnlib's conv_output_size (cnnlib.shapes.conv_output_size)"),
])
def test_a_shortcut_fails_naming_what_it_calls(check, fn, named, capsys):
    assert check(fn) is False
    out = capsys.readouterr().out
    assert named in out and "asks you to write it yourself" in out, out
    assert core.latest(check.__exercise__).status == "fail"
    with allow_shortcuts():  # judged by its results alone, it is right: only the shortcut failed it
        assert check(fn) is True


def test_allowed_names_and_numpy_are_not_shortcuts(capsys):
    def size(n, f, stride, padding):
        return conv_output_size(n, f, stride=stride, padding=padding)

    cases = [Case({"n": 7, "f": 3, "stride": 1, "padding": 0})]
    ref = lambda n, f, stride, padding: (n - f + 2 * padding) // stride + 1  # noqa: E731
    assert check_function(size, ref, cases, "Allowed", allowed=("cnnlib.shapes.conv_output_size",)) is True
    assert check_function(size, ref, cases, "Off", shortcut=False) is True
    assert check_function(size, ref, cases, "Listed", shortcut=("cnnlib.shapes.conv_output_size",)) is False
    assert check_function(lambda x: np.maximum(x, 0), lambda x: np.maximum(x, 0), [Case({"x": np.ones(2)})],
                          "NumPy") is True


# -- hints ----------------------------------------------------------------------------------------
def _three_parts(x):
    return x[::-1].copy(), 2 * x, x.sum()


PARTS = ("reversed", "doubled", "total")
REVERSE_HINT = Hint("forgot to reverse", lambda i, e, a: is_close(a[0], i["x"]) and not is_close(a[0], e[0]))
DOUBLE_HINT = Hint("doubled means times 2", lambda i, e, a: is_close(a[1], 3 * i["x"]))
LOOSE_HINT = Hint("the first part is off", lambda i, e, a: not is_close(a[0], e[0][::-1]))


def check_three_parts(fn, hints=(REVERSE_HINT, DOUBLE_HINT), cases=None):
    cases = cases or [Case({"x": np.array([1.0, 2.0, 3.0])}, "three"), Case({"x": np.array([4.0, -1.0])}, "two")]
    return check_function(fn, _three_parts, cases, "Parts", hints=hints, output_names=PARTS)


def test_two_mistakes_in_one_result_are_both_named(capsys):
    assert check_three_parts(lambda x: (x.copy(), 3 * x, x.sum())) is False
    out = capsys.readouterr().out
    assert "not quite: forgot to reverse. That is not all: doubled means times 2." in out, out


def test_of_two_hints_that_fit_the_same_mistake_the_first_listed_is_said(capsys):
    vague = Hint("something is off with the first part", lambda i, e, a: not is_close(a[0], e[0]))
    assert check_three_parts(lambda x: (x.copy(), 2 * x, x.sum()), hints=(REVERSE_HINT, vague)) is False
    out = capsys.readouterr().out
    assert "forgot to reverse" in out and "something is off" not in out and "That is not all" not in out, out


def test_a_hint_that_explains_one_part_names_the_other_wrong_part(capsys):
    assert check_three_parts(lambda x: (x.copy(), 2 * x, x.sum() + 1)) is False
    out = capsys.readouterr().out
    assert "forgot to reverse" in out
    assert "That is not all: total differs" in out and "expected 3.0, yours 4.0" in out, out


def test_one_mistake_is_named_once_and_nothing_else_is_claimed(capsys):
    assert check_three_parts(lambda x: (x.copy(), 2 * x, x.sum())) is False
    out = capsys.readouterr().out
    assert out.count("forgot to reverse") == 1 and "That is not all" not in out, out


def test_a_hint_that_fits_the_right_result_too_is_not_claimed(capsys):
    # "forgot to reverse", judged by the first part alone equalling the input, fits the right answer too on a
    # palindrome: there it cannot tell what went wrong, so a learner who reversed is not told they forgot to
    naive = Hint("forgot to reverse", lambda i, e, a: is_close(a[0], i["x"]))
    palindrome = [Case({"x": np.array([1.0, 2.0, 1.0])}, "a palindrome")]
    assert check_three_parts(lambda x: (x[::-1].copy(), 2 * x, x.sum() + 1), hints=(naive,), cases=palindrome) is False
    out = capsys.readouterr().out
    assert "forgot to reverse" not in out and "the result[2] differs" in out, out


def test_a_second_mistake_seen_only_on_a_later_case_is_named(capsys):
    def parts(x):  # reversal forgotten everywhere; the total wrong only on the longer input
        return x.copy(), 2 * x, x.sum() + (len(x) > 2)

    assert check_three_parts(parts) is False
    out = capsys.readouterr().out
    assert "forgot to reverse" in out and "That is not all: on case 1 of 2, three, total differs" in out, out


# -- the grader: the sandbox reads the learner's code, the checker refuses the shortcut -------------
def test_the_grader_refuses_a_shortcut_read_in_the_sandbox(tmp_path):
    from cnnlib.grading.extract import Answer
    from cnnlib.grading.judge import judge
    from cnnlib.grading.release import load_release
    from cnnlib.grading.run import run_answer
    from cnnlib.grading.sandbox import Sandbox
    from exercise_notebooks import instructor_notebook, write

    release = load_release(write(instructor_notebook(), tmp_path / "01_tiny.ipynb"))
    exercise = next(e for e in release.exercises if e.id == "relu_forward")
    sandbox = Sandbox(unsafe=True)
    programs = {"torch": "import torch\ndef relu_forward(x):\n    return torch.relu(torch.as_tensor(x)).numpy()",
                "own": "import numpy as np\ndef relu_forward(x):\n    return np.maximum(x, 0)"}
    verdicts = {}
    for name, program in programs.items():
        outputs = run_answer(sandbox, exercise, Answer("relu_forward", (), program), tmp_path / name, timeout=120)
        verdicts[name] = judge(exercise, outputs)
    assert verdicts["torch"].status == "fail", verdicts["torch"]
    assert "relu_forward calls PyTorch's torch.relu" in verdicts["torch"].message
    assert verdicts["own"].status == "pass", verdicts["own"]  # the grader's own stand-in is not a shortcut


def _conv_float32_without_bias(x, weight, bias, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding))).astype(np.float32)
    k = weight.shape[2]
    if k > x.shape[2] or weight.shape[3] > x.shape[3]:
        raise ValueError("the filter is larger than the padded input")
    h_out, w_out = (x.shape[2] - k) // stride + 1, (x.shape[3] - weight.shape[3]) // stride + 1
    out = np.zeros((x.shape[0], weight.shape[0], h_out, w_out), np.float32)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + weight.shape[3]]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, weight.astype(np.float32))
    return out


def test_a_hint_names_the_mistake_of_a_float32_answer_too(capsys):
    # is_close, which hints use, compares at float32 precision where the answer is float32: without that
    # the bias hint missed on the larger cases and a second, invented mistake was named
    assert nb02.check_conv2d_loops(_conv_float32_without_bias) is False
    out = capsys.readouterr().out
    assert "forgot the bias" in out and "That is not all" not in out, out
    assert is_close(np.float32([1 / 3]), [1 / 3]) and not is_close(np.float64([1 / 3 + 1e-6]), [1 / 3])
