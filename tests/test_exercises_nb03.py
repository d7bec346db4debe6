"""Exercises of 03_pooling: the stored answers agree with PyTorch, and the checkers judge right and wrong."""
import numpy as np
import torch
import torch.nn.functional as F

from cnnlib.exercises import nb03
from cnnlib.exercises.functions import allow_shortcuts
from exercise_notebooks import rejected_for


def t(a):
    return torch.tensor(a, dtype=torch.float64)[None, None]  # (1, 1, H, W)


def test_answers_agree_with_pytorch():
    assert np.array_equal(F.max_pool2d(t(nb03.SLICE_1), 2, 2)[0, 0].numpy(), nb03.MAX_POOL_1)
    assert np.array_equal(F.avg_pool2d(t(nb03.SLICE_1), 2, 2)[0, 0].numpy(), nb03.AVG_POOL_1)
    h, w, c = nb03.POOL2_INPUT
    out = torch.nn.MaxPool2d(3, 2)(torch.zeros(1, c, h, w))
    assert tuple(out.shape[2:]) + (out.shape[1], 0) == nb03.POOL2_ANSWER
    x = t(nb03.SLICE_3).requires_grad_()
    F.max_pool2d(x, 3, 2).backward(t(nb03.GRAD_OUTPUT_3))
    assert np.array_equal(x.grad[0, 0].numpy(), nb03.GRAD_INPUT_3)
    assert nb03.GRAD_INPUT_3.sum() == nb03.GRAD_OUTPUT_3.sum() == 10


def test_check_max_pool(capsys):
    assert nb03.check_max_pool([[9, 6, 7], [7, 8, 9]]) is True
    assert "Exercise 1: correct!" in capsys.readouterr().out
    assert nb03.check_max_pool(nb03.AVG_POOL_1) is False
    assert "window averages" in capsys.readouterr().out
    assert nb03.check_max_pool(nb03.MAX_POOL_1.T) is False
    assert "(2, 3) result" in capsys.readouterr().out
    assert nb03.check_max_pool([[9, 6, 7], [7, 8, 8]]) is False
    assert "index (1, 2) (yours is 8)" in capsys.readouterr().out
    assert nb03.check_max_pool(None) is False
    assert "not attempted yet" in capsys.readouterr().out


def test_check_pool_layer(capsys):
    assert nb03.check_pool_layer((13, 13, 256, 0)) is True
    assert nb03.check_pool_layer((13, 13, 256)) is False
    assert "four numbers" in capsys.readouterr().out
    assert nb03.check_pool_layer((13.5, 13.5, 256, 0)) is False
    assert "height is not 13.5" in capsys.readouterr().out
    assert nb03.check_pool_layer((13, 13, 96, 0)) is False
    assert "depth does not change" in capsys.readouterr().out
    assert nb03.check_pool_layer((13, 13, 256, 9)) is False
    assert "nothing to learn" in capsys.readouterr().out


def test_check_max_pool_gradient(capsys):
    assert nb03.check_max_pool_gradient(nb03.GRAD_INPUT_3.tolist()) is True
    only_last = nb03.GRAD_INPUT_3.copy()
    only_last[1, 2] = 2.0
    assert nb03.check_max_pool_gradient(only_last) is False
    assert "sum of both" in capsys.readouterr().out
    assert nb03.check_max_pool_gradient(np.full((5, 5), 0.4)) is False
    assert "ONE input" in capsys.readouterr().out
    assert nb03.check_max_pool_gradient(np.zeros((2, 2))) is False
    assert "shape of the input slice" in capsys.readouterr().out


# -- function exercises: each plausible mistake rejected for its own reason, right answers in several styles
import pytest  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

from cnnlib.exercises import core, my_layers, references  # noqa: E402


def too_large(x, k):
    if k > x.shape[2] or k > x.shape[3]:
        raise ValueError(f"kernel_size {k} is larger than the input {x.shape[2:]}")


