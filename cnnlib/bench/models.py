"""Whole networks: LeNet-5 training steps per second, and inference images per second at ImageNet size.

Training (07_case_studies_lenet): LeNet-5 on scikit-learn's digits, batches of 64,
plain SGD, built three ways from the same initial weights: from ``cnnlib.numpy_nn`` layers (every
backward written out, float32), from ``cnnlib.torch_nn`` layers, and from ``torch.nn``; on a GPU
also ``torch.nn`` trained as ``cnnlib.train.fit(..., amp=True, channels_last=True)`` trains it.

Inference: AlexNet (227x227, its native size), VGG16, ResNet-18 and ResNet-50 (224x224) from
``cnnlib.models``, in evaluation mode without autograd. The ``cnnlib.torch_nn`` variant swaps in
the learner's convolution, pooling, linear and ReLU layers; the layers it does not have
(BatchNorm2d, LocalResponseNorm, Dropout, AdaptiveAvgPool2d) stay ``torch.nn``'s.
On a GPU a third variant runs with float16 autocast and channels-last memory, where tensor cores help.

FLOPs of a forward pass are counted by ``torch.utils.flop_counter`` on the ``torch.nn`` model;
a training step is counted as three forward passes (forward, and a backward twice as costly).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from cnnlib.bench.breakdown import numpy_step_breakdown
from cnnlib.bench.cases import MODEL_CASES
from cnnlib.bench.layers import NUMPY, REFERENCE, TORCH_NN
from cnnlib.bench.results import Measurement
from cnnlib.bench.timing import Task, interleaved, peak_memory

AMP = "torch.nn fp16 channels-last"


def numpy_layers() -> SimpleNamespace:
    """The ``cnnlib.numpy_nn`` classes a model builder asks for, by their ``torch.nn`` names."""
    from cnnlib.numpy_nn import activation, conv, linear, module, pooling

    return SimpleNamespace(Conv2d=conv.Conv2d, Linear=linear.Linear, ReLU=activation.ReLU, Tanh=activation.Tanh,
                           MaxPool2d=pooling.MaxPool2d, AvgPool2d=pooling.AvgPool2d,
                           Sequential=module.Sequential, Flatten=module.Flatten)


def torch_layers() -> SimpleNamespace:
    """``cnnlib.torch_nn``'s layers, completed by ``torch.nn``'s for the ones it does not define."""
    import torch.nn as nn

    from cnnlib.torch_nn import activation, conv, linear, pooling

    return SimpleNamespace(Conv2d=conv.Conv2d, Linear=linear.Linear, ReLU=activation.ReLU, Tanh=activation.Tanh,
                           MaxPool2d=pooling.MaxPool2d, AvgPool2d=pooling.AvgPool2d,
                           BatchNorm2d=nn.BatchNorm2d, LocalResponseNorm=nn.LocalResponseNorm, Dropout=nn.Dropout,
                           AdaptiveAvgPool2d=nn.AdaptiveAvgPool2d, Sequential=nn.Sequential, Flatten=nn.Flatten)


def forward_flops(build, input_shape) -> int:
    """FLOPs of one forward pass (2 per multiply-add) of the model ``build()`` makes, counted on the meta device.

    On the meta device tensors have shapes but no memory, so even VGG16 costs nothing to count.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        model = build().eval()
        x = torch.empty(input_shape)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return int(counter.get_total_flops())


def _float32_numpy_copy(reference):
    """LeNet-5 from ``cnnlib.numpy_nn`` layers with ``reference``'s weights, in float32."""
    from cnnlib.models import lenet5

    model = lenet5(layers=numpy_layers())
    model.load_state_dict({k: v.detach().cpu().numpy() for k, v in reference.state_dict().items()})
    for p in model.parameters():
        p.data = p.data.astype(np.float32)
        p.grad = np.zeros_like(p.data)
    return model


def _numpy_step(model, lr):
    from cnnlib.numpy_nn.loss import CrossEntropyLoss

    def sgd():
        for p in model.parameters():  # plain SGD, as torch.optim.SGD with momentum=0
            p.data -= lr * p.grad

    parts = SimpleNamespace(model=model, loss_fn=CrossEntropyLoss(), sgd=sgd)  # cnnlib.bench.breakdown times these

    def step(x, y):
        model.zero_grad()
        loss = parts.loss_fn(model(x), y)
        model.backward(parts.loss_fn.backward(), need_input_grad=False)  # the images need no gradient, as in torch
        parts.sgd()
        return loss

    step.parts = parts
    return step


def _torch_step(model, lr, precision=None):
    """One SGD step of ``model``; ``precision`` (a `cnnlib.train.Precision`) adds autocast and channels-last."""
    import torch
    import torch.nn.functional as F

    from cnnlib.train import Precision

    precision = precision or Precision("cpu")
    optimizer = torch.optim.SGD(precision.prepare(model).parameters(), lr=lr)

    def step(x, y):
        optimizer.zero_grad(set_to_none=True)
        with precision.autocast():
            loss = F.cross_entropy(model(precision.inputs(x)), y)
        precision.backward_and_step(loss, optimizer)
        return loss

    return step


