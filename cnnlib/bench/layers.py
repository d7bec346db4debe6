"""Convolution and pooling, four ways, timed side by side (the tables of 02_convolution and 03_pooling).

For each layer, the same float32 input, weights and output gradient go to:

- ``naive loops``: `cnnlib.numpy_nn.conv.conv2d_naive` and its backward, on ``naive_batch``
  images only; the time is multiplied up to the full batch and the row says so;
- ``cnnlib.numpy_nn``: the pair ``conv2d_forward`` / ``conv2d_backward`` as a learner calls it
  (``algorithm="auto"``: Winograd F(2x2, 3x3) on 3x3 stride-1 layers, im2col elsewhere);
- ``cnnlib.numpy_nn im2col``: the same pair forced to im2col, on the layers where "auto" does not pick it;
- ``cnnlib.torch_nn``: the same algorithm in tensor operations, backward through autograd;
- ``torch.nn``: ``torch.nn.Conv2d`` (oneDNN on the CPU, cuDNN on a GPU), the reference.

Each is timed for the forward pass, the backward pass (from a forward done beforehand, untimed)
and both together. Every gradient is computed, the input's included, by every contender. The
forward outputs are compared with ``torch.nn``'s before any figure is reported.
NumPy only runs on the CPU, so on a GPU only the two PyTorch contenders run.
"""
from __future__ import annotations

import numpy as np

from cnnlib.bench.cases import CONV_CASES, PASSES, POOL_CASES, conv_flops, pool_bytes
from cnnlib.bench.results import Measurement
from cnnlib.bench.timing import Task, interleaved

NAIVE, NUMPY, IM2COL = "naive loops", "cnnlib.numpy_nn", "cnnlib.numpy_nn im2col"
TORCH_NN, REFERENCE = "cnnlib.torch_nn", "torch.nn"
IMPLS = (NAIVE, NUMPY, IM2COL, TORCH_NN, REFERENCE)
CPU_ONLY = (NAIVE, NUMPY, IM2COL)


def _check_impls(impls, device) -> tuple[str, ...]:
    unknown = [impl for impl in impls if impl not in IMPLS]
    if unknown:
        raise ValueError(f"impls must be chosen from {IMPLS}, got {unknown[0]!r}")
    if str(device) != "cpu":
        impls = [impl for impl in impls if impl not in CPU_ONLY]  # NumPy runs on the CPU only
    return tuple(impls)


# -- tasks: one per (implementation, pass) --------------------------------------------------------
def _numpy_tasks(forward, backward, args, grad):
    """forward(*args) -> (out, cache); backward(grad, cache) -> grads."""
    return {
        "forward": Task(run=lambda _: forward(*args)[0], keep=True, library="numpy"),
        "backward": Task(setup=lambda: forward(*args)[1], run=lambda cache: backward(grad, cache), library="numpy"),
        "forward+backward": Task(run=lambda _: backward(grad, forward(*args)[1]), library="numpy"),
    }


def _torch_tasks(fn, inputs, grad, device):
    """fn() builds the output (with its autograd graph) from ``inputs``, the tensors that need gradients."""
    import torch

    def gradients(out):
        return torch.autograd.grad(out, inputs, grad)

    return {
        "forward": Task(run=lambda _: fn(), device=device, keep=True, library="torch"),
        "backward": Task(setup=fn, run=gradients, device=device, library="torch"),
        "forward+backward": Task(run=lambda _: gradients(fn()), device=device, library="torch"),
    }


def _naive_tasks(forward, backward, repeats):
    """The loops take seconds: no warm-up, ``repeats`` rounds, and forward+backward is the sum of the two."""
    return {
        "forward": Task(run=lambda _: forward(), repeats=repeats, warmup=False, keep=True, library="numpy"),
        "backward": Task(run=lambda _: backward(), repeats=repeats, warmup=False, library="numpy"),
    }


def _conv_contenders(case, impls, device, rng):
    import torch

    from cnnlib.numpy_nn import conv as np_conv
    from cnnlib.torch_nn import conv as th_conv

    x = rng.standard_normal(case.input_shape, dtype=np.float32)           # (N, C_in, H, W)
    w = rng.standard_normal(case.weight_shape, dtype=np.float32) * 0.1    # (C_out, C_in, kH, kW)
    b = rng.standard_normal(case.out_channels, dtype=np.float32)          # (C_out,)
    g = rng.standard_normal(case.output_shape, dtype=np.float32)          # (N, C_out, H_out, W_out)
    s, p, nb = case.stride, case.padding, case.naive_batch
    tensors = [torch.tensor(a, device=device, requires_grad=True) for a in (x, w, b)]
    g_t = torch.tensor(g, device=device)
    layer = torch.nn.Conv2d(case.in_channels, case.out_channels, case.kernel_size, s, p, device=device)
    with torch.no_grad():
        layer.weight.copy_(tensors[1])
        layer.bias.copy_(tensors[2])
    x_t = tensors[0]
    makers = {
        NAIVE: lambda: _naive_tasks(lambda: np_conv.conv2d_naive(x[:nb], w, b, s, p),
                                    lambda: np_conv.conv2d_backward_naive(g[:nb], x[:nb], w, b, s, p), None),
        NUMPY: lambda: _numpy_tasks(np_conv.conv2d_forward, np_conv.conv2d_backward, (x, w, b, s, p), g),
        IM2COL: lambda: _numpy_tasks(lambda *a: np_conv.conv2d_forward(*a, algorithm="im2col"), np_conv.conv2d_backward,
                                      (x, w, b, s, p), g),
        TORCH_NN: lambda: _torch_tasks(lambda: th_conv.conv2d(*tensors, s, p), tensors, g_t, device),
        REFERENCE: lambda: _torch_tasks(lambda: layer(x_t), [x_t, layer.weight, layer.bias], g_t, device),
    }
    if np_conv.choose_algorithm("auto", case.weight_shape[2:], (s, s)) == "im2col":
        del makers[IM2COL]  # "auto" is im2col here already
    return {impl: makers[impl]() for impl in impls if impl in makers}


