"""cnnlib.testing (gradient checks, relative error, assert_close) and the tests' own PyTorch parity helper."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from parity import (assert_matches_finite_differences, assert_matches_torch, assert_torch_fns_match,
                    scaled_rel_error)

from cnnlib.testing import assert_close, check_gradient, gradient_error, numerical_gradient, rel_error


# -- numerical_gradient ---------------------------------------------------------------------------
def test_numerical_gradient_of_a_scalar_function():
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: np.sum(x ** 3), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)
    np.testing.assert_array_equal(x, [1.0, -2.0, 3.0])  # every entry is restored


def test_numerical_gradient_weights_a_vector_output_by_grad_output():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = np.array([[1.0, 0.0], [-1.0, 2.0]])
    grad = numerical_gradient(lambda: np.sin(x), x, grad_output=g)  # d/dx sum(sin(x) * g) = cos(x) * g
    np.testing.assert_allclose(grad, np.cos(x) * g, rtol=1e-8, atol=1e-10)


def test_numerical_gradient_refuses_what_it_cannot_perturb():
    with pytest.raises(ValueError, match="x must be a floating-point array, got dtype int64"):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="x must be contiguous"):
        numerical_gradient(lambda: 0.0, np.zeros((3, 4))[:, :3])
    x = np.zeros(3)
    with pytest.raises(ValueError, match=r"f returned shape \(3,\); pass grad_output"):
        numerical_gradient(lambda: x * 2, x)


# -- rel_error ------------------------------------------------------------------------------------
def test_rel_error_values():
    assert rel_error(np.ones(3), np.ones(3)) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error([0.0], [0.0]) == 0.0
    assert rel_error([0.0], [1e-13]) == pytest.approx(0.1)  # the floor 1e-12 keeps tiny values from exploding
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match=r"shapes differ: \(2,\) and \(3,\)"):
        rel_error(np.zeros(2), np.zeros(3))


# -- assert_close ---------------------------------------------------------------------------------
def test_assert_close_passes_within_tolerance():
    assert_close([1.0, 2.0], [1.0, 2.0 + 1e-9])
    assert_close([np.inf, 1.0], [np.inf, 1.0])


def test_assert_close_message_names_the_worst_entry():
    with pytest.raises(AssertionError) as info:
        assert_close(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 4.5]]), name="grad_weight")
    message = str(info.value)
    assert message.startswith("grad_weight: 1 of 4 entries differ; worst at index (1, 1): got 4, expected 4.5")
    assert "relative error 0.0588" in message


def test_assert_close_messages_for_shape_and_non_finite_values():
    with pytest.raises(AssertionError, match=r"out: shape \(2, 3\) but expected \(3, 2\); check the layout"):
        assert_close(np.zeros((2, 3)), np.zeros((3, 2)), name="out")
    with pytest.raises(AssertionError, match="non-finite values"):
        assert_close([np.nan, 1.0], [0.0, 1.0])


# -- check_gradient -------------------------------------------------------------------------------
def test_check_gradient_accepts_a_right_gradient_and_rejects_a_wrong_one():
    x = np.array([0.5, -1.5, 2.0])
    f = lambda: np.sum(np.tanh(x))  # noqa: E731
    assert check_gradient(f, x, 1 - np.tanh(x) ** 2) < 1e-8
    with pytest.raises(AssertionError, match=r"grad_x \(analytic vs numerical\): 3 of 3 entries differ"):
        check_gradient(f, x, np.tanh(x), name="grad_x")


def _sine_problem(small):
    """f = sum(sin(x) * w) over 20 entries, whose gradient cos(x) * w has one entry of about ``small``."""
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=20), rng.normal(size=20)
    w[0] = small / np.cos(x[0])                          # gradient entry 0 is exactly `small` (up to rounding)
    return x, (lambda: np.sum(np.sin(x) * w)), np.cos(x) * w


@pytest.mark.parametrize("small", [1e-3, 1e-5, 1e-7])
def test_check_gradient_rejects_a_small_entry_wrong_by_a_factor_of_two(small):
    x, f, right = _sine_problem(small)
    assert check_gradient(f, x, right, h=1e-5) < 1e-8
    wrong = right.copy()
    wrong[0] *= 2                                        # the largest entry is about 2: entry 0 is tiny beside it
    with pytest.raises(AssertionError, match=r"1 of 20 entries differ; worst at index \(0,\)"):
        check_gradient(f, x, wrong, h=1e-5)


def test_check_gradient_accepts_round_off_on_entries_near_zero():
    # true gradient entries of 0 and 1e-13, where the centred difference is pure round-off (about 1e-11)
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=30), 3 * rng.normal(size=30)
    w[:2] = 0.0, 1e-13
    f = lambda: np.sum(np.sin(x) * w) + 10.0  # noqa: E731  (the offset makes the round-off realistic)
    analytic = np.cos(x) * w
    numeric = numerical_gradient(f, x, h=1e-5)
    assert rel_error(analytic, numeric) > 1e-3           # entry by entry, the near-zero entries look wrong
    assert check_gradient(f, x, analytic, h=1e-5) < 1e-6  # against the floor, they are round-off


def test_gradient_error_uses_a_floor_of_a_fraction_of_the_largest_entry():
    a, n = np.array([2.0, 1e-4, 0.0]), np.array([2.0, 3e-4, 1e-9])
    assert gradient_error(a, n) == pytest.approx(2e-4 / (2 * 1e-3))       # floor 1e-3 * 2 beats 4e-4
    assert gradient_error(a, n, floor_fraction=0) == pytest.approx(1.0)   # plain entry-by-entry ratio
    assert gradient_error(a, n, floor_fraction=1) == pytest.approx(2e-4 / 2)
    assert gradient_error(np.zeros(3), np.zeros(3)) == 0.0
    with pytest.raises(ValueError, match="floor_fraction must be in"):
        gradient_error(a, n, floor_fraction=2)


def test_check_gradient_rejects_nan_and_a_gradient_of_the_wrong_shape():
    x = np.array([0.5, -1.5])
    f = lambda: np.sum(x ** 2)  # noqa: E731
    with pytest.raises(AssertionError, match=r"worst at index \(1,\): analytic nan"):
        check_gradient(f, x, np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"analytic gradient has shape \(3,\) but x has shape \(2,\)"):
        check_gradient(f, x, np.zeros(3))


# -- the parity helper (tests/parity.py) ------------------------------------------------------------
def _square(x, g):
    return x ** 2, [2 * x * g]


def test_parity_helper_passes_a_correct_function():
    x, g = np.array([1.0, -2.0, 3.0]), np.array([1.0, 1.0, 0.5])
    assert_matches_torch(_square, lambda t: t ** 2, [x], g)
    assert_matches_torch(lambda x, g: (np.sum(x ** 2), [2 * x]), lambda t: (t ** 2).sum(), [x])  # scalar output
    assert_torch_fns_match(lambda t: t * t, lambda t: t ** 2, [x], g)


def test_parity_helper_catches_wrong_outputs_gradients_dtypes_and_mutation():
    x, g = np.array([1.0, -2.0, 3.0]), np.ones(3)
    with pytest.raises(AssertionError, match=r"NumPy vs PyTorch: output: relative error"):
        assert_matches_torch(lambda x, g: (x ** 2 + 1e-8, [2 * x * g]), lambda t: t ** 2, [x], g)
    with pytest.raises(AssertionError, match=r"grad of x: relative error .* worst at index \(1,\)"):
        assert_matches_torch(lambda x, g: (x ** 2, [2 * np.abs(x) * g]), lambda t: t ** 2, [x], g, names=["x"])
    with pytest.raises(AssertionError, match="dtype float32, PyTorch gives float64"):
        assert_matches_torch(lambda x, g: ((x ** 2).astype(np.float32), [2 * x]), lambda t: t ** 2, [x], g)
    with pytest.raises(AssertionError, match="one per input"):
        assert_matches_torch(lambda x, g: (x ** 2, []), lambda t: t ** 2, [x], g)

    def mutating(x, g):
        x *= 1.0 + 1e-3
        return _square(x, g)

    with pytest.raises(AssertionError, match=r"changed inputs\[0\] in place"):
        assert_matches_torch(mutating, lambda t: t ** 2, [x], g)
    with pytest.raises(AssertionError, match="on cpu: grad of inputs"):
        assert_torch_fns_match(lambda t: (t * t).detach() + t - t.detach(), lambda t: t ** 2, [x], g)


def test_parity_helper_skips_none_and_integer_inputs():
    scores, labels = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1, 0])

    def numpy_side(s, t, g):
        e = np.exp(s - s.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(2), t]))
        grad = p.copy()
        grad[np.arange(2), t] -= 1
        return loss, [grad / 2, None]

    assert_matches_torch(numpy_side, torch.nn.functional.cross_entropy, [scores, labels])
    assert_matches_torch(lambda x, b, g: (x * 2, [2 * g, None]), lambda x, b: x * 2, [np.ones(2), None], np.ones(2))


def test_scaled_rel_error_ignores_round_off_at_entries_that_cancel_to_zero():
    big = np.array([1.0, 1e-17])
    assert rel_error(big, np.array([1.0, 0.0])) == pytest.approx(1e-5)  # plain rel_error: 1e-17 / 1e-12
    assert scaled_rel_error(big, np.array([1.0, 0.0])) < 1e-13
    assert scaled_rel_error(np.array([1.0, 1e-4]), np.array([1.0, 0.0])) == pytest.approx(0.1)  # real errors show


def test_finite_difference_helper_accepts_right_and_rejects_wrong_gradients():
    x = np.array([0.5, -1.5, 2.0, 1e-4])
    g = np.array([1.0, 2.0, -1.0, 3.0])
    f = lambda: np.tanh(x)  # noqa: E731
    right = (1 - np.tanh(x) ** 2) * g
    assert_matches_finite_differences(f, [("x", x, right)], g)
    wrong = right.copy()
    wrong[2] *= 1.01
    with pytest.raises(AssertionError, match=r"grad of x: .* worst at index \(2,\)"):
        assert_matches_finite_differences(f, [("x", x, wrong)], g)