def bench_training(device="cpu", repeats=5, steps=10, batch=64, lr=0.05, impls=(NUMPY, TORCH_NN, REFERENCE, AMP),
                   seed=0, breakdown=None):
    """LeNet-5 training steps per second on the digits; one timed call is ``steps`` SGD steps.

    `AMP` (mixed precision and channels-last) runs on CUDA only, ``cnnlib.numpy_nn`` on the CPU only.
    A dict passed as ``breakdown`` receives, under "train_breakdown", where the ``cnnlib.numpy_nn``
    step's time goes (`cnnlib.bench.breakdown.numpy_step_breakdown`, measured after the timed rounds).

    Returns Measurements (section "train", ``items`` = steps, with the memory peak of the first call).
    """
    import torch

    from cnnlib.data import load_digits
    from cnnlib.models import lenet5

    from cnnlib.train import Precision

    on_cpu, on_cuda = str(device) == "cpu", str(device).startswith("cuda")
    impls = tuple(impl for impl in impls if (impl != NUMPY or on_cpu) and (impl != AMP or on_cuda))
    (x_train, y_train), _ = load_digits()
    batches = [(x_train[i:i + batch], y_train[i:i + batch]) for i in range(0, len(x_train) - batch + 1, batch)]
    torch.manual_seed(seed)
    reference = lenet5()
    steppers = {}
    for impl in impls:
        if impl == NUMPY:
            steppers[impl] = (_numpy_step(_float32_numpy_copy(reference), lr), batches)
        else:
            model = lenet5(layers=torch_layers()) if impl == TORCH_NN else lenet5()
            model.load_state_dict(reference.state_dict())
            on_device = [tuple(torch.from_numpy(a).to(device) for a in pair) for pair in batches]
            precision = Precision(device, amp=impl == AMP, channels_last=impl == AMP)
            steppers[impl] = (_torch_step(model.to(device), lr, precision), on_device)

    def run_steps(impl):
        step, data = steppers[impl]
        position = {"i": 0}

        def run(_):
            for _ in range(steps):
                step(*data[position["i"] % len(data)])
                position["i"] += 1
        return run

    # warmup=True: after the pause between libraries each contender runs once untimed, as every layer
    # task does (see cnnlib.bench.timing); without it numpy_nn, which always follows a pause, was timed
    # cold every round (7.1 ms a step against 6.0 after a warm-up) and torch.nn in half of them.
    tasks = {impl: Task(run=run_steps(impl), device=str(device),
                      library="numpy" if impl == NUMPY else "torch") for impl in impls}
    peaks = warm_up(tasks, device)
    times = interleaved(tasks, repeats)
    if breakdown is not None and NUMPY in steppers:
        breakdown["train_breakdown"] = numpy_step_breakdown(*steppers[NUMPY], rounds=repeats, steps=steps)
    flops = 3 * forward_flops(lenet5, (batch, 1, 32, 32)) * steps
    return [Measurement("train", "LeNet-5 on digits", impl, str(device), "train step", times[impl], batch=batch,
                        items=steps, item="step", flops=flops, peak_bytes=peaks[impl],
                        detail=f"batch {batch}, SGD, {steps} steps per call")
            for impl in impls]


def warm_up(tasks, device) -> dict:
    """Call each task once, untimed, and return the memory peak of that first call by name."""
    peaks = {}
    for name, task in tasks.items():
        with peak_memory(device) as peak:
            task.call()
        peaks[name] = peak["bytes"]
    return peaks


def bench_inference(cases=MODEL_CASES, device="cpu", repeats=3, impls=(REFERENCE,), batch=None, seed=0):
    """Images per second of each model in evaluation mode, no autograd; ``batch`` overrides the case's.

    ``impls`` may hold ``torch.nn``, ``cnnlib.torch_nn`` and, on a GPU, `AMP`. Returns Measurements
    (section "infer", ``items`` = images, with the memory peak of the first call).
    """
    import torch

    from cnnlib import models

    results = []
    for label, builder, cpu_batch, gpu_batch in cases:
        n = batch or (cpu_batch if str(device) == "cpu" else gpu_batch)
        size = 227 if builder == "alexnet" else 224
        build = getattr(models, builder)
        torch.manual_seed(seed)
        reference = build().eval()
        state = reference.state_dict()
        x = torch.randn(n, 3, size, size, device=device)
        runners = {}
        for impl in impls:
            if impl == AMP and not str(device).startswith("cuda"):
                continue
            if impl == REFERENCE:
                model = reference
            else:  # the same weights, in cnnlib.torch_nn's layers or in a second torch.nn copy for AMP
                model = build(layers=torch_layers()) if impl == TORCH_NN else build()
                model.load_state_dict(state)
            runners[impl] = _inference_runner(model.eval().to(device), x, amp=impl == AMP)
        tasks = {impl: Task(run=run, device=str(device), keep=True, warmup=False) for impl, run in runners.items()}
        peaks = warm_up(tasks, device)
        _check_logits(tasks)
        times = interleaved(tasks, repeats)
        flops = forward_flops(build, (n, 3, size, size))
        results += [Measurement("infer", label, impl, str(device), "inference", times[impl], batch=n, items=n,
                                item="image", flops=flops, peak_bytes=peaks[impl], detail=f"batch {n}, {size}x{size}")
                    for impl in tasks]
        del reference, state, runners, tasks
    return results


def _inference_runner(model, x, amp=False):
    """Forward passes without autograd; ``amp`` adds autocast and channels-last as `cnnlib.train.Precision` does."""
    import torch

    from cnnlib.train import Precision

    precision = Precision(x.device, amp=amp, channels_last=amp)
    model, x = precision.prepare(model), precision.inputs(x)

    def run(_):
        with torch.inference_mode(), precision.autocast():
            return model(x)
    return run


def _check_logits(tasks):
    """The variants must compute the same function: logits within 1e-2 of ``torch.nn``'s (5e-2 in float16), relative."""
    if REFERENCE not in tasks:
        return
    reference = tasks[REFERENCE].result.float().cpu()
    for impl, task in tasks.items():
        out = task.result.float().cpu()
        error = float((out - reference).abs().max() / reference.abs().max().clamp_min(1e-30))
        if not error <= (5e-2 if impl == AMP else 1e-2):
            raise RuntimeError(f"{impl}'s logits differ from torch.nn's by {error:.2e} (relative)")
