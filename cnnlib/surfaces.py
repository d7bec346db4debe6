"""Two-dimensional loss surfaces, and the paths optimizers take on them (06_optimizers).

A network's loss lives in millions of dimensions; with two parameters (x, y) we can draw it as
contours and watch an optimizer walk. Two surfaces, both quadratics with their minimum at (0, 0):

- ``ravine``: f(x, y) = x²/20 + y², a long narrow valley, 20 times more curved across (y) than
  along (x). Plain gradient descent creeps along the floor (or zig-zags across it if the learning
  rate is large); momentum builds up speed along it.
- ``bowl``: f(x, y) = (x² + y²)/2, equally curved in every direction: every method does well.

Each surface is a `Surface`: calling it gives the value, ``.grad(x, y)`` the gradient, both pure
and vectorized (pass the arrays of ``np.meshgrid`` for a contour plot, or use ``.grid()``).
`optimizer_path` runs one of the optimizers of `cnnlib.numpy_nn.optim` on a 2-element
`Parameter` and returns every point it visits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cnnlib.checks import check_int
from cnnlib.numpy_nn.module import Parameter
from cnnlib.numpy_nn.optim import SGD, Adam, LectureAdam, LectureMomentum


# -- the surfaces ----------------------------------------------------------------------------------
def ravine_value(x, y):
    """f(x, y) = x²/20 + y²; Hessian diag(1/10, 2), so the valley runs along x."""
    return np.asarray(x) ** 2 / 20 + np.asarray(y) ** 2


def ravine_grad(x, y):
    """∇f = (x/10, 2y), as a pair of arrays shaped like x and y."""
    return np.asarray(x) / 10, 2 * np.asarray(y)


def bowl_value(x, y):
    """f(x, y) = (x² + y²)/2; Hessian the identity."""
    return (np.asarray(x) ** 2 + np.asarray(y) ** 2) / 2


def bowl_grad(x, y):
    """∇f = (x, y)."""
    return np.asarray(x) * 1.0, np.asarray(y) * 1.0


@dataclass(frozen=True)
class Surface:
    """A loss surface f(x, y): ``surface(x, y)`` is the value, ``surface.grad(x, y)`` the gradient.

    ``minimum`` is where f is smallest, ``start`` a starting point that shows the surface's
    character, and ``xlim``/``ylim`` a window that contains both (for plots).
    """

    name: str
    value: Callable
    gradient: Callable
    minimum: tuple[float, float]
    start: tuple[float, float]
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def __call__(self, x, y):
        return self.value(x, y)

    def grad(self, x, y):
        return self.gradient(x, y)

    def grid(self, n: int = 101):
        """(X, Y, Z) on an n × n grid over the window, ready for ``plt.contour(X, Y, Z)``."""
        n = check_int(n, "n", minimum=2)
        X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))  # (n, n) each
        return X, Y, self.value(X, Y)


ravine = Surface("ravine", ravine_value, ravine_grad, minimum=(0.0, 0.0), start=(-4.0, 1.5),
                 xlim=(-5.0, 5.0), ylim=(-2.5, 2.5))
bowl = Surface("bowl", bowl_value, bowl_grad, minimum=(0.0, 0.0), start=(-4.0, 1.5),
               xlim=(-5.0, 5.0), ylim=(-2.5, 2.5))
SURFACES = {"ravine": ravine, "bowl": bowl}


# -- optimizers walking on them --------------------------------------------------------------------
# name -> (optimizer class, default hyper-parameters, the hyper-parameters it accepts)
OPTIMIZERS = {
    "sgd": (SGD, {"lr": 0.1}, ("lr", "momentum", "weight_decay")),
    "momentum": (SGD, {"lr": 0.1, "momentum": 0.9}, ("lr", "momentum", "weight_decay")),
    "adam": (Adam, {"lr": 0.1}, ("lr", "betas", "eps", "weight_decay")),
    "lecture_momentum": (LectureMomentum, {"lr": 0.1, "momentum": 0.9}, ("lr", "momentum")),
    "lecture_adam": (LectureAdam, {"lr": 0.1}, ("lr", "betas", "eps")),
}
DIVERGED = 1e6  # a run whose |x| or |y| passes this is stopped; the rest of its path is nan


def optimizer_path(name: str, start=None, steps: int = 50, surface: Surface | str = ravine, **hyper) -> np.ndarray:
    """The points an optimizer visits on a surface: an array (steps + 1, 2), the start first.

    ``name`` is one of "sgd", "momentum" (SGD with momentum 0.9), "adam", "lecture_momentum",
    "lecture_adam"; ``hyper`` overrides the defaults in ``OPTIMIZERS`` (lr=0.1 for all) and goes
    to the optimizer's constructor, which validates it. ``start`` defaults to ``surface.start``.
    A run that diverges (a coordinate beyond 1e6 in size) stops there: its remaining rows are nan.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"name must be one of {', '.join(OPTIMIZERS)}, got {name!r}")
    if isinstance(surface, str):
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {', '.join(SURFACES)} or a Surface, got {surface!r}")
        surface = SURFACES[surface]
    cls, defaults, accepted = OPTIMIZERS[name]
    unknown = sorted(set(hyper) - set(accepted))
    if unknown:
        raise ValueError(f"{name} takes the hyper-parameters {', '.join(accepted)}; got unexpected {unknown}")
    steps = check_int(steps, "steps", minimum=0)
    start = np.array(surface.start if start is None else start, dtype=np.float64)
    if start.shape != (2,) or not np.all(np.isfinite(start)):
        raise ValueError(f"start must be a finite point (x, y), got {start.tolist()}")

    point = Parameter(start.copy())  # (2,): the two "weights" (x, y)
    optimizer = cls([point], **{**defaults, **hyper})
    path = np.full((steps + 1, 2), np.nan)
    path[0] = point.data
    for k in range(1, steps + 1):
        point.grad = np.array(surface.grad(*point.data), dtype=np.float64)  # (2,)
        optimizer.step()
        if np.max(np.abs(point.data)) > DIVERGED:
            break
        path[k] = point.data
    return path
