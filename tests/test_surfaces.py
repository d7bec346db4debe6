"""cnnlib.surfaces: values and gradients, and the paths of the optimizers on them."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import surfaces
from cnnlib.surfaces import SURFACES, bowl, optimizer_path, ravine
from cnnlib.testing import numerical_gradient

NAMES = list(surfaces.OPTIMIZERS)
points = st.tuples(st.floats(-5, 5), st.floats(-2.5, 2.5))


def steps_to_reach(path, surface, radius=0.1):
    """The step from which on the path stays within `radius` of the minimum (len(path) if it never does)."""
    dist = np.hypot(path[:, 0] - surface.minimum[0], path[:, 1] - surface.minimum[1])
    outside = np.flatnonzero(~(dist < radius))
    return 0 if outside.size == 0 else int(outside[-1]) + 1


# -- the surfaces -----------------------------------------------------------------------------------
@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
@given(point=points)
def test_gradient_matches_centred_differences(surface, point):
    p = np.array(point, dtype=np.float64)
    numeric = numerical_gradient(lambda: surface(p[0], p[1]), p)
    np.testing.assert_allclose(np.array(surface.grad(*p)), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
def test_values_and_gradients_are_vectorized_and_the_minimum_is_right(surface):
    X, Y, Z = surface.grid(41)
    assert X.shape == Y.shape == Z.shape == (41, 41)
    gx, gy = surface.grad(X, Y)
    assert gx.shape == gy.shape == (41, 41)
    np.testing.assert_array_equal(Z[7, 3], surface(X[7, 3], Y[7, 3]))
    assert surface(*surface.minimum) == 0.0 and np.min(Z) >= 0.0
    assert [float(g) for g in surface.grad(*surface.minimum)] == [0.0, 0.0]
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    assert x0 < surface.start[0] < x1 and y0 < surface.start[1] < y1


def test_the_ravine_is_a_ravine_and_the_bowl_is_round():
    # curvature across the ravine (y) is 20 times the curvature along it (x)
    assert ravine(0.0, 1.0) / ravine(1.0, 0.0) == pytest.approx(20.0, rel=1e-15)
    assert bowl(0.0, 1.0) == bowl(1.0, 0.0) == 0.5


# -- optimizer paths --------------------------------------------------------------------------------
@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
@pytest.mark.parametrize("name", NAMES)
def test_every_optimizer_goes_downhill_with_its_defaults(name, surface):
    path = optimizer_path(name, steps=60, surface=surface)
    assert path.shape == (61, 2)
    np.testing.assert_array_equal(path[0], surface.start)
    losses = surface(path[:, 0], path[:, 1])
    assert losses[-1] < 0.25 * losses[0]


@pytest.mark.parametrize("surface", SURFACES.values(), ids=SURFACES)
@given(start=points, lr=st.floats(0.01, 0.9))
def test_sgd_is_exactly_gradient_descent_on_a_quadratic(surface, start, lr):
    """On f = ½ θᵀHθ, SGD gives θ_k = (1 − lr·H)^k θ_0 (H diagonal here)."""
    path = optimizer_path("sgd", start, 25, surface=surface, lr=lr)
    h = np.array([0.1, 2.0]) if surface is ravine else np.array([1.0, 1.0])  # the diagonal of H
    k = np.arange(26)[:, None]
    np.testing.assert_allclose(path, np.array(start) * (1 - lr * h) ** k, rtol=1e-10, atol=1e-300)
    losses = surface(path[:, 0], path[:, 1])
    assert np.all(np.diff(losses) <= 0)  # lr < 1 = 2 / (largest curvature): every step goes down


def test_momentum_reaches_the_floor_of_the_ravine_much_sooner_than_sgd():
    sgd = optimizer_path("sgd", steps=500, surface=ravine)
    momentum = optimizer_path("momentum", steps=500, surface=ravine)
    n_sgd, n_momentum = steps_to_reach(sgd, ravine), steps_to_reach(momentum, ravine)
    # along the floor SGD shrinks x by 1 - 0.1/10 = 0.99 per step: about 370 steps from x = -4
    assert 350 <= n_sgd <= 400
    assert n_momentum < n_sgd / 3
    # after 100 steps momentum is far lower on the ravine than SGD
    assert ravine(*momentum[100]) < 0.01 * ravine(*sgd[100])


def test_on_the_bowl_plain_sgd_is_already_fast():
    # every direction is equally curved: no valley to build speed along, SGD with lr 0.5 halves θ per step
    sgd = optimizer_path("sgd", steps=60, surface=bowl, lr=0.5)
    momentum = optimizer_path("momentum", steps=60, surface=bowl, lr=0.5)
    assert steps_to_reach(sgd, bowl) <= steps_to_reach(momentum, bowl)


def test_large_lr_makes_sgd_zig_zag_across_the_ravine():
    path = optimizer_path("sgd", steps=10, surface=ravine, lr=0.9)  # y factor 1 - 0.9*2 = -0.8
    assert np.all(np.sign(path[1:, 1]) == -np.sign(path[:-1, 1]))
    np.testing.assert_allclose(path[1:, 1] / path[:-1, 1], -0.8, rtol=1e-12)


def test_adam_first_step_is_lr_in_each_coordinate():
    path = optimizer_path("adam", (-4.0, 1.5), 1, surface=ravine, lr=0.1)
    np.testing.assert_allclose(path[1] - path[0], [0.1, -0.1], rtol=1e-7)


def test_lecture_forms_on_the_ravine():
    np.testing.assert_allclose(optimizer_path("lecture_momentum", steps=80), optimizer_path("momentum", steps=80),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(optimizer_path("sgd", steps=20, momentum=0.9), optimizer_path("momentum", steps=20))
    # gradients here are far larger than sqrt(eps) = 1e-4: the two Adams draw the same picture
    diff = optimizer_path("lecture_adam", steps=80) - optimizer_path("adam", steps=80)
    assert np.max(np.abs(diff)) < 1e-6


def test_a_diverging_run_stops_with_nan_and_no_warnings():
    path = optimizer_path("sgd", steps=200, surface=ravine, lr=3.0)  # y factor -5: diverges
    last = int(np.flatnonzero(np.isfinite(path[:, 0]))[-1])
    assert 5 < last < 20 and np.all(np.isnan(path[last + 1:]))
    assert np.max(np.abs(path[last])) <= surfaces.DIVERGED


def test_surface_by_name_and_default_start():
    np.testing.assert_array_equal(optimizer_path("adam", steps=5, surface="bowl"),
                                  optimizer_path("adam", bowl.start, 5, surface=bowl))
    assert optimizer_path("sgd", steps=0).tolist() == [list(ravine.start)]


@pytest.mark.parametrize("call, words", [
    (lambda: optimizer_path("rmsprop"), "name must be one of sgd, momentum, adam, lecture_momentum, lecture_adam"),
    (lambda: optimizer_path("sgd", surface="saddle"), "surface must be one of ravine, bowl"),
    (lambda: optimizer_path("adam", momentum=0.9), "adam takes the hyper-parameters lr, betas, eps, weight_decay"),
    (lambda: optimizer_path("sgd", start=(1.0, 2.0, 3.0)), "start must be a finite point (x, y)"),
    (lambda: optimizer_path("sgd", start=(np.nan, 0.0)), "start must be a finite point"),
    (lambda: optimizer_path("sgd", steps=-1), "steps must be non-negative"),
    (lambda: optimizer_path("momentum", lr=-1.0), "lr must be >= 0"),
    (lambda: optimizer_path("lecture_adam", betas=(0.9, 1.0)), "betas[1] must be in [0, 1)"),
    (lambda: ravine.grid(1), "n must be >= 2"),
])
def test_bad_input_says_what_is_wrong(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)
