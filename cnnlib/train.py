"""A small training loop for classifiers: ``fit`` for PyTorch models, ``fit_numpy`` for cnnlib.numpy_nn ones.

Both loops do the same five steps per mini-batch, and reading them side by side is the point:

    PyTorch (fit)                          NumPy reference (fit_numpy)
    logits = model(xb)                     logits = model(xb)
    loss = F.cross_entropy(logits, yb)     loss = criterion(logits, yb)
    optimizer.zero_grad()                  optimizer.zero_grad()
    loss.backward()                        model.backward(criterion.backward())
    optimizer.step()                       optimizer.step()

The loss is softmax cross-entropy and the accuracy is the fraction of arg-max predictions that
equal the label. Shuffling uses ``np.random.default_rng(seed)``, so the same seed, model and data
give the same history. Both stop with a ``RuntimeError`` that says what happened when the loss
becomes nan or inf (``fit`` notices at the end of that epoch, ``fit_numpy`` at that batch) or an
epoch's loss exceeds ``DIVERGED`` times the first epoch's; labels must be integers (floats, nan
and negative labels are refused, never truncated) and as many as the images. Introduced in 06_optimizers; used in 07_case_studies_lenet.

    >>> train, test = load_digits()
    >>> model = lenet5()
    >>> history = fit(model, train, test, torch.optim.Adam(model.parameters()), epochs=10, batch_size=32)
    >>> print(history)          # one rounded row per epoch; history.test_acc[-1] is the last accuracy
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from cnnlib.checks import check_int
from cnnlib.labels import class_labels


@dataclass
class History:
    """Per-epoch metrics of one training run; accuracies are fractions in [0, 1].

    ``train_loss``/``train_acc`` average over the epoch's mini-batches as the model saw them
    (augmented, if it was, and while the weights changed); ``test_loss``/``test_acc`` are
    measured after the epoch. Printed rounded.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def record(self, train_loss: float, train_acc: float, test: tuple[float, float] | None = None) -> None:
        """Append one epoch: the training averages and, if measured, ``test = (loss, accuracy)``."""
        self.train_loss.append(train_loss)
        self.train_acc.append(train_acc)
        if test is not None:
            self.test_loss.append(test[0])
            self.test_acc.append(test[1])

    def as_dict(self) -> dict[str, list[float]]:
        """Plain lists, e.g. to store in a checkpoint: ``save_checkpoint(path, model, history=h.as_dict())``."""
        return {name: list(getattr(self, name)) for name in ("train_loss", "train_acc", "test_loss", "test_acc")}

    def __str__(self) -> str:
        lines = ["epoch  train loss  train acc  test loss  test acc"]
        for i in range(self.epochs):
            test = (f"{self.test_loss[i]:>9.3f}  {self.test_acc[i]:>8.1%}") if i < len(self.test_loss) else ""
            lines.append(f"{i + 1:>5}  {self.train_loss[i]:>10.3f}  {self.train_acc[i]:>9.1%}  {test}".rstrip())
        return "\n".join(lines)

    __repr__ = __str__


def batch_indices(n: int, batch_size: int, rng: np.random.Generator | None = None):
    """Yield index arrays covering 0..n-1 in chunks of ``batch_size`` (shuffled when ``rng`` is given)."""
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def _check_data(data, name):
    """A pair (x, y) with as many labels as images, and integer labels >= 0 (floats and nan are refused)."""
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ValueError(f"{name} must be a pair (x, y) of images and labels, e.g. from cnnlib.data.load_digits()")
    if len(data[0]) != len(data[1]):
        raise ValueError(f"{name} has {len(data[0])} images but {len(data[1])} labels; they must be equal")
    class_labels(data[1], name=f"{name}'s labels")


# A run whose epoch loss grows past this multiple of the first epoch's has diverged.
DIVERGED = 100.0


