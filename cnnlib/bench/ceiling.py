"""The machine's own speed limits, so every other figure can be read as a fraction of them.

A ceiling is the best the machine reached, so it is the fastest of the rounds, not the median.

- GEMM: one large float32 matrix multiply, ``C = A @ B`` with A, B of shape (n, n), costs
  2*n^3 FLOP. Nothing built on matrix multiplies (im2col convolution included) can beat the
  rate the same library reaches here. Measured for NumPy's BLAS and for PyTorch.
- Memory copy: copying a large float32 array reads and writes every byte once, 2*size bytes.
  Pooling does next to no arithmetic, so this bandwidth is its ceiling.
"""
from __future__ import annotations

import numpy as np

from cnnlib.bench.results import Measurement
from cnnlib.bench.timing import Task, interleaved


def gemm_flops(n: int) -> int:
    """2*n^3: n^2 outputs, each a dot product of n multiplies and n adds.

    >>> gemm_flops(1024) / 1e9
    2.147483648
    """
    return 2 * n ** 3


def bench_gemm(n=2048, device="cpu", repeats=5, seed=0):
    """float32 (n, n) @ (n, n) in NumPy (on the CPU) and PyTorch (on ``device``), interleaved."""
    import torch

    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
    a_t, b_t = (torch.tensor(m, device=device) for m in (a, b))
    tasks = {"PyTorch": Task(run=lambda _: a_t @ b_t, device=str(device), library="torch")}
    if str(device) == "cpu":
        tasks["NumPy"] = Task(run=lambda _: a @ b, library="numpy")
    times = interleaved(tasks, repeats)
    return [Measurement("ceiling", f"GEMM {n}x{n} float32", library, str(device), "forward", seconds,
                        flops=gemm_flops(n), detail=f"({n}, {n}) @ ({n}, {n})", statistic="min")
            for library, seconds in times.items()]


def bench_copy(megabytes=256, device="cpu", repeats=5):
    """Memory bandwidth: copy a float32 array of ``megabytes`` into another (NumPy on the CPU, PyTorch on a GPU)."""
    import torch

    n = megabytes * 2 ** 20 // 4
    if str(device) == "cpu":
        src, dst = np.ones(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
        task = Task(run=lambda _: np.copyto(dst, src))
        library = "NumPy"
    else:
        src, dst = torch.ones(n, device=device), torch.zeros(n, device=device)
        task = Task(run=lambda _: dst.copy_(src), device=str(device))
        library = "PyTorch"
    times = interleaved({library: task}, repeats)
    return [Measurement("ceiling", f"copy {megabytes} MB", library, str(device), "forward", times[library],
                        bytes=2 * n * 4, detail="read + write every byte once", statistic="min")]
