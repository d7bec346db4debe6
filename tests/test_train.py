"""cnnlib.train: the PyTorch loop and the NumPy loop are the same algorithm, seeded, and they learn the digits."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn as nn

from cnnlib import numpy_nn
from cnnlib.data import load_digits, random_affine
from cnnlib.device import available_devices
from cnnlib.models.lenet import lenet5
from cnnlib.train import History, batch_indices, evaluate, evaluate_numpy, fit, fit_numpy


@pytest.fixture(autouse=True)
def one_thread():
    """These networks are tiny: one thread is as fast as two on an idle machine, and on a busy
    one two threads waiting for each other after every small operation ran 10x slower (measured).
    The same holds for NumPy's BLAS (threadpoolctl comes with scikit-learn)."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits16():
    """A small slice of the real digits at 16x16: 300 training and 120 test images."""
    (x_train, y_train), (x_test, y_test) = load_digits(size=16)
    return (x_train[:300], y_train[:300]), (x_test[:120], y_test[:120])


def small_cnn(layers, dtype=None):
    """Conv(1->4, 3x3) - ReLU - MaxPool 2 - Flatten - Linear(4*7*7 -> 10), from torch.nn or cnnlib.numpy_nn."""
    kwargs = {} if dtype is None else {"dtype": dtype}
    return layers.Sequential(
        layers.Conv2d(1, 4, kernel_size=3, **kwargs),  # (N, 4, 14, 14)
        layers.ReLU(),
        layers.MaxPool2d(kernel_size=2),  # (N, 4, 7, 7)
        layers.Flatten(),  # (N, 196)
        layers.Linear(4 * 7 * 7, 10, **kwargs),  # (N, 10)
    )


def twin_models(seed=0):
    """A float64 torch model and a NumPy model holding exactly the same weights."""
    torch.manual_seed(seed)
    torch_model = small_cnn(nn).double()
    numpy_model = small_cnn(numpy_nn, dtype=np.float64)
    numpy_model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    return torch_model, numpy_model


# -- History and batches ------------------------------------------------------------------------------
def test_history_prints_rounded_rows():
    h = History(train_loss=[2.30259, 0.51234], train_acc=[0.1, 0.875], test_loss=[1.5, 0.4444], test_acc=[0.5, 0.90278])
    assert str(h) == (
        "epoch  train loss  train acc  test loss  test acc\n"
        "    1       2.303      10.0%      1.500     50.0%\n"
        "    2       0.512      87.5%      0.444     90.3%"
    )
    assert repr(h) == str(h) and h.epochs == 2
    assert h.as_dict()["test_acc"] == [0.5, 0.90278]
    assert str(History(train_loss=[1.0], train_acc=[0.5])).splitlines()[1] == "    1       1.000      50.0%"


def test_batch_indices_cover_everything_once():
    batches = list(batch_indices(10, 4))
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    shuffled = list(batch_indices(10, 4, np.random.default_rng(0)))
    assert sorted(np.concatenate(shuffled).tolist()) == list(range(10))
    assert np.concatenate(shuffled).tolist() != list(range(10))
    again = list(batch_indices(10, 4, np.random.default_rng(0)))
    assert all(np.array_equal(a, b) for a, b in zip(shuffled, again))