def _check_loss(history: History, batch: str = "") -> None:
    """Stop training with a RuntimeError once the loss is nan or inf, or has diverged (see DIVERGED)."""
    loss = history.train_loss[-1]
    where = f"epoch {history.epochs}{batch}"
    if not math.isfinite(loss):
        raise RuntimeError(f"training stopped in {where}: the loss became {loss} (the weights are no longer "
                           f"usable); lower the learning rate, or check the data for nan or inf")
    if history.epochs > 1 and loss > DIVERGED * history.train_loss[0] > 0:
        raise RuntimeError(f"training stopped after {where}: the loss grew from {history.train_loss[0]:.4g} to "
                           f"{loss:.4g} (over {DIVERGED:g} times the first epoch's), so it diverges; "
                           f"lower the learning rate")


def _check_fit_args(train_data, test_data, epochs, batch_size, seed):
    _check_data(train_data, "train_data")
    if test_data is not None:
        _check_data(test_data, "test_data")
    return check_int(epochs, "epochs", minimum=1), check_int(batch_size, "batch_size", minimum=1), check_int(seed, "seed", minimum=0)


def _progress_bar(total: int, enabled: bool, desc: str):
    """A ``tqdm.auto`` bar (a widget in a notebook, so nbval compares nothing it shows), or None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch")


def _epoch_done(bar, history: History) -> None:
    if bar is not None:
        test = f", test acc {history.test_acc[-1]:.1%}" if history.test_acc else ""
        bar.set_postfix_str(f"epoch {history.epochs}: loss {history.train_loss[-1]:.3f}{test}")


# -- PyTorch ---------------------------------------------------------------------------------------
def fit(model, train_data, test_data, optimizer, epochs: int, batch_size: int, device=None, seed: int = 0,
        progress: bool = True, scheduler=None, augment=None, amp: bool = False,
        channels_last: bool = False) -> History:
    """Train a PyTorch classifier with mini-batch gradient descent; return its ``History``.

    ``train_data`` and ``test_data`` (or None) are pairs ``(x, y)`` of NumPy arrays or tensors.
    The model moves to ``device`` (default: ``cnnlib.device.get_device()``, which honours
    $CNNLIB_DEVICE) and the data follow it, in the dtype of its parameters (float32 usually).
    ``torch.manual_seed(seed)`` seeds dropout, ``augment`` and the like.

    Two options for small data sets: ``scheduler`` (e.g. ``torch.optim.lr_scheduler.CosineAnnealingLR``)
    is stepped after every epoch; ``augment`` (e.g. ``cnnlib.data.random_affine``) turns each
    training batch into new random variants of its images; test data are never augmented.

    Two options for a GPU: ``amp=True`` runs the forward pass in mixed precision (float16 with
    gradient scaling on CUDA, where tensor cores compute in half precision; bfloat16 elsewhere,
    which is there for testing and rarely faster on a CPU). ``channels_last=True``
    stores the model's weights and each batch as NHWC in memory (the tensors keep their NCHW
    shape), the layout those kernels prefer. See `Precision`.

    Shape:
        - x: (N, C, H, W) float32, y: (N,) int64 class indices; model(x): (N, num_classes)
    """
    import torch
    import torch.nn.functional as F

    from cnnlib.device import get_device

    epochs, batch_size, seed = _check_fit_args(train_data, test_data, epochs, batch_size, seed)
    device = get_device(device)
    precision = Precision(device, amp, channels_last)
    precision.prepare(model.to(device))
    x_train, y_train = _tensors(train_data, model)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    history = History()
    bar = _progress_bar(epochs * math.ceil(len(x_train) / batch_size), progress, "fit")
    for _ in range(epochs):
        model.train()
        loss_sum = torch.zeros((), device=device, dtype=x_train.dtype)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for idx in batch_indices(len(x_train), batch_size, rng):
            xb, yb = x_train[idx], y_train[idx]  # (B, C, H, W), (B,)
            if augment is not None:
                xb = augment(xb)  # new random variants of the same images, every epoch
            with precision.autocast():
                logits = model(precision.inputs(xb))  # (B, num_classes)
                loss = F.cross_entropy(logits, yb)
            optimizer.zero_grad()
            precision.backward_and_step(loss, optimizer)  # loss.backward(); optimizer.step()
            loss_sum += loss.detach() * len(idx)  # kept on the device: no sync per batch
            correct += (logits.argmax(dim=1) == yb).sum()
            if bar is not None:
                bar.update()
        if scheduler is not None:
            scheduler.step()
        history.record(loss_sum.item() / len(x_train), correct.item() / len(x_train),
                       None if test_data is None else evaluate(model, test_data))
        _epoch_done(bar, history)
        _check_loss(history)  # once per epoch: a nan in any batch makes the sum nan
    if bar is not None:
        bar.close()
    return history


class Precision:
    """What ``amp`` and ``channels_last`` change in a PyTorch training step, in one place.

    ``amp``: the forward pass runs under ``torch.autocast`` (float16 on CUDA, bfloat16 elsewhere:
    convolutions and matrix multiplies in half precision, losses and sums in float32); on CUDA a
    ``GradScaler`` multiplies the loss before backward so small float16 gradients do not round
    to zero, and unscales them before the optimizer step. ``channels_last``: weights and inputs
    in NHWC memory order. With both off, every method is the plain step.
    """

    def __init__(self, device, amp: bool = False, channels_last: bool = False):
        import torch

        for name, value in (("amp", amp), ("channels_last", channels_last)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        self.device_type = torch.device(device).type
        self.amp, self.channels_last = amp, channels_last
        self.dtype = torch.float16 if self.device_type == "cuda" else torch.bfloat16
        self.scaler = torch.amp.GradScaler(self.device_type) if amp and self.device_type == "cuda" else None

    def prepare(self, model):
        import torch

        return model.to(memory_format=torch.channels_last) if self.channels_last else model

    def inputs(self, x):
        import torch

        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def autocast(self):
        import torch

        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.amp)

    def backward_and_step(self, loss, optimizer) -> None:
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)  # skipped when a gradient overflowed float16
            self.scaler.update()


def evaluate(model, data, batch_size: int = 256) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a PyTorch classifier on ``data = (x, y)``, in eval mode.

    Runs on the device that holds the model's parameters; leaves the model in eval mode.
    """
    import torch
    import torch.nn.functional as F

    batch_size = check_int(batch_size, "batch_size", minimum=1)
    x, y = _tensors(data, model)
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for batch in _slices(len(x), batch_size):  # views of x, not copies
            logits = model(x[batch])  # (B, num_classes)
            loss_sum += F.cross_entropy(logits, y[batch], reduction="sum").item()
            correct += (logits.argmax(dim=1) == y[batch]).sum().item()
            del logits  # nothing of this batch is alive while the next one runs
    return loss_sum / len(x), correct / len(x)