def pool_loops(x, k, s, reduce=np.max, start=None, ceil=False, dtype=None, check=True):
    """Max pooling as loops over windows; the keyword arguments make the learners' mistakes."""
    if check:
        too_large(x, k)
    n_, c_, h, w = x.shape
    rows, cols = ((-(-(h - k) // s) + 1, -(-(w - k) // s) + 1) if ceil else ((h - k) // s + 1, (w - k) // s + 1))
    if ceil:                                              # PyTorch's ceil_mode: a last window starts inside
        rows, cols = rows - ((rows - 1) * s >= h), cols - ((cols - 1) * s >= w)
    out = np.zeros((n_, c_, rows, cols), dtype=dtype or x.dtype)
    for n in range(n_):
        for c in range(c_):
            for i in range(rows):
                for j in range(cols):
                    win = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    if start is None:
                        out[n, c, i, j] = reduce(win)
                    else:                                 # a running maximum that starts at `start`
                        best = start
                        for v in win.ravel():
                            best = v if v > best else best
                        out[n, c, i, j] = best
    return out


def pool_vectorized(x, k, s):
    too_large(x, k)
    rows, cols = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s][:, :, :rows, :cols]  # (N, C, rows, cols, k, k)
    return windows.max(axis=(4, 5))


def pool_float32(x, k, s):
    """Right, computed in float32 whatever x's dtype."""
    return pool_vectorized(np.asarray(x, dtype=np.float32), k, s)


def pool_offsets(x, k, s):
    """Right: a running maximum over the k*k offsets, each a strided slice of every window at once."""
    too_large(x, k)
    rows, cols = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out = np.full((*x.shape[:2], rows, cols), -np.inf, dtype=x.dtype)
    for a in range(k):
        for b in range(k):
            np.maximum(out, x[:, :, a:a + s * (rows - 1) + 1:s, b:b + s * (cols - 1) + 1:s], out=out)
    return out


FORWARD_MUTATIONS = [
    (lambda x, k, s: pool_loops(x, k, s, np.mean), "those are the window averages"),
    (lambda x, k, s: pool_loops(x, k, 1), "stride ignored"),
    (lambda x, k, s: pool_loops(x, k, k), "the windows can overlap"),
    (lambda x, k, s: pool_loops(x, k, s, np.min), "smallest value"),
    (lambda x, k, s: pool_loops(x, k, s, start=0.0), "start the running maximum at the window's first value"),
    (lambda x, k, s: pool_loops(x, k, s, ceil=True), "a window that hangs over the bottom or right edge is left out"),
    (lambda x, k, s: pool_loops(x, k, s, dtype=int), "the decimals are gone"),
    (lambda x, k, s: pool_loops(x, k, s, check=False), "should raise ValueError here"),
]


@pytest.mark.parametrize("wrong, hint", FORWARD_MUTATIONS, ids=[h for _, h in FORWARD_MUTATIONS])
def test_max_pool_forward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    rejected_for(nb03.check_max_pool_forward, wrong, hint, FORWARD_MUTATIONS, capsys)
    assert core.latest("max_pool_forward").status == "fail"


@pytest.mark.parametrize("right", [pool_loops, pool_vectorized, pool_offsets, pool_float32],
                         ids=["loops", "vectorized", "offsets", "float32"])
def test_max_pool_forward_accepts_right_answers_in_several_styles(right, capsys):
    assert nb03.check_max_pool_forward(right) is True, capsys.readouterr().out
    assert "Max pool forward: correct on all 36 cases!" in capsys.readouterr().out


def test_forward_reference_is_torch_on_every_case():
    for case in nb03._pool_cases(1331, False):
        x, k, s = case.inputs.values()
        if k > min(x.shape[2:]):
            with pytest.raises(ValueError, match="kernel_size"):
                references.max_pool_forward(x, k, s)
            with pytest.raises(RuntimeError):
                F.max_pool2d(torch.as_tensor(x), k, s)
            continue
        assert np.array_equal(references.max_pool_forward(x, k, s), F.max_pool2d(torch.as_tensor(x), k, s).numpy())


def test_forward_cases_cover_the_mistake_classes():
    cases = nb03._pool_cases(1331, False)
    xs = [c.inputs["x"] for c in cases]
    labels = " | ".join(c.label for c in cases)
    assert any(x.max() < 0 for x in xs) and any(x.dtype == np.float32 for x in xs)
    assert any(c.inputs["stride"] > c.inputs["kernel_size"] for c in cases)
    assert any(x.shape[2] != x.shape[3] for x in xs) and any(x.shape[0] == 1 for x in xs)
    assert any((x.shape[2] - c.inputs["kernel_size"]) % c.inputs["stride"] for x, c in zip(xs, cases))
    shape, k, s = nb03.LATER_GEOMETRY
    assert any(x.shape == shape and c.inputs["kernel_size"] == k and c.inputs["stride"] == s
               for x, c in zip(xs, cases))
    assert "ValueError" in labels and "tie" in labels


def pool_backward(g, x, k, s, pick="first", add=True, upstream=True, check=True):
    """Max pooling's backward as loops; the keyword arguments make the learners' mistakes."""
    if check:
        too_large(x, k)
    grad = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(g.shape[2]):
                for j in range(g.shape[3]):
                    win = x[n, c, i * s:i * s + k, j * s:j * s + k]
                    share = np.zeros_like(win)
                    flat = int(np.argmax(win))
                    if pick == "first":
                        share.flat[flat] = 1.0
                    elif pick == "all":
                        share = (win == win.max()).astype(x.dtype)
                    elif pick == "last":
                        share.flat[win.size - 1 - np.argmax(win.ravel()[::-1])] = 1.0
                    elif pick == "from zero":                  # best = 0 at (0, 0), then look for larger
                        best, where = 0.0, 0
                        for q, v in enumerate(win.ravel()):
                            best, where = (v, q) if v > best else (best, where)
                        share.flat[where] = 1.0
                    elif pick == "swapped":
                        share[flat % k, flat // k] = 1.0
                    else:
                        share[:] = 1.0 / win.size
                    share *= g[n, c, i, j] if upstream else 1.0
                    view = grad[n, c, i * s:i * s + k, j * s:j * s + k]
                    if add:
                        view += share
                    else:
                        view[share != 0] = share[share != 0]
    return grad


def backward_vectorized(g, x, k, s):
    """Right: every window's first argmax at once, then one np.add.at (windows may overlap)."""
    too_large(x, k)
    rows, cols = g.shape[2:]
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s][:, :, :rows, :cols]
    flat = windows.reshape(*windows.shape[:4], k * k).argmax(axis=-1)  # (N, C, rows, cols): first maximum
    a, b = np.divmod(flat, k)
    n, c, i, j = np.indices(flat.shape)
    grad = np.zeros_like(x)
    np.add.at(grad, (n, c, i * s + a, j * s + b), g)
    return grad


def backward_float32(g, x, k, s):
    return backward_vectorized(np.asarray(g, np.float32), np.asarray(x, np.float32), k, s)


BACKWARD_MUTATIONS = [
    (lambda *a: pool_backward(*a, pick="all"), "the gradient went to every tied maximum"),
    (lambda *a: pool_backward(*a, pick="last"), "at a tie, give the gradient to the FIRST maximum"),
    (lambda *a: pool_backward(*a, add=False), "add with +=, don't overwrite"),
    (lambda *a: pool_backward(*a, pick="even"), "as average pooling does"),
    (lambda *a: pool_backward(*a, upstream=False), "multiply by grad_output"),
    (lambda *a: pool_backward(*a, pick="from zero"), "start the search for the maximum at the window's first"),
    (lambda *a: pool_backward(*a, pick="swapped"), "row and column are swapped"),
    (lambda *a: pool_backward(*a, check=False), "should raise ValueError here"),
]


@pytest.mark.parametrize("wrong, hint", BACKWARD_MUTATIONS, ids=[h for _, h in BACKWARD_MUTATIONS])
def test_max_pool_backward_rejects_each_mutation_for_its_reason(wrong, hint, capsys):
    out = rejected_for(nb03.check_max_pool_backward, wrong, hint, BACKWARD_MUTATIONS, capsys)
    assert "The smallest case it fails" in out


@pytest.mark.parametrize("right", [pool_backward, backward_vectorized, backward_float32],
                         ids=["loops", "vectorized", "float32"])
def test_max_pool_backward_accepts_right_answers_in_several_styles(right, capsys):
    assert nb03.check_max_pool_backward(right) is True, capsys.readouterr().out
    assert "Max pool backward: correct on all 36 cases!" in capsys.readouterr().out


def test_backward_reference_is_torch_on_every_case_ties_included():
    """The tie rule the question states (the first maximum in reading order) is PyTorch's on the CPU."""
    ties = 0
    for case in nb03._pool_cases(1332, True):
        g, x, k, s = case.inputs.values()
        if k > min(x.shape[2:]):
            continue
        xt = torch.tensor(x, requires_grad=True)
        F.max_pool2d(xt, k, s).backward(torch.as_tensor(g))
        assert np.array_equal(references.max_pool_backward(g, x, k, s), xt.grad.numpy()), case.label
        ties += any((w == w.max()).sum() > 1 for *_, w in nb03._windows(x, k, s))
    assert ties > 10


def _claims_only_its_own(hints, family, case, right, call):
    """A right answer gets no hint; a mistake gets another mistake's hint only where the two mistakes give the
    same result on this case (with 1x1 windows, "stride = kernel_size" is "stride ignored")."""
    assert not any(h.applies(case.inputs, right, right) for h in hints), case.label
    results = [call(wrong) for wrong, _ in family]
    for result, (_, hint) in zip(results, family):
        for h in hints:
            if h.applies(case.inputs, right, result) and hint not in h.message:
                twin = next(r for r, (_, other) in zip(results, family) if other in h.message)
                assert np.array_equal(twin, result), (case.label, hint, h.message)


def test_backward_hints_do_not_claim_right_answers_or_each_other():
    for case in nb03._pool_cases(1332, True):
        g, x, k, s = case.inputs.values()
        if k <= min(x.shape[2:]):
            _claims_only_its_own(nb03.MAX_POOL_BACKWARD_HINTS, BACKWARD_MUTATIONS[:-1], case,
                                 references.max_pool_backward(g, x, k, s), lambda wrong: wrong(g, x, k, s))


def test_forward_hints_do_not_claim_right_answers_or_each_other():
    for case in nb03._pool_cases(1331, False):
        x, k, s = case.inputs.values()
        if k <= min(x.shape[2:]):
            _claims_only_its_own(nb03.MAX_POOL_FORWARD_HINTS, FORWARD_MUTATIONS[:-1], case,
                                 references.max_pool_forward(x, k, s), lambda wrong: wrong(x, k, s))


def test_the_partial_window_mistake_is_torchs_ceil_mode():
    for case in nb03._pool_cases(1331, False):
        x, k, s = case.inputs.values()
        if k <= min(x.shape[2:]):
            expected = F.max_pool2d(torch.as_tensor(x), k, s, ceil_mode=True).numpy()
            assert np.array_equal(pool_loops(x, k, s, ceil=True), expected), case.label
            assert np.array_equal(nb03._ceil_pool(x, k, s), expected), case.label


def test_the_kept_layer_is_the_learners_function(capsys):
    assert nb03.check_max_pool_forward(pool_vectorized) is True
    assert "Kept in my_layers/max_pool_forward.py" in capsys.readouterr().out
    layers = my_layers.my_layers("max_pool_forward")
    assert layers.whose["max_pool_forward"] == "yours"
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert np.array_equal(layers.max_pool_forward(x, 2, 2), [[[[5, 7], [13, 15]]]])


def test_function_stubs_are_not_attempted(capsys):
    def max_pool_forward(x, kernel_size, stride):
        raise NotImplementedError  # your code here

    def max_pool_backward(grad_output, x, kernel_size, stride):
        ...

    assert nb03.check_max_pool_forward(max_pool_forward) is False
    assert nb03.check_max_pool_backward(max_pool_backward) is False
    assert capsys.readouterr().out.count("not attempted yet") == 2
    assert core.latest("max_pool_backward").status == "not attempted"


def test_code_that_raises_is_an_error_with_its_last_line(capsys):
    def max_pool_backward(grad_output, x, kernel_size, stride):
        return np.zeros_like(x)[grad_output.shape[3] + 5]

    assert nb03.check_max_pool_backward(max_pool_backward) is False
    out = capsys.readouterr().out
    assert out.startswith("Max pool backward: max_pool_backward raised IndexError: index 6 is out of bounds"), out
    assert core.latest("max_pool_backward").status == "error"


def test_a_function_that_changes_x_in_place_is_told_so(capsys):
    def sorts_in_place(x, kernel_size, stride):
        out = pool_vectorized(x, kernel_size, stride)
        x.sort(axis=-1)
        return out

    assert nb03.check_max_pool_forward(sorts_in_place) is False
    assert "changed its input x in place" in capsys.readouterr().out