# -- evaluate: checked against a hand computation ----------------------------------------------------
def test_evaluate_matches_hand_computation():
    model = nn.Sequential(nn.Flatten(), nn.Linear(2, 3, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
    x = np.array([[[[2.0, 0.0]]], [[[0.0, 1.0]]], [[[0.0, 0.0]]]], dtype=np.float32)  # (3, 1, 1, 2)
    y = np.array([0, 0, 2])
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected_loss = -log_probs[np.arange(3), y].mean()
    loss, acc = evaluate(model, (x, y), batch_size=2)
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    assert acc == pytest.approx(1 / 3)  # row 0 right (class 0), row 1 wrong (says 1), row 2: a tie, arg-max picks 0
    assert not model.training


def test_evaluate_numpy_agrees_with_evaluate(digits16):
    torch_model, numpy_model = twin_models()
    loss, acc = evaluate(torch_model, digits16[1])
    loss_np, acc_np = evaluate_numpy(numpy_model, digits16[1], batch_size=50)
    assert loss_np == pytest.approx(loss, rel=1e-10) and acc_np == acc
    assert 0.05 < acc < 0.3  # untrained: about chance


# -- the two loops are the same algorithm ------------------------------------------------------------
def test_fit_and_fit_numpy_give_the_same_history(digits16):
    torch_model, numpy_model = twin_models()
    h_torch = fit(torch_model, *digits16, torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9),
                  epochs=2, batch_size=32, device="cpu", progress=False)
    h_numpy = fit_numpy(numpy_model, *digits16, numpy_nn.optim.SGD(numpy_model.parameters(), lr=0.1, momentum=0.9),
                        epochs=2, batch_size=32, progress=False)
    for name, values in h_torch.as_dict().items():
        np.testing.assert_allclose(getattr(h_numpy, name), values, rtol=1e-9, err_msg=name)
    np.testing.assert_allclose(numpy_model[4].weight.data, torch_model[4].weight.detach().numpy(), rtol=1e-7, atol=1e-12)
    assert h_torch.test_acc[-1] > 0.5 and h_torch.train_loss[1] < h_torch.train_loss[0]  # 2 epochs, 300 images


@pytest.mark.parametrize("device", available_devices())
def test_fit_is_seeded_and_learns(digits16, device):
    def run(seed):
        torch.manual_seed(0)
        model = small_cnn(nn)
        return fit(model, *digits16, torch.optim.Adam(model.parameters(), lr=1e-2), epochs=3, batch_size=30,
                   device=device, seed=seed, progress=False), model

    (h1, model), (h2, _), (h3, _) = run(0), run(0), run(1)
    assert h1.epochs == 3 and len(h1.test_acc) == 3
    np.testing.assert_allclose(h2.train_loss, h1.train_loss, rtol=1e-6)  # same seed, same run
    assert h3.train_loss != h1.train_loss  # another shuffle
    assert h1.train_loss[2] < h1.train_loss[0] and h1.test_acc[2] >= 0.75
    assert next(model.parameters()).device.type == device


def test_fit_without_test_data_and_with_tensors(digits16):
    (x, y), _ = digits16
    torch.manual_seed(0)
    model = small_cnn(nn)
    h = fit(model, (torch.tensor(x), torch.tensor(y)), None, torch.optim.SGD(model.parameters(), lr=0.1),
            epochs=1, batch_size=64, device="cpu", progress=False)
    assert h.epochs == 1 and h.test_loss == [] and h.test_acc == []


def test_progress_goes_to_stderr_only(digits16, capsys):
    torch.manual_seed(0)
    model = small_cnn(nn)
    fit(model, *digits16, torch.optim.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=100, device="cpu")
    out, err = capsys.readouterr()
    assert out == ""
    assert "fit: 100%" in err and "6/6" in err and "epoch 2: loss" in err
    fit(model, *digits16, torch.optim.SGD(model.parameters(), lr=0.1), epochs=1, batch_size=100, device="cpu",
        progress=False)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"epochs": 0}, "epochs must be positive"),
        ({"batch_size": 0}, "batch_size must be positive"),
        ({"batch_size": 2.5}, "batch_size must be an integer"),
        ({"seed": -1}, "seed must be non-negative"),
        ({"train_data": np.zeros((4, 1, 16, 16))}, r"train_data must be a pair \(x, y\)"),
        ({"train_data": (np.zeros((4, 1, 16, 16)), np.zeros(3))}, "4 images but 3 labels"),
    ],
)
@pytest.mark.parametrize("loop", ["fit", "fit_numpy"])
def test_fit_bad_arguments(digits16, kwargs, words, loop):
    args = {"train_data": digits16[0], "test_data": None, "epochs": 1, "batch_size": 8, "progress": False, **kwargs}
    if loop == "fit":
        model = small_cnn(nn)
        with pytest.raises(ValueError, match=words):
            fit(model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), **args)
    else:
        model = small_cnn(numpy_nn)
        with pytest.raises(ValueError, match=words):
            fit_numpy(model, optimizer=numpy_nn.optim.SGD(model.parameters(), lr=0.1), **args)