def predict(model, x, batch_size: int = 256) -> np.ndarray:
    """The predicted class of every image in ``x``, in batches (a whole test set at once can need GBs).

    Runs in eval mode and without gradients, on the device and in the dtype of the model's parameters.
    The answer is written into one array made before the first batch, so nothing a batch allocates
    outlives it: kept per-batch results would sit between the large buffers that the next batches
    allocate and free, and glibc could not hand that memory back (predicting 07_case_studies_lenet's
    10,000 test images with its float64 LeNet-5 raised the process's peak by up to 1 GB).

    Shape:
        - x: (N, C, H, W) array or tensor; returns (N,) int64 class indices
    """
    import torch

    batch_size = check_int(batch_size, "batch_size", minimum=1)
    x, _ = _tensors((x, np.zeros(len(x), dtype=np.int64)), model)
    predicted = np.empty(len(x), dtype=np.int64)  # (N,)
    model.eval()
    with torch.no_grad():
        for batch in _slices(len(x), batch_size):
            predicted[batch] = model(x[batch]).argmax(dim=1).cpu().numpy()
    return predicted


def _slices(n: int, batch_size: int):
    """Slices covering 0..n-1 in order, ``batch_size`` at a time: indexing with them gives views, not copies."""
    for start in range(0, n, batch_size):
        yield slice(start, start + batch_size)


