"""What cnnlib.train's loops keep alive: one batch at a time, and views of the data rather than copies.

Why it matters (measured in 07_case_studies_lenet): LeNet-5's float64 convolutions allocate and
free buffers of 30-40 MB at every batch of 256 images. When ``predict`` kept each batch's answer
until the end, those small survivors sat between the big buffers, glibc could not give the memory
back, and one call on the 10,000 test images raised the process's peak by 90 MB to 1 GB from run
to run. These tests check the cause, not a number of bytes (which depends on the allocator):
the live tensors at every forward call of the loop are the same, batch after batch.
"""
from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

from cnnlib import numpy_nn
from cnnlib.train import evaluate, evaluate_numpy, fit, predict

N, FEATURES = 50, 12  # 50 images in batches of 8: 7 batches, the last one short


def live_tensors() -> int:
    return sum(issubclass(type(obj), torch.Tensor) for obj in gc.get_objects())  # type(): no __class__ lookups


class Recorder(torch.nn.Module):
    """A linear classifier that notes, at every call, how many tensors are alive and where its input lives."""

    def __init__(self, count: bool = True):
        super().__init__()
        self.linear = torch.nn.Linear(FEATURES, 10, dtype=torch.float64)
        self.count, self.live, self.storages = count, [], []

    def forward(self, x):
        if self.count:  # a walk over every object: about 0.1 s in a test run
            self.live.append(live_tensors())
        self.storages.append(x.untyped_storage().data_ptr())
        return self.linear(x)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, FEATURES)), rng.integers(0, 10, N)


def test_predict_keeps_nothing_from_one_batch_to_the_next(data):
    model = Recorder()
    predicted = predict(model, data[0], batch_size=8)
    assert len(model.live) == 7 and predicted.shape == (N,)
    assert len(set(model.live)) == 1, f"live tensors at each batch: {model.live} (a batch's result is kept)"


def test_evaluate_keeps_nothing_from_one_batch_to_the_next(data):
    model = Recorder()
    evaluate(model, data, batch_size=8)
    assert len(model.live) == 7 and len(set(model.live)) == 1, f"live tensors at each batch: {model.live}"


@pytest.mark.parametrize("run", [predict, evaluate], ids=["predict", "evaluate"])
def test_evaluation_batches_are_views_of_the_data(data, run):
    x = np.ascontiguousarray(data[0])  # float64 like the model, so the loop's tensor shares this memory
    model = Recorder(count=False)
    run(model, x if run is predict else (x, data[1]), batch_size=8)
    assert model.storages == [x.ctypes.data] * 7, "a batch was copied out of the data instead of viewed"


def test_evaluate_numpy_batches_are_views_of_the_data(data):
    seen = []

    class Spy(numpy_nn.Linear):
        def forward(self, x):
            seen.append(np.shares_memory(x, data[0]))
            return super().forward(x)

    evaluate_numpy(Spy(FEATURES, 10), data, batch_size=8)
    assert seen == [True] * 7


def test_fit_keeps_no_tensor_or_graph_of_earlier_batches(data):
    """A training loop that kept, say, each batch's loss would keep its autograd graph alive too."""
    model = Recorder()
    fit(model, data, None, torch.optim.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=16,
        device="cpu", progress=False)
    assert len(model.live) == 8
    # The first call comes before the optimizer's state and the previous batch's names exist.
    assert len(set(model.live[2:])) == 1, f"live tensors at each batch: {model.live}"
