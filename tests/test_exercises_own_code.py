"""cnnlib.exercises.own_code: the hidden test that a function exercise is the learner's own code.

Each function is defined the way a notebook defines it: its source executed in a namespace whose
``__name__`` is ``"__main__"``, with the imports a notebook would have.
"""
import pytest

from cnnlib.exercises.own_code import assert_own_code, borrowed_code

IMPORTS = ("import numpy as np\nimport torch\nimport torch.nn.functional as F\nimport cnnlib\n"
           "from cnnlib.shapes import conv_output_size\nfrom cnnlib.numpy_nn.conv import Conv2d, conv2d\n")


def notebook(source: str) -> dict:
    namespace = {"__name__": "__main__"}
    exec(IMPORTS + source, namespace)  # noqa: S102 - a stand-in for a notebook's kernel
    return namespace


OWN = """
def output_size(n, f, stride, padding):
    span = n + 2 * padding - f
    if span < 0 or span % stride:
        raise ValueError("the filter doesn't fit")
    return span // stride + 1
"""


def test_a_function_written_in_the_notebook_is_its_own_code():
    ns = notebook(OWN)
    assert borrowed_code(ns["output_size"], namespace=ns) == []
    assert_own_code(ns["output_size"], namespace=ns)


def test_numpy_and_data_from_cnnlib_are_allowed():
    ns = notebook("LOGITS = np.array([1.0, 2.0])\nSHAPE = torch.zeros(2)\n"
                  "def pad(x):\n    return np.pad(x, 1) + LOGITS.sum() + float(SHAPE.sum())\n")
    assert borrowed_code(ns["pad"], namespace=ns) == []


@pytest.mark.parametrize("source, words", [
    ("output_size = conv_output_size", "is cnnlib.shapes's, not yours"),
    ("import functools\noutput_size = functools.partial(conv_output_size)", "not a function written with def"),
    ("def output_size(n, f, stride, padding):\n    return conv_output_size(n, f, stride=stride, padding=padding)",
     "uses conv_output_size (cnnlib"),
    ("def output_size(n, f, stride, padding):\n    return cnnlib.shapes.conv_output_size(n, f, stride, padding)",
     "uses cnnlib (cnnlib)"),
    ("def output_size(n, f, stride, padding):\n    from cnnlib.shapes import conv_output_size as c\n"
     "    return c(n, f, stride, padding)", "imports cnnlib.shapes"),
    ("def helper(*a):\n    return conv_output_size(*a)\ndef output_size(n, f, stride, padding):\n    return helper(n, f, stride, padding)",
     "helper uses conv_output_size"),
    ("def output_size(n, f, stride, padding, _c=conv_output_size):\n    return _c(n, f, stride, padding)",
     "default of output_size"),
    ("def output_size(n, f, stride, padding):\n    return (lambda: conv_output_size(n, f, stride, padding))()",
     "uses conv_output_size"),
    ("def conv(x, w, b, s, p):\n    return F.conv2d(x, w, b, s, p)", "uses F (torch"),
    ("def conv(x, w, b, s, p):\n    return torch.nn.functional.conv2d(x, w, b, s, p)", "uses torch (torch"),
    ("def conv(x, w, b, s, p):\n    return Conv2d(1, 1, 3)(x)", "uses Conv2d (cnnlib"),
    ("layer = Conv2d(1, 1, 3)\ndef conv(x, w, b, s, p):\n    return layer(x)", "uses layer (cnnlib"),
    ("def conv(x, w, b, s, p):\n    return __import__('cnnlib').numpy_nn.conv.conv2d(x, w, b, s, p)",
     "uses __import__"),
    ("def conv(x, w, b, s, p):\n    return eval('conv2d')(x, w, b, s, p)", "uses eval"),
])
def test_borrowed_code_is_named(source, words):
    ns = notebook(source)
    fn = ns.get("output_size") or ns["conv"]
    found = borrowed_code(fn, namespace=ns)
    assert any(words in line for line in found), found
    with pytest.raises(AssertionError, match="must be your own code"):
        assert_own_code(fn, namespace=ns)


def test_what_the_worked_solution_uses_is_allowed():
    ns = notebook("def table(h):\n    return conv_output_size(h, 3, stride=1, padding=0)")
    assert borrowed_code(ns["table"], namespace=ns) != []
    assert borrowed_code(ns["table"], allowed=["cnnlib.shapes.conv_output_size"], namespace=ns) == []
    # allowing one function does not allow the rest of its module
    ns = notebook("def table(h):\n    return conv2d(h, h, None, 1, 0)")
    assert borrowed_code(ns["table"], allowed=["cnnlib.shapes.conv_output_size"], namespace=ns) != []


def test_a_function_from_another_namespace_is_not_the_notebooks():
    ns, other = notebook(OWN), notebook(OWN)
    found = borrowed_code(other["output_size"], namespace=ns)
    assert found and "not defined in this notebook" in found[0]
    assert borrowed_code(other["output_size"]) == []  # without a namespace, only what it uses is read


def test_a_recursive_helper_is_read_once():
    ns = notebook("def f(n):\n    return 1 if n == 0 else g(n - 1)\ndef g(n):\n    return f(n)")
    assert borrowed_code(ns["f"], namespace=ns) == []
