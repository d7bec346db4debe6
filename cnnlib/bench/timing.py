"""Timing that can be trusted on a shared machine: interleaved repeats, medians, a stated thread count.

Four habits make a benchmark honest, and this module is where they live:

- **Interleave.** Every contender runs once per round, in a rotated order, for several rounds.
  When another process steals the CPU for a while, all contenders suffer alike instead of one.
- **Report the median** of the rounds, not the mean (one unlucky round does not move it) and
  not the minimum (which flatters whoever got the one quiet moment).
- **Fix and state the thread count.** NumPy's matrix multiply runs in its BLAS library's
  threads, PyTorch in its own; `threads(n)` sets both, `thread_info()` says what is in force.
- **Let the other library's threads fall asleep.** After a call, OpenBLAS's worker threads keep
  spinning on their cores for about 0.1 s, waiting for more work (OpenMP's, PyTorch's, for a
  shorter while). On a 2-core machine the spinning threads of one library take the cores the
  next contender needs: alternating a 1024x1024 NumPy matrix multiply with a VGG convolution
  in torch.nn made each about 1.7x slower than running alone. `interleaved` therefore pauses
  `SETTLE_S` whenever the next task's ``library`` differs from the last one's, then calls the
  task once untimed: after the pause its own threads have gone to sleep too, and waking them
  cost a LeNet-sized layer about 15% on the first call.

On CUDA a kernel launch returns before the GPU has finished, so each timed call is wrapped in
``torch.cuda.synchronize()``. Peak memory: `peak_rss` (the process's resident memory on Linux,
for NumPy and PyTorch on the CPU) and `peak_cuda` (PyTorch's allocator on a GPU).
Used by ``python -m cnnlib.bench``; the results appear in 02_convolution.
"""
from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

from cnnlib.checks import check_int

SETTLE_S = 0.2  # longer than OpenBLAS's idle spin (2**28 cycles, about 0.1 s) and OpenMP's


@dataclass
class Task:
    """One contender: ``run(setup())`` is the call being timed; ``setup`` (untimed) prepares its input.

    ``repeats`` caps how many rounds this task joins (the naive loops take seconds, so they join
    only the first round or two). ``device`` is ``"cpu"`` or a CUDA device, for synchronisation.
    ``keep`` stores the value of the first call in ``Task.result``, for a correctness check.
    ``library`` ("numpy", "torch" or "") names whose thread pool runs the call (see `interleaved`).
    """

    run: Callable[[Any], Any]
    setup: Callable[[], Any] | None = None
    repeats: int | None = None
    device: str = "cpu"
    warmup: bool = True
    keep: bool = False
    library: str = ""
    result: Any = field(default=None, repr=False)

    def call(self) -> float:
        """Set up, then time one call of ``run``: the wall-clock seconds."""
        state = self.setup() if self.setup is not None else None
        _sync(self.device)
        start = time.perf_counter()
        value = self.run(state)
        _sync(self.device)
        elapsed = time.perf_counter() - start
        if self.keep and self.result is None:
            self.result = value
        return elapsed


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def interleaved(tasks: dict[str, Task], repeats: int) -> dict[str, list[float]]:
    """Time every task once per round for ``repeats`` rounds, rotating the order each round.

    Each task is first called once untimed (its warm-up: caches, thread pools, cuDNN's choice of
    algorithm) unless it says ``warmup=False``. Between two tasks of different ``library``, it
    waits `SETTLE_S` and calls the next task once more, untimed (unless ``warmup=False``).
    Returns the seconds of every timed call, by name.

    >>> times = interleaved({"a": Task(run=lambda _: sum(range(100)))}, repeats=3)
    >>> len(times["a"])
    3
    """
    repeats = check_int(repeats, "repeats", minimum=1)
    last_library = ""

    def call(task: Task) -> float:
        nonlocal last_library
        if task.library and last_library and task.library != last_library:
            time.sleep(SETTLE_S)  # the previous library's threads stop spinning first ...
            if task.warmup:
                task.call()       # ... and this library's threads, asleep by now, are woken untimed
        last_library = task.library or last_library
        return task.call()

    for task in tasks.values():
        if task.warmup:
            call(task)
    names = list(tasks)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names) if names else 0
        for name in names[shift:] + names[:shift]:  # a different contender goes first each round
            task = tasks[name]
            if task.repeats is None or len(times[name]) < task.repeats:
                times[name].append(call(task))
    return times


def median(times: list[float]) -> float:
    """The median of the timed calls (seconds): the figure every table reports."""
    if not times:
        raise ValueError("times must hold at least one measurement, got an empty list")
    return statistics.median(times)


# -- threads --------------------------------------------------------------------------------------
@contextmanager
def threads(n: int):
    """Run the block with ``n`` threads in PyTorch and in every native thread pool NumPy uses (BLAS, OpenMP).

    >>> with threads(1):
    ...     info = thread_info()
    >>> info["torch"]
    1
    """
    import torch
    from threadpoolctl import threadpool_limits

    n = check_int(n, "threads", minimum=1)
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield n
    finally:
        torch.set_num_threads(before)


def thread_info() -> dict:
    """The threads in force now: PyTorch's intra-op count and each native pool (BLAS library, version, threads)."""
    import torch
    from threadpoolctl import threadpool_info

    pools = [{"library": p.get("internal_api"), "version": p.get("version"), "threads": p.get("num_threads"),
              "file": os.path.basename(p.get("filepath", ""))} for p in threadpool_info()]
    return {"torch": torch.get_num_threads(), "pools": pools}


@contextmanager
def strict_float32():
    """Keep float32 arithmetic float32 on a GPU: no TF32 in cuDNN's convolutions or in matrix multiplies.

    PyTorch lets cuDNN use TF32 (a 10-bit mantissa) for float32 convolutions by default; the
    benchmark compares float32 with float32, so it turns that off for the block and restores it.
    """
    import torch

    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = before


# -- memory ---------------------------------------------------------------------------------------
def _status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _release_free_memory() -> None:
    """Ask glibc to hand freed memory back to the system, so that reusing it shows up as a rise in RSS."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): the peak may then be under-counted
        pass


@contextmanager
def peak_rss():
    """Measure how far the process's resident memory rose above its level at entry (Linux only).

    Yields a dict whose ``"bytes"`` is filled on exit (``None`` where the kernel does not let us
    reset the high-water mark). Counts everything the block allocated: NumPy arrays and
    PyTorch's CPU tensors alike. Freed memory is first returned to the system (``malloc_trim``),
    or memory the allocator recycles would not be seen.
    """
    box: dict[str, int | None] = {"bytes": None}
    _release_free_memory()
    start = _status_kib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # reset VmHWM, the peak resident size, to the current size
        resettable = start is not None
    except OSError:
        resettable = False
    try:
        yield box
    finally:
        peak = _status_kib("VmHWM")
        if resettable and peak is not None:
            box["bytes"] = max(0, peak - start) * 1024


@contextmanager
def peak_cuda(device):
    """PyTorch's peak allocated GPU memory during the block, in ``box["bytes"]``."""
    import torch

    box: dict[str, int | None] = {"bytes": None}
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    start = torch.cuda.memory_allocated(device)
    try:
        yield box
    finally:
        torch.cuda.synchronize(device)
        box["bytes"] = torch.cuda.max_memory_allocated(device) - start


def peak_memory(device):
    """`peak_cuda` on a CUDA device, `peak_rss` otherwise."""
    return peak_cuda(device) if str(device).startswith("cuda") else peak_rss()