def _tensors(data, model):
    """``(x, y)`` as tensors on the model's device, x in the dtype of its parameters (float32 usually)."""
    import torch

    x, y = data
    param = next(model.parameters(), None)
    device, dtype = (param.device, param.dtype) if param is not None else ("cpu", torch.float32)
    y = class_labels(y if isinstance(y, torch.Tensor) else np.asarray(y), name="labels")
    return torch.as_tensor(x, dtype=dtype, device=device), y.to(device) if isinstance(y, torch.Tensor) else \
        torch.as_tensor(y, device=device)


# -- the NumPy reference ---------------------------------------------------------------------------
def fit_numpy(model, train_data, test_data, optimizer, epochs: int, batch_size: int, seed: int = 0,
              progress: bool = True) -> History:
    """The loop of ``fit`` for a ``cnnlib.numpy_nn`` model, with every backward step written out.

    ``optimizer`` comes from ``cnnlib.numpy_nn.optim`` (``SGD``, ``Adam``, ...). Images are cast to
    the dtype of the model's parameters (float64 by default; build the layers with
    ``dtype=np.float32`` for about twice the speed).

    Shape:
        - x: (N, C, H, W), y: (N,) int class indices; model(x): (N, num_classes)
    """
    from cnnlib.numpy_nn.loss import CrossEntropyLoss

    epochs, batch_size, seed = _check_fit_args(train_data, test_data, epochs, batch_size, seed)
    x_train, y_train = _arrays(train_data, model)
    rng = np.random.default_rng(seed)
    criterion = CrossEntropyLoss()
    history = History()
    bar = _progress_bar(epochs * math.ceil(len(x_train) / batch_size), progress, "fit_numpy")
    for _ in range(epochs):
        model.train()
        loss_sum, correct = 0.0, 0
        for start, idx in zip(range(0, len(x_train), batch_size), batch_indices(len(x_train), batch_size, rng)):
            xb, yb = x_train[idx], y_train[idx]  # (B, C, H, W), (B,)
            logits = model(xb)  # (B, num_classes)
            loss = criterion(logits, yb)
            optimizer.zero_grad()
            model.backward(criterion.backward())  # d loss / d logits, back through every layer
            optimizer.step()
            if not math.isfinite(float(loss)):
                history.train_loss.append(float(loss))
                _check_loss(history, f", batch {start // batch_size + 1}")
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(axis=1) == yb).sum())
            if bar is not None:
                bar.update()
        history.record(loss_sum / len(x_train), correct / len(x_train),
                       None if test_data is None else evaluate_numpy(model, test_data))
        _epoch_done(bar, history)
        _check_loss(history)
    if bar is not None:
        bar.close()
    return history


def evaluate_numpy(model, data, batch_size: int = 256) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a ``cnnlib.numpy_nn`` classifier on ``data = (x, y)``, in eval mode."""
    from cnnlib.numpy_nn.loss import cross_entropy

    batch_size = check_int(batch_size, "batch_size", minimum=1)
    x, y = _arrays(data, model)
    model.eval()
    loss_sum, correct = 0.0, 0
    for batch in _slices(len(x), batch_size):  # views of x, not copies
        logits = model(x[batch])  # (B, num_classes)
        loss_sum += float(cross_entropy(logits, y[batch], reduction="sum"))
        correct += int((logits.argmax(axis=1) == y[batch]).sum())
        del logits  # nothing of this batch is alive while the next one runs
    return loss_sum / len(x), correct / len(x)


def _arrays(data, model):
    x, y = data
    params = model.parameters()
    dtype = params[0].data.dtype if params else np.float64
    return np.asarray(x, dtype=dtype), class_labels(y, name="labels")