def _pool_contenders(case, impls, device, rng):
    import torch

    from cnnlib.numpy_nn import pooling as np_pool
    from cnnlib.torch_nn import pooling as th_pool

    x = rng.standard_normal(case.input_shape, dtype=np.float32)  # (N, C, H, W)
    out_shape = (case.batch, case.channels, case.out_size, case.out_size)
    g = rng.standard_normal(out_shape, dtype=np.float32)         # (N, C, H_out, W_out)
    window = (case.kernel_size, case.stride, case.padding)
    nb = case.naive_batch
    name = "max_pool2d" if case.mode == "max" else "avg_pool2d"
    x_t = torch.tensor(x, device=device, requires_grad=True)
    g_t = torch.tensor(g, device=device)
    ref = (torch.nn.MaxPool2d if case.mode == "max" else torch.nn.AvgPool2d)(*window)
    ours = getattr(th_pool, name)
    makers = {
        NAIVE: lambda: _naive_tasks(lambda: getattr(np_pool, name + "_naive")(x[:nb], *window),
                                    lambda: getattr(np_pool, name + "_backward_naive")(g[:nb], x[:nb], *window),
                                    None),
        NUMPY: lambda: _numpy_tasks(getattr(np_pool, name + "_forward"),
                                    lambda grad, cache: getattr(np_pool, name + "_backward")(grad, cache),
                                    (x, *window), g),
        TORCH_NN: lambda: _torch_tasks(lambda: ours(x_t, *window), [x_t], g_t, device),
        REFERENCE: lambda: _torch_tasks(lambda: ref(x_t), [x_t], g_t, device),
    }
    return {impl: makers[impl]() for impl in impls if impl in makers}  # no algorithm choice for pooling


# -- running a section ----------------------------------------------------------------------------
def _as_numpy(value) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


def check_outputs(contenders, batch_of, tolerance=1e-3) -> None:
    """Every contender's forward output must match ``torch.nn``'s (on the images it ran) within ``tolerance``.

    The error is measured relative to the largest reference value; float32 sums over a few
    thousand terms stay well inside 1e-3. Raises RuntimeError naming the contender otherwise.
    """
    if REFERENCE not in contenders:
        return
    reference = _as_numpy(contenders[REFERENCE]["forward"].result)
    for impl, tasks in contenders.items():
        out = _as_numpy(tasks["forward"].result)
        if out.dtype != np.float32:
            raise RuntimeError(f"{impl} returned {out.dtype} for a float32 input; float32 must stay float32")
        expected = reference[:batch_of(impl)]
        error = np.max(np.abs(out - expected)) / max(np.max(np.abs(expected)), 1e-30)
        if not error <= tolerance:
            raise RuntimeError(f"{impl}'s forward output differs from torch.nn's by {error:.2e} (relative)")


def _measure(section, case, contenders, repeats, naive_repeats, device, work):
    """Time every (implementation, pass) of one case, interleaved; return Measurements at the full batch."""
    tasks = {}
    for impl, passes in contenders.items():
        for which, task in passes.items():
            if impl == NAIVE:
                task.repeats = naive_repeats
            tasks[(impl, which)] = task
    times = interleaved(tasks, repeats=max(repeats, naive_repeats))
    check_outputs(contenders, lambda impl: case.naive_batch if impl == NAIVE else case.batch)
    results = []
    for impl in contenders:
        measured = case.naive_batch if impl == NAIVE else None
        for which in PASSES:
            if impl == NAIVE and which == "forward+backward":
                seconds = [f + b for f, b in zip(times[(impl, "forward")], times[(impl, "backward")])]
                note = f"run on {case.naive_batch} of {case.batch} images, times x{case.batch // case.naive_batch}; " \
                       "forward+backward = forward + backward"
            else:
                seconds = times[(impl, which)]
                note = f"run on {case.naive_batch} of {case.batch} images, times x{case.batch // case.naive_batch}" \
                    if impl == NAIVE else ""
            results.append(Measurement(section, case.name, impl, str(device), which, seconds, batch=case.batch,
                                       measured_batch=measured, detail=case.describe(), note=note,
                                       **work(case, which)))
    return results


def bench_conv(cases=CONV_CASES, impls=IMPLS, device="cpu", repeats=5, naive_repeats=1, seed=0):
    """Convolution forward, backward and both, float32, for each case and implementation.

    Returns a list of `Measurement` (section "conv"), ratios not yet set (see `add_ratios`).
    """
    impls = _check_impls(impls, device)
    rng = np.random.default_rng(seed)
    results = []
    for case in cases:
        contenders = _conv_contenders(case, impls, device, rng)
        results += _measure("conv", case, contenders, repeats, naive_repeats, device,
                            lambda c, which: {"flops": conv_flops(c, which)})
    return results


def bench_pool(cases=POOL_CASES, impls=IMPLS, device="cpu", repeats=5, naive_repeats=1, seed=0):
    """Pooling forward, backward and both, float32; rated in bytes moved (section "pool")."""
    impls = _check_impls(impls, device)
    rng = np.random.default_rng(seed)
    results = []
    for case in cases:
        contenders = _pool_contenders(case, impls, device, rng)
        results += _measure("pool", case, contenders, repeats, naive_repeats, device,
                            lambda c, which: {"bytes": pool_bytes(c, which)})
    return results
