"""LeNet-5 from layer functions (cnnlib.models.lenet_layers): the same numbers as torch.nn, step by step."""
import numpy as np
import pytest
import torch

from cnnlib.exercises import references
from cnnlib.models import lenet_layers


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    return rng.random((40, 1, 28, 28)), rng.integers(0, 10, 40)


def test_forward_and_gradients_agree_with_torch(data):
    x, y = data
    p = lenet_layers.init_params(5)
    logits, saved = lenet_layers.forward(x[:7], p, references)
    loss, grad_logits = references.softmax_cross_entropy(logits, y[:7])
    grads = lenet_layers.backward(grad_logits, saved, p, references)
    net = lenet_layers.torch_lenet5(p)
    out = net(torch.from_numpy(x[:7]))
    torch.nn.functional.cross_entropy(out, torch.from_numpy(y[:7])).backward()
    np.testing.assert_allclose(logits, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    tensors = [net[0], net[3], net[7], net[9], net[11]]
    for module, name in zip(tensors, lenet_layers.SHAPES):
        np.testing.assert_allclose(grads[f"{name}_w"], module.weight.grad.numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(grads[f"{name}_b"], module.bias.grad.numpy(), rtol=1e-8, atol=1e-12)


def test_training_runs_agree_step_by_step_and_learn(data):
    x, y = data
    ours, _ = lenet_layers.train_numpy(references, x, y, steps=6, batch_size=16)
    theirs, _ = lenet_layers.train_torch(x, y, steps=6, batch_size=16)
    assert np.max(np.abs(ours - theirs)) < 1e-9
    assert len(ours) == 6 and np.all(np.isfinite(ours))


def test_a_wrong_layer_separates_the_curves(data):
    x, y = data

    class Wrong:
        pass

    wrong = Wrong()
    for name in lenet_layers.LAYERS_USED:
        setattr(wrong, name, getattr(references, name))
    wrong.relu_backward = lambda g, x: g                       # forgot the ReLU's mask
    ours, _ = lenet_layers.train_numpy(wrong, x, y, steps=4, batch_size=16)
    theirs, _ = lenet_layers.train_torch(x, y, steps=4, batch_size=16)
    assert ours[0] == pytest.approx(theirs[0], abs=1e-12)      # step 1's loss comes before any update
    assert np.max(np.abs(ours - theirs)) > 1e-3


def test_batches_cover_every_image_once_per_epoch():
    got = lenet_layers.batches(10, 4, steps=5, seed=0)
    assert [len(b) for b in got] == [4, 4, 4, 4, 4]
    first_epoch = np.concatenate(got[:2])
    assert len(set(first_epoch.tolist())) == 8


def test_accuracy_counts_the_right_argmax(data):
    x, y = data
    p = lenet_layers.init_params(0)
    logits, _ = lenet_layers.forward(x, p, references)
    assert lenet_layers.accuracy(references, p, x, y, batch_size=7) == np.mean(np.argmax(logits, 1) == y)
