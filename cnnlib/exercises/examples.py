"""The template of a function exercise: ReLU forward and backward, which 01_neural_nets_activations asks for.

The checkers live in :mod:`cnnlib.exercises.nb01_layers` (with the other layers of 01); this module
re-exports them under their old address.

Copy this shape for a new exercise:

1. ``_cases()``: a list of small seeded :class:`Case` s, edge cases first and labelled (the kink
   at 0, all negative, a batch of one), then random shapes; float32 inputs too where the question allows them.
2. The reference: cnnlib's function called the way the learner's stub is declared
   (:mod:`cnnlib.exercises.references`).
3. ``*_HINTS``: one :class:`Hint` per plausible mistake, each a predicate on
   (inputs, expected, actual) built with ``is_close``.
4. ``check_<id>``, decorated with ``@exercise``, returning ``check_function(...)``.
5. In tests/, a parametrized mutation test: each wrong implementation is rejected with its hint,
   right ones in several styles (loops, vectorized, float32) are accepted, and a shortcut (cnnlib's
   or torch's function) is refused (tests/test_exercises_examples.py).

In the notebook (learner's stub, collapsed solution, check)::

    # %% tags=["exercise"]
    def relu_backward(grad_output, x):
        raise NotImplementedError  # your code here: grad_output times ReLU's derivative at x

    # %% tags=["solution"] jupyter={"source_hidden": true}
    def relu_backward(grad_output, x):
        return grad_output * (x > 0)

    # %% tags=["check"]
    _ = check_relu_backward(relu_backward)
"""
from cnnlib.exercises.nb01_layers import check_relu_backward, check_relu_forward

__all__ = ["check_relu_backward", "check_relu_forward"]