# -- the targets on the real digits (accuracy, not time: timings are reported, not tested) ------------
@pytest.fixture(scope="module")
def digits32():
    return load_digits()


@pytest.mark.slow
def test_lenet5_reaches_98_percent_on_the_digits(digits32):
    """The recipe of 07_case_studies_lenet: Adam, cosine learning-rate decay, random shifts/turns/zooms, 25 epochs.

    Without augmentation LeNet-5 learns the 1,437 training images by heart (100% train accuracy)
    and stalls at 96.7-97.8% test accuracy (measured over five seeds); with it, 98.1-98.9%.
    """
    torch.manual_seed(0)
    model = lenet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=25)
    history = fit(model, *digits32, optimizer, epochs=25, batch_size=32, device="cpu", progress=False,
                  scheduler=scheduler, augment=random_affine)
    assert history.test_acc[-1] >= 0.98
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.0)  # the schedule ran to its end


@pytest.mark.slow
def test_numpy_lenet5_learns_the_digits(digits32):
    torch.manual_seed(0)
    torch_twin = lenet5()  # the NumPy model starts from torch's seeded initialisation, for a reproducible run
    model = lenet5(layers=numpy_nn)
    model.load_state_dict({k: v.numpy() for k, v in torch_twin.state_dict().items()})
    history = fit_numpy(model, *digits32, numpy_nn.optim.Adam(model.parameters(), lr=3e-3), epochs=6, batch_size=32,
                        progress=False)
    assert history.test_acc[-1] >= 0.95


def test_history_record_appends_one_epoch():
    h = History()
    h.record(0.5, 0.8)
    h.record(0.25, 0.9, test=(0.3, 0.85))
    assert (h.train_loss, h.train_acc, h.test_loss, h.test_acc) == ([0.5, 0.25], [0.8, 0.9], [0.3], [0.85])
    assert h.epochs == 2


# -- mixed precision and channels-last (float16 + GradScaler on CUDA; bfloat16 on the CPU here) ----------
def _adam_run(digits16, device="cpu", **options):
    torch.manual_seed(0)
    model = small_cnn(nn)
    history = fit(model, *digits16, torch.optim.Adam(model.parameters(), lr=1e-2), epochs=3, batch_size=30,
                  device=device, progress=False, **options)
    return history, model


def test_channels_last_is_the_same_training(digits16):
    plain, _ = _adam_run(digits16)
    nhwc, model = _adam_run(digits16, channels_last=True)
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    np.testing.assert_allclose(nhwc.train_loss, plain.train_loss, rtol=1e-4)  # only the memory order differs
    np.testing.assert_allclose(nhwc.test_acc, plain.test_acc, atol=1 / 120)


def test_mixed_precision_trains_and_keeps_float32_weights(digits16):
    plain, _ = _adam_run(digits16)
    mixed, model = _adam_run(digits16, amp=True, channels_last=True)
    assert all(p.dtype == torch.float32 for p in model.parameters())  # autocast computes in half, stores float32
    assert mixed.train_loss != plain.train_loss                         # bfloat16 really was used
    np.testing.assert_allclose(mixed.train_loss, plain.train_loss, rtol=0.05)
    assert mixed.train_loss[2] < mixed.train_loss[0] and mixed.test_acc[2] >= 0.75


def test_precision_uses_float16_with_a_scaler_only_on_cuda():
    from cnnlib.train import Precision

    cpu = Precision("cpu", amp=True)
    assert cpu.dtype == torch.bfloat16 and cpu.scaler is None
    cuda = Precision("cuda", amp=False)
    assert cuda.dtype == torch.float16 and cuda.scaler is None  # no scaler without amp
    with pytest.raises(ValueError, match="amp must be True or False, got 'yes'"):
        Precision("cpu", amp="yes")
    with pytest.raises(ValueError, match="channels_last must be True or False, got 1"):
        Precision("cpu", channels_last=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_mixed_precision_on_cuda_scales_gradients_and_learns(digits16):
    mixed, model = _adam_run(digits16, device="cuda", amp=True, channels_last=True)
    assert next(model.parameters()).device.type == "cuda"
    assert mixed.train_loss[2] < mixed.train_loss[0] and mixed.test_acc[2] >= 0.75


# -- refusing bad runs and bad data ----------------------------------------------------------------------
def _tiny_data(n=8):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 1, 4, 4)).astype(np.float32), np.arange(n) % 2


def _torch_model():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))


def _numpy_model():
    from cnnlib.numpy_nn.linear import Linear
    from cnnlib.numpy_nn.module import Flatten, Sequential

    return Sequential(Flatten(), Linear(16, 2, rng=np.random.default_rng(0)))


@pytest.mark.parametrize("labels, words", [
    (np.array([0.0, 1, 0, 1, 0, 1, 0, 1]), "train_data's labels holds floats"),
    (np.array([0, 1, np.nan, 1, 0, 1, 0, 1]), "holds floats, some of them nan"),
    (np.array([0, 1, 0, -1, 0, 1, 0, 1]), "holds the label -1"),
    (np.array([0, 1, 0]), "train_data has 8 images but 3 labels"),
])
def test_fit_and_fit_numpy_refuse_bad_labels(labels, words):
    import torch

    from cnnlib.numpy_nn.optim import SGD as NumpySGD

    x, _ = _tiny_data()
    torch_model, numpy_model = _torch_model(), _numpy_model()
    with pytest.raises(ValueError, match=re.escape(words)):
        fit(torch_model, (x, labels), None, torch.optim.SGD(torch_model.parameters(), lr=0.1), epochs=1,
            batch_size=4, device="cpu", progress=False)
    with pytest.raises(ValueError, match=re.escape(words)):
        fit_numpy(numpy_model, (x, labels), None, NumpySGD(numpy_model.parameters(), lr=0.1), epochs=1,
                  batch_size=4, progress=False)
    with pytest.raises(ValueError, match=re.escape(words.replace("train_data", "test_data"))):
        fit_numpy(numpy_model, _tiny_data(), (x, labels), NumpySGD(numpy_model.parameters(), lr=0.1), epochs=1,
                  batch_size=4, progress=False)


def test_fit_stops_when_the_loss_becomes_nan():
    import torch

    x, y = _tiny_data()
    x[3, 0, 0, 0] = np.nan
    model = _torch_model()
    with pytest.raises(RuntimeError, match="training stopped in epoch 1: the loss became nan"):
        fit(model, (x, y), None, torch.optim.SGD(model.parameters(), lr=0.1), epochs=3, batch_size=4,
            device="cpu", progress=False)


def test_fit_numpy_stops_at_the_batch_whose_loss_is_nan():
    from cnnlib.numpy_nn.optim import SGD as NumpySGD

    x, y = _tiny_data()
    x[:, 0, 0, 0] = np.nan
    model = _numpy_model()
    with pytest.raises(RuntimeError, match="training stopped in epoch 1, batch 1: the loss became nan"):
        fit_numpy(model, (x, y), None, NumpySGD(model.parameters(), lr=0.1), epochs=2, batch_size=4, progress=False)


def test_a_diverging_run_is_stopped():
    import torch

    x, y = _tiny_data()
    model = _torch_model()
    with pytest.raises(RuntimeError, match="so it diverges; lower the learning rate"):
        fit(model, (x * 100, y), None, torch.optim.SGD(model.parameters(), lr=50.0), epochs=30, batch_size=8,
            device="cpu", progress=False)


def test_predict_in_batches_equals_one_forward_pass_and_evaluate(digits16):
    from cnnlib.train import predict
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16 * 16, 10)).double()
    x, y = digits16[1]
    with torch.no_grad():
        whole = model(torch.as_tensor(x, dtype=torch.float64)).argmax(dim=1).numpy()
    batched = predict(model, x, batch_size=7)
    assert batched.dtype == np.int64 and np.array_equal(batched, whole)
    assert evaluate(model, (x, y))[1] == pytest.approx((batched == y).mean())
    assert predict(model, x[:0]).shape == (0,)
    with pytest.raises(ValueError, match="batch_size"):
        predict(model, x, batch_size=0)
